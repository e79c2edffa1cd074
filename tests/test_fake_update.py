"""The fake's update paths from the outside: PUT and PATCH (all four patch types) on the
main resource, ``/approval`` and ``/status``, over real HTTP.

Covers what storage adds to the oracle's verdict (resourceVersions, MODIFIED events,
no-op writes, dry run, create-on-apply), optimistic concurrency (stale resourceVersion,
concurrent writers), the RBAC table and the two CSR admission plugins, protobuf and YAML
bodies, the OpenAPI documents, and that every update fault visibly changes behaviour.
Expected values were checked against kube-apiserver v1.37.2 while the fake was written
(see ``tests/test_kubectl.py`` for a side-by-side run).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pems
import pytest
import urllib3
import yaml

from conformance.identities import ADMIN, APPROVER, ROLES, SCOPED_SIGNER, SIGNER, USER
from conformance.properties.permissions import authorizer_for as expected_authorizer_for
from conformance.targets.controlplane.rbac import ROLE_RULES
from conformance.targets.fake import FAULTS, FakeConfig, FakeServer
from conformance.targets.fake.authn import Principal
from conformance.targets.fake.authz import authorizer_for
from conformance.targets.fake.store import Event
from conformance.wire import protobuf

CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
TOKENS = {role: f"csrc-{role}-token" for role in ROLES}
JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
PB = "application/vnd.kubernetes.protobuf"
OTHER_SIGNER = "other.example.com/unscoped"
CSR_RESOURCE = "certificatesigningrequests"

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


REQUEST = pems.request_b64("update-test")
CERT = pems.cert_b64("one")
CERT2 = pems.cert_b64("two")


def csr_body(name: str, signer: str = SCOPED_SIGNER, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, **meta},
        "spec": {"request": REQUEST, "signerName": signer, "usages": ["client auth"]},
    }


class Reply:
    def __init__(self, resp: urllib3.BaseHTTPResponse) -> None:
        self.status = resp.status
        self.headers = resp.headers
        self.raw = resp.data

    @property
    def body(self) -> Any:
        if self.headers.get("Content-Type", "").startswith(PB):
            return protobuf.decode(self.raw)
        return json.loads(self.raw)


class Api:
    """Raw HTTP as one role: bytes or JSON in, status/headers/body out."""

    def __init__(self, url: str, role: str = ADMIN) -> None:
        self.pool = urllib3.PoolManager(timeout=10.0, retries=False, maxsize=16)
        self.url = url
        self.role = role

    def as_role(self, role: str) -> Api:
        other = Api.__new__(Api)
        other.pool, other.url, other.role = self.pool, self.url, role
        return other

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        ct: str = "application/json",
        accept: str | None = None,
        query: dict[str, str] | None = None,
    ) -> Reply:
        headers = {
            "Content-Type": ct,
            "User-Agent": "update-test/1.0",
            "Authorization": f"Bearer {TOKENS[self.role]}",
        }
        if accept:
            headers["Accept"] = accept
        if body is None or isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        url = self.url + path + ("?" + urlencode(query) if query else "")
        return Reply(self.pool.request(method, url, body=data, headers=headers))

    def create(self, name: str, signer: str = SCOPED_SIGNER, **meta: Any) -> dict[str, Any]:
        r = self.call("POST", CSRS, csr_body(name, signer, **meta))
        assert r.status == 201, r.raw
        body: dict[str, Any] = r.body
        return body

    def get(self, name: str) -> dict[str, Any]:
        r = self.call("GET", f"{CSRS}/{name}")
        assert r.status == 200, r.raw
        body: dict[str, Any] = r.body
        return body

    def put(self, name: str, obj: dict[str, Any], sub: str = "", **kw: Any) -> Reply:
        return self.call("PUT", _path(name, sub), obj, **kw)

    def patch(self, name: str, patch: Any, ct: str, sub: str = "", **kw: Any) -> Reply:
        return self.call("PATCH", _path(name, sub), patch, ct=ct, **kw)


def _path(name: str, sub: str = "") -> str:
    return f"{CSRS}/{name}" + (f"/{sub}" if sub else "")


def rv(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["resourceVersion"])


def conds(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list(obj.get("status", {}).get("conditions") or [])


def types(obj: dict[str, Any]) -> list[str]:
    return [c["type"] for c in conds(obj)]


def apply_doc(name: str, **extra: Any) -> str:
    doc: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
    }
    doc.update(extra)
    return yaml.safe_dump(doc)


class Events:
    """Counts the store's events for one object while the block runs."""

    def __init__(self, server: FakeServer, name: str) -> None:
        self.server, self.name = server, name
        self.seen: list[Event] = []

    def __enter__(self) -> Events:
        def listen(e: Event) -> None:
            if e.object["metadata"]["name"] == self.name:
                self.seen.append(e)

        self._unsubscribe = self.server.store.subscribe(listen)
        return self

    def __exit__(self, *exc: object) -> None:
        self._unsubscribe()

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.seen]


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeConfig(tls=False)) as s:
        yield s


