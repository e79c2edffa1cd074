"""POST of a CSR: the oracle decides, the fake does what storage does.

``conformance.oracle.csr.create.decide_create`` is the reference pipeline (options, decode,
strategy, validation, admission, storage checks); the fake hands it the request as
received plus the store's facts (existing and terminating names, the clock, a uid, eight
generateName suffixes for the retry loop) and then does storage's part for a 201: record
``managedFields``, take the next resourceVersion and persist (unless dry-run), emitting
an ADDED event. Faults hook in before and after that one call (see ``create_faults``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conformance.oracle.apimachinery import status as st
from conformance.oracle.csr.create import MAX_GENERATE_NAME_ATTEMPTS, decide_create
from conformance.targets.fake.bodies import as_json
from conformance.targets.fake.context import Call
from conformance.targets.fake.handlers.create_faults import (
    bend_invalid,
    bend_request,
    bend_stored,
    persists,
)
from conformance.targets.fake.managed_fields import manager_name, stamp_create
from conformance.targets.fake.objects import go_order_metadata, with_type_meta
from conformance.targets.fake.registry import user_info
from conformance.targets.fake.wire import respond


async def create(call: Call) -> web.Response:
    request = call.request
    state = call.state
    faults = call.faults
    body = await request.read()
    converted = as_json(body, request.headers.get("Content-Type"))
    if converted.error is not None:
        return respond(request, 400, converted.error)
    body, content_type = converted.data, converted.content_type

    query = {k: request.query.getall(k) for k in request.query}
    dry_run = bool(query.get("dryRun"))
    bent = bend_request(body, faults)
    store = state.store
    existing, terminating = store.name_sets()
    if bent.drop_name_from_existing is not None:
        existing.discard(bent.drop_name_from_existing)
        terminating.discard(bent.drop_name_from_existing)
    now = state.now()
    decision = decide_create(
        bent.body,
        query,
        user_info(call.user),
        existing_names=existing,
        terminating_names=terminating,
        now=now,
        uid=state.new_uid(),
        generated_suffix=[state.name_suffix() for _ in range(MAX_GENERATE_NAME_ATTEMPTS)],
        content_type=content_type,
        version=state.kube_version,
    )
    if decision.code != 201:
        code, out = decision.code, decision.body
        if code == 422 and (out.get("details") or {}).get("kind") == st.KIND:
            code, out = bend_invalid(out, faults)
        return respond(request, code, out, warning_headers=decision.warnings)

    obj: dict[str, Any] = decision.body
    bend_stored(obj, bent, faults)
    manager = manager_name(query.get("fieldManager", [""])[0], request.headers.get("User-Agent"))
    stamp_create(obj, manager, now)
    if persists(faults, decision.persist, dry_run):
        obj = store.create(obj)
    go_order_metadata(obj)
    return respond(request, 201, with_type_meta(obj), warning_headers=decision.warnings)
