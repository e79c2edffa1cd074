"""The signer gate (concern "signer"): what any CSR signer must keep.

Each property runs once per signer: those named with ``--signer``, or by default the
kubernetes.io signers on the fake and the control plane (whose own signers are the
subject: the fake's reference signer, kube-controller-manager's csrsigning). Against a
user's cluster nothing is signed unless ``--signer`` names a signer.

How time is bounded (design rule 6). A certificate must appear within
``--signer-timeout``; the suite reads the object once and then watches it from that
resourceVersion until then (polling only where the target refuses the watch). "Never
gets a certificate" cannot be observed forever, so it is watched up to a *barrier*:
after the requests that must stay unsigned, the property approves one more request the
signer does accept and waits for its certificate. A signer that handles events in order
(the fake's reference signer, one FIFO queue) has by then handled every earlier request;
for signers with parallel workers (kube-controller-manager) a short grace period
follows. A signer that never issues fails the barrier within the deadline.

Safety (design rule 5): the suite approves only requests it created in this run; the
subjects are harmless (``signer_draws``); the report shows issued certificates by serial
number and subject only (:func:`_certificates_hidden`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from conformance.client import TargetError, csr_path
from conformance.client.watch import WatchEvent, WatchStream, open_watch
from conformance.identities import ADMIN, USER
from conformance.oracle.csr.signing import (
    FAILED_REASON,
    KUBERNETES_SIGNERS,
    NODE_SUBJECT_SIGNERS,
    Request,
    Violation,
    check_issued,
    describe,
    knows_policy,
    parse_certificates,
)
from conformance.properties import support
from conformance.properties.signer_draws import (
    SignerRequest,
    control_request,
    refused_requests,
    valid_requests,
)
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.session import EXAMPLE_LABEL, Session

NO_SIGNER: Final = "(none)"
"""The parameter when no signer applies; every property skips with the reason."""
GRACE_SECONDS: Final = 0.5
"""Extra observation after the barrier, for signers that work on several requests at once."""
WATCH_SLACK: Final = 5.0
"""Seconds a watch's socket may stay silent beyond the wait it serves."""
SUITE_REASON: Final = "CSRConformance"
"""The reason of every condition the suite adds, so its decisions are told from others'."""
OTHER_SIGNER_DOMAIN: Final = "unserved.csr-conformance.example.com"
_DISPOSABLE: Final = ("fake", "controlplane")

F = TypeVar("F", bound=Callable[..., Any])


