"""The fake's reference signer: what it does with each kind of request, that every
``signer-*`` fault changes that, and the command-line paths of the signer gate.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import run_cli
from cryptography import x509

from conformance.client import Client, Connection, Transcript, csr_path
from conformance.oracle.csr.signer import KUBE_APISERVER_CLIENT, KUBELET_SERVING
from conformance.oracle.csr.signing import (
    BACKDATE,
    FAILED_REASON,
    certificate_ext_key_usages,
    names_of,
)
from conformance.properties.signer_draws import SignerRequest, control_request, refused_requests
from conformance.targets.fake import FakeConfig, FakeServer
from conformance.targets.fake.faults import FAULTS
from conformance.targets.fake.signing_ca import SignerConfig
from conformance.targets.fake.store import Event

SIGNER_FAULTS = sorted(n for n in FAULTS if n.startswith("signer-"))
OTHER = "other.example.com/unserved"


class Harness:
    """A started fake, an admin client, and a count of certificate writes per CSR."""

    def __init__(self, server: FakeServer, tmp: Path) -> None:
        self.server = server
        kubeconfig = tmp / "kubeconfig"
        server.write_kubeconfig(str(kubeconfig))
        self.admin = Client(
            Connection.from_kubeconfig(str(kubeconfig), "admin"), "admin", Transcript()
        )
        self.writes: dict[str, list[str]] = {}
        server.store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        cert = (event.object.get("status") or {}).get("certificate")
        name = str(event.object["metadata"]["name"])
        seen = self.writes.setdefault(name, [])
        if cert and (not seen or seen[-1] != cert):
            seen.append(cert)

    def create(self, name: str, signer: str, req: SignerRequest) -> None:
        body = {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": name},
            "spec": req.spec(signer),
        }
        assert self.admin.create(body).status == 201

    def add(self, name: str, endpoint: str, ctype: str) -> None:
        obj = self.admin.get(name).obj()
        conds = list((obj.get("status") or {}).get("conditions") or [])
        conds.append({"type": ctype, "status": "True", "reason": "Test"})
        obj["status"] = {**(obj.get("status") or {}), "conditions": conds}
        assert self.admin.request("PUT", csr_path(name, endpoint), body=obj).status == 200

    def settle(self) -> None:
        assert self.server.signer is not None
        self.server.signer.wait_idle()

    def facts(self, name: str) -> dict[str, Any]:
        """What a test can observe about one CSR, without serials or exact times."""
        obj = self.admin.get(name).obj()
        status = obj.get("status") or {}
        conds = {c["type"]: c.get("reason") for c in status.get("conditions") or []}
        out: dict[str, Any] = {"conditions": conds, "writes": len(self.writes.get(name, []))}
        raw = status.get("certificate")
        if not raw:
            return out
        cert = x509.load_pem_x509_certificate(base64.b64decode(raw))
        req = x509.load_pem_x509_csr(base64.b64decode(obj["spec"]["request"]))
        created = dt.datetime.strptime(
            obj["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=dt.UTC)
        ca = self.server.signer.ca.cert if self.server.signer else None
        out.update(
            own_key=cert.public_key() == req.public_key(),
            lifetime=round(
                (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds(), -2
            ),
            backdated_ok=cert.not_valid_before_utc >= created - dt.timedelta(seconds=BACKDATE + 5),
            within_ca=ca is not None and cert.not_valid_after_utc <= ca.not_valid_after_utc,
            sans=sorted(names_of(cert.extensions).all()),
            ekus=sorted(o.dotted_string for o in certificate_ext_key_usages(cert)),
            from_ca=ca is not None and cert.issuer == ca.subject and _verifies(cert, ca),
        )
        return out


def _verifies(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except Exception:
        return False
    return True


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with FakeServer(FakeConfig(tls=False)) as s:
        yield Harness(s, tmp_path)


def _request(signer: str, exp: int | None = 3600) -> SignerRequest:
    req = control_request(signer, "t-")
    return SignerRequest(req.pem, req.usages, exp)


def scenario(h: Harness) -> dict[str, Any]:
    """One of each: issued short and long, denied, pending, Failed, other signer, refused."""
    serving = control_request(KUBELET_SERVING, "t-")
    h.create("short", KUBELET_SERVING, SignerRequest(serving.pem, serving.usages, 3600))
    h.create("long", KUBE_APISERVER_CLIENT, _request(KUBE_APISERVER_CLIENT, None))
    h.create("denied", KUBE_APISERVER_CLIENT, _request(KUBE_APISERVER_CLIENT))
    h.create("pending", KUBE_APISERVER_CLIENT, _request(KUBE_APISERVER_CLIENT))
    h.create("failed", KUBE_APISERVER_CLIENT, _request(KUBE_APISERVER_CLIENT))
    h.create("other", OTHER, _request(OTHER))
    from hypothesis import find

    refused = find(refused_requests(KUBE_APISERVER_CLIENT, "t-"), lambda _: True)
    h.create("refused", KUBE_APISERVER_CLIENT, refused)
    for name in ("short", "long", "other", "refused"):
        h.add(name, "approval", "Approved")
    h.add("denied", "approval", "Denied")
    h.add("failed", "status", "Failed")
    h.add("failed", "approval", "Approved")
    h.settle()
    return {
        n: h.facts(n) for n in ("short", "long", "denied", "pending", "failed", "other", "refused")
    }


def test_reference_signer_behaves_like_kcm(harness: Harness) -> None:
    facts = scenario(harness)
    short, long = facts["short"], facts["long"]
    assert short["own_key"] and short["from_ca"] and short["within_ca"] and short["backdated_ok"]
    assert short["lifetime"] == 3600 + BACKDATE
    assert short["sans"] == [("DNS", "control.example.com")]
    assert short["ekus"] == ["1.3.6.1.5.5.7.3.1"] and short["writes"] == 1
    assert long["within_ca"] and long["writes"] == 1  # capped at the 30-day CA
    for name in ("denied", "pending", "failed", "other"):
        assert facts[name]["writes"] == 0, name
    assert facts["refused"]["conditions"].get("Failed") == FAILED_REASON
    assert facts["refused"]["writes"] == 0


@pytest.fixture(scope="module")
def correct_facts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with FakeServer(FakeConfig(tls=False)) as s:
        return scenario(Harness(s, tmp_path_factory.mktemp("correct")))


@pytest.mark.parametrize("fault", SIGNER_FAULTS)
def test_signer_fault_changes_behaviour(
    fault: str, correct_facts: dict[str, Any], tmp_path: Path
) -> None:
    with FakeServer(FakeConfig(tls=False, faults=frozenset({fault}))) as s:
        observed = scenario(Harness(s, tmp_path))
    assert observed != correct_facts, f"fault {fault} did not change what the signer does"


def test_no_signer_when_configured_off(tmp_path: Path) -> None:
    with FakeServer(FakeConfig(tls=False, signer=None)) as s:
        assert s.signer is None and s.signer_ca_pem is None


def test_signer_writes_through_the_status_pipeline(harness: Harness) -> None:
    """The signer's /status write is judged like a request: an identity without ``sign``
    is refused (403), the signer's own identity is not."""
    from conformance.targets.fake.authn import Principal
    from conformance.targets.fake.registry import update_status
    from conformance.targets.fake.signer import SIGNER_PRINCIPAL, USER_AGENT

    harness.create("a", KUBE_APISERVER_CLIENT, _request(KUBE_APISERVER_CLIENT))
    state = harness.server.state
    obj = state.store.get("a")
    assert obj is not None
    conds = [{"type": "Failed", "status": "True", "reason": "Test"}]
    body = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", **obj}
    body["status"] = {"conditions": conds}
    nobody = Principal("nobody", groups=("system:authenticated",))
    assert update_status(state, nobody, body, USER_AGENT)[0] == 403
    code, stored = update_status(state, SIGNER_PRINCIPAL, body, USER_AGENT)
    assert code == 200 and stored["status"]["conditions"][0]["type"] == "Failed"
    assert update_status(state, SIGNER_PRINCIPAL, body, USER_AGENT)[0] == 409  # stale RV


