"""How the update faults bend the oracle's verdict, kept apart from the correct path.

The fake's update is "ask the oracle, then store", so a fault cannot skip a line of
validation. As for create (``create_faults``), a fault that makes the server accept what
kube-apiserver refuses *repairs* the request before the oracle sees it (a stale
resourceVersion dropped, a forbidden condition held back, the stored certificate hidden)
and puts the refused part back into the accepted object afterwards; a fault about what
is stored edits the accepted object (the "candidate") before storage; a fault about who
may do what wraps the authorizer.

Condition faults need the object the request proposes, which for a patch exists only
after the patch is applied; they apply it with the oracle's own patch code and hand the
oracle the result as a PUT, which runs the same strategy, validation and admission.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import yaml
from aiohttp import web

from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    apply_patch,
    check_patch_content_type,
    handler_patch_type,
)
from conformance.oracle.csr.create import (
    MAX_GENERATE_NAME_ATTEMPTS,
    decide_create,
    field_validation_directive,
    validate_create_options,
)
from conformance.oracle.csr.update import load_apply_yaml
from conformance.oracle.csr.update_admission import Authorizer
from conformance.oracle.csr.update_strategy import Endpoint, prepare_update, validate_update
from conformance.targets.fake.context import Call
from conformance.targets.fake.faults import ActiveFaults
from conformance.targets.fake.managed_fields import manager_name, stamp_create
from conformance.targets.fake.objects import with_type_meta
from conformance.targets.fake.registry import user_info
from conformance.targets.fake.wire import respond

APPROVED: Final = "Approved"
DENIED: Final = "Denied"
FAILED: Final = "Failed"
_PERMANENT: Final = (APPROVED, DENIED, FAILED)
_META_KEYS: Final = ("labels", "annotations", "finalizers", "ownerReferences")
_APPROVAL_RESOURCE: Final = f"{st.RESOURCE}/approval"
_STATUS_RESOURCE: Final = f"{st.RESOURCE}/status"

Obj = dict[str, Any]
Restore = Callable[[Obj], None]


@dataclass
class BentUpdate:
    """An update request prepared for the oracle under the active faults."""

    endpoint: Endpoint
    method: str
    body: bytes
    content_type: str | None
    query: dict[str, list[str]]
    stored: Obj | None
    authorizer: Authorizer
    restores: list[Restore] = field(default_factory=list)


# -- authorization -----------------------------------------------------------------------


def bend_authorizer(authorizer: Authorizer, faults: ActiveFaults) -> Authorizer:
    """The caller's permissions as the faulty server sees them."""

    def allowed(verb: str, resource: str, name: str) -> bool:
        if resource == "signers":
            if verb == "approve" and faults.on("approve-without-verb"):
                return True
            if verb == "sign" and faults.on("sign-without-verb"):
                return True
        if (
            faults.on("subresource-rbac-open")
            and verb in ("update", "patch")
            and resource in (_APPROVAL_RESOURCE, _STATUS_RESOURCE)
        ):
            return True
        return authorizer(verb, resource, name)

    return allowed


def filter_allows(
    faults: ActiveFaults, allowed: bool, verb: str, resource: str, subresource: str
) -> bool:
    """The authorization filter's verdict: ``subresource-rbac-open`` lets every update or
    patch of ``/approval`` and ``/status`` through."""
    return allowed or (
        faults.on("subresource-rbac-open")
        and resource == st.RESOURCE
        and subresource in ("approval", "status")
        and verb in ("update", "patch")
    )


# -- small helpers -----------------------------------------------------------------------


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def conditions(obj: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if obj is None:
        return []
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return []
    conds = status.get("conditions")
    if not isinstance(conds, list):
        return []
    return [c for c in conds if isinstance(c, dict)]


def _certificate(obj: Mapping[str, Any] | None) -> str:
    status = (obj or {}).get("status")
    if not isinstance(status, Mapping):
        return ""
    cert = status.get("certificate")
    return cert if isinstance(cert, str) else ""


def _count(conds: Sequence[Mapping[str, Any]], ctype: str) -> int:
    return sum(1 for c in conds if c.get("type") == ctype)


def proposed_object(
    method: str,
    body: bytes,
    content_type: str | None,
    query: Mapping[str, Sequence[str]],
    stored: Mapping[str, Any],
    name: str,
) -> Obj | None:
    """The object a PUT body or a JSON/merge/strategic patch proposes (None otherwise)."""
    if method == "PUT":
        doc = _loads(body)
        return doc if isinstance(doc, dict) else None
    patch_type = handler_patch_type(content_type)
    if patch_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH):
        return None
    result = apply_patch(patch_type, body, stored, field_validation_directive(query), name)
    return result.obj