@pytest.fixture(scope="module")
def api(server: FakeServer) -> Api:
    return Api(server.url)


_counter = iter(range(1_000_000))


@pytest.fixture
def name() -> str:
    return f"upd-{next(_counter)}"


# ---------------------------------------------------------------------------
# every endpoint x method x patch type changes metadata
# ---------------------------------------------------------------------------

WRITES = ("PUT", "json", "merge", "smp", "apply")


def _label_write(api: Api, name: str, endpoint: str, how: str) -> Reply:
    sub = "" if endpoint == "main" else endpoint
    if how == "PUT":
        obj = api.get(name)
        obj["metadata"].setdefault("labels", {})["k"] = how
        return api.put(name, obj, sub)
    if how == "json":
        return api.patch(
            name, [{"op": "add", "path": "/metadata/labels/k", "value": how}], JSON_PATCH, sub
        )
    if how in ("merge", "smp"):
        return api.patch(
            name, {"metadata": {"labels": {"k": how}}}, MERGE if how == "merge" else SMP, sub
        )
    return api.patch(
        name,
        apply_doc(name, metadata={"name": name, "labels": {"k": how}}),
        APPLY,
        sub,
        query={"fieldManager": "tester"},
    )


@pytest.mark.parametrize("endpoint", ["main", "approval", "status"])
@pytest.mark.parametrize("how", WRITES)
def test_metadata_changes_through_every_endpoint_and_method(
    api: Api, server: FakeServer, name: str, endpoint: str, how: str
) -> None:
    before = api.create(name, labels={"a": "1"})
    with Events(server, name) as events:
        r = _label_write(api, name, endpoint, how)
    assert r.status == 200, r.raw
    after = r.body
    assert after["metadata"]["labels"]["k"] == how
    assert int(rv(after)) > int(rv(before))
    assert events.types == ["MODIFIED"]
    assert events.seen[0].object == api.get(name)
    assert api.get(name)["spec"] == before["spec"]
    entry = after["metadata"]["managedFields"][-1 if how != "apply" else 0]
    assert entry["operation"] == ("Apply" if how == "apply" else "Update")
    assert entry["manager"] == ("tester" if how == "apply" else "update-test")
    assert entry.get("subresource", "") == ("" if endpoint == "main" else endpoint)


@pytest.mark.parametrize("how", WRITES)
def test_main_resource_drops_spec_and_status_as_a_noop(
    api: Api, server: FakeServer, name: str, how: str
) -> None:
    before = api.create(name)
    with Events(server, name) as events:
        if how == "PUT":
            obj = api.get(name)
            obj["spec"]["usages"] = ["server auth"]
            obj["status"] = {"conditions": [{"type": "Approved", "status": "True"}]}
            r = api.put(name, obj)
        elif how == "json":
            r = api.patch(
                name, [{"op": "replace", "path": "/spec/usages", "value": ["any"]}], JSON_PATCH
            )
        elif how == "apply":
            r = api.patch(
                name,
                apply_doc(name, spec={"usages": ["any"]}),
                APPLY,
                query={"fieldManager": "tester"},
            )
        else:
            r = api.patch(name, {"status": {"certificate": CERT}}, MERGE if how == "merge" else SMP)
    assert r.status == 200, r.raw
    assert r.body["spec"] == before["spec"] and r.body["status"] == {}
    if how != "apply":  # an apply records its manager even when nothing else changes
        assert rv(r.body) == rv(before)
        assert events.types == []


