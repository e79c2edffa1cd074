"""Differential test: the fake and a real kube-apiserver answer the same corpus the same way.

Runs only where the control-plane binaries exist (skipped with the reason otherwise).
Responses are compared after normalising what each server picks for itself: uids,
timestamps, resourceVersion values, generated name suffixes and audit ids. A mismatch
prints both responses side by side.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pems
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from differential_corpus import STEPS, Step

from conformance.client import Client, Connection, Transcript
from conformance.identities import ROLES
from conformance.oracle.versions import MATRIX, NEWEST, RELEASES, KubeVersion

_UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SHA256 = hashes.SHA256()
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _materials() -> dict[str, bytes]:
    """PEM inputs for the corpus, made once per run."""

    def csr_pem(key: Any, org: str | None = None, algo: Any = _SHA256) -> bytes:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, "diff")]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
        return builder.sign(key, algo).public_bytes(serialization.Encoding.PEM)

    eck = ec.generate_private_key(ec.SECP256R1())
    ec_pem = csr_pem(eck)
    cert = pems.cert_pem("diff", serial=7, start=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    return {
        "ec": ec_pem,
        "rsa": csr_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "ed25519": csr_pem(ed25519.Ed25519PrivateKey.generate(), algo=None),
        "junk": b"leading text\n" + ec_pem + b"trailing\n" + ec_pem,
        "badsig": pems.tampered(ec_pem, -3),  # inside the signature
        "certificate": cert,
        "certificate2": cert * 2,
        "masters": csr_pem(eck, org="system:masters"),
    }


def _fill(value: Any, materials: dict[str, bytes]) -> Any:
    if isinstance(value, str) and value.startswith("@pem:"):
        return base64.b64encode(materials[value[5:]]).decode()
    if isinstance(value, str) and value.startswith("@b64:"):
        return base64.b64encode(value[5:].encode()).decode()
    if isinstance(value, dict):
        return {k: _fill(v, materials) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, materials) for v in value]
    return value


def normalise(value: Any, key: str = "") -> Any:
    """Replace what a server chooses for itself with placeholders."""
    if isinstance(value, dict):
        out = {k: normalise(v, k) for k, v in value.items()}
        if key == "" or "fieldsV1" not in out:
            return out
        return out
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if isinstance(value, str):
        if key in ("resourceVersion", "continue") and value:
            return f"<{key}>"
        if key == "uid" and _UID.match(value):
            return "<uid>"
        if _TIME.match(value):
            return "<time>"
        if key == "name" and value.startswith("diff-gen-"):
            return value[:-5] + "<gen>"
        if key == "message":
            value = re.sub(
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uid>", value
            )
            return re.sub(r"\b(diff-gen-x+)[a-z0-9]{5}\b", r"\1<gen>", value)
    return value


_YAML_ERROR = re.compile(
    r"^(error encoding patch: |error decoding YAML: error converting YAML to JSON: ).*", re.S
)


def _shape(resp: Any, yaml_error: bool = False) -> dict[str, Any]:
    try:
        body: Any = json.loads(resp.body)
    except ValueError:
        try:  # a watch: one JSON event per line
            body = [json.loads(line) for line in resp.body.splitlines() if line.strip()]
        except ValueError:
            body = resp.body.decode("utf-8", "replace")
    if isinstance(body, dict) and body.get("kind") == "APIResourceList":
        # Newer servers may list storageVersionHash or categories; compare what clients use.
        body["resources"] = sorted(
            (
                {
                    k: r.get(k)
                    for k in ("name", "namespaced", "kind", "verbs", "shortNames", "singularName")
                }
                for r in body.get("resources", [])
                if r.get("name", "").startswith("certificatesigning")
            ),
            key=lambda r: r["name"],
        )
    if yaml_error and isinstance(body, dict) and isinstance(body.get("message"), str):
        body["message"] = _YAML_ERROR.sub(r"\1<yaml parser error>", body["message"])
    return {
        "status": resp.status,
        "content-type": resp.headers.get("content-type", "").split(";")[0],
        "warnings": resp.warnings,
        "body": normalise(body),
    }


def _send(clients: dict[str, Client], step: Step, materials: dict[str, bytes]) -> dict[str, Any]:
    client = clients[step.role]
    data = None
    if isinstance(step.body, bytes):
        data = step.body
    elif step.body is not None:
        data = json.dumps(_fill(step.body, materials)).encode()
    resp = client.request(
        step.method,
        step.path,
        query=list(step.query),
        data=data,
        content_type=step.content_type,
        headers=step.headers or None,
    )
    return _shape(resp, step.yaml_error)


def _clients(kubeconfig: str) -> dict[str, Client]:
    t = Transcript()
    return {r: Client(Connection.from_kubeconfig(kubeconfig, r), r, t) for r in ROLES}


def _assets(version: KubeVersion) -> str:
    """The newest release's binaries wherever the user keeps them; an older release's
    from the build cache (ci/controlplane/build.sh VERSION), skipped when not built."""
    from conformance.targets.controlplane import MissingAssets, find_assets
    from conformance.targets.controlplane.assets import check_binaries, default_assets_dir

    try:
        if version == NEWEST:
            return find_assets(None)
        directory = str(default_assets_dir(RELEASES[version]))
        check_binaries(directory, f"the build of Kubernetes {RELEASES[version]}")
        return directory
    except MissingAssets as e:
        pytest.skip(f"no control-plane binaries: {e}")


@pytest.fixture(scope="module", params=MATRIX, ids=str)
def real_kubeconfig(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[KubeVersion, str]]:
    """kube-apiserver of one release of the matrix, with its kubeconfig."""
    from conformance.targets.controlplane import ControlPlane

    version: KubeVersion = request.param
    assets = _assets(version)
    path = str(tmp_path_factory.mktemp(f"real-{version}") / "kubeconfig")
    with ControlPlane(assets, controller_manager=False) as plane:
        plane.write_kubeconfig(path)
        yield version, path


def test_fake_and_kube_apiserver_agree(
    real_kubeconfig: tuple[KubeVersion, str], tmp_path: Path
) -> None:
    """The fake behaving as a release answers the corpus as that release's kube-apiserver."""
    from conformance.targets.fake import FakeConfig, FakeServer

    version, kubeconfig = real_kubeconfig
    materials = _materials()
    real = _clients(kubeconfig)
    with FakeServer(FakeConfig(kube_version=version)) as fake_server:
        fake_server.write_kubeconfig(str(tmp_path / "fake"))
        fake = _clients(str(tmp_path / "fake"))
        mismatches = []
        for step in STEPS:
            want = _send(real, step, materials)
            got = _send(fake, step, materials)
            if want != got:
                mismatches.append(
                    f"--- {step.id}: {step.method} {step.path}\n"
                    f"kube-apiserver: {json.dumps(want, indent=1, sort_keys=True)}\n"
                    f"fake:           {json.dumps(got, indent=1, sort_keys=True)}"
                )
    assert not mismatches, f"{len(mismatches)} of {len(STEPS)} steps differ:\n" + "\n".join(
        mismatches
    )