def _target_kind(config: pytest.Config) -> str:
    kind = config.getoption("--csr-target-kind", default=None)
    return str(kind or config.getoption("--csr-target", default=None) or "")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every property by the signer it judges."""
    if "signer" not in metafunc.fixturenames:
        return
    names = list(metafunc.config.getoption("--csr-signer", default=None) or [])
    if not names:
        kind = _target_kind(metafunc.config)
        names = list(KUBERNETES_SIGNERS) if kind in _DISPOSABLE else [NO_SIGNER]
    metafunc.parametrize("signer", names)


@dataclass(frozen=True)
class Gate:
    """What the signer properties were told: the signer, its CA bundle, the deadline."""

    signer: str
    bundle: tuple[x509.Certificate, ...]
    timeout: float
    creator: str
    in_order: bool
    """The signer handles requests one at a time, in order (the fake's reference signer)."""

    @property
    def kubernetes(self) -> bool:
        return knows_policy(self.signer)


_BUNDLES: dict[str, tuple[x509.Certificate, ...]] = {}
_MISSED: set[str] = set()
"""Signers that already let a deadline pass in this run: later waits for them look once
instead of waiting again, so a signer that never answers fails every property within
about one deadline rather than one per example (design rule 6)."""


def _deadline(gate: Gate) -> float:
    return time.monotonic() + (0.0 if gate.signer in _MISSED else gate.timeout)


def _waited(gate: Gate) -> str:
    """How long the suite waited, for messages; marks the signer as having missed."""
    if gate.signer in _MISSED:
        return "in time (it missed an earlier deadline in this run, so it was not waited for)"
    _MISSED.add(gate.signer)
    return f"within {gate.timeout:g}s"


def _bundle(path: str | None) -> tuple[x509.Certificate, ...]:
    if not path:
        return ()
    if path not in _BUNDLES:
        try:
            with open(path, "rb") as f:
                _BUNDLES[path] = tuple(x509.load_pem_x509_certificates(f.read()))
        except (OSError, ValueError) as e:
            pytest.fail(f"--signer-ca {path}: not a PEM certificate bundle ({e})", pytrace=False)
    return _BUNDLES[path]


@pytest.fixture
def gate(request: pytest.FixtureRequest, signer: str) -> Gate:
    config = request.config
    if signer == NO_SIGNER:
        pytest.skip("no signer to judge on this target: name one with --signer")
    kind = _target_kind(config)
    allow_node = bool(config.getoption("--csr-allow-node-subjects", default=False))
    if signer in NODE_SUBJECT_SIGNERS and not (allow_node or kind in _DISPOSABLE):
        pytest.skip(f"{signer} needs system:node:* subjects: pass --allow-node-subjects")
    session = current_session()
    ca = config.getoption("--csr-signer-ca", default=None) or session.env.signer_ca
    timeout = float(config.getoption("--csr-signer-timeout", default=30.0) or 30.0)
    creator = USER if session.has_role(USER) else ADMIN
    return Gate(signer, _bundle(ca), timeout, creator, in_order=kind == "fake")


def _certificates_hidden(fn: F) -> F:
    """Show issued certificates in a failure's transcript by serial and subject only."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BaseException:
            transcripts = support._FAILED_TRANSCRIPT
            for key, text in list(transcripts.items()):
                transcripts[key] = _CERT_FIELD.sub(_summarise_certificate, text)
            raise

    return wrapper  # type: ignore[return-value]


_CERT_FIELD: Final = re.compile(r'"certificate":\s*"([A-Za-z0-9+/=]*)("?)')
"""A certificate field of a JSON body, closed or cut off by the transcript's size limit."""


def _summarise_certificate(m: re.Match[str]) -> str:
    try:
        certs = parse_certificates(base64.b64decode(m.group(1)).decode())
        shown = "; ".join(describe(c) for c in certs)
    except ValueError:
        shown = f"{len(m.group(1))} base64 characters, not a whole certificate"
    return f'"certificate": "<{shown}>{m.group(2)}'


# --- talking to the target --------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _create(session: Session, gate: Gate, ex: str, req: SignerRequest, signer: str) -> str:
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"generateName": "signer-"},
        "spec": req.spec(signer),
    }
    resp = session.client(gate.creator).create(session.stamp(body, ex))
    if resp.status != 201:
        raise AssertionError(f"creating a request for {signer} answered {resp.status}")
    return str(resp.obj()["metadata"]["name"])


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    conds = (obj.get("status") or {}).get("conditions") or []
    return {str(c.get("type")): c for c in conds if isinstance(c, dict)}


def _add_condition(session: Session, name: str, endpoint: str, ctype: str) -> bool:
    """Append ``ctype=True`` through ``endpoint`` as the admin; False when the request
    already carries a decision this one cannot join (another approver got there first)."""
    admin = session.client(ADMIN)
    for _ in range(5):
        obj = admin.get(name).obj()
        conds = _conditions(obj)
        if ctype in conds:
            return True
        if ctype in ("Approved", "Denied") and conds.keys() & {"Approved", "Denied"}:
            return False
        status = dict(obj.get("status") or {})
        status["conditions"] = [
            *list(conds.values()),
            {
                "type": ctype,
                "status": "True",
                "reason": SUITE_REASON,
                "message": "by the suite",
            },
        ]
        obj["status"] = status
        resp = admin.request("PUT", csr_path(name, endpoint), body=obj)
        if resp.status == 200:
            return True
        if resp.status != 409:
            raise AssertionError(f"adding {ctype} through /{endpoint} answered {resp.status}")
    raise AssertionError(f"adding {ctype} through /{endpoint} kept conflicting")


def _approve(session: Session, name: str) -> bool:
    return _add_condition(session, name, "approval", "Approved")


