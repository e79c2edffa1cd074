"""The OpenAPI documents: structure against kube-apiserver v1.37.2, and kubectl using them.

Structure: ``tests/fixtures/openapi/kube-apiserver-structure.json`` (from ``capture.py``
there) holds the real server's schemas and paths for the CSR API with descriptions
removed; ours, with descriptions removed, must be identical, apart from listing fewer
groups in two shared meta types.

kubectl: a small proxy serves ``/openapi/*`` from ``conformance.wire.openapi`` and
forwards every other request to a target, so kubectl 1.37 sees our documents and the
target's behaviour. Against the embedded fake it runs ``explain``, ``create`` (client
validation on) and the create path of ``apply``; against a real control plane (when the
binaries are present) also client-side and server-side ``apply`` of an existing object,
which need the patch metadata and field-validation support the documents declare.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from binaries import ASSETS

from conformance.targets.controlplane import MissingAssets, find_assets
from conformance.targets.fake.config import FakeConfig
from conformance.targets.fake.server import FakeServer
from conformance.wire import openapi

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
from livecapture import csr_pem  # noqa: E402

REAL = json.loads((FIXTURES / "openapi" / "kube-apiserver-structure.json").read_text())
_GROUP_LISTS = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
}


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def resolve_parameters(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        ref = value.get("$ref", "")
        if ref.startswith("#/parameters/"):
            return params[ref.rsplit("/", 1)[1]]
        return {k: resolve_parameters(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_parameters(v, params) for v in value]
    return value


def test_v3_structure_matches_kube_apiserver() -> None:
    doc = openapi.openapi_v3_group()
    assert strip(doc["components"]["schemas"]) == REAL["v3"]["schemas"]
    assert strip(doc["paths"]) == REAL["v3"]["paths"]


def test_v2_structure_matches_kube_apiserver() -> None:
    doc = openapi.openapi_v2()
    ours = strip(doc["definitions"])
    real = REAL["v2"]["schemas"]
    for name in _GROUP_LISTS:  # the real server lists every group that serves these
        ours[name].pop("x-kubernetes-group-version-kind")
        real[name] = {k: v for k, v in real[name].items() if k != "x-kubernetes-group-version-kind"}
    assert ours == real
    assert strip(doc["paths"]) == resolve_parameters(REAL["v2"]["paths"], REAL["v2_parameters"])


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "$ref" in value:
            yield value["$ref"]
        for v in value.values():
            yield from _refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)


def test_every_reference_resolves_and_everything_is_described() -> None:
    v3, v2 = openapi.openapi_v3_group(), openapi.openapi_v2()
    for ref in _refs(v3):
        assert ref.removeprefix("#/components/schemas/") in v3["components"]["schemas"], ref
    for ref in _refs(v2):
        assert ref.removeprefix("#/definitions/") in v2["definitions"], ref
    for name, schema in v3["components"]["schemas"].items():
        assert schema.get("description"), name
        for prop, sub in schema.get("properties", {}).items():
            assert sub.get("description"), f"{name}.{prop}"
    for path, item in v3["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                assert op["description"], (path, method)


def test_patch_operations_declare_field_validation() -> None:
    """kubectl sends fieldValidation=Strict only if the kind's PATCH declares it."""
    for path, item in openapi.openapi_v3_group()["paths"].items():
        if "patch" in item:
            names = {p["name"] for p in item["patch"]["parameters"]}
            assert {"fieldValidation", "fieldManager", "force", "dryRun"} <= names, path


def test_index_points_at_the_group_document_by_hash() -> None:
    body = openapi.document_bytes(openapi.openapi_v3_group())
    digest = hashlib.sha512(body).hexdigest().upper()
    index = openapi.openapi_v3_index()
    url = index["paths"]["apis/certificates.k8s.io/v1"]["serverRelativeURL"]
    assert url == f"/openapi/v3/apis/certificates.k8s.io/v1?hash={digest}"
    assert openapi.openapi_v3_index("/prefix/")["paths"]["apis/certificates.k8s.io/v1"][
        "serverRelativeURL"
    ].startswith("/prefix/openapi/v3/")