def _as_put(bent: BentUpdate, proposed: Obj) -> None:
    proposed["apiVersion"] = st.API_VERSION
    proposed["kind"] = st.KIND
    bent.method = "PUT"
    bent.body = json.dumps(proposed).encode()
    bent.content_type = "application/json"
    bent.query.pop("force", None)


def _fill_times(cond: dict[str, Any], now: str) -> dict[str, Any]:
    out = copy.deepcopy(cond)
    for key in ("lastUpdateTime", "lastTransitionTime"):
        if not out.get(key):
            out[key] = now
    return out


# -- before the oracle -------------------------------------------------------------------


def _strip_from_json_patch(body: bytes, path: str) -> bytes | None:
    ops = _loads(body)
    if not isinstance(ops, list):
        return None
    kept = [op for op in ops if not (isinstance(op, dict) and op.get("path") == path)]
    return json.dumps(kept).encode() if len(kept) != len(ops) else None


def _strip_meta_key(body: bytes, content_type: str | None, method: str, key: str) -> bytes | None:
    """The body without ``metadata.<key>``, or None when it carries none."""
    patch_type = handler_patch_type(content_type) if method == "PATCH" else None
    if patch_type == JSON_PATCH:
        return _strip_from_json_patch(body, f"/metadata/{key}")
    if patch_type == APPLY_PATCH:
        try:
            doc = load_apply_yaml(body)[0]
        except yaml.YAMLError:
            return None
    else:
        doc = _loads(body)
    if not isinstance(doc, dict) or key not in _meta(doc):
        return None
    del doc["metadata"][key]
    return json.dumps(doc).encode()


def _merge_conditions_by_type(stored: Mapping[str, Any], patch: list[Any]) -> list[Any]:
    merged = [copy.deepcopy(c) for c in conditions(stored)]
    for item in patch:
        if not isinstance(item, dict):
            merged.append(item)
            continue
        same = next((c for c in merged if c.get("type") == item.get("type")), None)
        if same is None:
            merged.append(copy.deepcopy(item))
        else:
            same.update(copy.deepcopy(item))
    return merged


def _bend_options(bent: BentUpdate, faults: ActiveFaults) -> None:
    """The option faults: what the faulty server does with the query before the oracle."""
    query = bent.query
    patch_type = handler_patch_type(bent.content_type) if bent.method == "PATCH" else None
    if faults.on("update-options-unchecked") and patch_type != APPLY_PATCH:
        if "dryRun" in query:
            query["dryRun"] = [v for v in query["dryRun"] if v == "All"]
            if not query["dryRun"]:
                del query["dryRun"]
        if field_validation_directive(query) not in ("Ignore", "Strict", "Warn"):
            query.pop("fieldValidation", None)
        if any(e.field == "fieldManager" for e in validate_create_options(query)):
            query.pop("fieldManager", None)
        if bent.method == "PATCH":
            query.pop("force", None)
    if faults.on("dryrun-update-persists"):
        query.pop("dryRun", None)
    if faults.on("patch-field-validation-ignored") and bent.method == "PATCH":
        query["fieldValidation"] = ["Ignore"]
    if faults.on("apply-ignores-conflicts") and patch_type == APPLY_PATCH:
        query["force"] = ["true"]
    if faults.on("put-apiversion-unchecked") and bent.method == "PUT":
        doc = _loads(bent.body)
        if isinstance(doc, dict) and "apiVersion" in doc and doc["apiVersion"] != st.API_VERSION:
            doc["apiVersion"] = st.API_VERSION
            bent.body = json.dumps(doc).encode()


def _is_bad_condition(cond: Mapping[str, Any], seen: set[Any]) -> bool:
    """Whether a condition breaks C1-C4 (given the types already kept)."""
    ctype, status = cond.get("type"), cond.get("status")
    allowed = ("True",) if ctype in _PERMANENT else ("True", "False", "Unknown")
    return not ctype or not status or status not in allowed or ctype in seen