def _await(
    session: Session, name: str, done: Callable[[dict[str, Any]], bool], deadline: float
) -> dict[str, Any]:
    """The object once ``done`` holds for it, or its last state at ``deadline``.

    Read once, then watched from that resourceVersion (a field selector on the name), so
    the answer arrives as soon as the signer writes it; a target that refuses the watch
    is polled with a short backoff instead."""
    admin = session.client(ADMIN)
    obj: dict[str, Any] = dict(admin.get(name).obj())
    left = deadline - time.monotonic()
    if done(obj) or left <= 0:
        return obj
    query = {
        "fieldSelector": f"metadata.name={name}",
        "resourceVersion": str(obj["metadata"].get("resourceVersion", "")),
        "allowWatchBookmarks": "false",
    }
    try:
        stream = open_watch(admin, query, deadline=left + WATCH_SLACK)
    except TargetError:
        stream = None
    if stream is None or stream.status != 200:
        if stream is not None:
            stream.close()
        return _poll(session, name, done, deadline)
    with stream:
        for event in stream.until(lambda e: _is_state(e) and done(e.object), limit=left):
            if _is_state(event):
                obj = dict(event.object)
            elif event.type == "DELETED":
                break
    return obj if done(obj) else dict(admin.get(name).obj())


def _is_state(event: WatchEvent) -> bool:
    return event.type in ("ADDED", "MODIFIED")


def _poll(
    session: Session, name: str, done: Callable[[dict[str, Any]], bool], deadline: float
) -> dict[str, Any]:
    admin = session.client(ADMIN)
    pause = 0.01
    while True:
        obj = admin.get(name).obj()
        if done(obj) or time.monotonic() >= deadline:
            return dict(obj)
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.25)


def _certificate(obj: dict[str, Any]) -> str:
    raw = (obj.get("status") or {}).get("certificate") or ""
    try:
        return base64.b64decode(raw).decode()
    except (ValueError, UnicodeDecodeError):
        return str(raw)


def _settled(obj: dict[str, Any]) -> bool:
    return bool(_certificate(obj)) or "Failed" in _conditions(obj)


def _state(obj: dict[str, Any]) -> str:
    conds = _conditions(obj)
    failed = conds.get("Failed")
    if failed is not None:
        return f"Failed ({failed.get('reason')}: {failed.get('message')})"
    return "conditions " + (", ".join(sorted(conds)) or "none") + ", no certificate"


@contextlib.contextmanager
def _watch_example(session: Session, ex: str, gate: Gate) -> Iterator[WatchStream | None]:
    """A watch on one example's objects (by its label), for the whole example: a
    certificate that appears on a request that must not get one is seen even if the
    object were changed again before the final read. None where watching is refused."""
    try:
        stream = open_watch(
            session.client(ADMIN),
            {"labelSelector": f"{EXAMPLE_LABEL}={ex}"},
            deadline=3 * gate.timeout + WATCH_SLACK,
        )
    except TargetError:
        yield None
        return
    if stream.status != 200:
        stream.close()
        yield None
        return
    with stream:
        yield stream


def _certified_in(stream: WatchStream | None, gate: Gate) -> dict[str, dict[str, Any]]:
    """Objects the watch has shown with a certificate, by name (drained until quiet)."""
    if stream is None:
        return {}
    stream.collect(quiet=0.05 if gate.in_order else 0.25, limit=GRACE_SECONDS)
    return {
        e.name: e.object
        for e in stream.events
        if _is_state(e) and (e.object.get("status") or {}).get("certificate")
    }


def _barrier(session: Session, gate: Gate, ex: str) -> None:
    """Approve one request the signer accepts and wait for its certificate (see above)."""
    name = _create(session, gate, ex, control_request(gate.signer, session.prefix), gate.signer)
    _approve(session, name)
    obj = _await(session, name, _settled, _deadline(gate))
    if not _certificate(obj):
        raise AssertionError(
            f"{gate.signer} did not issue an approved control request {_waited(gate)} "
            f"({_state(obj)})"
        )
    if not gate.in_order:
        time.sleep(GRACE_SECONDS)