def test_respond_mirrors_the_servers_headers() -> None:
    index = openapi.respond("/openapi/v3", {}, "application/json")
    assert index is not None and index.status == 200
    assert index.headers["Content-Type"] == "text/plain; charset=utf-8"
    plain = openapi.respond(openapi.V3_GROUP_PATH, {}, "application/json")
    hashed = openapi.respond(openapi.V3_GROUP_PATH, {"hash": "x"}, "application/json")
    assert plain is not None and hashed is not None
    assert plain.headers["Cache-Control"] == "no-cache, private"
    assert hashed.headers["Cache-Control"] == "public, immutable" and "Expires" in hashed.headers
    assert plain.headers["Etag"] == f'"{openapi.group_hash()}"'
    assert plain.body == hashed.body
    refused = openapi.respond(openapi.V3_GROUP_PATH, {}, "text/plain")
    assert refused is not None and (refused.status, refused.body) == (406, b"")
    missing = openapi.respond("/openapi/v3/apis/nope/v1", {}, None)
    assert missing is not None and (missing.status, missing.body) == (404, b"")
    v2 = openapi.respond("/openapi/v2", {}, None)
    assert v2 is not None and json.loads(v2.body)["swagger"] == "2.0"
    v2_pb = openapi.respond(
        "/openapi/v2", {}, "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    )
    assert v2_pb is not None and v2_pb.status == 406
    assert openapi.respond("/apis", {}, None) is None


# -- kubectl through a proxy -------------------------------------------------------------


class OpenAPIProxy:
    """Plain-HTTP proxy: ``/openapi/*`` from our module, the rest from ``upstream``.

    client-go sends no bearer token over plain HTTP, so the proxy adds it."""

    def __init__(self, upstream: str, ca_pem: bytes | None, token: str) -> None:
        self.upstream = upstream
        self.ca_pem = ca_pem
        self.token = token
        self.seen: list[str] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(f"{request.method} {request.path_qs}")
        served = openapi.respond(request.path, request.query, request.headers.get("Accept"))
        if served is not None:
            return web.Response(status=served.status, body=served.body, headers=served.headers)
        skip = ("host", "content-length", "authorization")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        headers["Authorization"] = f"Bearer {self.token}"
        body = await request.read()
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=body or None
        ) as r:
            data = await r.read()
            out = {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "warning")}
            return web.Response(status=r.status, body=data, headers=out)

    async def _serve(self) -> None:
        ctx = ssl.create_default_context(cadata=self.ca_pem.decode()) if self.ca_pem else None
        self._session = ClientSession(
            connector=TCPConnector(ssl=ctx) if ctx else TCPConnector(),
            timeout=ClientTimeout(total=30),
            auto_decompress=False,
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> OpenAPIProxy:
        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._serve())
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self._session.close())
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def _kubectl() -> str | None:
    try:
        path = Path(find_assets(None)) / "kubectl"
    except MissingAssets:
        return None
    return str(path) if path.exists() else None


KUBECTL = _kubectl()
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl from the built assets is missing"
)


class Kubectl:
    def __init__(self, tmp: Path, server: str) -> None:
        self.tmp = tmp
        self.config = tmp / "kubeconfig"
        self.config.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "c", "cluster": {"server": server}}],
                    "users": [{"name": "u", "user": {}}],
                    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                    "current-context": "x",
                }
            )
        )

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        env = {**os.environ, "KUBECONFIG": str(self.config), "HOME": str(self.tmp)}
        return subprocess.run(
            [KUBECTL, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )


def manifest(name: str, **extra_spec: Any) -> str:
    request = base64.b64encode(csr_pem(name)).decode()
    spec = {"request": request, "signerName": "example.com/openapi", "usages": ["client auth"]}
    spec.update(extra_spec)
    return json.dumps(
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": name, "labels": {"from": "kubectl"}},
            "spec": spec,
        }
    )


@pytest.fixture(scope="module")
def fake_kubectl(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Kubectl, OpenAPIProxy]]:
    with (
        FakeServer(FakeConfig(tls=False)) as fake,
        OpenAPIProxy(fake.url, None, fake.users["admin"].token) as proxy,
    ):
        yield Kubectl(tmp_path_factory.mktemp("kubectl-fake"), proxy.url), proxy