def test_approval_replaces_conditions_keeps_certificate_and_fills_times(
    api: Api, name: str
) -> None:
    api.create(name)
    r = api.patch(
        name,
        {
            "status": {
                "conditions": [{"type": "Approved", "status": "True", "reason": "R"}],
                "certificate": CERT,
            }
        },
        MERGE,
        "approval",
    )
    assert r.status == 200, r.raw
    (cond,) = conds(r.body)
    assert "certificate" not in r.body["status"]
    assert cond["lastUpdateTime"] == cond["lastTransitionTime"]
    first_transition = cond["lastTransitionTime"]
    # Re-approving with a client timestamp keeps it and carries lastTransitionTime over.
    r = api.patch(
        name,
        {
            "status": {
                "conditions": [
                    {
                        "type": "Approved",
                        "status": "True",
                        "reason": "R2",
                        "lastUpdateTime": "2020-01-01T00:00:00Z",
                    }
                ]
            }
        },
        SMP,
        "approval",
    )
    (cond,) = conds(r.body)
    assert cond["lastUpdateTime"] == "2020-01-01T00:00:00Z"
    assert cond["lastTransitionTime"] == first_transition
    # Approved can never be removed, nor joined by Denied.
    r = api.patch(
        name, {"status": {"conditions": [{"type": "Custom", "status": "True"}]}}, MERGE, "approval"
    )
    assert r.status == 422 and "may not remove a condition" in r.body["message"]
    r = api.patch(
        name,
        [
            {
                "op": "add",
                "path": "/status/conditions/-",
                "value": {"type": "Denied", "status": "True"},
            }
        ],
        JSON_PATCH,
        "approval",
    )
    assert r.status == 422 and "must specify at most one of" in r.body["message"]


def test_status_sets_the_certificate_once_and_guards_approval(api: Api, name: str) -> None:
    api.create(name)
    api.patch(
        name,
        {"status": {"conditions": [{"type": "Approved", "status": "True"}]}},
        MERGE,
        "approval",
    )
    r = api.patch(name, {"status": {"certificate": CERT}}, MERGE, "status")
    assert r.status == 200 and r.body["status"]["certificate"] == CERT
    r = api.patch(name, {"status": {"certificate": CERT2}}, MERGE, "status")
    assert r.status == 422 and "may not modify existing certificate" in r.body["message"]
    # An edit of the existing Approved condition through /status is silently reverted.
    before = api.get(name)
    r = api.patch(
        name,
        [{"op": "replace", "path": "/status/conditions/0/reason", "value": "edited"}],
        JSON_PATCH,
        "status",
    )
    assert r.status == 200 and r.body == before
    # Adding Denied through /status is refused; Failed may be added.
    obj = api.get(name)
    obj["status"]["conditions"].append({"type": "Denied", "status": "True"})
    r = api.put(name, obj, "status")
    assert r.status == 422 and "may not add a condition of type" in r.body["message"]
    obj["status"]["conditions"][-1] = {"type": "Failed", "status": "True"}
    assert api.put(name, obj, "status").status == 200
    assert types(api.get(name)) == ["Approved", "Failed"]


# ---------------------------------------------------------------------------
# storage: no-op, dry run, 404, create on apply, finalizers
# ---------------------------------------------------------------------------


def test_noop_write_keeps_rv_and_emits_nothing(api: Api, server: FakeServer, name: str) -> None:
    api.create(name, labels={"a": "1"})
    current = api.get(name)
    with Events(server, name) as events:
        for sub in ("", "approval", "status"):
            r = api.put(name, api.get(name), sub)
            assert r.status == 200 and r.body == current, (sub, r.raw)
        r = api.patch(name, {"metadata": {"labels": {"a": "1"}}}, MERGE)
        assert r.status == 200 and rv(r.body) == rv(current)
    assert events.types == []


