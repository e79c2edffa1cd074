"""PUT and PATCH of a CSR, its ``/approval`` and its ``/status``: the oracle decides, the
fake does what storage does.

``conformance.oracle.csr.update.decide_update`` is the reference pipeline: RBAC, options,
decoding or patching (server-side apply included), name and uid checks, the
resourceVersion precondition, the endpoint's strategy, validation, admission,
managedFields (given the User-Agent) and no-op detection. The fake hands it the request
(bodies other than JSON converted first, see ``bodies``), the stored object, the clock,
a uid for an apply that creates, and the caller's permissions (``authz.authorizer_for``),
then does storage's part of a success:

- a no-op (the object and its managedFields store the same) keeps the resourceVersion
  and sends no event; anything else takes the next store-wide resourceVersion and sends
  MODIFIED; dry-run stores nothing but answers as if it had;
- removing the last finalizer of an object being deleted deletes it;
- an apply to a missing main-resource object creates it (201, ADDED).

A write is decided against one stored version and stored only if that version is still
current; otherwise the whole decision is taken again, as kube-apiserver's
``GuaranteedUpdate`` retries (a request that named a resourceVersion then gets its 409).
Faults bend the request before the oracle and the object after it (``update_faults``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.patch import APPLY_PATCH, handler_patch_type
from conformance.oracle.csr.create import is_dry_run
from conformance.oracle.csr.update import UpdateDecision, decide_update
from conformance.oracle.csr.update_strategy import Endpoint, same_storage
from conformance.targets.fake.authz import authorizer_for
from conformance.targets.fake.bodies import apply_body_with_string_timestamps, as_json
from conformance.targets.fake.context import Call
from conformance.targets.fake.handlers.update_faults import (
    BentUpdate,
    bend_authorizer,
    bend_candidate,
    bend_request,
    created_instead,
    keeps_noop,
)
from conformance.targets.fake.objects import go_order_metadata, with_type_meta
from conformance.targets.fake.registry import go_form, user_info
from conformance.targets.fake.store import Obj, StaleWrite
from conformance.targets.fake.wire import respond

_ATTEMPTS: Final = 5
"""Decisions taken before giving up on a store that keeps changing underneath."""


def _query(call: Call) -> dict[str, list[str]]:
    return {k: call.request.query.getall(k) for k in call.request.query}


def _decide(
    call: Call,
    name: str,
    endpoint: Endpoint,
    method: str,
    body: bytes,
    content_type: str | None,
    stored: Obj | None,
    now: str,
) -> tuple[UpdateDecision, BentUpdate]:
    faults = call.faults
    bent = BentUpdate(
        endpoint=endpoint,
        method=method,
        body=body,
        content_type=content_type,
        query=_query(call),
        stored=copy.deepcopy(stored),
        authorizer=bend_authorizer(authorizer_for(call.user), faults),
    )
    if method == "PATCH" and handler_patch_type(bent.content_type) == APPLY_PATCH:
        bent.body = apply_body_with_string_timestamps(bent.body)  # LOCAL SHIM, see bodies
    bend_request(bent, name, now, faults)
    decision = decide_update(
        bent.endpoint,
        "PUT" if bent.method == "PUT" else "PATCH",
        name,
        bent.body,
        bent.content_type,
        bent.query,
        user_info(call.user),
        bent.authorizer,
        stored=bent.stored,
        now=now,
        user_agent=call.request.headers.get("User-Agent", ""),
        uid=call.state.new_uid(),
        version=call.state.kube_version,
    )
    return decision, bent


def _keep_empty_certificate(candidate: Obj, source: Mapping[str, Any] | None) -> None:
    """Carry a present-but-empty certificate into what is stored (see ``objects.served``)."""
    status = (source or {}).get("status")
    if isinstance(status, Mapping) and status.get("certificate") == "":
        candidate.setdefault("status", {})["certificate"] = ""


def _managed(obj: Mapping[str, Any]) -> list[Any]:
    meta = obj.get("metadata")
    return list((meta or {}).get("managedFields") or []) if isinstance(meta, Mapping) else []


def _commit(
    call: Call,
    name: str,
    endpoint: Endpoint,
    method: str,
    decision: UpdateDecision,
    bent: BentUpdate,
    stored: Obj | None,
    now: str,
) -> web.Response:
    """Storage's part of a successful decision (200, or 201 for an apply that creates)."""
    store = call.state.store
    warnings = decision.warnings
    if decision.code == 201:
        created = go_form(decision.body)
        _keep_empty_certificate(created, decision.object)
        if decision.persist:
            created = store.create(created)
        go_order_metadata(created)
        return respond(call.request, 201, with_type_meta(created), warning_headers=warnings)
    assert stored is not None
    stored_rv = str(stored["metadata"].get("resourceVersion", ""))
    if decision.deletes:
        if decision.persist:
            store.delete(name, expected_rv=stored_rv)
        gone = go_form(decision.body)
        return respond(call.request, 200, with_type_meta(gone), warning_headers=warnings)

    # The object to store, in the form the wire shows (response_object), without the
    # resourceVersion storage assigns, keeping an empty-but-set certificate.
    candidate = go_form(decision.body)
    candidate["metadata"].pop("resourceVersion", None)
    edited = bend_candidate(
        candidate,
        endpoint=endpoint,
        method=method,
        request_object=decision.request_object,
        stored=stored,
        now=now,
        bent=bent,
        faults=call.faults,
    )
    if edited:
        candidate = go_form(candidate)
    _keep_empty_certificate(candidate, bent.stored if decision.noop else decision.object)
    noop = decision.noop
    if edited or bent.stored != stored:
        noop = same_storage(candidate, stored) and _managed(candidate) == _managed(stored)
    if keeps_noop(call.faults, noop):
        return respond(call.request, 200, with_type_meta(stored), warning_headers=warnings)
    if is_dry_run(bent.query):
        candidate["metadata"]["resourceVersion"] = stored_rv
        go_order_metadata(candidate)
        return respond(call.request, 200, with_type_meta(candidate), warning_headers=warnings)
    result = store.update(candidate, expected_rv=stored_rv)
    return respond(call.request, 200, with_type_meta(result), warning_headers=warnings)


async def write(call: Call, name: str, endpoint: Endpoint, method: str) -> web.Response:
    """PUT or PATCH of ``name`` through ``endpoint`` ("main", "approval" or "status")."""
    request = call.request
    raw = await request.read()
    content_type = request.headers.get("Content-Type")
    if method == "PUT":
        converted = as_json(raw, content_type)
        if converted.error is not None:
            return respond(request, 400, converted.error)
        raw, content_type = converted.data, converted.content_type
    store = call.state.store
    for _attempt in range(_ATTEMPTS):
        stored = store.get(name)
        now = call.state.now()
        created = created_instead(call, endpoint, method, stored, raw, now)
        if created is not None:
            return created
        decision, bent = _decide(call, name, endpoint, method, raw, content_type, stored, now)
        if decision.code not in (200, 201):
            return respond(request, decision.code, decision.body, warning_headers=decision.warnings)
        try:
            return _commit(call, name, endpoint, method, decision, bent, stored, now)
        except StaleWrite:
            continue
    return respond(request, 409, st.conflict(name, st.OBJECT_MODIFIED))