@needs_kubectl
def test_kubectl_explain_uses_our_descriptions(fake_kubectl: tuple[Kubectl, OpenAPIProxy]) -> None:
    kubectl, proxy = fake_kubectl
    spec = kubectl.run("explain", "csr.spec")
    assert spec.returncode == 0, spec.stderr
    assert "What is being asked for." in spec.stdout
    for name in ("request", "signerName", "usages", "expirationSeconds", "extra"):
        assert name in spec.stdout
    usages = kubectl.run("explain", "csr.spec.usages")
    assert usages.returncode == 0, usages.stderr
    assert "FIELD: usages <[]string>" in usages.stdout
    assert "key usages and extended key usages" in usages.stdout
    conditions = kubectl.run("explain", "csr.status.conditions")
    assert conditions.returncode == 0, conditions.stderr
    assert "type\t<string> -required-" in conditions.stdout
    assert any(
        s.startswith("GET /openapi/v3/apis/certificates.k8s.io/v1?hash=") for s in proxy.seen
    )
    assert not any("/openapi/v2" in s for s in proxy.seen)


@needs_kubectl
def test_kubectl_create_and_apply_against_the_fake(
    fake_kubectl: tuple[Kubectl, OpenAPIProxy],
) -> None:
    kubectl, proxy = fake_kubectl
    created = kubectl.run("create", "-f", "-", stdin=manifest("oa-create"))
    assert created.returncode == 0, created.stderr
    assert "created" in created.stdout
    assert any(s.startswith("POST") and "fieldValidation=Strict" in s for s in proxy.seen)
    applied = kubectl.run("apply", "-f", "-", stdin=manifest("oa-apply"))
    assert applied.returncode == 0, applied.stderr
    got = json.loads(kubectl.run("get", "csr", "oa-apply", "-o", "json").stdout)
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]


# -- the same against a real kube-apiserver, where every apply path works -------------------


@pytest.fixture(scope="module")
def real_kubectl(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Kubectl, OpenAPIProxy]]:
    assets = ASSETS
    if assets is None or KUBECTL is None:
        pytest.skip("no control-plane assets")
    from conformance.targets.controlplane import ControlPlane

    with (
        ControlPlane(assets, controller_manager=False) as cp,
        OpenAPIProxy(cp.url, cp.ca_pem, cp.users["admin"].token) as proxy,
    ):
        yield Kubectl(tmp_path_factory.mktemp("kubectl-real"), proxy.url), proxy


def test_kubectl_against_kube_apiserver_with_our_documents(
    real_kubectl: tuple[Kubectl, OpenAPIProxy],
) -> None:
    kubectl, proxy = real_kubectl
    explain = kubectl.run("explain", "csr.spec.usages")
    assert explain.returncode == 0 and "key usages and extended key usages" in explain.stdout

    bad = kubectl.run("create", "-f", "-", stdin=manifest("oa-bad", bogus=1))
    assert bad.returncode != 0 and 'unknown field "spec.bogus"' in bad.stderr

    first = kubectl.run("apply", "-f", "-", stdin=manifest("oa-csa"))
    assert first.returncode == 0, first.stderr
    changed = manifest("oa-csa").replace('"from": "kubectl"', '"from": "kubectl-again"')
    second = kubectl.run("apply", "-f", "-", stdin=changed)
    assert second.returncode == 0, second.stderr
    assert "configured" in second.stdout
    assert any(
        s.startswith("PATCH") and "oa-csa" in s and "fieldValidation=Strict" in s
        for s in proxy.seen
    )

    ssa = kubectl.run("apply", "--server-side", "-f", "-", stdin=manifest("oa-ssa"))
    assert ssa.returncode == 0, ssa.stderr
    migrated = kubectl.run("apply", "--server-side", "-f", "-", stdin=changed)
    assert migrated.returncode == 0, migrated.stderr
    got = json.loads(kubectl.run("get", "csr", "oa-csa", "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"from": "kubectl-again"}
    assert not any("/openapi/v2" in s for s in proxy.seen)