def test_dry_run_answers_but_stores_nothing(api: Api, server: FakeServer, name: str) -> None:
    before = api.create(name, labels={"a": "1"})
    with Events(server, name) as events:
        r = api.patch(name, {"metadata": {"labels": {"d": "1"}}}, MERGE, query={"dryRun": "All"})
        assert r.status == 200 and r.body["metadata"]["labels"] == {"a": "1", "d": "1"}
        assert rv(r.body) == rv(before) and r.body["metadata"]["managedFields"]
        r = api.patch(
            f"{name}-new",
            yaml.safe_dump(csr_body(f"{name}-new")),
            APPLY,
            query={"dryRun": "All", "fieldManager": "t"},
        )
        assert r.status == 201, r.raw
    assert events.types == []
    assert api.call("GET", _path(f"{name}-new")).status == 404
    assert api.get(name) == before


def test_missing_objects(api: Api, server: FakeServer, name: str) -> None:
    body = csr_body(name)
    assert api.put(name, body).status == 404
    assert api.patch(name, {"metadata": {"labels": {"a": "b"}}}, MERGE).status == 404
    for sub in ("approval", "status"):
        r = api.patch(name, apply_doc(name), APPLY, sub, query={"fieldManager": "t"})
        assert r.status == 404, r.raw
    with Events(server, name) as events:
        r = api.patch(name, yaml.safe_dump(body), APPLY, query={"fieldManager": "t"})
    assert r.status == 201, r.raw
    assert r.body["spec"]["username"] == "csrc-admin"
    assert all(e["operation"] == "Apply" for e in r.body["metadata"].get("managedFields", []))
    assert events.types == ["ADDED"]


def test_removing_the_last_finalizer_of_a_deleting_object_deletes_it(
    api: Api, server: FakeServer, name: str
) -> None:
    api.create(name, finalizers=["example.com/hold"])
    assert api.call("DELETE", _path(name)).status == 200
    with Events(server, name) as events:
        r = api.patch(name, [{"op": "remove", "path": "/metadata/finalizers"}], JSON_PATCH)
    assert r.status == 200, r.raw
    assert api.call("GET", _path(name)).status == 404
    assert events.types == ["DELETED"]


def test_request_errors(api: Api, name: str) -> None:
    api.create(name)
    obj = api.get(name)
    r = api.put(name, {**obj, "metadata": {**obj["metadata"], "name": "other"}})
    assert r.status == 400 and "does not match the name on the URL" in r.body["message"]
    r = api.put(name, {**obj, "metadata": {**obj["metadata"], "uid": "not-it"}})
    assert r.status == 409 and "Precondition failed: UID in precondition" in r.body["message"]
    assert api.patch(name, "{}", "text/plain").status == 415
    r = api.patch(name, "{}", MERGE, query={"force": "true"})
    assert r.status == 422 and r.body["details"]["kind"] == "PatchOptions"
    r = api.patch(name, apply_doc(name), APPLY)
    assert r.status == 422 and "fieldManager" in r.body["message"]


# ---------------------------------------------------------------------------
# optimistic concurrency
# ---------------------------------------------------------------------------


def test_stale_resource_version_conflicts(api: Api, name: str) -> None:
    api.create(name)
    stale = api.get(name)
    assert api.patch(name, {"metadata": {"labels": {"a": "1"}}}, MERGE).status == 200
    r = api.put(name, stale)
    assert r.status == 409 and r.body["reason"] == "Conflict"
    rv_stale = rv(stale)
    r = api.patch(name, {"metadata": {"resourceVersion": rv_stale, "labels": {"b": "2"}}}, MERGE)
    assert r.status == 409
    unconditional = {**stale, "metadata": {**stale["metadata"], "resourceVersion": ""}}
    unconditional["metadata"]["labels"] = {"c": "3"}
    assert api.put(name, unconditional).status == 200


def test_concurrent_writers_with_one_resource_version_only_one_wins(
    api: Api, server: FakeServer, name: str
) -> None:
    api.create(name)
    base = api.get(name)
    writers = 8
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def write(i: int) -> None:
        obj = json.loads(json.dumps(base))
        obj["metadata"]["labels"] = {"writer": str(i)}
        start.wait()
        status = api.put(name, obj).status
        with lock:
            results.append(status)

    with Events(server, name) as events:
        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert sorted(results) == [200] + [409] * (writers - 1)
    assert events.types == ["MODIFIED"]


