"""DELETE of one CSR and of a selected collection (csr-semantics §9).

The order of checks follows kube-apiserver: DeleteOptions are decoded (400) and validated
(422) before the object is looked up (404); then ``rest.BeforeDelete`` checks the
preconditions against the stored object (409) before anything changes. CSRs have no
graceful deletion, so an object without finalizers goes at once and the answer is a
Success ``Status``; an object with finalizers (including ones the propagation policy adds)
is only marked with ``deletionTimestamp`` and returned as is.

Upstream: apiserver ``endpoints/handlers/delete.go``, ``registry/rest/delete.go``
(``BeforeDelete``), ``registry/generic/registry/store.go`` (``Delete``,
``DeleteCollection``, ``deletionFinalizersForGarbageCollection``, ``markAsDeleting``),
apimachinery ``apis/meta/v1/validation`` (``ValidateDeleteOptions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.selectors import ListSelectors, SelectorError
from conformance.oracle.csr import delete as spec_delete
from conformance.targets.fake.authz import authorizer_for
from conformance.targets.fake.context import Call
from conformance.targets.fake.handlers import delete_faults
from conformance.targets.fake.handlers.read import list_body, selectors_for
from conformance.targets.fake.objects import go_order_metadata, with_type_meta
from conformance.targets.fake.store import Obj
from conformance.targets.fake.wire import respond


async def read_options(call: Call) -> spec_delete.DeleteOptions:
    """DeleteOptions from the body when there is one, else from the query (never both),
    as the handler goes on with them (:func:`spec_delete.honoured_options`)."""
    raw = await call.request.read()
    if raw.strip():
        try:
            opts = spec_delete.decode_body(raw)
        except spec_delete.OptionsError as e:
            raise UndecodableOptions(spec_delete.undecodable_status(str(e))) from None
    else:
        try:
            opts = spec_delete.decode_query(call.request.query.items())
        except spec_delete.OptionsError as e:
            raise UndecodableOptions(st.bad_request(str(e))) from None
    return spec_delete.honoured_options(opts)


class UndecodableOptions(Exception):
    """DeleteOptions that could not be decoded, with the Status to answer."""

    def __init__(self, status: st.Status) -> None:
        super().__init__(status.get("message", ""))
        self.status = status


@dataclass
class DeleteOutcome:
    """What deleting one object did: its answer, and whether it is gone."""

    code: int
    body: dict[str, Any]
    deleted: bool


def delete_object(call: Call, obj: Obj, opts: spec_delete.DeleteOptions) -> DeleteOutcome:
    """Delete (or start deleting) one stored object; preconditions already checked."""
    store = call.state.store
    meta = obj["metadata"]
    name = meta["name"]
    dry_run = delete_faults.dry_run(call.faults, opts.is_dry_run)
    finalizers = list(meta.get("finalizers") or [])
    new_finalizers = spec_delete.gc_finalizers(finalizers, opts)
    if new_finalizers:
        marked = spec_delete.mark_deleting(obj, new_finalizers, call.state.now())
        go_order_metadata(marked)
        result = marked
        if marked != obj and not dry_run:
            result = store.update(marked)
        return DeleteOutcome(spec_delete.answer_code(opts), with_type_meta(result), False)
    if not dry_run:
        store.delete(name)
    answer = st.delete_success(name, meta.get("uid", ""))
    return DeleteOutcome(200, delete_faults.answer(call.faults, answer, with_type_meta(obj)), True)


async def delete(call: Call, name: str) -> web.Response:
    try:
        opts = await read_options(call)
    except UndecodableOptions as e:
        return respond(call.request, int(e.status["code"]), e.status)
    opts = delete_faults.options(call.faults, opts)
    obj = call.state.store.get(name)
    refusal = spec_delete.refuse_options(
        opts,
        name,
        exists=obj is not None,
        may_delete_unsafely=authorizer_for(call.user)(
            spec_delete.UNSAFE_DELETE_VERB, st.RESOURCE, name
        ),
    )
    if refusal is not None:
        return respond(call.request, int(refusal["code"]), refusal)
    if obj is None:
        return respond(call.request, 404, st.not_found(name))
    conflict = delete_faults.preconditions(call.faults, spec_delete.precondition_failure(obj, opts))
    if conflict is not None:
        return respond(call.request, 409, conflict)
    outcome = delete_object(call, obj, opts)
    return respond(call.request, outcome.code, outcome.body)


def _collection_selectors(call: Call) -> ListSelectors:
    return delete_faults.collection_selectors(call.faults, selectors_for(call))


async def delete_collection(call: Call) -> web.Response:
    try:
        selectors = _collection_selectors(call)
    except SelectorError as e:
        return respond(call.request, 400, st.bad_request(str(e)))
    try:
        opts = await read_options(call)
    except UndecodableOptions as e:
        return respond(call.request, int(e.status["code"]), e.status)
    opts = delete_faults.options(call.faults, opts)
    errs = spec_delete.validate_delete_options(opts) or spec_delete.collection_unsafe_errors(opts)
    if errs:
        return respond(call.request, 422, spec_delete.options_status(errs))
    rv, objects = call.state.store.snapshot()
    matched = [o for o in objects if selectors.matches(o)]
    for obj in matched:
        current = call.state.store.get(obj["metadata"]["name"])
        if current is None:
            continue  # gone meanwhile: upstream ignores NotFound during the sweep
        conflict = delete_faults.preconditions(
            call.faults, spec_delete.precondition_failure(current, opts)
        )
        if conflict is not None:
            return respond(call.request, 409, conflict)
        delete_object(call, current, opts)
    return respond(call.request, 200, list_body(call, rv, matched))
