"""Focused checks of /approval and /status: timestamps, wholesale list replacement,
approval and signing permissions, unsupported patch types, protobuf bodies.

The update state machine covers these transitions in bulk; each property here pins one
rule down with a small, readable failure.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.client import Client, csr_path
from conformance.identities import ADMIN, APPROVER, SCOPED_SIGNER, SIGNER, USER
from conformance.properties.expect import judge_update
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session, need_any_role
from conformance.properties.writes import create, send
from conformance.session import Session
from strategies.csr import valid_csr
from strategies.names import custom_signer_names
from strategies.updates import CUSTOM_TYPES, certificate_values, spec_edits

_ZERO_TIMES = {"lastUpdateTime": None, "lastTransitionTime": None}


def _write(
    session: Session,
    role: str,
    endpoint: str,
    method: str,
    name: str,
    value: Any,
    content_type: str = "application/json",
) -> Any:
    """Send one write and judge it against the oracle; returns the response."""
    resp, _decision = send(
        session,
        role=role,
        endpoint=endpoint,
        method=method,
        name=name,
        body=json.dumps(value).encode(),
        content_type=content_type,
    )
    return resp


def _with_conditions(obj: dict[str, Any], conds: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(obj)
    out["status"] = {**(obj.get("status") or {}), "conditions": conds}
    out["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return out


@given(
    csr=valid_csr(junk=False),
    ctype=st.sampled_from(["Approved", "Denied"]),
    reason=st.sampled_from(["A", "B"]),
)
@rules("CSR-SUB-TIME", "CSR-SUB-APPROVAL")
def test_condition_timestamps_are_filled_and_carried_over(
    csr: dict[str, Any], ctype: str, reason: str
) -> None:
    """Zero timestamps are filled with one time; resubmitting the same type and status with
    a zero lastTransitionTime keeps the old one; client-sent times are kept verbatim."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        cond = {"type": ctype, "status": "True", "reason": reason, **_ZERO_TIMES}
        first = _write(session, ADMIN, "approval", "PUT", name, _with_conditions(obj, [cond]))
        (c1,) = first.obj()["status"]["conditions"]
        if not c1.get("lastUpdateTime") or c1.get("lastUpdateTime") != c1.get("lastTransitionTime"):
            raise AssertionError(f"zero timestamps not filled with one time: {c1}")
        again = {**cond, "reason": reason + "2", "lastUpdateTime": "2001-02-03T04:05:06Z"}
        second = _write(
            session, ADMIN, "approval", "PUT", name, _with_conditions(first.obj(), [again])
        )
        (c2,) = second.obj()["status"]["conditions"]
        if c2.get("lastTransitionTime") != c1.get("lastTransitionTime"):
            raise AssertionError("lastTransitionTime of an unchanged (type, status) moved")
        if c2.get("lastUpdateTime") != "2001-02-03T04:05:06Z":
            raise AssertionError("a client-sent lastUpdateTime was not kept")