# ---------------------------------------------------------------------------
# authorization and the CSR admission plugins
# ---------------------------------------------------------------------------


def test_rbac_and_admission(api: Api, name: str) -> None:
    scoped, other = name, f"{name}-other"
    api.create(scoped)
    api.create(other, signer=OTHER_SIGNER)
    approve = {"status": {"conditions": [{"type": "Approved", "status": "True"}]}}
    label = {"metadata": {"labels": {"x": "1"}}}
    user, approver, signer = api.as_role(USER), api.as_role(APPROVER), api.as_role(SIGNER)

    for sub in ("approval", "status"):
        r = user.patch(scoped, label, MERGE, sub)
        assert r.status == 403
        assert r.body["message"] == (
            f'certificatesigningrequests.certificates.k8s.io "{scoped}" is forbidden: User '
            f'"csrc-user" cannot patch resource "certificatesigningrequests/{sub}" in API group '
            '"certificates.k8s.io" at the cluster scope'
        )
    for role in (user, approver, signer):
        assert role.patch(scoped, label, MERGE).status == 403  # main: admin only
    assert signer.patch(scoped, approve, MERGE, "approval").status == 403
    assert approver.patch(scoped, label, MERGE, "status").status == 403

    r = approver.patch(other, label, MERGE, "approval")  # admission fires even metadata-only
    assert r.status == 403
    assert r.body["message"].endswith(
        f'user not permitted to approve requests with signerName "{OTHER_SIGNER}"'
    )
    assert approver.patch(scoped, approve, MERGE, "approval").status == 200

    assert signer.patch(other, label, MERGE, "status").status == 200  # metadata-only: no sign
    r = signer.patch(other, {"status": {"certificate": CERT}}, MERGE, "status")
    assert r.status == 403 and "not permitted to sign" in r.body["message"]
    assert signer.patch(scoped, {"status": {"certificate": CERT}}, MERGE, "status").status == 200


def test_fake_rbac_agrees_with_the_control_plane_rbac() -> None:
    """The fake's table, the ClusterRoles the control plane creates and the properties'
    expectations grant the same (all three are made from ``conformance.grants``)."""
    resources = (CSR_RESOURCE, f"{CSR_RESOURCE}/approval", f"{CSR_RESOURCE}/status", "signers")
    verbs = (
        "create",
        "get",
        "list",
        "watch",
        "update",
        "patch",
        "delete",
        "deletecollection",
        "approve",
        "sign",
    )
    names = ("x", SCOPED_SIGNER, OTHER_SIGNER, "conformance.example.com/*")
    for role in (USER, APPROVER, SIGNER):
        fake = authorizer_for(Principal(username=f"csrc-{role}", role=role))
        expected = expected_authorizer_for(role)
        for resource in resources:
            for verb in verbs:
                for n in names:
                    granted = any(
                        verb in rule["verbs"]
                        and resource in rule["resources"]
                        and n in rule.get("resourceNames", [n])
                        for rule in ROLE_RULES[role]
                    )
                    assert fake(verb, resource, n) == granted, (role, verb, resource, n)
                    assert expected(verb, resource, n) == granted, (role, verb, resource, n)


# ---------------------------------------------------------------------------
# wire formats and OpenAPI
# ---------------------------------------------------------------------------


def test_protobuf_and_yaml_bodies(api: Api, name: str) -> None:
    r = api.call("POST", CSRS, protobuf.encode(csr_body(name)), ct=PB, accept=PB)
    assert r.status == 201 and r.headers["Content-Type"] == PB
    assert r.body["metadata"]["name"] == name
    r = api.call("GET", _path(name), accept=f"{PB}, application/json")
    assert r.headers["Content-Type"] == PB and r.body == api.get(name)
    obj = api.get(name)
    obj["status"]["conditions"] = [{"type": "Denied", "status": "True", "reason": "KubectlDeny"}]
    r = api.call("PUT", _path(name, "approval"), protobuf.encode(obj), ct=PB, accept=PB)
    assert r.status == 200 and types(r.body) == ["Denied"]
    r = api.call("PUT", _path(name), b"garbage", ct=PB, accept=PB)
    assert r.status == 400 and r.headers["Content-Type"] == PB
    assert r.body["kind"] == "Status" and "expected prefix [107 56 115 0]" in r.body["message"]
    obj = api.get(name)
    obj["metadata"]["annotations"] = {"via": "yaml"}
    r = api.call(
        "PUT", _path(name), yaml.safe_dump(obj), ct="application/yaml", accept="application/yaml"
    )
    assert r.status == 200 and r.headers["Content-Type"] == "application/yaml"
    assert yaml.safe_load(r.raw)["metadata"]["annotations"] == {"via": "yaml"}
    r = api.call("GET", CSRS, accept=PB)
    assert r.body["kind"] == "CertificateSigningRequestList"


