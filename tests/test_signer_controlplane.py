"""kube-controller-manager as the signer gate's subject (the real judge).

The signer properties must pass against csrsigning on the control-plane target, for all
three kubernetes.io signers, verified against the cluster-signing CA the target exposes;
and csrapproving must auto-approve a kubelet client request from a requester allowed to
create ``certificatesigningrequests/nodeclient`` (the admin, in ``system:masters``)
while leaving an unprivileged requester's identical request pending. Skipped, with the
reason, when the control-plane binaries are absent.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from binaries import newest_assets
from clirun import run_cli
from cryptography import x509

from conformance.client import Client, Connection, Transcript, csr_path
from conformance.identities import ADMIN, USER
from conformance.oracle.csr.signer import KUBE_APISERVER_CLIENT_KUBELET
from conformance.properties.signer_draws import control_request
from conformance.targets.controlplane import ControlPlane


def _assets() -> tuple[str | None, str]:
    assets, why = newest_assets()
    if assets is None:
        return None, why
    if not os.access(os.path.join(assets, "kube-controller-manager"), os.X_OK):
        return None, f"{assets} has no kube-controller-manager"
    return assets, ""


ASSETS, WHY_MISSING = _assets()
needs_kcm = pytest.mark.skipif(ASSETS is None, reason=f"no control-plane assets: {WHY_MISSING}")


@needs_kcm
def test_signer_properties_pass_against_kube_controller_manager(tmp_path: Path) -> None:
    assert ASSETS is not None
    proc = run_cli(
        "run",
        "--target",
        "controlplane",
        "--assets",
        ASSETS,
        "--examples",
        "3",
        "--report-dir",
        str(tmp_path),
        "-k",
        "test_signer",
        timeout=900,
    )
    data = json.loads((tmp_path / "results.json").read_text())
    outcomes = {c["name"]: c["outcome"] for c in data["cases"]}
    assert proc.returncode == 0, (outcomes, proc.stdout[-3000:], proc.stderr[-2000:])
    assert len(outcomes) == 15 and set(outcomes.values()) == {"passed"}, outcomes


def _create_kubelet_client_csr(client: Client, name: str) -> None:
    req = control_request(KUBE_APISERVER_CLIENT_KUBELET, f"{name}-")
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": req.spec(KUBE_APISERVER_CLIENT_KUBELET),
    }
    resp = client.create(body)
    assert resp.status == 201, resp.body[:300]


def _wait(client: Client, name: str, seconds: float) -> dict[str, Any]:
    end = time.monotonic() + seconds
    while True:
        obj: dict[str, Any] = client.get(name).obj()
        if (obj.get("status") or {}).get("certificate") or time.monotonic() > end:
            return obj
        time.sleep(0.1)


@needs_kcm
def test_csrapproving_auto_approves_kubelet_client_requests() -> None:
    assert ASSETS is not None
    with tempfile.TemporaryDirectory() as tmp, ControlPlane(ASSETS) as plane:
        kubeconfig = os.path.join(tmp, "kubeconfig")
        plane.write_kubeconfig(kubeconfig)
        admin = Client(Connection.from_kubeconfig(kubeconfig, ADMIN), ADMIN, Transcript())
        user = Client(Connection.from_kubeconfig(kubeconfig, USER), USER, Transcript())
        _create_kubelet_client_csr(user, "csrc-approve-user")
        _create_kubelet_client_csr(admin, "csrc-approve-admin")
        issued = _wait(admin, "csrc-approve-admin", 30)
        conds = {c["type"]: c for c in issued["status"].get("conditions") or []}
        assert conds["Approved"]["reason"] == "AutoApproved", conds
        cert = x509.load_pem_x509_certificate(base64.b64decode(issued["status"]["certificate"]))
        assert plane.signing_ca_file is not None
        ca = x509.load_pem_x509_certificate(Path(plane.signing_ca_file).read_bytes())
        cert.verify_directly_issued_by(ca)
        time.sleep(2.0)  # the approver's other worker may still be on the user's request
        pending = admin.get("csrc-approve-user").obj()
        assert not (pending.get("status") or {}).get("conditions"), pending["status"]
        # The user may not create certificatesigningrequests/nodeclient: no auto-approval.
        review = admin.request(
            "POST",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": {
                    "user": pending["spec"]["username"],
                    "groups": pending["spec"].get("groups") or [],
                    "resourceAttributes": {
                        "group": "certificates.k8s.io",
                        "resource": "certificatesigningrequests",
                        "subresource": "nodeclient",
                        "verb": "create",
                    },
                },
            },
        )
        assert review.status == 201 and review.obj()["status"].get("allowed") is not True
        assert admin.request("DELETE", csr_path("csrc-approve-user")).status == 200