@given(
    csr=valid_csr(junk=False),
    custom=st.sampled_from(CUSTOM_TYPES),
    ptype=st.sampled_from(
        ["application/merge-patch+json", "application/strategic-merge-patch+json"]
    ),
)
@rules("CSR-PATCH-MERGE", "CSR-PATCH-SMP", "CSR-VAL-C6")
def test_merge_and_strategic_patches_replace_the_condition_list(
    csr: dict[str, Any], custom: str, ptype: str
) -> None:
    """A merge or strategic-merge patch listing one condition replaces the list: a custom
    condition disappears; a Failed condition cannot be dropped that way (422)."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        first = _write(
            session,
            ADMIN,
            "approval",
            "PUT",
            name,
            _with_conditions(
                obj, [{"type": custom, "status": "True"}, {"type": "Failed", "status": "True"}]
            ),
        )
        checks.status_code(first, 200)
        patch = {"status": {"conditions": [{"type": "Approved", "status": "True"}]}}
        _write(session, ADMIN, "approval", "PATCH", name, patch, ptype)
        patch = {
            "status": {
                "conditions": [
                    {"type": "Failed", "status": "True"},
                    {"type": "Approved", "status": "True"},
                ]
            }
        }
        resp = _write(session, ADMIN, "approval", "PATCH", name, patch, ptype)
        types = [c["type"] for c in resp.obj().get("status", {}).get("conditions", [])]
        if resp.status == 200 and custom in types:
            raise AssertionError(f"{ptype} merged conditions by type: {types}")


@given(csr=valid_csr(junk=False), own=st.booleans(), other=custom_signer_names())
@rules("CSR-ADM-APPROVE", "CSR-AUTHZ-RBAC")
def test_only_permitted_identities_approve(csr: dict[str, Any], own: bool, other: str) -> None:
    """The approver may approve its signer only; the plain user may not touch /approval."""
    session = current_session()
    need_any_role(session, USER, APPROVER)
    with session.example() as ex:
        signer = SCOPED_SIGNER if own or other == SCOPED_SIGNER else other
        obj = create(session, csr, ex, signer)
        name = obj["metadata"]["name"]
        approve = _with_conditions(obj, [{"type": "Approved", "status": "True"}])
        for role in (USER, APPROVER):
            if session.has_role(role):
                _write(session, role, "approval", "PUT", name, approve)


@given(
    csr=valid_csr(junk=False),
    own=st.booleans(),
    cert=certificate_values(),
    metadata_only=st.booleans(),
)
@rules("CSR-ADM-SIGN", "CSR-AUTHZ-RBAC", "CSR-SUB-STATUS-CERT", "CSR-VAL-K1", "CSR-VAL-K3")
def test_only_permitted_identities_sign(
    csr: dict[str, Any], own: bool, cert: str, metadata_only: bool
) -> None:
    """The signer may set a certificate for its signer only; a metadata-only /status write
    needs no sign permission; a certificate, once set, is never replaced."""
    session = current_session()
    need_any_role(session, USER, SIGNER)
    with session.example() as ex:
        obj = create(session, csr, ex, SCOPED_SIGNER if own else None)
        name = obj["metadata"]["name"]
        body = dict(obj)
        body["metadata"] = {**obj["metadata"], "annotations": {"signed-by": "test"}}
        body["metadata"].pop("managedFields", None)
        if not metadata_only:
            body["status"] = {"certificate": cert}
        for role in (USER, SIGNER, ADMIN):
            if session.has_role(role):
                _write(session, role, "status", "PUT", name, body)


@given(
    csr=valid_csr(junk=False),
    ctype=st.sampled_from(
        [
            "text/plain",
            "application/xml",
            "application/json-patch+yaml",
            "application/merge-patch",
        ]
    ),
    endpoint=st.sampled_from(["main", "status", "approval"]),
)
@rules("CSR-PATCH-415")
def test_unsupported_patch_types_get_415(csr: dict[str, Any], ctype: str, endpoint: str) -> None:
    """PATCH with a Content-Type that is not a patch type is 415 UnsupportedMediaType."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        _write(session, ADMIN, endpoint, "PATCH", obj["metadata"]["name"], {}, ctype)


@given(csr=valid_csr())
@rules("CSR-WIRE-PROTOBUF")
def test_protobuf_and_json_show_the_same_object(csr: dict[str, Any]) -> None:
    """GET with Accept protobuf decodes to exactly what GET as JSON returns."""
    from conformance.wire import protobuf

    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        client: Client = session.client(ADMIN)
        name = obj["metadata"]["name"]
        as_json = client.get(name)
        as_proto = client.request("GET", csr_path(name), accept=protobuf.MEDIA_TYPE)
        checks.status_code(as_proto, 200)
        ctype = as_proto.headers.get("content-type", "")
        if not ctype.startswith(protobuf.MEDIA_TYPE):
            raise AssertionError(f"asked for protobuf, got Content-Type {ctype!r}")
        decoded = protobuf.decode(as_proto.body)
        problems = checks.diff(decoded, as_json.obj())
        if problems:
            raise AssertionError("protobuf and JSON differ:\n  " + "\n  ".join(problems))


