"""The embedded fake API server, checked from the outside over real HTTP(S).

Raw requests check exact wire shapes (several of them compared against a live
kube-apiserver v1.37.2 while the fake was written); then the two clients users actually
run against it, the ``kubernetes`` Python package and kubectl, must work unchanged; and
every named fault must be constructible and visibly change behaviour.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pems
import pytest
import urllib3
import yaml
from test_fake_update import Reply

from conformance.identities import ADMIN, APPROVER, ROLES, SIGNER, USER
from conformance.oracle.csr.rules import RULES
from conformance.targets.fake import FAULTS, FakeConfig, FakeServer
from conformance.targets.fake.faults import RUN_LABEL_KEY

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
SSR = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
TOKENS = {role: f"csrc-{role}-token" for role in ROLES}
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def csr_pem(cn: str = "fake-test", *, tamper: bool = False) -> bytes:
    pem = pems.request_pem(cn)
    return pems.tampered(pem) if tamper else pem


_REQUEST = base64.b64encode(csr_pem()).decode("ascii")


def csr_body(name: str = "", **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name} if name else {}
    body_spec: dict[str, Any] = {
        "request": _REQUEST,
        "signerName": "example.com/fake-test",
        "usages": ["client auth"],
    }
    body_spec.update(spec)
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": meta,
        "spec": body_spec,
    }


class Api:
    """A tiny raw-HTTP client: bytes in, status/headers/JSON out."""

    def __init__(self, server: FakeServer, role: str | None = ADMIN) -> None:
        ca = server.ca_pem
        self.pool = urllib3.PoolManager(
            ca_cert_data=ca.decode() if ca else None,
            cert_reqs="CERT_REQUIRED" if ca else "CERT_NONE",
            timeout=10.0,
            retries=False,
        )
        self.url = server.url
        self.token = TOKENS[role] if role else None

    def as_role(self, role: str | None) -> Api:
        other = Api.__new__(Api)
        other.pool, other.url, other.token = self.pool, self.url, TOKENS[role] if role else None
        return other

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        fields: dict[str, str] | None = None,
    ) -> Reply:
        h = {"Content-Type": "application/json", "User-Agent": "fake-test/1.0"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(headers or {})
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        url = self.url + path
        if fields:
            url += "?" + urlencode(fields)
        return Reply(self.pool.request(method, url, body=data, headers=h))

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def create(self, body: dict[str, Any], **kw: Any) -> Reply:
        return self.call("POST", CSRS, body, **kw)


def status(code: int, reason: str, message: str, details: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        out["details"] = details
    out["code"] = code
    return out


def names(reply: Reply) -> list[str]:
    return [i["metadata"]["name"] for i in reply.body["items"] or []]


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeConfig()) as s:
        yield s


@pytest.fixture(scope="module")
def api(server: FakeServer) -> Api:
    return Api(server)


@pytest.fixture(scope="module")
def kubeconfig(server: FakeServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kc") / "kubeconfig"
    server.write_kubeconfig(str(path))
    return path


# ---------------------------------------------------------------------------
# server object, kubeconfig, serve_forever
# ---------------------------------------------------------------------------


def test_url_and_lifecycle() -> None:
    s = FakeServer(FakeConfig(tls=False))
    with pytest.raises(RuntimeError):
        _ = s.url
    with s:
        assert s.url.startswith("http://127.0.0.1:")
        assert Api(s).get("/version").status == 200
    s.stop()  # stopping twice is harmless


def test_kubeconfig_has_one_context_per_role(server: FakeServer, kubeconfig: Path) -> None:
    doc = yaml.safe_load(kubeconfig.read_text())
    assert [c["name"] for c in doc["contexts"]] == list(ROLES)
    assert doc["current-context"] == ADMIN
    cluster = doc["clusters"][0]["cluster"]
    assert cluster["server"] == server.url
    assert base64.b64decode(cluster["certificate-authority-data"]) == server.ca_pem
    users = {u["name"]: u["user"]["token"] for u in doc["users"]}
    assert users == TOKENS
    assert kubeconfig.stat().st_mode & 0o077 == 0


def test_serve_forever_prints_url_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    kc = tmp_path / "kc.yaml"
    code = (
        "from conformance.targets.fake import FakeConfig, serve_forever;"
        f"serve_forever(FakeConfig(tls=False), {str(kc)!r})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        where = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert where == f"kubeconfig: {kc}"
        assert yaml.safe_load(kc.read_text())["clusters"][0]["cluster"]["server"] == url
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err


# ---------------------------------------------------------------------------
# discovery and version
# ---------------------------------------------------------------------------


def test_discovery_documents(api: Api, server: FakeServer) -> None:
    r = api.get("/api")
    assert r.headers["Content-Type"] == "application/json"
    assert r.raw.endswith(b"\n")
    assert r.body == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server.url.split("://")[1]}
        ],
    }
    groups = api.get("/apis").body
    assert groups["kind"] == "APIGroupList"
    by_name = {g["name"]: g for g in groups["groups"]}
    assert by_name["certificates.k8s.io"]["preferredVersion"] == {
        "groupVersion": "certificates.k8s.io/v1",
        "version": "v1",
    }
    assert "authentication.k8s.io" in by_name
    group = api.get("/apis/certificates.k8s.io").body
    assert group["kind"] == "APIGroup" and group["name"] == "certificates.k8s.io"
    resources = api.get("/apis/certificates.k8s.io/v1").body
    assert resources["kind"] == "APIResourceList"
    assert resources["groupVersion"] == "certificates.k8s.io/v1"
    assert resources["resources"] == [
        {
            "name": "certificatesigningrequests",
            "singularName": "certificatesigningrequest",
            "namespaced": False,
            "kind": "CertificateSigningRequest",
            "verbs": [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ],
            "shortNames": ["csr"],
            "storageVersionHash": "95fRKMXA+00=",
        },
        {
            "name": "certificatesigningrequests/approval",
            "singularName": "",
            "namespaced": False,
            "kind": "CertificateSigningRequest",
            "verbs": ["get", "patch", "update"],
        },
        {
            "name": "certificatesigningrequests/status",
            "singularName": "",
            "namespaced": False,
            "kind": "CertificateSigningRequest",
            "verbs": ["get", "patch", "update"],
        },
    ]
    auth = api.get("/apis/authentication.k8s.io/v1").body
    assert [r["name"] for r in auth["resources"]] == ["selfsubjectreviews"]
    version = api.get("/version").body
    assert (version["major"], version["minor"]) == ("1", "37")


def test_aggregated_discovery(api: Api) -> None:
    accept = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
        "application/json"
    )
    r = api.get("/apis", headers={"Accept": accept})
    assert r.headers["Content-Type"] == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    doc = r.body
    assert doc["kind"] == "APIGroupDiscoveryList"
    assert doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    certs = next(i for i in doc["items"] if i["metadata"].get("name") == "certificates.k8s.io")
    (res,) = certs["versions"][0]["resources"]
    assert res["resource"] == "certificatesigningrequests"
    assert res["scope"] == "Cluster" and res["shortNames"] == ["csr"]
    assert [s["subresource"] for s in res["subresources"]] == ["approval", "status"]
    core = api.get("/api", headers={"Accept": accept})
    assert core.body["kind"] == "APIGroupDiscoveryList"
    # an old client that only speaks v2beta1 falls back to the legacy document
    legacy = api.get("/apis", headers={"Accept": accept.split(",", 1)[1]})
    assert legacy.body["kind"] == "APIGroupList"


# ---------------------------------------------------------------------------
# authentication and authorization
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_unauthenticated_gets_401(api: Api, token: str | None) -> None:
    anon = api.as_role(None)
    if token:
        anon.token = token
    r = anon.get(CSRS)
    assert r.status == 401
    assert r.body == status(401, "Unauthorized", "Unauthorized", None)


def test_self_subject_review_reports_each_identity(api: Api) -> None:
    expected = {
        ADMIN: {
            "username": "csrc-admin",
            "uid": "uid-csrc-admin",
            "groups": ["system:masters", "system:authenticated"],
        },
        USER: {
            "username": "csrc-user",
            "uid": "uid-csrc-user",
            "groups": ["csrc-users", "csrc-team-a", "system:authenticated"],
            "extra": {"csrc.example.com/team": ["a", "b"]},
        },
        APPROVER: {
            "username": "csrc-approver",
            "uid": "uid-csrc-approver",
            "groups": ["csrc-approvers", "system:authenticated"],
        },
        SIGNER: {
            "username": "csrc-signer",
            "uid": "uid-csrc-signer",
            "groups": ["csrc-signers", "system:authenticated"],
        },
    }
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    for role, info in expected.items():
        r = api.as_role(role).call("POST", SSR, review)
        assert r.status == 201
        body = r.body
        assert body["kind"] == "SelfSubjectReview"
        assert body["apiVersion"] == "authentication.k8s.io/v1"
        assert set(body["metadata"]) == {"creationTimestamp"}
        assert body["status"] == {"userInfo": info}
    empty = api.call("POST", SSR, b"")
    assert empty.status == 400 and empty.body["reason"] == "BadRequest"


def test_client_certificate_authenticates(server: FakeServer, tmp_path: Path) -> None:
    pair = server.client_certificate("cert-user", ("team-x", "team-y"))
    (tmp_path / "c.pem").write_bytes(pair.cert_pem)
    (tmp_path / "k.pem").write_bytes(pair.key_pem)
    assert server.ca_pem is not None
    pool = urllib3.PoolManager(
        ca_cert_data=server.ca_pem.decode(),
        cert_file=str(tmp_path / "c.pem"),
        key_file=str(tmp_path / "k.pem"),
        retries=False,
    )
    r = pool.request(
        "POST",
        server.url + SSR,
        body=b'{"kind":"SelfSubjectReview"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status == 201
    assert json.loads(r.data)["status"]["userInfo"] == {
        "username": "cert-user",
        "groups": ["team-x", "team-y", "system:authenticated"],
    }


def test_forbidden_messages(api: Api) -> None:
    user = api.as_role(USER)
    r = user.get(f"{CSRS}/x/status")
    assert r.status == 403
    assert r.body == status(
        403,
        "Forbidden",
        'certificatesigningrequests.certificates.k8s.io "x" is forbidden: User "csrc-user" '
        'cannot get resource "certificatesigningrequests/status" in API group '
        '"certificates.k8s.io" at the cluster scope',
        {"name": "x", "group": "certificates.k8s.io", "kind": "certificatesigningrequests"},
    )
    # authorization runs before routing, so a non-admin is refused even unknown paths
    r = user.get("/foo")
    assert r.body == status(
        403, "Forbidden", 'forbidden: User "csrc-user" cannot get path "/foo"', {}
    )
    # a list pinned to one name carries that name
    r = user.as_role(USER).get(CSRS, fields={"fieldSelector": "metadata.name=abc"})
    assert r.status == 200  # users may list


# ---------------------------------------------------------------------------
# routing errors and negotiation
# ---------------------------------------------------------------------------


def test_unknown_paths_and_methods(api: Api) -> None:
    plain = api.get("/foo")
    assert plain.status == 404
    assert plain.raw == b"404 page not found\n"
    assert plain.headers["Content-Type"] == "text/plain; charset=utf-8"
    for path in ("/apis/certificates.k8s.io/v2", f"{CSRS}/x/y/z", f"{CSRS}/x/bogus"):
        r = api.get(path)
        assert r.status == 404
        assert r.body == status(
            404, "NotFound", "the server could not find the requested resource", {}
        )
    for method, path in (("PUT", CSRS), ("POST", f"{CSRS}/x")):
        r = api.call(method, path, b"{}")
        assert r.status == 405
        assert r.body == status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            {},
        )


def test_not_acceptable(api: Api) -> None:
    r = api.get(CSRS, headers={"Accept": "text/plain"})
    assert r.status == 406
    assert r.body["message"] == (
        "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, "
        "application/vnd.kubernetes.protobuf, application/json;stream=watch, "
        "application/vnd.kubernetes.protobuf;stream=watch"
    )
    r = api.get("/apis", headers={"Accept": "text/plain"})
    assert r.status == 406
    assert r.body["message"].startswith("only the following media types are accepted: ")
    r = api.get(
        f"{CSRS}/x/approval", headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    )
    assert r.status == 406


# ---------------------------------------------------------------------------
# create
# ---------------------------------------------------------------------------


def test_create_stores_what_kube_apiserver_stores(api: Api) -> None:
    body = csr_body("create-shape", expirationSeconds=3600, username="mallory")
    body["metadata"].update(namespace="ignored", labels={"app": "x"})
    body["spec"]["foo"] = 1
    body["status"] = {"conditions": [{"type": "Approved", "status": "True"}]}
    r = api.as_role(USER).create(body)
    assert r.status == 201
    assert r.headers.getlist("Warning") == ['299 - "unknown field \\"spec.foo\\""']
    obj = r.body
    assert list(obj) == ["kind", "apiVersion", "metadata", "spec", "status"]
    meta = obj["metadata"]
    assert list(meta) == [
        "name",
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "labels",
        "managedFields",
    ]
    assert int(meta["resourceVersion"]) > 0
    assert meta["managedFields"] == [
        {
            "manager": "fake-test",
            "operation": "Update",
            "apiVersion": "certificates.k8s.io/v1",
            "time": meta["creationTimestamp"],
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
        }
    ]
    assert obj["spec"] == {
        "request": _REQUEST,
        "signerName": "example.com/fake-test",
        "expirationSeconds": 3600,
        "usages": ["client auth"],
        "username": "csrc-user",
        "uid": "uid-csrc-user",
        "groups": ["csrc-users", "csrc-team-a", "system:authenticated"],
        "extra": {"csrc.example.com/team": ["a", "b"]},
    }
    assert obj["status"] == {}
    assert api.get(f"{CSRS}/create-shape").body == obj


def test_create_without_tracked_metadata_has_no_managed_fields(api: Api) -> None:
    r = api.create(csr_body("create-nomf"), fields={"fieldManager": "mine"})
    assert r.status == 201
    assert "managedFields" not in r.body["metadata"]


def test_create_errors(api: Api) -> None:
    assert api.create(csr_body("create-dup")).status == 201
    dup = api.create(csr_body("create-dup"))
    assert dup.body == status(
        409,
        "AlreadyExists",
        'certificatesigningrequests.certificates.k8s.io "create-dup" already exists',
        {
            "name": "create-dup",
            "group": "certificates.k8s.io",
            "kind": "certificatesigningrequests",
        },
    )
    bad = api.create(csr_body("create-bad", usages=["client auth", "nope"]))
    assert bad.status == 422
    assert [c["field"] for c in bad.body["details"]["causes"]] == ["spec.usages[1]"]
    assert api.get(f"{CSRS}/create-bad").status == 404
    assert api.call("POST", CSRS, b"hello", headers={"Content-Type": "text/plain"}).status == 415


def test_generate_name_and_dry_run(api: Api) -> None:
    body = csr_body()
    body["metadata"] = {"generateName": "g" * 70}
    r = api.create(body)
    name = r.body["metadata"]["name"]
    assert name.startswith("g" * 58) and len(name) == 63
    assert set(name[58:]) <= set("bcdfghjklmnpqrstvwxz2456789")
    dry = api.create(csr_body("create-dry"), fields={"dryRun": "All"})
    assert dry.status == 201
    assert "resourceVersion" not in dry.body["metadata"]
    assert api.get(f"{CSRS}/create-dry").status == 404


def test_create_accepts_yaml(api: Api) -> None:
    text = yaml.safe_dump(csr_body("create-yaml")).encode()
    r = api.call("POST", CSRS, text, headers={"Content-Type": "application/yaml"})
    assert r.status == 201 and r.body["metadata"]["name"] == "create-yaml"


# ---------------------------------------------------------------------------
# read
# ---------------------------------------------------------------------------


def test_get_main_and_subresources(api: Api) -> None:
    created = api.create(csr_body("get-one")).body
    for suffix in ("", "/status", "/approval"):
        assert api.get(f"{CSRS}/get-one{suffix}").body == created
    missing = api.get(f"{CSRS}/get-missing")
    assert missing.body == status(
        404,
        "NotFound",
        'certificatesigningrequests.certificates.k8s.io "get-missing" not found',
        {
            "name": "get-missing",
            "group": "certificates.k8s.io",
            "kind": "certificatesigningrequests",
        },
    )


def test_list_shape_order_and_selectors(api: Api) -> None:
    run = {"labels": {"list-run": "r1"}}
    for name, signer in (
        ("list-b", "example.com/one"),
        ("list-a", "example.com/two"),
        ("list-c", "example.com/one"),
    ):
        body = csr_body(name, signerName=signer)
        body["metadata"].update(run)
        assert api.create(body).status == 201
    r = api.get(CSRS, fields={"labelSelector": "list-run=r1"})
    body = r.body
    assert list(body) == ["kind", "apiVersion", "metadata", "items"]
    assert body["kind"] == "CertificateSigningRequestList"
    assert body["apiVersion"] == "certificates.k8s.io/v1"
    assert list(body["metadata"]) == ["resourceVersion"]
    assert names(r) == ["list-a", "list-b", "list-c"]
    assert all("kind" not in i and "apiVersion" not in i for i in body["items"])

    def sel(**q: str) -> list[str]:
        return names(api.get(CSRS, fields={"labelSelector": "list-run=r1", **q}))

    assert sel(fieldSelector="spec.signerName=example.com/one") == ["list-b", "list-c"]
    assert sel(fieldSelector="spec.signerName!=example.com/one") == ["list-a"]
    assert sel(fieldSelector="metadata.name==list-c") == ["list-c"]
    assert sel(fieldSelector="metadata.name=list-c,spec.signerName=example.com/two") == []
    empty = api.get(CSRS, fields={"labelSelector": "list-run=none"})
    assert empty.body["items"] == []
    bad = api.get(CSRS, fields={"fieldSelector": "spec.username=x"})
    assert bad.body == status(400, "BadRequest", "field label not supported: spec.username", None)
    bad = api.get(CSRS, fields={"fieldSelector": "metadata.name=a=b"})
    assert bad.body["message"] == "invalid field selector: unescaped character in value: 61"
    bad = api.get(CSRS, fields={"labelSelector": "a b"})
    assert bad.body["message"] == (
        "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
    )
    bad = api.get(CSRS, fields={"labelSelector": "a=-b"})
    assert bad.body["message"].startswith(
        'unable to parse requirement: values[0][a]: Invalid value: "-b"'
    )


def test_escaped_field_selector_values(api: Api) -> None:
    assert api.create(csr_body("esc,a=b")).status == 201
    r = api.get(CSRS, fields={"fieldSelector": r"metadata.name=esc\,a\=b"})
    assert names(r) == ["esc,a=b"]


def test_table_and_partial_metadata(api: Api) -> None:
    body = csr_body("table-one", expirationSeconds=86400)
    assert api.create(body).status == 201
    r = api.get(f"{CSRS}/table-one", headers={"Accept": TABLE_ACCEPT})
    table = r.body
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Age",
        "SignerName",
        "Requestor",
        "RequestedDuration",
        "Condition",
    ]
    (row,) = table["rows"]
    assert row["cells"][0] == "table-one"
    assert row["cells"][2:] == ["example.com/fake-test", "csrc-admin", "24h", "Pending"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "table-one"
    listed = api.get(
        CSRS, headers={"Accept": TABLE_ACCEPT}, fields={"fieldSelector": "metadata.name=table-one"}
    )
    assert [row["cells"][0] for row in listed.body["rows"]] == ["table-one"]
    pom = api.get(
        f"{CSRS}/table-one",
        headers={"Accept": "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"},
    )
    assert pom.body["kind"] == "PartialObjectMetadata"


# ---------------------------------------------------------------------------
# delete and deletecollection
# ---------------------------------------------------------------------------


def test_delete_answers_status_then_404(api: Api) -> None:
    uid = api.create(csr_body("del-one")).body["metadata"]["uid"]
    r = api.call("DELETE", f"{CSRS}/del-one")
    assert r.status == 200
    assert r.body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": "del-one",
            "group": "certificates.k8s.io",
            "kind": "certificatesigningrequests",
            "uid": uid,
        },
    }
    assert api.get(f"{CSRS}/del-one").status == 404
    assert api.call("DELETE", f"{CSRS}/del-one").status == 404


def test_delete_preconditions_and_dry_run(api: Api) -> None:
    obj = api.create(csr_body("del-pre")).body
    uid, rv = obj["metadata"]["uid"], obj["metadata"]["resourceVersion"]
    r = api.call("DELETE", f"{CSRS}/del-pre", {"preconditions": {"uid": "other"}})
    assert r.body == status(
        409,
        "Conflict",
        'Operation cannot be fulfilled on CertificateSigningRequest.certificates.k8s.io "del-pre": '
        f"the UID in the precondition (other) does not match the UID in record ({uid}). "
        "The object might have been deleted and then recreated",
        {"name": "del-pre", "group": "certificates.k8s.io", "kind": "CertificateSigningRequest"},
    )
    r = api.call("DELETE", f"{CSRS}/del-pre", {"preconditions": {"resourceVersion": "1"}})
    assert r.status == 409 and "ResourceVersion in the precondition (1)" in r.body["message"]
    r = api.call("DELETE", f"{CSRS}/del-pre", {"dryRun": ["All"]})
    assert r.status == 200 and r.body["status"] == "Success"
    assert api.get(f"{CSRS}/del-pre").status == 200
    bad = api.call("DELETE", f"{CSRS}/del-pre", {"propagationPolicy": "Foo", "dryRun": ["x"]})
    assert bad.status == 422 and bad.body["details"]["kind"] == "DeleteOptions"
    ok = api.call(
        "DELETE", f"{CSRS}/del-pre", {"preconditions": {"uid": uid, "resourceVersion": rv}}
    )
    assert ok.status == 200


def test_delete_with_finalizers_marks_the_object(api: Api) -> None:
    body = csr_body("del-fin")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    created = api.create(body).body
    r = api.call("DELETE", f"{CSRS}/del-fin")
    assert r.status == 200
    meta = r.body["metadata"]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == 0
    assert int(meta["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    again = api.call("DELETE", f"{CSRS}/del-fin")
    assert again.body == r.body  # nothing changes the second time
    dup = api.create(csr_body("del-fin"))
    assert dup.body["message"].startswith("object is being deleted: ")
    # the deprecated orphanDependents=false answers 202 when the object stays
    accepted = api.call("DELETE", f"{CSRS}/del-fin", {"orphanDependents": False})
    assert accepted.status == 202 and accepted.body["metadata"]["name"] == "del-fin"
    # without finalizers an object goes at once, whatever orphanDependents says
    assert api.create(csr_body("del-now")).status == 201
    gone = api.call("DELETE", f"{CSRS}/del-now", {"orphanDependents": False})
    assert gone.status == 200 and gone.body["status"] == "Success"
    # the Orphan policy adds the orphan finalizer, so the object stays
    assert api.create(csr_body("del-orphan")).status == 201
    orphan = api.call("DELETE", f"{CSRS}/del-orphan", {"propagationPolicy": "Orphan"})
    assert orphan.body["metadata"]["finalizers"] == ["orphan"]


def test_deletecollection_returns_the_deleted_items(api: Api) -> None:
    for name, signer in (
        ("dc-a", "example.com/x"),
        ("dc-b", "example.com/y"),
        ("dc-c", "example.com/x"),
    ):
        body = csr_body(name, signerName=signer)
        body["metadata"]["labels"] = {"dc-run": "1"}
        assert api.create(body).status == 201
    r = api.call(
        "DELETE",
        CSRS,
        fields={"labelSelector": "dc-run=1", "fieldSelector": "spec.signerName=example.com/x"},
    )
    assert r.status == 200
    assert r.body["kind"] == "CertificateSigningRequestList"
    assert names(r) == ["dc-a", "dc-c"]
    assert names(api.get(CSRS, fields={"labelSelector": "dc-run=1"})) == ["dc-b"]
    bad = api.call("DELETE", CSRS, fields={"fieldSelector": "status.x=1"})
    assert bad.status == 400


def test_store_resource_version_is_store_wide_and_increasing(api: Api, server: FakeServer) -> None:
    before = server.store.resource_version
    a = int(api.create(csr_body("rv-a")).body["metadata"]["resourceVersion"])
    b = int(api.create(csr_body("rv-b")).body["metadata"]["resourceVersion"])
    assert before < a < b
    assert int(api.get(CSRS).body["metadata"]["resourceVersion"]) == b
    kinds = [e.type for e in server.store.events_since(before)]
    assert kinds == ["ADDED", "ADDED"]


# ---------------------------------------------------------------------------
# plain HTTP and real clients
# ---------------------------------------------------------------------------


def test_plain_http_server() -> None:
    with FakeServer(FakeConfig(tls=False)) as s:
        assert s.ca_pem is None
        api = Api(s)
        assert api.create(csr_body("http-one")).status == 201
        assert api.get(f"{CSRS}/http-one").body["metadata"]["name"] == "http-one"
        assert api.as_role(USER).call("POST", SSR, {"kind": "SelfSubjectReview"}).status == 201


def test_kubernetes_python_client(kubeconfig: Path) -> None:
    from kubernetes import client, config

    api_client = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), context=USER
    )
    certs = client.CertificatesV1Api(api_client)
    body = client.V1CertificateSigningRequest(
        metadata=client.V1ObjectMeta(name="py-client"),
        spec=client.V1CertificateSigningRequestSpec(
            request=_REQUEST, signer_name="example.com/py", usages=["client auth"]
        ),
    )
    created = certs.create_certificate_signing_request(body)
    assert created.spec.username == "csrc-user"
    assert created.metadata is not None
    read = certs.read_certificate_signing_request("py-client")
    assert read.metadata is not None and read.metadata.uid == created.metadata.uid
    listed = certs.list_certificate_signing_request(field_selector="spec.signerName=example.com/py")
    assert [i.metadata.name for i in listed.items if i.metadata] == ["py-client"]
    certs.delete_certificate_signing_request("py-client")
    with pytest.raises(client.ApiException) as exc:
        certs.read_certificate_signing_request("py-client")
    assert exc.value.status == 404
    api_client.close()


def _find_kubectl() -> str | None:
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        candidate = Path(assets, "kubectl")
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("kubectl")


def test_kubectl_create_get_delete(kubeconfig: Path, tmp_path: Path) -> None:
    kubectl = _find_kubectl()
    if kubectl is None:
        pytest.skip("no kubectl binary on PATH or in $KUBEBUILDER_ASSETS")
    manifest = tmp_path / "csr.yaml"
    manifest.write_text(yaml.safe_dump(csr_body("kubectl-one", expirationSeconds=86400)))
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}

    def run(*args: str) -> str:
        proc = subprocess.run(
            [kubectl, "--cache-dir", str(tmp_path / "cache"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "created" in run("create", "-f", str(manifest), "--validate=false")
    got = yaml.safe_load(run("get", "csr", "kubectl-one", "-o", "yaml"))
    assert got["spec"]["username"] == "csrc-admin"
    table = run("get", "csr")
    header = table.splitlines()[0].split()
    assert header == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    assert any(
        line.split()[0] == "kubectl-one" and line.split()[-2:] == ["24h", "Pending"]
        for line in table.splitlines()[1:]
    )
    assert "deleted" in run("delete", "csr", "kubectl-one")
    assert "kubectl-one" not in run("get", "csr")


# ---------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------


def test_fault_catalogue_is_well_formed() -> None:
    assert len(FAULTS) >= 10
    for name, fault in FAULTS.items():
        assert fault.name == name and fault.summary and fault.rules
        unknown = [r for r in fault.rules if r not in RULES]
        assert not unknown, f"{name} names unknown rules {unknown}"
    with pytest.raises(ValueError, match="known faults: "):
        FakeServer(FakeConfig(faults=frozenset({"no-such-fault"})))
    from conformance.session import RUN_LABEL

    assert RUN_LABEL == RUN_LABEL_KEY


Scenario = Callable[[Api], Any]


def _code(r: Reply) -> int:
    return r.status


def _sc_bad_signature(api: Api) -> Any:
    body = csr_body("f-sig", request=base64.b64encode(csr_pem(tamper=True)).decode())
    return _code(api.create(body))


def _sc_keep_username(api: Api) -> Any:
    return api.create(csr_body("f-user", username="mallory")).body["spec"]["username"]


def _sc_keep_status(api: Api) -> Any:
    body = csr_body("f-status")
    body["status"] = {"conditions": [{"type": "Approved", "status": "True"}]}
    return api.create(body).body["status"]


def _sc_validation_400(api: Api) -> Any:
    return _code(api.create(csr_body("f-400", usages=[])))


def _sc_cause_field(api: Api) -> Any:
    r = api.create(csr_body("f-cause", usages=["client auth", "bogus"]))
    return [c["field"] for c in r.body["details"]["causes"]]


def _sc_dryrun_persists(api: Api) -> Any:
    api.create(csr_body("f-dry"), fields={"dryRun": "All"})
    return _code(api.get(f"{CSRS}/f-dry"))


def _sc_dryrun_delete(api: Api) -> Any:
    api.create(csr_body("f-ddel"))
    api.call("DELETE", f"{CSRS}/f-ddel", {"dryRun": ["All"]})
    return _code(api.get(f"{CSRS}/f-ddel"))


def _sc_delete_object(api: Api) -> Any:
    api.create(csr_body("f-delobj"))
    return api.call("DELETE", f"{CSRS}/f-delobj").body["kind"]


def _sc_list_kind(api: Api) -> Any:
    return api.get(CSRS).body.get("kind")


def _sc_unsorted(api: Api) -> Any:
    for n in ("f-sort-a", "f-sort-b"):
        body = csr_body(n)
        body["metadata"]["labels"] = {"f-sort": "1"}
        api.create(body)
    return names(api.get(CSRS, fields={"labelSelector": "f-sort=1"}))


def _sc_null_items(api: Api) -> Any:
    return api.get(CSRS, fields={"labelSelector": "nothing=here"}).body["items"]


def _sc_ignore_field_selector(api: Api) -> Any:
    api.create(csr_body("f-fs-a", signerName="example.com/fs-a"))
    api.create(csr_body("f-fs-b", signerName="example.com/fs-b"))
    return names(api.get(CSRS, fields={"fieldSelector": "spec.signerName=example.com/fs-a"}))


def _sc_namespace(api: Api) -> Any:
    body = csr_body("f-ns")
    body["metadata"]["namespace"] = "kept"
    return api.create(body).body["metadata"].get("namespace")


def _sc_client_uid(api: Api) -> Any:
    body = csr_body("f-uid")
    body["metadata"]["uid"] = "client-uid"
    return api.create(body).body["metadata"]["uid"] == "client-uid"


def _sc_generate_name(api: Api) -> Any:
    body = csr_body()
    body["metadata"] = {"generateName": "x" * 70}
    return len(api.create(body).body["metadata"]["name"])


def _sc_legacy_signer(api: Api) -> Any:
    return _code(api.create(csr_body("f-legacy", signerName="kubernetes.io/legacy-unknown")))


def _sc_min_expiration(api: Api) -> Any:
    return _code(api.create(csr_body("f-exp", expirationSeconds=599)))


def _sc_usages_sorted(api: Api) -> Any:
    return api.create(csr_body("f-us", usages=["server auth", "client auth"])).body["spec"][
        "usages"
    ]


def _sc_overwrite(api: Api) -> Any:
    api.create(csr_body("f-dupname"))
    return _code(api.create(csr_body("f-dupname")))


def _sc_rv_on_create(api: Api) -> Any:
    body = csr_body("f-rv")
    body["metadata"]["resourceVersion"] = "5"
    return _code(api.create(body))


def _sc_delete_preconditions(api: Api) -> Any:
    api.create(csr_body("f-pre"))
    return _code(api.call("DELETE", f"{CSRS}/f-pre", {"preconditions": {"uid": "nope"}}))


def _sc_delete_options(api: Api) -> Any:
    """An invalid policy (422) and the unsafe-delete option (409 on the newest release)."""
    api.create(csr_body("f-opts"))
    bad = _code(api.call("DELETE", f"{CSRS}/f-opts", {"propagationPolicy": "Sometimes"}))
    unsafe = {"ignoreStoreReadErrorWithClusterBreakingPotential": True}
    return bad, _code(api.call("DELETE", f"{CSRS}/f-opts", unsafe))


def _sc_deletecollection(api: Api) -> Any:
    for n, signer in (("f-dc-a", "example.com/a"), ("f-dc-b", "example.com/b")):
        body = csr_body(n, signerName=signer)
        body["metadata"]["labels"] = {RUN_LABEL_KEY: "r1"}
        api.create(body)
    other = csr_body("f-dc-other", signerName="example.com/a")
    other["metadata"]["labels"] = {RUN_LABEL_KEY: "r2"}
    api.create(other)
    api.call(
        "DELETE",
        CSRS,
        fields={
            "labelSelector": f"{RUN_LABEL_KEY}=r1",
            "fieldSelector": "spec.signerName=example.com/a",
        },
    )
    left = names(api.get(CSRS, fields={"labelSelector": RUN_LABEL_KEY}))
    assert "f-dc-other" in left, "another run's object must survive every fault"
    return left


def _sc_discovery(api: Api) -> Any:
    return [r["name"] for r in api.get("/apis/certificates.k8s.io/v1").body["resources"]]


SCENARIOS: dict[str, Scenario] = {
    "accept-bad-signature": _sc_bad_signature,
    "keep-client-username": _sc_keep_username,
    "keep-client-status": _sc_keep_status,
    "validation-400": _sc_validation_400,
    "wrong-cause-field": _sc_cause_field,
    "dryrun-persists": _sc_dryrun_persists,
    "dryrun-delete-deletes": _sc_dryrun_delete,
    "delete-returns-object": _sc_delete_object,
    "list-without-kind": _sc_list_kind,
    "unsorted-list": _sc_unsorted,
    "empty-list-null-items": _sc_null_items,
    "ignore-field-selector": _sc_ignore_field_selector,
    "namespace-kept": _sc_namespace,
    "keep-client-uid": _sc_client_uid,
    "generate-name-untruncated": _sc_generate_name,
    "allow-legacy-signer": _sc_legacy_signer,
    "min-expiration-off-by-one": _sc_min_expiration,
    "usages-sorted": _sc_usages_sorted,
    "duplicate-name-overwrites": _sc_overwrite,
    "rv-on-create-accepted": _sc_rv_on_create,
    "delete-ignores-preconditions": _sc_delete_preconditions,
    "delete-options-unvalidated": _sc_delete_options,
    "deletecollection-ignores-selector": _sc_deletecollection,
    "discovery-without-approval": _sc_discovery,
}


def test_every_fault_has_a_scenario() -> None:
    from test_fake_sensitivity import SENSITIVITY_SCENARIOS
    from test_fake_update import UPDATE_SCENARIOS
    from test_fake_watch import WATCH_SCENARIOS
    from test_signer_fake import SIGNER_FAULTS  # one shared scenario, test_signer_fake

    covered = set(SCENARIOS) | set(UPDATE_SCENARIOS) | set(SENSITIVITY_SCENARIOS)
    covered |= set(WATCH_SCENARIOS)
    assert covered | set(SIGNER_FAULTS) == set(FAULTS)


@pytest.fixture(scope="module")
def correct_http() -> Iterator[Api]:
    with FakeServer(FakeConfig(tls=False)) as s:
        yield Api(s)


@pytest.mark.parametrize("fault", sorted(SCENARIOS))
def test_fault_changes_behaviour(fault: str, correct_http: Api) -> None:
    scenario = SCENARIOS[fault]
    expected = scenario(correct_http)
    with FakeServer(FakeConfig(tls=False, faults=frozenset({fault}))) as s:
        observed = scenario(Api(s))
    assert observed != expected, f"fault {fault} did not change what the server does"
