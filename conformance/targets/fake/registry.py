"""Writes made inside the fake, by its own controllers, through the same pipeline as HTTP.

A controller of a real cluster (kube-controller-manager's csrsigning) writes
``status.certificate`` or a ``Failed`` condition with ``UpdateStatus``: a PUT of
``/status`` as its own identity, judged by RBAC, the status strategy, validation and the
CertificateSigning admission plugin, and stored with a compare-and-swap on the
resourceVersion it read. The fake's reference signer does the same here, with no HTTP
loop: :func:`update_status` hands the body to the oracle's ``decide_update`` (exactly
what ``handlers/update.py`` does for a request) and stores a success the way that
handler's commit does. It returns ``(code, body)`` and knows nothing of aiohttp.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from conformance.oracle.apimachinery import status as st
from conformance.oracle.csr.create import UserInfo
from conformance.oracle.csr.update import decide_update
from conformance.targets.fake.authn import Principal
from conformance.targets.fake.authz import authorizer_for
from conformance.targets.fake.context import ServerState
from conformance.targets.fake.store import Obj, StaleWrite
from conformance.wire.protobuf import ProtobufError, go_normalize


def go_form(obj: Mapping[str, Any]) -> Obj:
    """``obj`` as the server's Go types render it (field order, omitted zero values); a
    document the protobuf schema cannot carry is kept as it is."""
    try:
        return go_normalize(obj)
    except ProtobufError:
        return copy.deepcopy(dict(obj))


def user_info(principal: Principal) -> UserInfo:
    """The caller as the oracle's create and update pipelines take it."""
    return UserInfo.of(principal)


def update_status(
    state: ServerState, principal: Principal, body: Mapping[str, Any], user_agent: str
) -> tuple[int, Obj]:
    """PUT ``body`` to ``/status`` of the object it names, as ``principal``.

    ``body`` must carry the ``metadata.resourceVersion`` it was derived from: like
    ``UpdateStatus`` the write is refused with 409 when the object moved on, and the
    caller (a controller) simply waits for the event of that newer write.
    """
    name = str(body["metadata"]["name"])
    stored = state.store.get(name)
    if stored is None:
        return 404, st.not_found(name)
    decision = decide_update(
        "status",
        "PUT",
        name,
        json.dumps(body).encode(),
        "application/json",
        {},
        user_info(principal),
        authorizer_for(principal),
        stored=stored,
        now=state.now(),
        user_agent=user_agent,
        uid=state.new_uid(),
        version=state.kube_version,
    )
    if decision.code != 200:
        return decision.code, decision.body
    if decision.noop:
        return 200, stored
    candidate = go_form(decision.body)
    candidate["metadata"].pop("resourceVersion", None)
    try:
        return 200, state.store.update(
            candidate, expected_rv=str(stored["metadata"].get("resourceVersion", ""))
        )
    except (StaleWrite, KeyError):
        return 409, st.conflict(name, st.OBJECT_MODIFIED)