@given(
    csr=valid_csr(junk=False),
    endpoint=st.sampled_from(["main", "status", "approval"]),
    case=st.sampled_from(["missing", "other-name", "other-uid"]),
)
@rules("CSR-UPD-404", "CSR-UPD-NAME", "CSR-CONC-UID", "CSR-ERR-STATUS")
def test_put_to_the_wrong_object_is_refused(csr: dict[str, Any], endpoint: str, case: str) -> None:
    """PUT never creates (404); a body naming another object is 400; a body with another
    uid is a 409 precondition failure. Nothing is stored in any case."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        body = {
            **obj,
            "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"},
        }
        target = name
        if case == "missing":
            target = name + "-missing"
            body["metadata"]["name"] = target
        elif case == "other-name":
            body["metadata"]["name"] = name + "-other"
        else:
            body["metadata"]["uid"] = "00000000-0000-0000-0000-00000000abcd"
        body["metadata"]["labels"] = {**body["metadata"].get("labels", {}), "touched": "yes"}
        stored = session.client(ADMIN).get(target)
        raw = json.dumps(body).encode()
        resp = session.client(ADMIN).request(
            "PUT", csr_path(target, None if endpoint == "main" else endpoint), data=raw
        )
        judge_update(
            session,
            resp,
            endpoint=endpoint,
            method="PUT",
            name=target,
            body=raw,
            content_type="application/json",
            query={},
            role=ADMIN,
            stored=stored.obj() if stored.status == 200 else None,
        )
        if case == "missing" and session.client(ADMIN).get(target).status != 404:
            raise AssertionError("PUT of a missing name created it")


_PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "smp": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}


def _patch_body(kind: str, section: str, values: dict[str, Any]) -> Any:
    if kind == "json":
        return [
            {"op": "add", "path": f"/{section}/{key}", "value": value}
            for key, value in values.items()
        ]
    return {section: values}


@given(
    csr=valid_csr(junk=False),
    edit=spec_edits().filter(bool),
    kind=st.sampled_from(sorted(_PATCH_TYPES)),
)
@rules("CSR-IMM-SPEC", "CSR-PATCH-JSON", "CSR-PATCH-MERGE", "CSR-PATCH-SMP", "CSR-SUB-NOOP")
def test_patches_never_change_spec(csr: dict[str, Any], edit: dict[str, Any], kind: str) -> None:
    """A patch of spec fields on the main resource is answered 200 and changes nothing."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        _write(
            session,
            ADMIN,
            "main",
            "PATCH",
            name,
            _patch_body(kind, "spec", edit),
            _PATCH_TYPES[kind],
        )
        after = session.client(ADMIN).get(name).obj()
        if after.get("spec") != obj.get("spec"):
            raise AssertionError("a spec patch was persisted")


@given(
    csr=valid_csr(junk=False),
    first=st.sampled_from(["Approved", "Denied"]),
    kind=st.sampled_from(["put", "merge", "smp"]),
    keep=st.booleans(),
)
@rules("CSR-VAL-C5", "CSR-VAL-C6", "CSR-SUB-APPROVAL")
def test_approved_and_denied_never_coexist(
    csr: dict[str, Any], first: str, kind: str, keep: bool
) -> None:
    """Once approved a CSR cannot be denied (nor the reverse), whether the request keeps
    the first condition (both present: 422) or drops it (removal: 422)."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        done = _write(
            session,
            ADMIN,
            "approval",
            "PUT",
            name,
            _with_conditions(obj, [{"type": first, "status": "True"}]),
        )
        other = "Denied" if first == "Approved" else "Approved"
        conds = [{"type": first, "status": "True"}] if keep else []
        conds.append({"type": other, "status": "True"})
        if kind == "put":
            _write(session, ADMIN, "approval", "PUT", name, _with_conditions(done.obj(), conds))
        else:
            _write(
                session,
                ADMIN,
                "approval",
                "PATCH",
                name,
                {"status": {"conditions": conds}},
                _PATCH_TYPES[kind],
            )
        types = {c.get("type") for c in _conditions_of(session, name)}
        if {"Approved", "Denied"} <= types:
            raise AssertionError("Approved and Denied are both stored")


@given(
    csr=valid_csr(junk=False),
    first=certificate_values(),
    second=certificate_values(),
    kind=st.sampled_from(["put", "merge", "json"]),
)
@rules("CSR-SUB-STATUS-CERT", "CSR-VAL-K1", "CSR-VAL-K3", "CSR-VAL-K5")
def test_a_certificate_is_set_once(csr: dict[str, Any], first: str, second: str, kind: str) -> None:
    """The first valid certificate sticks; any later different value is a 422."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        body = {**obj, "status": {"certificate": first}}
        body["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
        _write(session, ADMIN, "status", "PUT", name, body)
        stored = session.client(ADMIN).get(name).obj()
        before = (stored.get("status") or {}).get("certificate")
        if kind == "put":
            again = {**stored, "status": {**stored.get("status", {}), "certificate": second}}
            again["metadata"] = {
                k: v for k, v in stored["metadata"].items() if k != "managedFields"
            }
            _write(session, ADMIN, "status", "PUT", name, again)
        else:
            _write(
                session,
                ADMIN,
                "status",
                "PATCH",
                name,
                _patch_body(kind, "status", {"certificate": second}),
                _PATCH_TYPES[kind],
            )
        after = (session.client(ADMIN).get(name).obj().get("status") or {}).get("certificate")
        if before and after != before:
            raise AssertionError("a set certificate was replaced")


def _conditions_of(session: Session, name: str) -> list[dict[str, Any]]:
    obj = session.client(ADMIN).get(name).obj()
    return list((obj.get("status") or {}).get("conditions") or [])
