"""Run the signer gate against cert-manager's Kubernetes CSR signer (a CA ClusterIssuer).

    python ci/certmanager/run.py [--assets DIR] [--examples N] [--report-dir DIR]

Steps: build ``csrc-cert-manager-signer`` (``ci/certmanager/main.go``; cert-manager
v1.21.2 from the Go module proxy) unless it is in
``~/.cache/csr-conformance/assets/cert-manager-v1.21.2``; start the control-plane target
(kube-apiserver, etcd, kube-controller-manager); install cert-manager's CRDs from the
module's ``deploy/crds``; create a CA key pair in the Secret ``cert-manager/csrc-ca`` and
the ClusterIssuer ``csrc-ca`` that uses it; start the signer against the admin
kubeconfig and wait for the ClusterIssuer to be Ready; then run

    csr-conformance run --kubeconfig K --context admin --user-context user \\
      --signer clusterissuers.cert-manager.io/csrc-ca --signer-ca ca.pem -k test_signer

and exit with its code. Everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization

from conformance.client import Client, Connection, Transcript
from conformance.identities import ADMIN
from conformance.targets.controlplane import ControlPlane, find_assets
from conformance.targets.fake.signing_ca import SigningCA

VERSION = "v1.21.2"
MODULE = f"github.com/cert-manager/cert-manager@{VERSION}"
SIGNER = "clusterissuers.cert-manager.io/csrc-ca"
HERE = Path(__file__).resolve().parent
BINARY = (
    Path.home()
    / ".cache/csr-conformance/assets"
    / f"cert-manager-{VERSION}"
    / "csrc-cert-manager-signer"
)


def build() -> Path:
    if not BINARY.exists():
        BINARY.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["go", "build", "-o", str(BINARY), "."], cwd=HERE, check=True)
    return BINARY


def crd_dir() -> Path:
    out = subprocess.run(
        ["go", "mod", "download", "-json", MODULE],
        cwd=HERE,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(out.stdout)["Dir"]) / "deploy" / "crds"


def _ok(resp: Any, what: str) -> Any:
    if resp.status not in (200, 201, 409):
        raise SystemExit(f"{what}: HTTP {resp.status} {resp.body[:300]!r}")
    return resp


def install(admin: Client, ca: SigningCA) -> None:
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    names = []
    for path in sorted(crd_dir().glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        names.append(doc["metadata"]["name"])
        _ok(admin.request("POST", crds, body=doc), f"CRD {path.name}")
    for name in names:
        for _ in range(300):
            conds = (
                admin.request("GET", f"{crds}/{name}").obj().get("status", {}).get("conditions")
                or []
            )
            if any(c["type"] == "Established" and c["status"] == "True" for c in conds):
                break
            time.sleep(0.1)
    _ok(
        admin.request(
            "POST",
            "/api/v1/namespaces",
            body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cert-manager"}},
        ),
        "namespace",
    )
    key = ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": "csrc-ca", "namespace": "cert-manager"},
        "data": {
            "tls.crt": base64.b64encode(ca.cert_pem).decode(),
            "tls.key": base64.b64encode(key).decode(),
            "ca.crt": base64.b64encode(ca.cert_pem).decode(),
        },
    }
    _ok(admin.request("POST", "/api/v1/namespaces/cert-manager/secrets", body=secret), "CA secret")
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "csrc-ca"},
        "spec": {"ca": {"secretName": "csrc-ca"}},
    }
    _ok(
        admin.request("POST", "/apis/cert-manager.io/v1/clusterissuers", body=issuer),
        "ClusterIssuer",
    )


def wait_ready(admin: Client, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        obj = admin.request("GET", "/apis/cert-manager.io/v1/clusterissuers/csrc-ca").obj()
        conds = (obj.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            return
        time.sleep(0.2)
    raise SystemExit(f"ClusterIssuer csrc-ca not Ready after {seconds:.0f}s")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--assets", default=None)
    p.add_argument("--examples", default="10")
    p.add_argument("--report-dir", default="csr-conformance-report-cert-manager")
    p.add_argument("-k", dest="keyword", default="test_signer")
    args = p.parse_args()
    binary = build()
    with (
        tempfile.TemporaryDirectory(prefix="csrc-cert-manager-") as tmp,
        ControlPlane(find_assets(args.assets)) as plane,
    ):
        kubeconfig = os.path.join(tmp, "kubeconfig")
        plane.write_kubeconfig(kubeconfig)
        admin = Client(Connection.from_kubeconfig(kubeconfig, ADMIN), ADMIN, Transcript())
        ca = SigningCA.generate("csrc-cert-manager-ca", 30 * 86400, dt.datetime.now(dt.UTC))
        ca_file = os.path.join(tmp, "ca.pem")
        Path(ca_file).write_bytes(ca.cert_pem)
        install(admin, ca)
        log = open(os.path.join(args.report_dir + ".signer.log"), "w")  # noqa: SIM115
        signer = subprocess.Popen([str(binary), "--kubeconfig", kubeconfig], stdout=log, stderr=log)
        try:
            wait_ready(admin, 60)
            cmd = [
                sys.executable, "-m", "conformance.cli", "run",
                "--kubeconfig", kubeconfig, "--context", "admin", "--user-context", "user",
                "--signer", SIGNER, "--signer-ca", ca_file,
                "--examples", args.examples, "--report-dir", args.report_dir, "-k", args.keyword,
            ]  # fmt: skip
            return subprocess.run(cmd, check=False).returncode
        finally:
            signer.terminate()
            signer.wait(10)
            log.close()


if __name__ == "__main__":
    sys.exit(main())
