"""One property per update rule, beside the state machine that checks them in bulk.

The update state machine (``test_update``) reaches a rule only when a history happens to
draw the step that decides it; a status change the main resource must drop although
``/status`` would take it, or a condition with an empty status sent to ``/approval``, may
never come up in 25 histories. Each property here aims every example at one rule,
through each endpoint and encoding the rule applies to, and the oracle judges the answer;
the object read back is checked for what the rule promises.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.client import csr_path
from conformance.identities import ADMIN
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import (
    APPLY_MANAGER,
    CONTENT_TYPES,
    apply_body,
    create,
    send,
    stored,
)
from conformance.session import Session
from strategies.csr import valid_csr
from strategies.focused import (
    ENCODINGS,
    StatusChange,
    condition_violations,
    immutable_metadata_edits,
    metadata_changes,
    status_changes,
    valid_certificates,
)
from strategies.updates import encode_write

_CSRS = valid_csr(junk=False)
_ENCODING = st.sampled_from([*ENCODINGS, "apply"])


def _write(
    session: Session, endpoint: str, encoding: str, before: dict[str, Any], after: dict[str, Any]
) -> Any:
    """Ask for ``after`` through ``endpoint`` in ``encoding``; the judged decision."""
    apply = encoding == "apply"
    _resp, decision = send(
        session,
        role=ADMIN,
        endpoint=endpoint,
        method="PUT" if encoding == "put" else "PATCH",
        name=before["metadata"]["name"],
        body=apply_body(after) if apply else encode_write(encoding, before, after, ""),
        content_type=CONTENT_TYPES[encoding],
        query={"fieldManager": [APPLY_MANAGER]} if apply else {},
    )
    return decision


def _current(session: Session, name: str) -> dict[str, Any]:
    obj = stored(session, name)
    if obj is None:
        raise AssertionError(f"{name!r} disappeared")
    return obj


def _with_conditions(obj: dict[str, Any], conds: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out.setdefault("status", {})["conditions"] = conds
    return out


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list((obj.get("status") or {}).get("conditions") or [])


# -- CSR-META-M5 / CSR-IMM-META ----------------------------------------------------------


@given(
    csr=_CSRS,
    edit=immutable_metadata_edits(),
    endpoint=st.sampled_from(["main", "approval", "status"]),
    encoding=_ENCODING,
)
@rules("CSR-META-M5", "CSR-IMM-META")
def test_immutable_metadata_is_kept_or_refused(
    csr: dict[str, Any], edit: dict[str, Any], endpoint: str, encoding: str
) -> None:
    """uid, creationTimestamp, deletion fields and a lower generation sent on any endpoint
    are restored, refused (422) or a uid precondition failure (409); never stored."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        desired = copy.deepcopy(obj)
        desired["metadata"].update(edit)
        _write(session, endpoint, encoding, obj, desired)
        after = _current(session, obj["metadata"]["name"])
        for key in ("uid", "creationTimestamp", "deletionTimestamp"):
            if after["metadata"].get(key) != obj["metadata"].get(key):
                raise AssertionError(f"metadata.{key} changed by an update")


_HOLD = "example.com/csr-conformance-hold"


def _release(session: Session, name: str) -> None:
    """Drop every finalizer, so a held object really goes (on any server, pass or fail)."""
    session.client(ADMIN).request(
        "PATCH",
        csr_path(name),
        body={"metadata": {"finalizers": None}},
        content_type=CONTENT_TYPES["merge"],
    )