def test_openapi_documents(api: Api) -> None:
    index = api.call("GET", "/openapi/v3")
    assert index.status == 200
    url = json.loads(index.raw)["paths"]["apis/certificates.k8s.io/v1"]["serverRelativeURL"]
    group = api.call("GET", url)
    assert group.status == 200 and "components" in json.loads(group.raw)
    v2 = api.call("GET", "/openapi/v2", accept="application/json")
    assert v2.status == 200 and json.loads(v2.raw)["swagger"] == "2.0"
    assert api.as_role(USER).call("GET", "/openapi/v3").status == 200


# ---------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------

Scenario = Callable[[Api], Any]


def _approved(api: Api, name: str, signer: str = SCOPED_SIGNER) -> None:
    api.create(name, signer)
    r = api.patch(
        name,
        {"status": {"conditions": [{"type": "Approved", "status": "True"}]}},
        MERGE,
        "approval",
    )
    assert r.status == 200, r.raw


def _sc_status_via_main(api: Api) -> Any:
    api.create("f-svm")
    r = api.patch(
        "f-svm", {"status": {"conditions": [{"type": "Approved", "status": "True"}]}}, MERGE
    )
    return types(r.body)


def _sc_patch_spec(api: Api) -> Any:
    api.create("f-pspec")
    return api.patch("f-pspec", {"spec": {"usages": ["any"]}}, MERGE).body["spec"]["usages"]


def _sc_status_approve(api: Api) -> Any:
    api.create("f-sapp")
    obj = api.get("f-sapp")
    obj["status"]["conditions"] = [{"type": "Approved", "status": "True"}]
    return api.put("f-sapp", obj, "status").status


def _sc_approval_cert(api: Api) -> Any:
    api.create("f-acert")
    api.patch("f-acert", {"status": {"certificate": CERT}}, MERGE, "approval")
    return api.get("f-acert")["status"].get("certificate")


def _sc_both(api: Api) -> Any:
    _approved(api, "f-both")
    r = api.patch(
        "f-both",
        [
            {
                "op": "add",
                "path": "/status/conditions/-",
                "value": {"type": "Denied", "status": "True"},
            }
        ],
        JSON_PATCH,
        "approval",
    )
    return r.status, types(api.get("f-both"))


def _sc_removable(api: Api) -> Any:
    _approved(api, "f-rm")
    r = api.patch("f-rm", {"status": {"conditions": []}}, MERGE, "approval")
    return r.status, types(api.get("f-rm"))


def _sc_cert_replace(api: Api) -> Any:
    api.create("f-crep")
    api.patch("f-crep", {"status": {"certificate": CERT}}, MERGE, "status")
    return api.patch("f-crep", {"status": {"certificate": CERT2}}, MERGE, "status").status


def _sc_stale(api: Api) -> Any:
    api.create("f-stale")
    stale = api.get("f-stale")
    api.patch("f-stale", {"metadata": {"labels": {"a": "1"}}}, MERGE)
    return api.put("f-stale", stale).status


def _sc_uid(api: Api) -> Any:
    api.create("f-uid")
    obj = api.get("f-uid")
    obj["metadata"]["uid"] = "someone-else"
    return api.put("f-uid", obj).status


def _sc_smp(api: Api) -> Any:
    _approved(api, "f-smp")
    api.patch(
        "f-smp", {"status": {"conditions": [{"type": "Custom", "status": "True"}]}}, SMP, "status"
    )
    return types(api.get("f-smp"))


