"""GET of one CSR (main resource and both subresources) and of the collection.

A list is a consistent snapshot: the store's current resourceVersion plus every matching
object, sorted by name, with items carrying no kind/apiVersion of their own (typed lists
from kube-apiserver never do). Both reads can also come back as a server-side Table or as
PartialObjectMetadata, which is what kubectl and metadata-only clients ask for.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from aiohttp import web

from conformance.oracle.apimachinery import listing
from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.selectors import (
    ListSelectors,
    SelectorError,
    parse_list_selectors,
)
from conformance.targets.fake import table as tables
from conformance.targets.fake.context import Call
from conformance.targets.fake.handlers import list_faults
from conformance.targets.fake.objects import list_item, partial_metadata, with_type_meta
from conformance.targets.fake.store import TooOld
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
    body: dict[str, Any] = {
        "kind": st.LIST_KIND,
        "apiVersion": st.API_VERSION,
        "metadata": {"resourceVersion": str(rv)},
        "items": [list_item(o) for o in items],
    }
    return list_faults.envelope(call.faults, body, empty=not items)


async def list_(call: Call) -> web.StreamResponse:
    """A list, or a watch when the query says ``watch=true``.

    The order of refusals is kube-apiserver's: media type (406), query decoding (400),
    list options (422), selectors (400), resourceVersion (400), then the read itself
    (504 too large, 410 compacted).
    """
    try:
        rendering = negotiate(call.request.headers.get("Accept"), LIST_TRANSFORMS, protobuf=True)
    except NotAcceptable:
        return respond(call.request, 406, not_acceptable_status())
    try:
        opts = listing.parse_list_options(call.request.query)
    except listing.OptionsError as e:
        return respond(call.request, e.status.get("code", 400), e.status)
    if opts.watch:
        from conformance.targets.fake.handlers.watch import serve_watch

        return await serve_watch(call, opts)
    errs = listing.validate_list_options(opts)
    if errs:
        return respond(call.request, 422, listing.options_status(errs))
    try:
        selectors = list_faults.selectors(
            call.faults,
            selectors_for(
                call, honour_field_selector=list_faults.honours_field_selector(call.faults)
            ),
        )
    except SelectorError as e:
        return respond(call.request, 400, st.bad_request(str(e)))
    try:
        rv, items, token, remaining = await read_list(call, opts, selectors)
    except listing.OptionsError as e:
        return respond(call.request, e.status.get("code", 400), e.status)
    if rendering.transform == "Table":
        body = _table(call, rendering, items, str(rv))
    elif rendering.transform == "PartialObjectMetadataList":
        body = {
            "kind": "PartialObjectMetadataList",
            "apiVersion": f"{_META}/v1",
            "metadata": {"resourceVersion": str(rv)},
            "items": [partial_metadata(o) for o in items],
        }
    else:
        body = list_body(call, rv, items)
    meta = body.setdefault("metadata", {})
    if token:
        meta["continue"] = token
    if remaining is not None:
        meta["remainingItemCount"] = remaining
    return respond(call.request, 200, body, rendering=rendering)


async def read_list(
    call: Call, opts: listing.ListOptions, selectors: ListSelectors
) -> tuple[int, list[dict[str, Any]], str, int | None]:
    """The snapshot a list reads and the page of it that is returned.

    Returns (the snapshot's resourceVersion, the page's items, the continue token, the
    remainingItemCount). Raises :class:`listing.OptionsError` for 400/410/504.
    """
    store = call.state.store
    limit = opts.limit
    start = ""
    if opts.continue_token:
        if opts.resource_version not in ("", "0"):
            raise listing.OptionsError(st.bad_request(listing.RV_WITH_CONTINUE))
        point = listing.decode_continue(opts.continue_token)
        start, snapshot_rv = point.start, point.rv
        await _wait_for(call, snapshot_rv)
        snapshot_rv = list_faults.snapshot_rv(call.faults, snapshot_rv, store.resource_version)
        try:
            objects = store.state_at(snapshot_rv)
        except TooOld:
            raise listing.OptionsError(
                listing.expired(listing.continue_expired_message())
            ) from None
    elif opts.resource_version in ("", "0") or opts.match != listing.EXACT:
        if opts.resource_version not in ("", "0"):
            wanted = listing.parse_resource_version(opts.resource_version)
            await _wait_for(call, wanted)
        if opts.resource_version == "0":
            limit = 0  # served from the watch cache, which ignores limit for "any version"
        snapshot_rv, objects = store.snapshot()
    else:
        wanted = listing.parse_resource_version(opts.resource_version)
        await _wait_for(call, wanted)
        snapshot_rv = wanted
        try:
            objects = store.state_at(wanted)
        except TooOld as e:
            raise listing.OptionsError(
                listing.expired(listing.too_old_message(e.requested, e.oldest))
            ) from None
    matching = [o for o in objects if selectors.matches(o)]
    matching = list_faults.order(call.faults, matching)
    limit = list_faults.limit(call.faults, limit)
    page = listing.page(
        matching, rv=snapshot_rv, limit=limit, start=start, selective=not selectors.empty
    )
    return (
        snapshot_rv,
        page.items,
        list_faults.token(call.faults, page),
        list_faults.remaining(call.faults, page),
    )


async def _wait_for(call: Call, wanted: int) -> None:
    """A read newer than the store waits briefly for it, then is "too large" (504)."""
    store = call.state.store
    deadline = asyncio.get_running_loop().time() + call.state.too_large_wait
    while store.resource_version < wanted:
        if asyncio.get_running_loop().time() >= deadline:
            raise listing.OptionsError(listing.too_large(wanted, store.resource_version))
        await asyncio.sleep(0.05)


async def watch_path(call: Call, name: str | None) -> web.StreamResponse:
    """The legacy ``/watch/`` prefix: a watch whatever the query's ``watch`` says."""
    from conformance.targets.fake.handlers.watch import serve_watch

    try:
        opts = listing.parse_list_options(call.request.query, watch_path=True)
    except listing.OptionsError as e:
        return respond(call.request, e.status.get("code", 400), e.status)
    return await serve_watch(call, opts, name)