@given(
    csr=_CSRS,
    extra=st.sampled_from(["example.com/another", "foregroundDeletion", "orphan"]),
    endpoint=st.sampled_from(["main", "approval", "status"]),
    encoding=_ENCODING,
)
@rules("CSR-IMM-META", "CSR-META-M5")
def test_no_finalizer_is_added_while_deleting(
    csr: dict[str, Any], extra: str, endpoint: str, encoding: str
) -> None:
    """Once an object held by a finalizer is being deleted, an update that adds a finalizer
    is a 422 through every endpoint; the object keeps only the finalizer it had."""
    session = current_session()
    held = copy.deepcopy(csr)
    held["metadata"]["finalizers"] = [_HOLD]
    with session.example() as ex:
        obj = create(session, held, ex)
        name = obj["metadata"]["name"]
        try:
            checks.status_code(session.client(ADMIN).delete(name), 200)
            before = _current(session, name)
            if not before["metadata"].get("deletionTimestamp"):
                raise AssertionError(
                    "DELETE of an object with a finalizer set no deletionTimestamp"
                )
            desired = copy.deepcopy(before)
            desired["metadata"]["finalizers"] = [_HOLD, extra]
            _write(session, endpoint, encoding, before, desired)
            kept = _current(session, name)["metadata"].get("finalizers")
            if kept != [_HOLD]:
                raise AssertionError(f"finalizers {kept} while deleting, expected [{_HOLD!r}]")
        finally:
            _release(session, name)


# -- CSR-SUB-MAIN-STATUS / CSR-VAL-K4 ----------------------------------------------------


@given(csr=_CSRS, change=status_changes(), encoding=_ENCODING)
@rules("CSR-SUB-MAIN-STATUS", "CSR-VAL-K4")
def test_main_resource_drops_status_changes_that_status_would_accept(
    csr: dict[str, Any], change: StatusChange, encoding: str
) -> None:
    """A Failed or custom condition, or a certificate, sent through the main resource (and a
    certificate through /approval) is silently dropped: 200 with the old status."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        endpoints = ["main", "approval"] if change.kind == "certificate" else ["main"]
        for endpoint in endpoints:
            before = _current(session, obj["metadata"]["name"])
            _write(session, endpoint, encoding, before, change.apply(before))
            after = _current(session, obj["metadata"]["name"])
            if after.get("status") != before.get("status"):
                raise AssertionError(f"{endpoint} stored a status change ({change.kind})")


# -- CSR-SUB-APPROVAL --------------------------------------------------------------------


@given(
    csr=_CSRS,
    change=status_changes(),
    certificate=valid_certificates(),
    encoding=_ENCODING,
    decision=st.booleans(),
)
@rules("CSR-SUB-APPROVAL")
def test_approval_changes_only_the_conditions(
    csr: dict[str, Any], change: StatusChange, certificate: str, encoding: str, decision: bool
) -> None:
    """/approval takes the conditions it is sent (the decision, and a Failed or custom
    condition alongside) and keeps the rest of status as stored: a certificate sent with
    them is dropped."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        before = _current(session, name)
        verdict = {
            "type": "Approved" if decision else "Denied",
            "status": "True",
            "reason": "ByTheSuite",
            "message": "focused /approval property",
        }
        wanted = change.apply(before)
        wanted["status"]["conditions"] = [*(wanted["status"].get("conditions") or []), verdict]
        if change.certificate is None:
            wanted["status"]["certificate"] = certificate
        _write(session, "approval", encoding, before, wanted)
        after = _current(session, name)
        status = after.get("status") or {}
        if "certificate" in status:
            raise AssertionError("/approval stored the status.certificate it was sent")
        kinds = [c.get("type") for c in status.get("conditions") or []]
        sent = [c.get("type") for c in wanted["status"]["conditions"]]
        if kinds != sent:
            raise AssertionError(f"/approval stored conditions {kinds}, it was sent {sent}")


# -- CSR-SUB-META ------------------------------------------------------------------------