def _bend_unvalidated_conditions(bent: BentUpdate, name: str, now: str) -> None:
    """``update-conditions-unvalidated``: hold back the conditions C1-C4 would refuse and
    put them back into what is stored."""
    assert bent.stored is not None
    proposed = proposed_object(
        bent.method, bent.body, bent.content_type, bent.query, bent.stored, name
    )
    if proposed is None:
        return
    kept: list[dict[str, Any]] = []
    held: list[tuple[int, dict[str, Any]]] = []
    seen: set[Any] = set()
    for index, cond in enumerate(conditions(proposed)):
        if _is_bad_condition(cond, seen):
            held.append((index, cond))
        else:
            kept.append(cond)
            seen.add(cond.get("type"))
    if not held:
        return

    def put_back(candidate: Obj, held: list[tuple[int, dict[str, Any]]] = held) -> None:
        cands = candidate.setdefault("status", {}).setdefault("conditions", [])
        for index, cond in held:
            cands.insert(min(index, len(cands)), _fill_times(cond, now))

    bent.restores.append(put_back)
    proposed.setdefault("status", {})["conditions"] = kept
    _as_put(bent, proposed)


_NOT_A_CERTIFICATE: Final = base64.b64encode(b"refused: the CSR is not approved").decode()
"""What ``certificate-requires-approval`` hands the oracle instead of the certificate: no
PEM block at all, so the answer is a 422 on status.certificate."""


def _bend_certificate_needs_approval(bent: BentUpdate, name: str) -> None:
    stored = bent.stored
    assert stored is not None
    if any(c.get("type") == APPROVED for c in conditions(stored)):
        return
    proposed = proposed_object(bent.method, bent.body, bent.content_type, bent.query, stored, name)
    if proposed is None or _certificate(proposed) in ("", _certificate(stored)):
        return
    proposed.setdefault("status", {})["certificate"] = _NOT_A_CERTIFICATE
    _as_put(bent, proposed)


def _bend_new_finalizers(bent: BentUpdate, name: str) -> None:
    """``finalizers-added-while-deleting``: hold back the new finalizers, store them after."""
    stored = bent.stored
    assert stored is not None
    proposed = proposed_object(bent.method, bent.body, bent.content_type, bent.query, stored, name)
    if proposed is None:
        return
    wanted = _meta(proposed).get("finalizers")
    old = _meta(stored).get("finalizers") or []
    if not isinstance(wanted, list) or not [f for f in wanted if f not in old]:
        return
    kept = [f for f in wanted if f in old]
    if not kept:
        return  # the write removes every finalizer: the object goes, nothing to add to

    finalizers = list(wanted)

    def add_back(candidate: Obj) -> None:
        candidate.setdefault("metadata", {})["finalizers"] = list(finalizers)

    bent.restores.append(add_back)
    proposed["metadata"]["finalizers"] = kept
    _as_put(bent, proposed)


def bend_request(bent: BentUpdate, name: str, now: str, faults: ActiveFaults) -> None:
    """Repair what the active faults would not have refused, remembering how to undo it."""
    stored = bent.stored
    _bend_options(bent, faults)
    if (
        faults.on("unknown-patch-type-as-merge")
        and bent.method == "PATCH"
        and check_patch_content_type(bent.content_type)[1] is not None
    ):
        bent.content_type = MERGE_PATCH
    if faults.on("stale-rv-accepted"):
        stripped = _strip_meta_key(bent.body, bent.content_type, bent.method, "resourceVersion")
        if stripped is not None:
            bent.body = stripped
    if faults.on("name-mismatch-accepted"):
        _fix_name(bent, name)
    if stored is None:
        return
    if faults.on("uid-mismatch-accepted") and bent.method == "PUT":
        doc = _loads(bent.body)
        if isinstance(doc, dict) and _meta(doc).get("uid") not in (
            None,
            "",
            _meta(stored).get("uid"),
        ):
            del doc["metadata"]["uid"]
            bent.body = json.dumps(doc).encode()
    if (
        faults.on("smp-merges-conditions")
        and bent.method == "PATCH"
        and handler_patch_type(bent.content_type) == STRATEGIC_PATCH
    ):
        doc = _loads(bent.body)
        status = doc.get("status") if isinstance(doc, dict) else None
        if isinstance(status, dict) and isinstance(status.get("conditions"), list):
            status["conditions"] = _merge_conditions_by_type(stored, status["conditions"])
            bent.body = json.dumps(doc).encode()
    if faults.on("update-conditions-unvalidated") and bent.endpoint in ("approval", "status"):
        _bend_unvalidated_conditions(bent, name, now)
    if faults.on("finalizers-added-while-deleting") and _meta(stored).get("deletionTimestamp"):
        _bend_new_finalizers(bent, name)
    if faults.on("certificate-requires-approval") and bent.endpoint == "status":
        _bend_certificate_needs_approval(bent, name)
    _bend_conditions(bent, name, now, faults)