# --- command line -----------------------------------------------------------------------


def test_bad_signer_input_is_one_line_exit_2(tmp_path: Path) -> None:
    for args in (
        ["--signer", "not-a-signer"],
        ["--signer-ca", str(tmp_path / "missing.pem")],
        ["--signer-timeout", "0"],
    ):
        proc = run_cli("run", "--report-dir", str(tmp_path / "r"), *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_a_signer_that_never_issues_fails_within_the_deadline(tmp_path: Path) -> None:
    """A served fake has no signer for example.com/never: every signer property fails
    with a clear message, after about one deadline, not one per example."""
    with FakeServer() as s:
        kubeconfig = tmp_path / "kubeconfig"
        s.write_kubeconfig(str(kubeconfig))
        ca = tmp_path / "ca.pem"
        ca.write_bytes(s.signer_ca_pem or b"")
        proc = run_cli(
            "run",
            "--kubeconfig",
            str(kubeconfig),
            "--context",
            "admin",
            "--user-context",
            "user",
            "--signer",
            "example.com/never",
            "--signer-ca",
            str(ca),
            "--signer-timeout",
            "2",
            "--examples",
            "5",
            "--shrink-seconds",
            "0",
            "--report-dir",
            str(tmp_path / "r"),
            "-k",
            "test_signer",
        )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    cases = {c["name"]: c for c in data["cases"]}
    issued = cases["test_approved_request_gets_one_certificate[example.com/never]"]
    assert issued["outcome"] == "failed" and "did not issue" in issued["message"]
    assert cases["test_policy_violation_ends_in_failed[example.com/never]"]["outcome"] == "skipped"


def test_serve_prints_the_signer_ca_bundle(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "serve",
            "--kubeconfig-out",
            str(tmp_path / "kc"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        path = lines[2].strip().removeprefix("signer CA bundle: ")
        assert lines[2].startswith("signer CA bundle: ")
        x509.load_pem_x509_certificate(Path(path).read_bytes())
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_signs_with_a_given_ca(tmp_path: Path) -> None:
    cfg = SignerConfig()
    from conformance.targets.fake.signing_ca import SigningCA

    ca = SigningCA.generate("mine", 10 * 86400, dt.datetime.now(dt.UTC))
    from cryptography.hazmat.primitives import serialization

    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    (tmp_path / "ca.key").write_bytes(
        ca.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    mine = SignerConfig(
        names=cfg.names, ca_cert_file=str(tmp_path / "ca.pem"), ca_key_file=str(tmp_path / "ca.key")
    )
    with FakeServer(FakeConfig(tls=False, signer=mine)) as s:
        assert s.signer_ca_pem == ca.cert_pem
