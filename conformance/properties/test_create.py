"""Create: what the server keeps, what it wipes, what it rejects and with which Status."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.identities import ADMIN
from conformance.properties.expect import judge_create
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import post
from strategies.csr import (
    INVALID_CSR_RULES,
    InvalidCSR,
    forged_server_fields,
    invalid_csr,
    valid_csr,
)
from strategies.pem import tolerated_requests

_NO_QUERY: dict[str, list[str]] = {}


def _send(obj: dict[str, Any], query: dict[str, list[str]] | None = None) -> Any:
    """POST ``obj`` as JSON; the bytes sent (the oracle judges them) and the answer."""
    body = json.dumps(obj).encode()
    return body, post(current_session(), body, query)


def _rejected_and_absent(obj: dict[str, Any], resp: Any) -> None:
    """Nothing named by a rejected create may exist afterwards."""
    name = (obj.get("metadata") or {}).get("name")
    # '/' and '%' cannot be addressed in a URL path at all (kube-apiserver answers 400).
    if isinstance(name, str) and name and name not in (".", "..") and not set("/%") & set(name):
        got = current_session().client(ADMIN).get(name)
        if got.status != 404:
            raise AssertionError(
                f"rejected create (HTTP {resp.status}) left {name!r} behind (GET gave {got.status})"
            )


@given(csr=valid_csr())
@rules(
    "CSR-CREATE-201",
    "CSR-CREATE-PREP-ID",
    "CSR-CREATE-PREP-STATUS",
    "CSR-CREATE-ROUNDTRIP",
    "CSR-META-M1",
    "CSR-META-NS",
    "CSR-META-SYS",
    "CSR-META-GEN",
    "CSR-READ-GET",
)
def test_valid_create_is_stored_as_kube_apiserver_stores_it(csr: dict[str, Any]) -> None:
    """A valid CSR is created (201) with exactly the fields kube-apiserver keeps and fills."""
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        body, resp = _send(obj)
        judge_create(session, resp, body, _NO_QUERY, ADMIN)
        created = resp.obj()
        again = session.client(ADMIN).get(created["metadata"]["name"])
        checks.status_code(again, 200)
        checks.same_object(again.obj(), created, "object read back after create")


@pytest.mark.parametrize("rule", INVALID_CSR_RULES)
@given(data=st.data())
@rules(
    "CSR-VAL-R1",
    "CSR-VAL-R2",
    "CSR-VAL-R3",
    "CSR-VAL-U1",
    "CSR-VAL-U2",
    "CSR-VAL-U3",
    "CSR-VAL-S1",
    "CSR-VAL-S2",
    "CSR-VAL-S3",
    "CSR-VAL-S4",
    "CSR-VAL-S5",
    "CSR-VAL-S6",
    "CSR-VAL-X1",
    "CSR-META-M2",
    "CSR-META-M3",
    "CSR-META-M4",
    "CSR-ERR-STATUS",
)
def test_invalid_create_is_rejected_with_the_expected_causes(
    rule: str, data: st.DataObject
) -> None:
    """Each single-rule violation gives kube-apiserver's 422 with its exact causes.

    One test case per rule, so every rule gets the whole example budget and the report
    says which rule a server breaks.
    """
    bad: InvalidCSR = data.draw(invalid_csr(rules=[rule]), label="bad")
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(bad.obj, ex)
        if bad.needs_bare_name:
            # '.', '..', empty or absent names lose their meaning behind a prefix; the
            # server must reject them, so nothing is created under a bare name.
            for key in ("name", "generateName"):
                obj["metadata"].pop(key, None)
                if key in bad.obj["metadata"]:
                    obj["metadata"][key] = bad.obj["metadata"][key]
        body, resp = _send(obj)
        decision = judge_create(session, resp, body, _NO_QUERY, ADMIN)
        if decision.code in (200, 201):
            raise AssertionError(f"oracle accepted a draw labelled {bad.rule}")
        if bad.rule not in decision.rules:
            raise AssertionError(f"oracle did not attribute the rejection to {bad.rule}")
        _rejected_and_absent(obj, resp)


@given(csr=valid_csr(junk=False), forged=forged_server_fields())
@rules(
    "CSR-CREATE-PREP-ID",
    "CSR-CREATE-PREP-STATUS",
    "CSR-META-SYS",
    "CSR-META-NS",
    "CSR-CREATE-201",
)
def test_fields_only_the_server_sets_are_discarded_on_create(
    csr: dict[str, Any], forged: dict[str, Any]
) -> None:
    """Client-sent status, requestor, uid, creationTimestamp and namespace never survive."""
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        obj["metadata"].update(forged["metadata"])
        obj["spec"].update(forged["spec"])
        obj["status"] = forged["status"]
        body, resp = _send(obj)
        judge_create(session, resp, body, _NO_QUERY, ADMIN)
        got = resp.obj()
        if got.get("status") not in ({}, None):
            raise AssertionError(f"status survived create: {got.get('status')!r}")


@given(csr=valid_csr(), request=tolerated_requests())
@rules("CSR-VAL-R1", "CSR-CREATE-ROUNDTRIP")
def test_request_with_junk_around_the_first_block_is_accepted(
    csr: dict[str, Any], request: bytes
) -> None:
    """Text before the PEM block and anything after it are tolerated and kept verbatim."""
    import base64

    session = current_session()
    with session.example() as ex:
        csr = dict(csr, spec=dict(csr["spec"], request=base64.b64encode(request).decode()))
        body, resp = _send(session.stamp(csr, ex))
        judge_create(session, resp, body, _NO_QUERY, ADMIN)


@given(csr=valid_csr())
@rules("CSR-CREATE-EXISTS", "CSR-ERR-STATUS")
def test_second_create_with_the_same_name_conflicts(csr: dict[str, Any]) -> None:
    """A name that exists gives 409 AlreadyExists and leaves the first object untouched."""
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        meta = obj["metadata"]
        if "name" not in meta:
            meta["name"] = meta.pop("generateName") + "fixed"
        first_body, first = _send(obj)
        judge_create(session, first, first_body, _NO_QUERY, ADMIN)
        body, second = _send(obj)
        judge_create(session, second, body, _NO_QUERY, ADMIN, existing=[meta["name"]])
        again = session.client(ADMIN).get(meta["name"])
        checks.status_code(again, 200)
        checks.same_object(again.obj(), first.obj(), "object after a conflicting create")


@given(csr=valid_csr())
@rules("CSR-CREATE-DRYRUN", "CSR-META-GEN")
def test_dry_run_create_persists_nothing(csr: dict[str, Any]) -> None:
    """dryRun=All answers like a real create and stores nothing."""
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        query = {"dryRun": ["All"]}
        body, resp = _send(obj, query)
        judge_create(session, resp, body, query, ADMIN)
        if resp.status == 201:
            name = resp.obj()["metadata"]["name"]
            got = session.client(ADMIN).get(name)
            if got.status != 404:
                raise AssertionError(f"dry-run create persisted {name!r} (GET gave {got.status})")
        listed = session.client(ADMIN).list({"labelSelector": f"csr-conformance.io/example={ex}"})
        checks.status_code(listed, 200)
        if listed.obj().get("items"):
            raise AssertionError("dry-run create shows up in a list")


# ASCII only: kube-apiserver cuts the prefix at 58 *bytes*, so a multi-byte character
# split there yields a name no later request can address (and clean-up cannot delete).
@given(
    csr=valid_csr(),
    prefix=st.text(
        alphabet=st.characters(codec="ascii", min_codepoint=32, exclude_characters="/%"),
        min_size=0,
        max_size=80,
    ),
    count=st.integers(min_value=2, max_value=4),
)
@rules("CSR-META-GEN", "CSR-CREATE-201")
def test_generate_name_gives_distinct_names_with_the_cut_prefix(
    csr: dict[str, Any], prefix: str, count: int
) -> None:
    """Each create from one generateName gets a new name: prefix cut to 58, plus 5 characters."""
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        obj["metadata"].pop("name", None)
        obj["metadata"]["generateName"] = session.prefix + prefix
        names = []
        for _ in range(count):
            body, resp = _send(obj)
            judge_create(session, resp, body, _NO_QUERY, ADMIN)
            names.append(resp.obj()["metadata"]["name"])
        if len(set(names)) != len(names):
            raise AssertionError(f"generateName produced repeated names {names}")
