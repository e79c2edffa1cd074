"""GET of one CSR (main resource and both subresources) and of the collection.

A list is a consistent snapshot: the store's current resourceVersion plus every matching
object, sorted by name, with items carrying no kind/apiVersion of their own (typed lists
from kube-apiserver never do). Both reads can also come back as a server-side Table or as
PartialObjectMetadata, which is what kubectl and metadata-only clients ask for.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from conformance.spec import status as st
from conformance.targets.fake import table as tables
from conformance.targets.fake.context import Call
from conformance.targets.fake.objects import list_item, partial_metadata, with_type_meta
from conformance.spec.selectors import (
    ListSelectors,
    SelectorError,
    parse_list_selectors,
)
from conformance.targets.fake.wire import (
    NotAcceptable,
    Rendering,
    negotiate,
    not_acceptable_status,
    respond,
)

_META: Final = "meta.k8s.io"
_TABLE: Final = (("Table", _META, "v1"), ("Table", _META, "v1beta1"))
GET_TRANSFORMS: Final = (*_TABLE, ("PartialObjectMetadata", _META, "v1"))
LIST_TRANSFORMS: Final = (*_TABLE, ("PartialObjectMetadataList", _META, "v1"))


def _table(call: Call, rendering: Rendering, objects: list[dict[str, Any]], rv: str) -> Any:
    include = call.request.query.get("includeObject", "Metadata")
    out = tables.table(
        objects,
        rv,
        now=call.state.clock(),
        include_object=include if include in ("None", "Metadata", "Object") else "Metadata",
        no_headers=call.request.query.get("noHeaders", "") in ("true", "1"),
    )
    out["apiVersion"] = f"{_META}/{rendering.transform_version or 'v1'}"
    return out


def render_object(
    call: Call, obj: dict[str, Any], rendering: Rendering, code: int = 200
) -> web.Response:
    """One object in the representation the client negotiated."""
    if rendering.transform == "Table":
        body = _table(call, rendering, [obj], obj.get("metadata", {}).get("resourceVersion", ""))
    elif rendering.transform == "PartialObjectMetadata":
        body = partial_metadata(obj)
    else:
        body = with_type_meta(obj)
    return respond(call.request, code, body, rendering=rendering)


async def get(call: Call, name: str, subresource: str = "") -> web.Response:
    transforms = GET_TRANSFORMS if subresource != "approval" else ()
    try:
        rendering = negotiate(call.request.headers.get("Accept"), transforms, protobuf=True)
    except NotAcceptable:
        return respond(call.request, 406, not_acceptable_status())
    obj = call.state.store.get(name)
    if obj is None:
        return respond(call.request, 404, st.not_found(name))
    return render_object(call, obj, rendering)


def selectors_for(call: Call, *, honour_field_selector: bool = True) -> ListSelectors:
    """Parse the request's selectors; raises SelectorError for a 400."""
    query = call.request.query
    field_selector = query.get("fieldSelector") if honour_field_selector else None
    return parse_list_selectors(query.get("labelSelector"), field_selector)


def list_body(call: Call, rv: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The CertificateSigningRequestList envelope (faults may bend its shape)."""
    body: dict[str, Any] = {}
    if not call.faults.on("list-without-kind"):
        body["kind"] = st.LIST_KIND
        body["apiVersion"] = st.API_VERSION
    body["metadata"] = {"resourceVersion": str(rv)}
    if not items and call.faults.on("empty-list-null-items"):
        body["items"] = None
    else:
        body["items"] = [list_item(o) for o in items]
    return body


async def list_(call: Call) -> web.Response:
    try:
        rendering = negotiate(call.request.headers.get("Accept"), LIST_TRANSFORMS, protobuf=True)
    except NotAcceptable:
        return respond(call.request, 406, not_acceptable_status())
    try:
        selectors = selectors_for(
            call, honour_field_selector=not call.faults.on("ignore-field-selector")
        )
    except SelectorError as e:
        return respond(call.request, 400, st.bad_request(str(e)))
    rv, objects = call.state.store.snapshot()
    items = [o for o in objects if selectors.matches(o)]
    if call.faults.on("unsorted-list"):
        items.reverse()
    if rendering.transform == "Table":
        return respond(
            call.request, 200, _table(call, rendering, items, str(rv)), rendering=rendering
        )
    if rendering.transform == "PartialObjectMetadataList":
        body = {
            "kind": "PartialObjectMetadataList",
            "apiVersion": f"{_META}/v1",
            "metadata": {"resourceVersion": str(rv)},
            "items": [partial_metadata(o) for o in items],
        }
        return respond(call.request, 200, body, rendering=rendering)
    return respond(call.request, 200, list_body(call, rv, items), rendering=rendering)
