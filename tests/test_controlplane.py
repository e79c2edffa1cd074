"""The control-plane target against real binaries, plus its asset lookup without them.

Tests that need etcd and kube-apiserver are skipped, with MissingAssets' own message
as the reason, when ``find_assets(None)`` finds none (set KUBEBUILDER_ASSETS or run
``bash ci/controlplane/build.sh``). Each start takes a few seconds, so one control
plane serves every read-mostly test and only the lifecycle tests start their own.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pems
import pytest
import urllib3
import yaml
from binaries import ASSETS, needs_assets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.identities import ADMIN, APPROVER, ROLES, SCOPED_SIGNER, SIGNER, USER
from conformance.targets.controlplane import (
    ControlPlane,
    ControlPlaneError,
    MissingAssets,
    find_assets,
)

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


# -- a tiny client driven by the written kubeconfig ----------------------------------------


class KubeconfigClient:
    """Requests as one context of the kubeconfig the plane wrote, so the file is tested too."""

    def __init__(self, kubeconfig: dict[str, Any], context: str, ca_file: str) -> None:
        ctx = next(c["context"] for c in kubeconfig["contexts"] if c["name"] == context)
        cluster = next(c["cluster"] for c in kubeconfig["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in kubeconfig["users"] if u["name"] == ctx["user"])
        self.server = cluster["server"]
        self.token = user["token"]
        self.pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED", ca_certs=ca_file, retries=False, timeout=10.0
        )

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        r = self.pool.request(
            method,
            self.server + path,
            headers=headers,
            body=None if body is None else json.dumps(body).encode(),
        )
        return r.status, json.loads(r.data) if r.data else None


@pytest.fixture(scope="module")
def plane() -> Iterator[ControlPlane]:
    assert ASSETS is not None
    with tempfile.TemporaryDirectory(prefix="csrc-cp-logs-") as logs:
        cp = ControlPlane(ASSETS, log_dir=logs)
        cp.start()
        try:
            yield cp
        finally:
            cp.stop()


@pytest.fixture(scope="module")
def clients(plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("kubeconfig")
    path = d / "kubeconfig"
    plane.write_kubeconfig(str(path))
    config = yaml.safe_load(path.read_text())
    ca = d / "ca.crt"
    ca.write_bytes(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))
    return {
        "config": config,
        "mode": path.stat().st_mode & 0o777,
        **{role: KubeconfigClient(config, role, str(ca)) for role in ROLES},
    }


def _csr(
    signer: str, cn: str = "csrc-test", usages: tuple[str, ...] = ("client auth",), name: str = ""
) -> tuple[dict[str, Any], ec.EllipticCurvePrivateKey]:
    key = pems.ec_key()
    pem = pems.request_pem(cn, key)
    meta = {"name": name} if name else {"generateName": "csrc-cp-test-"}
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": meta,
        "spec": {
            "request": base64.b64encode(pem).decode(),
            "signerName": signer,
            "usages": list(usages),
        },
    }, key


def _ssar(
    client: KubeconfigClient, verb: str, resource: str, name: str = "", subresource: str = ""
) -> bool:
    attrs = {
        "group": "certificates.k8s.io",
        "resource": resource,
        "verb": verb,
        "name": name,
        "subresource": subresource,
    }
    status, body = client.call(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        },
    )
    assert status == 201, body
    return bool(body["status"].get("allowed"))


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# -- without binaries ----------------------------------------------------------------------


def _fake_assets(directory: Path, names: tuple[str, ...]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for n in names:
        p = directory / n
        p.write_text("#!/bin/sh\nexit 1\n")
        p.chmod(0o755)
    return directory


def test_missing_assets_message_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(MissingAssets) as info:
        find_assets(str(tmp_path / "nowhere"))
    msg = str(info.value)
    assert "\n" not in msg
    for part in (
        "etcd",
        "kube-apiserver",
        str(tmp_path / "nowhere"),
        "--assets",
        "ci/controlplane/build.sh",
        "setup-envtest use -p path",
    ):
        assert part in msg


def test_find_assets_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    both = ("etcd", "kube-apiserver")
    flag = _fake_assets(tmp_path / "flag", both)
    env = _fake_assets(tmp_path / "env", both)
    cache = _fake_assets(tmp_path / "cache" / "csr-conformance" / "assets" / "v1.37.2", both)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CSR_CONFORMANCE_ASSETS", raising=False)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(env))
    assert find_assets(str(flag)) == str(flag)
    assert find_assets(None) == str(env)
    monkeypatch.delenv("KUBEBUILDER_ASSETS")
    assert find_assets(None) == str(cache)
    # A directory the user named is never replaced by a later candidate.
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path / "empty"))
    with pytest.raises(MissingAssets, match=r"\$KUBEBUILDER_ASSETS"):
        find_assets(None)


def test_controller_manager_binary_is_required_only_when_asked(tmp_path: Path) -> None:
    assets = _fake_assets(tmp_path, ("etcd", "kube-apiserver"))
    with pytest.raises(MissingAssets, match="kube-controller-manager") as info:
        ControlPlane(str(assets))
    assert "\n" not in str(info.value)
    ControlPlane(str(assets), controller_manager=False)


# -- against the binaries ------------------------------------------------------------------


@needs_assets
def test_kubeconfig_contexts(plane: ControlPlane, clients: dict[str, Any]) -> None:
    config = clients["config"]
    assert [c["name"] for c in config["contexts"]] == list(ROLES)
    assert config["current-context"] == ADMIN
    assert config["clusters"][0]["cluster"]["server"] == plane.url
    assert clients["mode"] == 0o600
    assert plane.version == "v1.37.2"


@needs_assets
@pytest.mark.parametrize("role", ROLES)
def test_self_subject_review_names_each_identity(
    plane: ControlPlane, clients: dict[str, Any], role: str
) -> None:
    status, body = clients[role].call(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    assert status == 201, body
    info = body["status"]["userInfo"]
    want = plane.users[role]
    assert info["username"] == want.username
    assert info["uid"] == want.uid
    assert info["groups"] == want.groups_as_authenticated()
    assert info.get("extra", {}) == {k: list(v) for k, v in want.extra.items()}


@needs_assets
def test_rbac_scopes_approve_and_sign_to_the_scoped_signer(clients: dict[str, Any]) -> None:
    user, approver, signer = clients[USER], clients[APPROVER], clients[SIGNER]
    other = "other.example.com/x"
    assert _ssar(approver, "approve", "signers", SCOPED_SIGNER)
    assert not _ssar(approver, "approve", "signers", other)
    assert not _ssar(approver, "sign", "signers", SCOPED_SIGNER)
    assert _ssar(approver, "update", "certificatesigningrequests", subresource="approval")
    assert not _ssar(approver, "update", "certificatesigningrequests", subresource="status")
    assert _ssar(signer, "sign", "signers", SCOPED_SIGNER)
    assert not _ssar(signer, "sign", "signers", other)
    assert not _ssar(signer, "approve", "signers", SCOPED_SIGNER)
    assert _ssar(signer, "update", "certificatesigningrequests", subresource="status")
    assert not _ssar(user, "approve", "signers", SCOPED_SIGNER)
    assert not _ssar(user, "update", "certificatesigningrequests", subresource="approval")
    for verb in ("create", "get", "list", "watch", "delete", "deletecollection"):
        assert _ssar(user, verb, "certificatesigningrequests"), verb
    assert not _ssar(user, "update", "certificatesigningrequests")


@needs_assets
def test_user_creates_gets_and_deletes_a_csr_but_cannot_approve(clients: dict[str, Any]) -> None:
    user, approver = clients[USER], clients[APPROVER]
    obj, _ = _csr(SCOPED_SIGNER)
    status, created = user.call("POST", CSRS, obj)
    assert status == 201, created
    name = created["metadata"]["name"]
    assert created["spec"]["username"] == "csrc-user"
    status, got = user.call("GET", f"{CSRS}/{name}")
    assert status == 200 and got["metadata"]["uid"] == created["metadata"]["uid"]

    got["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "Test"}]}
    status, denied = user.call("PUT", f"{CSRS}/{name}/approval", got)
    assert status == 403, denied
    status, approved = approver.call("PUT", f"{CSRS}/{name}/approval", got)
    assert status == 200, approved

    status, _ = user.call("DELETE", f"{CSRS}/{name}")
    assert status == 200
    status, _ = user.call("GET", f"{CSRS}/{name}")
    assert status == 404


@needs_assets
def test_controller_manager_signs_and_the_certificate_authenticates(
    plane: ControlPlane, clients: dict[str, Any], tmp_path: Path
) -> None:
    admin = clients[ADMIN]
    obj, key = _csr(
        "kubernetes.io/kube-apiserver-client",
        cn="csrc-issued",
        usages=("digital signature", "client auth"),
    )
    status, created = admin.call("POST", CSRS, obj)
    assert status == 201, created
    name = created["metadata"]["name"]
    created["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "Test"}]}
    status, body = admin.call("PUT", f"{CSRS}/{name}/approval", created)
    assert status == 200, body
    deadline = time.monotonic() + 30
    cert_b64 = ""
    while not cert_b64 and time.monotonic() < deadline:
        _, got = admin.call("GET", f"{CSRS}/{name}")
        cert_b64 = got.get("status", {}).get("certificate", "")
        time.sleep(0.2)
    assert cert_b64, "kube-controller-manager did not sign within 30s"
    admin.call("DELETE", f"{CSRS}/{name}")

    (tmp_path / "c.crt").write_bytes(base64.b64decode(cert_b64))
    (tmp_path / "c.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "ca.crt").write_bytes(plane.ca_pem)
    pool = urllib3.PoolManager(
        cert_reqs="CERT_REQUIRED",
        ca_certs=str(tmp_path / "ca.crt"),
        cert_file=str(tmp_path / "c.crt"),
        key_file=str(tmp_path / "c.key"),
        retries=False,
        timeout=10.0,
    )
    r = pool.request(
        "POST",
        plane.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body=b'{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status == 201, r.data
    assert json.loads(r.data)["status"]["userInfo"]["username"] == "csrc-issued"


@needs_assets
def test_stop_leaves_no_processes_and_no_temp_dirs() -> None:
    assert ASSETS is not None
    cp = ControlPlane(ASSETS, controller_manager=False)
    cp.start()
    pids, tmp = cp.pids, cp.temp_dir
    assert tmp is not None and Path(tmp).is_dir() and len(pids) == 2
    assert all(_alive(p) for p in pids)
    cp.stop()
    assert not any(_alive(p) for p in pids)
    assert not Path(tmp).exists()
    cp.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = cp.url


@needs_assets
def test_failed_start_raises_with_log_tail_and_cleans_up() -> None:
    assert ASSETS is not None
    cp = ControlPlane(ASSETS, controller_manager=False)
    with pytest.raises(ControlPlaneError) as info:
        cp.start(timeout=0.0)
    first, _, rest = str(info.value).partition("\n")
    process = first.split()[0]
    assert process in ("etcd", "kube-apiserver") and "log:" in first
    assert rest.startswith(f"--- last lines of {process}.log ---")
    assert cp.pids == [] and cp.temp_dir is None


@needs_assets
def test_a_port_taken_between_pick_and_bind_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.targets.controlplane.process import free_port

    assert ASSETS is not None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        picks = iter([taken.getsockname()[1]])
        monkeypatch.setattr(
            "conformance.targets.controlplane.plane.free_port",
            lambda: next(picks, None) or free_port(),
        )
        cp = ControlPlane(ASSETS, controller_manager=False)
        try:
            cp.start()
            assert cp.version == "v1.37.2"
        finally:
            cp.stop()


_CHILD = textwrap.dedent("""
    import sys, time
    from conformance.targets.controlplane import ControlPlane
    cp = ControlPlane(sys.argv[1], controller_manager=False)
    cp.start()
    try:
        # Inside the try: the parent signals as soon as it reads this line.
        print(" ".join(map(str, cp.pids)), cp.temp_dir, flush=True)
        time.sleep(60)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        raise
""")


@needs_assets
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_plane(sig: signal.Signals) -> None:
    assert ASSETS is not None
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, ASSETS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line, child.stderr.read() if child.stderr else ""
        pids, tmp = [int(p) for p in line[:-1]], line[-1]
        child.send_signal(sig)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    if sig == signal.SIGTERM:
        assert child.returncode == -signal.SIGTERM
    else:
        assert "KeyboardInterrupt" in out and child.returncode != 0
    assert not any(_alive(p) for p in pids)
    assert not os.path.exists(tmp)
