"""Discovery and authentication: what a client needs before it can talk about CSRs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.client import Client
from conformance.identities import ADMIN
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session

_SUBRESOURCES = {
    "certificatesigningrequests": {
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    },
    "certificatesigningrequests/approval": {"get", "patch", "update"},
    "certificatesigningrequests/status": {"get", "patch", "update"},
}


@given(st.just(None))
@rules("CSR-DISC")
def test_discovery_lists_the_group_and_three_resources(_: None) -> None:
    """/apis names certificates.k8s.io/v1; its resource list has the CSR and both subresources."""
    session = current_session()
    client = session.client(ADMIN)
    groups = client.request("GET", "/apis")
    checks.status_code(groups, 200)
    found = [
        g
        for g in groups.obj().get("groups") or []
        if isinstance(g, dict) and g.get("name") == "certificates.k8s.io"
    ]
    if not found or "certificates.k8s.io/v1" not in {
        v.get("groupVersion") for v in found[0].get("versions") or []
    }:
        raise AssertionError("/apis does not list certificates.k8s.io/v1")
    group = client.request("GET", "/apis/certificates.k8s.io")
    checks.status_code(group, 200)
    if (group.obj().get("preferredVersion") or {}).get("groupVersion") != "certificates.k8s.io/v1":
        raise AssertionError("certificates.k8s.io does not prefer v1")
    resp = client.request("GET", "/apis/certificates.k8s.io/v1")
    checks.status_code(resp, 200)
    body = resp.obj()
    resources = {r.get("name"): r for r in body.get("resources") or [] if isinstance(r, dict)}
    for name, verbs in _SUBRESOURCES.items():
        if name not in resources:
            raise AssertionError(f"discovery lacks {name}")
        got = set(resources[name].get("verbs") or [])
        if got != verbs:
            raise AssertionError(f"{name} verbs {sorted(got)}, expected {sorted(verbs)}")
        if resources[name].get("namespaced") is not False:
            raise AssertionError(f"{name} is not cluster-scoped in discovery")
    main = resources["certificatesigningrequests"]
    if main.get("kind") != "CertificateSigningRequest" or "csr" not in (
        main.get("shortNames") or []
    ):
        raise AssertionError(
            f"CSR kind/shortNames wrong: {main.get('kind')!r} {main.get('shortNames')!r}"
        )


@given(token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=8, max_size=40))
@rules("CSR-AUTH-401", "CSR-ERR-STATUS")
def test_an_unknown_bearer_token_is_401(token: str) -> None:
    """A token the server does not know gets 401 Unauthorized, for reads and for creates."""
    session = current_session()
    admin = session.client(ADMIN)
    client = Client(
        admin.connection.without_credentials(),
        "anonymous",
        session.transcript,
        breaker=session.breaker,
        timeout=session.timeout,
    )
    for method, path in (
        ("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests"),
        ("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests"),
    ):
        resp = client.request(
            method,
            path,
            body={} if method == "POST" else None,
            auth=False,
            headers={"Authorization": f"Bearer csrc-bogus-{token}"},
        )
        checks.status_code(resp, 401)
        body = checks.is_status_object(resp)
        if body.get("reason") != "Unauthorized":
            raise AssertionError(f"401 with reason {body.get('reason')!r}")