@dataclass(frozen=True)
class Issued:
    name: str
    request: Request
    certificate: str
    observed: dt.datetime


def _issue(session: Session, gate: Gate, ex: str, req: SignerRequest) -> Issued:
    """Create and approve ``req``; its certificate, or a CSR-SIGN-ISSUE failure."""
    name = _create(session, gate, ex, req, gate.signer)
    _approve(session, name)
    obj = _await(session, name, _settled, _deadline(gate))
    certificate = _certificate(obj)
    if not certificate:
        raise AssertionError(
            f"[CSR-SIGN-ISSUE] {gate.signer} did not issue an approved request {_waited(gate)} "
            f"({_state(obj)})"
        )
    created = dt.datetime.strptime(obj["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    request = Request(
        gate.signer,
        req.csr(),
        req.usages,
        req.expiration_seconds,
        created.replace(tzinfo=dt.UTC),
    )
    return Issued(name, request, certificate, _now())


def _judge(issued: Issued, gate: Gate, wanted: tuple[str, ...]) -> None:
    found = [
        v
        for v in check_issued(
            issued.request, issued.certificate, gate.bundle, observed=issued.observed
        )
        if v.rule in wanted
    ]
    _raise(found)


def _raise(found: list[Violation]) -> None:
    if found:
        raise AssertionError("; ".join(f"[{v.rule}] {v.message}" for v in found))


# --- the properties ---------------------------------------------------------------------


@given(data=st.data())
@_certificates_hidden
@rules("CSR-SIGN-ISSUE", "CSR-SIGN-ONCE", "CSR-SIGN-KEY", "CSR-SIGN-CHAIN")
def test_approved_request_gets_one_certificate(gate: Gate, data: st.DataObject) -> None:
    """An approved request the signer accepts gets exactly one certificate within the
    deadline, for the request's public key, chaining to the CA bundle, and it never
    changes afterwards."""
    session = current_session()
    req = data.draw(valid_requests(gate.signer, session.prefix), label="request")
    with session.example() as ex:
        issued = _issue(session, gate, ex, req)
        _judge(issued, gate, ("CSR-SIGN-ISSUE", "CSR-SIGN-KEY", "CSR-SIGN-CHAIN"))
        _barrier(session, gate, ex)
        later = _certificate(session.client(ADMIN).get(issued.name).obj())
        if later != issued.certificate:
            before = parse_certificates(issued.certificate)[0]
            raise AssertionError(
                f"[CSR-SIGN-ONCE] the certificate changed after issue: {describe(before)} "
                f"became {_describe_text(later)}"
            )


def _describe_text(pem: str) -> str:
    try:
        return describe(parse_certificates(pem)[0])
    except ValueError:
        return "no certificate" if not pem else "something that is not a certificate"


@given(data=st.data())
@_certificates_hidden
@rules("CSR-SIGN-SUBJECT", "CSR-SIGN-USAGES")
def test_certificate_follows_the_signer_policy(gate: Gate, data: st.DataObject) -> None:
    """Subject, SANs, KeyUsage and ExtKeyUsage are the request's, as the signer's policy
    shapes them (upstream's for kubernetes.io signers); never an unrequested name or
    usage, never a CA certificate."""
    session = current_session()
    req = data.draw(valid_requests(gate.signer, session.prefix), label="request")
    with session.example() as ex:
        issued = _issue(session, gate, ex, req)
        _judge(issued, gate, ("CSR-SIGN-SUBJECT", "CSR-SIGN-USAGES"))


@given(data=st.data())
@_certificates_hidden
@rules("CSR-SIGN-LIFETIME", "CSR-SIGN-CA-EXPIRY", "CSR-SIGN-NOTBEFORE")
def test_certificate_lifetime(gate: Gate, data: st.DataObject) -> None:
    """The lifetime is at most expirationSeconds plus the 5-minute backdate when set, at
    least the 10-minute minimum, never past the CA's notAfter; notBefore is neither in
    the future nor backdated by more than 5 minutes."""
    session = current_session()
    req = data.draw(valid_requests(gate.signer, session.prefix), label="request")
    with session.example() as ex:
        issued = _issue(session, gate, ex, req)
        _judge(issued, gate, ("CSR-SIGN-LIFETIME", "CSR-SIGN-CA-EXPIRY", "CSR-SIGN-NOTBEFORE"))


@given(data=st.data())
@_certificates_hidden
@rules("CSR-SIGN-GATE", "CSR-SIGN-OWN")
def test_unapproved_requests_never_get_a_certificate(gate: Gate, data: st.DataObject) -> None:
    """Denied, pending and Failed requests for the signer, and approved requests for a
    signer nobody serves, stay without a certificate (observed up to the barrier)."""
    session = current_session()
    prefix = session.prefix
    reqs = {
        case: data.draw(valid_requests(gate.signer, prefix), label=case)
        for case in ("denied", "pending", "failed")
    }
    other = f"{OTHER_SIGNER_DOMAIN}/{session.run_id}"
    reqs["other-signer"] = data.draw(valid_requests(other, prefix), label="other-signer")
    with session.example() as ex, _watch_example(session, ex, gate) as seen:
        names: dict[str, str] = {}
        void: set[str] = set()
        for case, req in reqs.items():
            names[case] = _create(
                session, gate, ex, req, other if case == "other-signer" else gate.signer
            )
        if not _add_condition(session, names["denied"], "approval", "Denied"):
            void.add("denied")
        # Failed first, then Approved: a signer never sees this request approved and
        # not yet Failed.
        _add_condition(session, names["failed"], "status", "Failed")
        if not _approve(session, names["failed"]):
            void.add("failed")
        _approve(session, names["other-signer"])
        _barrier(session, gate, ex)
        certified = _certified_in(seen, gate)
        admin = session.client(ADMIN)
        found: list[str] = []
        for case, name in names.items():
            obj = admin.get(name).obj()
            if name in certified and not _certificate(obj):
                obj = certified[name]  # seen with a certificate on the watch, gone since
            approved = _conditions(obj).get("Approved")
            if (
                case in ("pending", "failed")
                and approved
                and approved.get("reason") != SUITE_REASON
            ):
                continue  # another approver (kcm's auto-approval) decided it, maybe first
            if case in void or not _certificate(obj):
                continue
            rule = "CSR-SIGN-OWN" if case == "other-signer" else "CSR-SIGN-GATE"
            cert = _describe_text(_certificate(obj))
            found.append(f"[{rule}] the {case} request got a certificate ({cert})")
        if found:
            raise AssertionError("; ".join(found))


@given(data=st.data())
@_certificates_hidden
@rules("CSR-SIGN-FAILED")
def test_policy_violation_ends_in_failed(gate: Gate, data: st.DataObject) -> None:
    """An approved request the signer's policy refuses ends with Failed=True (reason
    SignerValidationFailure for the in-tree signers) and never gets a certificate."""
    if not gate.kubernetes:
        pytest.skip(f"the suite does not know {gate.signer}'s policy")
    session = current_session()
    req = data.draw(refused_requests(gate.signer, session.prefix), label="request")
    with session.example() as ex:
        name = _create(session, gate, ex, req, gate.signer)
        _approve(session, name)
        obj = _await(session, name, _settled, _deadline(gate))
        if _certificate(obj):
            raise AssertionError(
                f"[CSR-SIGN-FAILED] {gate.signer} issued a request its policy refuses "
                f"({_describe_text(_certificate(obj))})"
            )
        failed = _conditions(obj).get("Failed")
        if failed is None:
            raise AssertionError(
                f"[CSR-SIGN-FAILED] {gate.signer} neither failed nor issued a refused request "
                f"{_waited(gate)} ({_state(obj)})"
            )
        if session.exact and failed.get("reason") != FAILED_REASON:
            raise AssertionError(
                f"[CSR-SIGN-FAILED] Failed has reason {failed.get('reason')!r}, "
                f"not {FAILED_REASON!r}"
            )
        _barrier(session, gate, ex)
        if _certificate(session.client(ADMIN).get(name).obj()):
            raise AssertionError(f"[CSR-SIGN-FAILED] {gate.signer} issued after Failed")