def _sc_times(api: Api) -> Any:
    api.create("f-times")
    r = api.patch(
        "f-times",
        {
            "status": {
                "conditions": [
                    {"type": "Approved", "status": "True", "lastUpdateTime": "2020-01-01T00:00:00Z"}
                ]
            }
        },
        MERGE,
        "approval",
    )
    return conds(r.body)[0]["lastUpdateTime"]


def _sc_noop(api: Api) -> Any:
    api.create("f-noop")
    before = api.get("f-noop")
    return rv(api.put("f-noop", before).body) == rv(before)


def _sc_approve_verb(api: Api) -> Any:
    api.create("f-apv", OTHER_SIGNER)
    r = api.as_role(APPROVER).patch(
        "f-apv",
        {"status": {"conditions": [{"type": "Approved", "status": "True"}]}},
        MERGE,
        "approval",
    )
    return r.status


def _sc_sign_verb(api: Api) -> Any:
    api.create("f-sgv", OTHER_SIGNER)
    r = api.as_role(SIGNER).patch("f-sgv", {"status": {"certificate": CERT}}, MERGE, "status")
    return r.status


def _sc_approval_meta(api: Api) -> Any:
    api.create("f-ameta")
    api.patch("f-ameta", {"metadata": {"labels": {"via": "approval"}}}, MERGE, "approval")
    return api.get("f-ameta")["metadata"].get("labels")


def _sc_put_creates(api: Api) -> Any:
    return api.put("f-putc", csr_body("f-putc")).status


def _sc_name_mismatch(api: Api) -> Any:
    api.create("f-name")
    obj = api.get("f-name")
    obj["metadata"]["name"] = "f-name-other"
    obj["metadata"]["labels"] = {"renamed": "no"}
    return api.put("f-name", obj).status


def _sc_patch_type(api: Api) -> Any:
    api.create("f-ptype")
    return api.patch("f-ptype", {"metadata": {"labels": {"a": "1"}}}, "application/json").status


def _sc_rbac_open(api: Api) -> Any:
    api.create("f-rbac")
    return (
        api.as_role(USER)
        .patch("f-rbac", {"metadata": {"labels": {"a": "1"}}}, MERGE, "status")
        .status
    )


UPDATE_SCENARIOS: dict[str, Scenario] = {
    "status-via-main": _sc_status_via_main,
    "patch-persists-spec": _sc_patch_spec,
    "status-can-approve": _sc_status_approve,
    "approval-sets-certificate": _sc_approval_cert,
    "approved-and-denied": _sc_both,
    "approval-removable": _sc_removable,
    "certificate-replaceable": _sc_cert_replace,
    "stale-rv-accepted": _sc_stale,
    "uid-mismatch-accepted": _sc_uid,
    "smp-merges-conditions": _sc_smp,
    "timestamps-overwritten": _sc_times,
    "noop-bumps-rv": _sc_noop,
    "approve-without-verb": _sc_approve_verb,
    "sign-without-verb": _sc_sign_verb,
    "approval-ignores-metadata": _sc_approval_meta,
    "put-creates": _sc_put_creates,
    "name-mismatch-accepted": _sc_name_mismatch,
    "unknown-patch-type-as-merge": _sc_patch_type,
    "subresource-rbac-open": _sc_rbac_open,
}
"""One scenario per update fault; ``tests/test_fake.py`` holds those of the other faults."""


def test_update_faults_are_registered_with_rules() -> None:
    assert len(UPDATE_SCENARIOS) >= 12
    assert set(UPDATE_SCENARIOS) <= set(FAULTS)


def assert_fault_changes_behaviour(fault: str, scenario: Scenario) -> None:
    """``scenario`` sees something else from a fake carrying ``fault`` than from a correct one."""
    with FakeServer(FakeConfig(tls=False)) as s:
        expected = scenario(Api(s.url))
    with FakeServer(FakeConfig(tls=False, faults=frozenset({fault}))) as s:
        observed = scenario(Api(s.url))
    assert observed != expected, f"fault {fault} did not change what the server does"


@pytest.mark.parametrize("fault", sorted(UPDATE_SCENARIOS))
def test_update_fault_changes_behaviour(fault: str) -> None:
    assert_fault_changes_behaviour(fault, UPDATE_SCENARIOS[fault])