def _fix_name(bent: BentUpdate, name: str) -> None:
    patch_type = handler_patch_type(bent.content_type) if bent.method == "PATCH" else None
    if patch_type == JSON_PATCH:
        stripped = _strip_from_json_patch(bent.body, "/metadata/name")
        if stripped is not None:
            bent.body = stripped
        return
    if patch_type == APPLY_PATCH:
        return
    doc = _loads(bent.body)
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        return
    meta = doc["metadata"]
    if "name" in meta and meta["name"] != name:
        if bent.method == "PUT":
            meta["name"] = name
        else:
            del meta["name"]
        bent.body = json.dumps(doc).encode()


def _bend_conditions(bent: BentUpdate, name: str, now: str, faults: ActiveFaults) -> None:
    stored = bent.stored
    assert stored is not None
    wanted = (
        (bent.endpoint == "approval" and faults.on("approved-and-denied"))
        or (bent.endpoint == "approval" and faults.on("approval-removable"))
        or (bent.endpoint == "status" and faults.on("status-can-approve"))
        or (bent.endpoint == "status" and faults.on("certificate-replaceable"))
    )
    if not wanted:
        return
    proposed = proposed_object(bent.method, bent.body, bent.content_type, bent.query, stored, name)
    if proposed is None:
        return
    conds = conditions(proposed)
    changed = False
    if bent.endpoint == "approval" and faults.on("approved-and-denied"):
        kinds = [c.get("type") for c in conds]
        if APPROVED in kinds and DENIED in kinds:
            later = max(kinds.index(APPROVED), kinds.index(DENIED))
            held = conds.pop(later)

            def put_back(candidate: Obj, index: int = later, cond: Obj = held) -> None:
                cands = candidate.setdefault("status", {}).setdefault("conditions", [])
                cands.insert(min(index, len(cands)), _fill_times(cond, now))

            bent.restores.append(put_back)
            changed = True
    if bent.endpoint == "approval" and faults.on("approval-removable"):
        missing: list[dict[str, Any]] = []
        for ctype in _PERMANENT:
            lacking = _count(conditions(stored), ctype) - _count(conds, ctype)
            if lacking > 0:
                missing += [c for c in conditions(stored) if c.get("type") == ctype][-lacking:]
        if missing:
            conds.extend(copy.deepcopy(missing))

            def drop_again(candidate: Obj, n: int = len(missing)) -> None:
                cands = candidate.get("status", {}).get("conditions", [])
                del cands[len(cands) - n :]

            bent.restores.append(drop_again)
            changed = True
    if (
        bent.endpoint == "status"
        and faults.on("status-can-approve")
        and _certificate(proposed) == _certificate(stored)
        and any(
            _count(conds, t) != _count(conditions(stored), t)
            or [c for c in conds if c.get("type") == t]
            != [c for c in conditions(stored) if c.get("type") == t]
            for t in (APPROVED, DENIED)
        )
    ):
        bent.endpoint = "approval"
        bent.authorizer = _status_as_approval(bent.authorizer)
        changed = True
    if (
        bent.endpoint == "status"
        and faults.on("certificate-replaceable")
        and _certificate(stored)
        and _certificate(proposed) != _certificate(stored)
    ):
        hidden = copy.deepcopy(stored)
        hidden.get("status", {}).pop("certificate", None)
        bent.stored = hidden
    if changed:
        proposed.setdefault("status", {})["conditions"] = conds
        _as_put(bent, proposed)


def _status_as_approval(authorizer: Authorizer) -> Authorizer:
    """A /status write judged as /approval still needs what /status needs."""

    def allowed(verb: str, resource: str, name: str) -> bool:
        if resource == _APPROVAL_RESOURCE:
            resource = _STATUS_RESOURCE
        if resource == "signers" and verb == "approve":
            verb = "sign"
        return authorizer(verb, resource, name)

    return allowed


