"""spec.username, uid, groups and extra always come from whoever made the request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.identities import ADMIN, ROLES
from conformance.properties.expect import judge_create
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from strategies.csr import valid_csr

forged_identity = st.fixed_dictionaries(
    {},
    optional={
        "username": st.sampled_from(["system:admin", "mallory", ""]),
        "uid": st.text(max_size=8),
        "groups": st.lists(st.sampled_from(["system:masters", "system:nodes", "x"]), max_size=3),
        "extra": st.dictionaries(
            st.sampled_from(["scopes", "example.com/x"]),
            st.lists(st.text(max_size=5), max_size=2),
            max_size=2,
        ),
    },
)


@pytest.mark.parametrize("role", ROLES)
@given(csr=valid_csr(), forged=forged_identity)
@rules("CSR-CREATE-PREP-ID", "CSR-CREATE-201")
def test_requestor_fields_come_from_the_authenticated_user(
    role: str, csr: dict[str, Any], forged: dict[str, Any]
) -> None:
    """Whatever the body claims, the stored requestor is the caller (per SelfSubjectReview)."""
    session = current_session()
    client = session.client(role)
    me = session.identity(role)
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        obj["spec"].update(forged)
        body = json.dumps(obj).encode()
        resp = client.request(
            "POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", data=body
        )
        if resp.status == 403 and role != ADMIN:
            pytest.skip(f"the {role!r} identity may not create CSRs on this cluster")
        judge_create(session, resp, body, {}, role)
        spec = resp.obj().get("spec") or {}
        got = (
            spec.get("username", ""),
            spec.get("uid", ""),
            spec.get("groups") or [],
            spec.get("extra") or {},
        )
        want = (me.username, me.uid, me.groups, me.extra)
        if got != want:
            raise AssertionError(f"requestor fields {got!r}, expected the caller's {want!r}")
