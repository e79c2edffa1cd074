"""Writes after create: every endpoint, every encoding, several identities, whole histories.

The state machine creates CSRs, then sends drawn edits through the main resource,
``/approval`` and ``/status`` as PUTs and patches, as different identities. After every
step the server's answer is compared with the oracle's (``decide_update``), and the
invariants every server must keep are checked on the stored object, under both profiles:
spec never changes; Approved, Denied and Failed are never removed; Approved and Denied
never coexist; a certificate, once set, never changes.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from conformance import checks
from conformance.client import csr_path
from conformance.identities import ADMIN, APPROVER, SCOPED_SIGNER, SIGNER, USER
from conformance.properties.expect import judge_update
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.session import Session
from strategies.csr import valid_csr
from strategies.names import custom_signer_names
from strategies.updates import ENCODINGS, ENDPOINTS, Edit, content_type, edits, encode_write

_ROLES_FOR_ENDPOINT = {
    "main": (ADMIN, USER),
    "approval": (ADMIN, APPROVER, USER),
    "status": (ADMIN, SIGNER, USER),
}


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list((obj.get("status") or {}).get("conditions") or [])


def _counts(obj: dict[str, Any]) -> dict[str, int]:
    out = {"Approved": 0, "Denied": 0, "Failed": 0}
    for c in _conditions(obj):
        if c.get("type") in out:
            out[c["type"]] += 1
    return out


_csrs = valid_csr(junk=False, signer_names=st.just(SCOPED_SIGNER) | custom_signer_names())


class UpdateHistories(RuleBasedStateMachine):
    """CSRs under a stream of writes; the oracle judges each answer."""

    csrs = Bundle("csrs")

    def __init__(self) -> None:
        super().__init__()
        self.session: Session = current_session()
        self.session.transcript.begin_example()
        self.example = self.session.new_example_label()
        self.created: dict[str, dict[str, Any]] = {}  # name -> object as created
        self.last: dict[str, dict[str, Any]] = {}  # name -> object last read
        self.first_rv: dict[str, str] = {}

    def _get(self, name: str) -> dict[str, Any]:
        resp = self.session.client(ADMIN).get(name)
        checks.status_code(resp, 200)
        obj: dict[str, Any] = resp.obj()
        return obj

    @initialize(target=csrs, csr=_csrs)
    def first(self, csr: dict[str, Any]) -> str:
        """Every history starts with one CSR, so writes can come from the first step."""
        return self._create(csr)

    @rule(target=csrs, csr=_csrs)
    def create(self, csr: dict[str, Any]) -> str:
        return self._create(csr)

    def _create(self, csr: dict[str, Any]) -> str:
        obj = self.session.stamp(csr, self.example)
        meta = obj["metadata"]
        # A counter keeps names unique within a history, so creates never collide.
        self.serial = getattr(self, "serial", 0) + 1
        meta["name"] = (meta.pop("name", None) or meta.pop("generateName")) + f"-h{self.serial}"
        resp = self.session.client(ADMIN).create(obj)
        checks.status_code(resp, 201)
        created = resp.obj()
        name = created["metadata"]["name"]
        self.created[name] = created
        self.last[name] = created
        self.first_rv[name] = created["metadata"]["resourceVersion"]
        return str(name)

    @rule(
        name=csrs,
        edit=edits(),
        endpoint=st.sampled_from(ENDPOINTS),
        encoding=st.sampled_from(ENCODINGS),
        who=st.integers(0, 2),
    )
    def write(self, name: str, edit: Edit, endpoint: str, encoding: str, who: int) -> None:
        roles = [r for r in _ROLES_FOR_ENDPOINT[endpoint] if self.session.has_role(r)]
        role = roles[who % len(roles)]
        stored = self._get(name)
        desired = edit.apply(stored)
        body_value = encode_write(encoding, stored, desired, self.first_rv[name])
        body = json.dumps(body_value).encode()
        method = "PUT" if encoding.startswith("put") else "PATCH"
        ctype = content_type(encoding)
        path = csr_path(name, None if endpoint == "main" else endpoint)
        resp = self.session.client(role).request(method, path, data=body, content_type=ctype)
        judge_update(
            self.session,
            resp,
            endpoint=endpoint,
            method=method,
            name=name,
            body=body,
            content_type=ctype,
            query={},
            role=role,
            stored=stored,
        )
        self.check_history(name, self._get(name))

    @rule(name=consumes(csrs))
    def delete(self, name: str) -> None:
        resp = self.session.client(ADMIN).delete(name)
        checks.status_code(resp, 200)
        self.created.pop(name, None)
        self.last.pop(name, None)

    def check_history(self, name: str, now: dict[str, Any]) -> None:
        """The invariants that hold on every correct server, whatever the profile."""
        before = self.last[name]
        created = self.created[name]
        if now.get("spec") != created.get("spec"):
            problems = checks.diff(now.get("spec"), created.get("spec"), "spec")
            raise AssertionError("spec changed after create:\n  " + "\n  ".join(problems))
        old, new = _counts(before), _counts(now)
        for ctype, count in old.items():
            if new[ctype] < count:
                raise AssertionError(f"a {ctype} condition was removed")
        if new["Approved"] and new["Denied"]:
            raise AssertionError("Approved and Denied are both present")
        cert_before = (before.get("status") or {}).get("certificate")
        cert_now = (now.get("status") or {}).get("certificate")
        if cert_before and cert_now != cert_before:
            raise AssertionError("a certificate, once set, was changed")
        self.last[name] = now

    @invariant()
    def types_are_unique(self) -> None:
        for name, obj in self.last.items():
            types = [c.get("type") for c in _conditions(obj)]
            if len(types) != len(set(types)):
                raise AssertionError(f"{name}: duplicate condition types {types}")

    def teardown(self) -> None:
        if self.session.breaker.reason is None:
            self.session.sweep(self.example)


@rules(
    "CSR-IMM-SPEC",
    "CSR-IMM-META",
    "CSR-SUB-MAIN-STATUS",
    "CSR-SUB-APPROVAL",
    "CSR-SUB-STATUS-AD",
    "CSR-SUB-STATUS-CERT",
    "CSR-SUB-META",
    "CSR-SUB-TIME",
    "CSR-SUB-NOOP",
    "CSR-CONC-RV",
    "CSR-CONC-UNCOND",
    "CSR-PATCH-JSON",
    "CSR-PATCH-MERGE",
    "CSR-PATCH-SMP",
    "CSR-ADM-APPROVE",
    "CSR-ADM-SIGN",
    "CSR-AUTHZ-RBAC",
    "CSR-VAL-C1",
    "CSR-VAL-C2",
    "CSR-VAL-C3",
    "CSR-VAL-C4",
    "CSR-VAL-C5",
    "CSR-VAL-C6",
    "CSR-VAL-C7",
    "CSR-VAL-K1",
    "CSR-VAL-K3",
    "CSR-VAL-K4",
    "CSR-VAL-K5",
)
def test_update_histories_follow_kube_apiserver() -> None:
    """Histories of creates, writes through every endpoint and encoding, and deletes."""
    base = settings()
    run_state_machine_as_test(
        UpdateHistories,
        settings=settings(base, stateful_step_count=12, max_examples=base.max_examples),
    )
