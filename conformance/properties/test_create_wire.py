"""Create at the wire level: query options, decoding, unknown fields, resourceVersion, admission.

These are the steps of kube-apiserver's create pipeline that run before or after the CSR
rules; the oracle's ``decide_create`` orders them, so one judge covers which error wins.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from conformance.identities import ADMIN
from conformance.properties.expect import judge_create
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import post
from strategies.csr import valid_csr
from strategies.pem import csr_pems, subjects

bad_option_values = st.one_of(
    st.fixed_dictionaries({"dryRun": st.sampled_from([["all"], ["None"], ["All", "x"], [""]])}),
    st.fixed_dictionaries({"fieldValidation": st.sampled_from([["strict"], ["warn"], ["nope"]])}),
    st.fixed_dictionaries(
        {"fieldManager": st.sampled_from([["m" * 129], ["tab\tmanager"], ["a\x01b"]])}
    ),
)


@given(csr=valid_csr(), query=bad_option_values)
@rules("CSR-CREATE-OPTS", "CSR-CREATE-ORDER", "CSR-ERR-STATUS")
def test_bad_create_options_are_rejected_before_the_body_is_read(
    csr: dict[str, Any], query: dict[str, list[str]]
) -> None:
    """Bad dryRun, fieldValidation or fieldManager gives a 422 about CreateOptions."""
    session = current_session()
    with session.example() as ex:
        body = json.dumps(session.stamp(csr, ex)).encode()
        resp = post(session, body, query)
        judge_create(session, resp, body, query, ADMIN)


unknown_fields = st.lists(
    st.sampled_from(
        [
            ("spec", "foo"),
            ("spec", "SignerName"),
            ("metadata", "nmae"),
            ("", "extraTop"),
            ("status", "bogus"),
            ("spec", "Usages"),
        ]
    ),
    min_size=1,
    max_size=3,
    unique=True,
)


@given(
    csr=valid_csr(),
    extra=unknown_fields,
    mode=st.sampled_from([None, "Ignore", "Warn", "Strict"]),
    dry=st.booleans(),
)
@rules("CSR-CREATE-FIELDVAL", "CSR-CREATE-DECODE")
def test_unknown_fields_follow_field_validation(
    csr: dict[str, Any], extra: list[tuple[str, str]], mode: str | None, dry: bool
) -> None:
    """Unknown fields: a Warning header by default, silence with Ignore, 400 with Strict."""
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        for where, key in extra:
            holder = obj.setdefault(where, {}) if where else obj
            holder[key] = "x"
        query = {"fieldValidation": [mode]} if mode else {}
        if dry:
            query["dryRun"] = ["All"]
        body = json.dumps(obj).encode()
        resp = post(session, body, query)
        judge_create(session, resp, body, query, ADMIN)


def _mangle(obj: dict[str, Any], how: str) -> bytes:
    spec = obj["spec"]
    if how == "not-json":
        return b"{not json"
    if how == "array":
        return b"[]"
    if how == "request-not-base64":
        spec["request"] = "!!not base64!!"
    elif how == "usages-string":
        spec["usages"] = "client auth"
    elif how == "expiration-string":
        spec["expirationSeconds"] = "3600"
    elif how == "expiration-too-big":
        spec["expirationSeconds"] = 2**31
    elif how == "expiration-float":
        spec["expirationSeconds"] = 3600.5
    elif how == "signer-number":
        spec["signerName"] = 7
    elif how == "labels-list":
        obj["metadata"]["labels"] = ["a"]
    elif how == "wrong-api-version":
        obj["apiVersion"] = "certificates.k8s.io/v1beta1"
    elif how == "wrong-kind":
        obj["kind"] = "ConfigMap"
    elif how == "no-type-meta":
        obj.pop("apiVersion", None)
        obj.pop("kind", None)
    return json.dumps(obj).encode()


@given(
    csr=valid_csr(),
    how=st.sampled_from(
        [
            "not-json",
            "array",
            "request-not-base64",
            "usages-string",
            "expiration-string",
            "expiration-too-big",
            "expiration-float",
            "signer-number",
            "labels-list",
            "wrong-api-version",
            "wrong-kind",
            "no-type-meta",
        ]
    ),
)
@rules("CSR-CREATE-DECODE", "CSR-CREATE-APIVERSION", "CSR-VAL-R5", "CSR-VAL-X3", "CSR-ERR-STATUS")
def test_undecodable_bodies_get_400(csr: dict[str, Any], how: str) -> None:
    """Bodies that do not decode as a v1 CSR get 400 (not 422); omitted type meta defaults."""
    session = current_session()
    with session.example() as ex:
        body = _mangle(session.stamp(csr, ex), how)
        resp = post(session, body, {})
        judge_create(session, resp, body, {}, ADMIN)


@given(
    csr=valid_csr(),
    rv=st.one_of(
        st.integers(min_value=1, max_value=10**12).map(str),
        st.just("0"),
        st.sampled_from(["-1", "abc", "1.5", " 7"]),
    ),
)
@rules("CSR-META-RV", "CSR-ERR-STATUS")
def test_resource_version_on_create(csr: dict[str, Any], rv: str) -> None:
    """A numeric resourceVersion on create is a 500; one that does not parse is ignored."""
    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        obj["metadata"]["resourceVersion"] = rv
        body = json.dumps(obj).encode()
        resp = post(session, body, {})
        judge_create(session, resp, body, {}, ADMIN)


def _with_system_masters(name: x509.Name) -> x509.Name:
    org = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")
    return x509.Name([*name.rdns, x509.RelativeDistinguishedName([org])])


@given(
    csr=valid_csr(),
    pem=csr_pems(subjects=subjects().map(_with_system_masters)),
    signer=st.sampled_from(["kubernetes.io/kube-apiserver-client", "example.com/other"]),
)
@rules("CSR-ADM-SUBJ", "CSR-ERR-STATUS")
def test_system_masters_is_refused_only_for_the_apiserver_client_signer(
    csr: dict[str, Any], pem: bytes, signer: str
) -> None:
    """O=system:masters with kubernetes.io/kube-apiserver-client is a 403; elsewhere it is fine."""
    import base64

    session = current_session()
    with session.example() as ex:
        obj = session.stamp(csr, ex)
        obj["spec"]["request"] = base64.b64encode(pem).decode()
        obj["spec"]["signerName"] = signer
        body = json.dumps(obj).encode()
        resp = post(session, body, {})
        judge_create(session, resp, body, {}, ADMIN)