@given(
    csr=_CSRS,
    changes=st.tuples(metadata_changes(), metadata_changes(), metadata_changes()),
    encodings=st.tuples(_ENCODING, _ENCODING, _ENCODING),
)
@rules("CSR-SUB-META")
def test_metadata_changes_through_every_endpoint(
    csr: dict[str, Any], changes: tuple[dict[str, Any], ...], encodings: tuple[str, ...]
) -> None:
    """Labels, annotations and ownerReferences change through the main resource, /approval
    and /status alike."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        for endpoint, change, encoding in zip(
            ("main", "approval", "status"), changes, encodings, strict=True
        ):
            before = _current(session, name)
            desired = copy.deepcopy(before)
            meta = desired["metadata"]
            for key, value in change.items():
                meta[key] = {**meta.get(key, {}), **value} if isinstance(value, dict) else value
            decision = _write(session, endpoint, encoding, before, desired)
            after = _current(session, name)
            if decision.code == 200:
                for key in change:
                    if after["metadata"].get(key) != meta.get(key):
                        raise AssertionError(f"{endpoint} did not store metadata.{key}")


# -- CSR-SUB-STATUS-AD / CSR-VAL-C7 ------------------------------------------------------


@given(
    csr=_CSRS,
    decided=st.sampled_from([None, "Approved", "Denied"]),
    action=st.sampled_from(["add", "edit", "remove"]),
    wanted=st.sampled_from(["Approved", "Denied"]),
    encoding=_ENCODING,
)
@rules("CSR-SUB-STATUS-AD", "CSR-VAL-C7", "CSR-VAL-C6")
def test_status_cannot_add_edit_or_remove_approval_decisions(
    csr: dict[str, Any], decided: str | None, action: str, wanted: str, encoding: str
) -> None:
    """Through /status, adding Approved or Denied is 422, editing one is silently reverted,
    removing one is 422: decisions belong to /approval."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        if decided is not None:
            cond = {"type": decided, "status": "True", "reason": "Decided"}
            _write(session, "approval", "put", obj, _with_conditions(obj, [cond]))
        before = _current(session, name)
        conds = _conditions(before)
        if action == "add" or not conds:
            conds = [*conds, {"type": wanted, "status": "True", "reason": "ViaStatus"}]
        elif action == "edit":
            conds = [{**c, "reason": "EditedViaStatus", "message": "m"} for c in conds]
        else:
            conds = []
        _write(session, "status", encoding, before, _with_conditions(before, conds))
        decisions = [c for c in _conditions(_current(session, name)) if c["type"] != "Failed"]
        if decisions != [c for c in _conditions(before) if c["type"] != "Failed"]:
            raise AssertionError(f"/status changed the approval decision: {decisions}")


# -- CSR-VAL-C1..C4 ----------------------------------------------------------------------


@given(
    csr=_CSRS,
    endpoint=st.sampled_from(["approval", "status"]),
    data=st.data(),
    # Not apply: status.conditions is a list keyed by type there, so a repeated type is
    # refused by the field manager before validation (not the rule aimed at).
    encoding=st.sampled_from(ENCODINGS),
)
@rules("CSR-VAL-C1", "CSR-VAL-C2", "CSR-VAL-C3", "CSR-VAL-C4", "CSR-ERR-STATUS")
def test_condition_validation_on_update(
    csr: dict[str, Any], endpoint: str, data: st.DataObject, encoding: str
) -> None:
    """A condition list with an empty type, an empty or unsupported status, or a repeated
    type is a 422 with kube-apiserver's causes, through /approval and /status."""
    rule, conds = data.draw(condition_violations(endpoint), label="violation")
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        decision = _write(session, endpoint, encoding, obj, _with_conditions(obj, conds))
        if decision.code != 422 or rule not in decision.rules:
            raise AssertionError(f"the oracle did not refuse a {rule} violation: {decision.rules}")
        checks.same_object(_current(session, obj["metadata"]["name"]), obj, "after a 422")


# -- CSR-VAL-K2 --------------------------------------------------------------------------


@given(csr=_CSRS, cert=valid_certificates(), encoding=_ENCODING)
@rules("CSR-VAL-K2", "CSR-SUB-STATUS-CERT", "CSR-VAL-K1")
def test_a_certificate_need_not_match_the_request_or_an_approval(
    csr: dict[str, Any], cert: str, encoding: str
) -> None:
    """/status takes any valid certificate, for another key and subject, on a CSR nobody
    approved: the API does not judge what the signer issued."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        desired = copy.deepcopy(obj)
        desired.setdefault("status", {})["certificate"] = cert
        decision = _write(session, "status", encoding, obj, desired)
        after = _current(session, obj["metadata"]["name"])
        if decision.code == 200 and (after.get("status") or {}).get("certificate") != cert:
            raise AssertionError("the certificate was not stored")