# -- after the oracle --------------------------------------------------------------------


def bend_candidate(
    candidate: Obj,
    *,
    endpoint: Endpoint,
    method: str,
    request_object: Mapping[str, Any] | None,
    stored: Mapping[str, Any],
    now: str,
    bent: BentUpdate,
    faults: ActiveFaults,
) -> bool:
    """Edit the object about to be stored as the active faults would; True if edited."""
    before = json.dumps(candidate, sort_keys=True)
    for restore in bent.restores:
        restore(candidate)
    sent = request_object or {}
    if endpoint == "main" and faults.on("status-via-main") and isinstance(sent.get("status"), dict):
        candidate["status"] = copy.deepcopy(sent["status"])
    if endpoint == "main" and faults.on("main-accepts-status-changes"):
        _status_as_status_would(candidate, sent, stored, now)
    sent_created = _meta(sent).get("creationTimestamp")
    if faults.on("creation-timestamp-writable") and sent_created:
        candidate.setdefault("metadata", {})["creationTimestamp"] = sent_created
    if (
        endpoint == "main"
        and method == "PATCH"
        and faults.on("patch-persists-spec")
        and isinstance(sent.get("spec"), dict)
    ):
        candidate["spec"] = copy.deepcopy(sent["spec"])
    if endpoint == "approval" and faults.on("approval-sets-certificate"):
        cert = _certificate(sent)
        if cert:
            candidate.setdefault("status", {})["certificate"] = cert
    if endpoint in ("approval", "status") and faults.on("timestamps-overwritten"):
        sent_types = {c.get("type") for c in conditions(sent) if c.get("lastUpdateTime")}
        for cond in conditions(candidate):
            if cond.get("type") in sent_types:
                cond["lastUpdateTime"] = now
    if endpoint == "approval" and faults.on("approval-ignores-metadata"):
        meta = candidate.setdefault("metadata", {})
        old = _meta(stored)
        for key in _META_KEYS:
            if key in old:
                meta[key] = copy.deepcopy(old[key])
            else:
                meta.pop(key, None)
    return json.dumps(candidate, sort_keys=True) != before


def _status_as_status_would(
    candidate: Obj, sent: Mapping[str, Any], stored: Mapping[str, Any], now: str
) -> None:
    """``main-accepts-status-changes``: take the sent status when ``/status`` would."""
    if not sent:
        return
    prepared = prepare_update("status", sent, stored, now)
    if validate_update("status", prepared, stored):
        return
    if "status" in prepared:
        candidate["status"] = copy.deepcopy(prepared["status"])


# -- instead of the update ---------------------------------------------------------------


def keeps_noop(faults: ActiveFaults, noop: bool) -> bool:
    """Whether a no-op write keeps its resourceVersion: ``noop-bumps-rv`` stores it anyway."""
    return noop and not faults.on("noop-bumps-rv")


def created_instead(
    call: Call, endpoint: Endpoint, method: str, stored: Obj | None, body: bytes, now: str
) -> web.Response | None:
    """``put-creates``: a PUT of a missing name runs the create pipeline.

    None (the update goes on) unless the fault is active and the create succeeds.
    """
    if not call.faults.on("put-creates") or method != "PUT" or endpoint != "main" or stored:
        return None
    doc = _loads(body)
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("metadata"), dict):
        doc["metadata"].pop("resourceVersion", None)
    query = {k: call.request.query.getall(k) for k in call.request.query}
    decision = decide_create(
        json.dumps(doc).encode(),
        query,
        user_info(call.user),
        existing_names=set(call.state.store.names()),
        now=now,
        uid=call.state.new_uid(),
        generated_suffix=[call.state.name_suffix() for _ in range(MAX_GENERATE_NAME_ATTEMPTS)],
        content_type="application/json",
        version=call.state.kube_version,
    )
    if decision.code != 201:
        return None
    obj: Obj = copy.deepcopy(decision.body)
    field_manager = (query.get("fieldManager") or [""])[0]
    stamp_create(obj, manager_name(field_manager, call.request.headers.get("User-Agent")), now)
    if decision.persist:
        obj = call.state.store.create(obj)
    return respond(call.request, 201, with_type_meta(obj), warning_headers=decision.warnings)
