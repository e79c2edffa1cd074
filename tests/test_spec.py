"""Tests of the oracle (conformance/oracle) against hand-written inputs.

The expected strings were checked against a real kube-apiserver v1.37.2 (see the spec
modules' docstrings for the upstream files); these tests pin them so a refactor of the
oracle cannot silently drift.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as hs

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.decode import decode_body, summarize_data
from conformance.oracle.csr.create import (
    CreateDecision,
    UserInfo,
    decide_create,
    generate_name,
    prepare_for_create,
    resource_version_blocks_create,
    subject_restriction,
    validate_create_options,
    warning_header,
)
from conformance.oracle.csr.request import (
    BLOCK_TYPE_MESSAGE,
    check_request,
    parse_subject_organizations,
    validate_request,
)
from conformance.oracle.csr.rules import RULES, rule
from conformance.oracle.csr.signer import validate_csr_signer_name, validate_signer_name
from conformance.oracle.csr.validation import (
    VALID_USAGES,
    ValidationOptions,
    apply_declarative,
    certificate_error,
    validate_conditions,
    validate_create,
    validate_csr_create,
    validate_meta_path_segments,
    validate_usages,
)
from conformance.oracle.golang.decoders import (
    CorruptInputError,
    b64decode,
    pem_decode,
    pem_decode_all,
)
from conformance.oracle.versions import V1_34, V1_35, V1_36, V1_37

# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------

ALICE = UserInfo("alice", "uid-alice", ["dev", "system:authenticated"], {"scope": ["a", "b"]})
NOW = "2025-01-01T00:00:00Z"


def _csr(key: Any, orgs: tuple[str, ...] = (), cn: str = "tester") -> bytes:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    algo = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    built = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(key, algo)
    return built.public_bytes(serialization.Encoding.PEM)


@cache
def ec_pem(orgs: tuple[str, ...] = ()) -> bytes:
    return _csr(ec.generate_private_key(ec.SECP256R1()), orgs)


@cache
def rsa_pem() -> bytes:
    return _csr(rsa.generate_private_key(65537, 2048))


@cache
def ed_pem() -> bytes:
    return _csr(ed25519.Ed25519PrivateKey.generate())


def _tamper(pem: bytes) -> bytes:
    """Flip a bit near the end of the signature, keeping the DER well formed."""
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 1
    body = base64.encodebytes(bytes(der))
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + body + b"-----END CERTIFICATE REQUEST-----\n"


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def csr_obj(name: str | None = "x", **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {} if name is None else {"name": name}
    s: dict[str, Any] = {
        "request": b64(ec_pem()),
        "signerName": "example.com/signer",
        "usages": ["client auth"],
    }
    s.update(spec)
    return {"metadata": meta, "spec": {k: v for k, v in s.items() if v is not ...}}


def body_of(obj: dict[str, Any]) -> bytes:
    full = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", **obj}
    return json.dumps(full).encode()


def decide(
    obj_or_body: dict[str, Any] | bytes,
    query: dict[str, list[str]] | None = None,
    existing: tuple[str, ...] = (),
) -> CreateDecision:
    body = obj_or_body if isinstance(obj_or_body, bytes) else body_of(obj_or_body)
    return decide_create(
        body,
        query or {},
        ALICE,
        existing_names=existing,
        now=NOW,
        uid="uid-new",
        generated_suffix="x7k2q",
    )


def messages(errs: list[fe.FieldError]) -> list[str]:
    return [e.error_string() for e in errs]


# ---------------------------------------------------------------------------
# rules, field errors, aggregation, status bodies
# ---------------------------------------------------------------------------


def test_rule_catalogue() -> None:
    assert rule("CSR-VAL-S6").section.startswith("§4.4")
    for rid in ("CSR-META-M3", "CSR-CREATE-ORDER", "CSR-VAL-K5", "CSR-AUTH-401", "CSR-DISC"):
        assert rid in RULES
    with pytest.raises(KeyError):
        rule("CSR-NOPE")


def test_field_error_rendering() -> None:
    assert fe.required("r", "spec.usages").cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "spec.usages",
    }
    assert fe.invalid("r", "f", 599, "d").body() == "Invalid value: 599: d"
    assert fe.invalid("r", "f", None, "d").body() == "Invalid value: null: d"
    assert fe.invalid("r", "f", b"", "d").body() == 'Invalid value: "": d'
    assert fe.invalid("r", "f", b"\x00\xff", "d").body() == 'Invalid value: "AP8=": d'
    assert fe.invalid("r", "f", 'a"b\n', "d").body() == 'Invalid value: "a\\"b\\n": d'
    assert fe.invalid("r", "f", ["x"], "d").body() == 'Invalid value: ["x"]: d'
    assert fe.too_long("r", "f", 253).body() == "Too long: may not be more than 253 bytes"
    assert fe.too_long("r", "f", 1).body() == "Too long: may not be more than 1 byte"
    assert fe.forbidden("r", "f", "no").error_string() == "f: Forbidden: no"
    assert fe.duplicate("r", "f", fe.named_string("x")).body() == 'Duplicate value: "x"'
    ns = fe.not_supported("r", "f", "x", ["a", "b"])
    assert ns.body() == 'Unsupported value: "x": supported values: "a", "b"'


def test_go_quote_vs_json_for_named_strings() -> None:
    # %q (plain Go string) keeps <>& and escapes control characters Go-style...
    assert fe.go_quote("<a>\x01\u00e9") == '"<a>\\x01\u00e9"'
    # ...while json.Marshal (named string types such as KeyUsage) escapes HTML characters.
    assert fe.render_value(fe.named_string("<a>&")) == '"\\u003ca\\u003e\\u0026"'


def test_aggregate_dedups_identical_strings() -> None:
    a = fe.required("r", "a")
    b = fe.required("r", "b")
    assert fe.aggregate([a]) == "a: Required value"
    assert fe.aggregate([a, b, a]) == "[a: Required value, b: Required value]"
    assert fe.aggregate([a, a]) == "a: Required value"
    assert fe.aggregate([]) == ""


def test_invalid_status_keeps_duplicate_causes() -> None:
    a = fe.required("r", "a")
    body = st.invalid("CertificateSigningRequest", st.GROUP, "n", [a, a])
    assert body["message"] == (
        'CertificateSigningRequest.certificates.k8s.io "n" is invalid: a: Required value'
    )
    assert len(body["details"]["causes"]) == 2
    assert body["code"] == 422 and body["reason"] == "Invalid"


def test_status_builders() -> None:
    assert st.not_found("a") == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'certificatesigningrequests.certificates.k8s.io "a" not found',
        "reason": "NotFound",
        "details": {
            "name": "a",
            "group": "certificates.k8s.io",
            "kind": "certificatesigningrequests",
        },
        "code": 404,
    }
    success = st.delete_success("a", "u1")
    assert "code" not in success and success["status"] == "Success"
    assert success["details"] == {
        "name": "a",
        "group": "certificates.k8s.io",
        "kind": "certificatesigningrequests",
        "uid": "u1",
    }
    err = st.internal_error("resourceVersion should not be set on objects to be created")
    assert "reason" not in err and err["code"] == 500 and "details" not in err
    assert st.unauthorized()["message"] == "Unauthorized"
    opts = st.options_invalid("CreateOptions", [fe.required("r", "x")])
    assert opts["details"] == {
        "group": "meta.k8s.io",
        "kind": "CreateOptions",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "x"}],
    }
    assert opts["message"] == 'CreateOptions.meta.k8s.io "" is invalid: x: Required value'
    assert st.already_exists("a", being_deleted=True)["message"].startswith(
        "object is being deleted: "
    )


# ---------------------------------------------------------------------------
# Go decoders: base64 and pem.Decode
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "result"),
    [
        (b"QUJD", b"ABC"),
        (b"QUI=", b"AB"),
        (b"QQ==", b"A"),
        (b"QU\nJD\r\n", b"ABC"),
        (b"", b""),
        (b"QQ", 0),
        (b"Q", 0),
        (b"abc", 0),
        (b"ab=c", 2),
        (b"QQ==QQ==", 4),
        (b"QUJD!", 4),
    ],
)
def test_go_base64(src: bytes, result: bytes | int) -> None:
    if isinstance(result, bytes):
        assert b64decode(src) == result
    else:
        with pytest.raises(CorruptInputError) as info:
            b64decode(src)
        assert info.value.offset == result


def test_pem_decode_quirks() -> None:
    pem = ec_pem()
    block, rest = pem_decode(b"junk before\n" + pem + b"trailing junk")
    assert block is not None and block.type == "CERTIFICATE REQUEST" and rest == b"trailing junk"
    # A malformed candidate (bad base64) is skipped and scanning continues.
    broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
    block, _ = pem_decode(broken + pem)
    assert block is not None and block.type == "CERTIFICATE REQUEST"
    # Only the first good block counts; a second one is ignored by ParseCSR.
    cert_like = b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"
    assert check_request(cert_like + pem).error == BLOCK_TYPE_MESSAGE
    assert check_request(pem + cert_like).ok
    # Headers are parsed; a missing END line yields no block.
    hdr = b"-----BEGIN X-----\nK: v\n\nQUJD\n-----END X-----\n"
    blocks = pem_decode_all(hdr + hdr)
    assert [b.headers for b in blocks] == [{"K": "v"}, {"K": "v"}]
    assert pem_decode(b"-----BEGIN X-----\nQUJD\n")[0] is None


# ---------------------------------------------------------------------------
# spec.request (R1–R3) and subjects
# ---------------------------------------------------------------------------


def test_request_valid_key_types() -> None:
    for pem in (ec_pem(), rsa_pem(), ed_pem()):
        assert validate_request(pem) == []


def test_request_block_type_messages() -> None:
    [err] = validate_request(None)
    assert err.error_string() == (
        "spec.request: Invalid value: null: PEM block type must be CERTIFICATE REQUEST"
    )
    [err] = validate_request(b"")
    assert err.body() == 'Invalid value: "": PEM block type must be CERTIFICATE REQUEST'
    [err] = validate_request(ec_pem().replace(b"CERTIFICATE REQUEST", b"CERTIFICATE"))
    assert err.rule == "CSR-VAL-R1" and err.detail == BLOCK_TYPE_MESSAGE


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (lambda: _tamper(ec_pem()), "x509: ECDSA verification failure"),
        (lambda: _tamper(rsa_pem()), "crypto/rsa: verification error"),
        (lambda: _tamper(ed_pem()), "x509: Ed25519 verification failure"),
    ],
)
def test_request_signature_messages(pem: Any, message: str) -> None:
    [err] = validate_request(pem())
    assert err.rule == "CSR-VAL-R3" and err.detail == message and err.detail_exact


def test_request_unsupported_curve_and_garbage() -> None:
    k1 = _csr(ec.generate_private_key(ec.SECP256K1()))
    [err] = validate_request(k1)
    assert err.detail == "x509: unsupported elliptic curve" and err.rule == "CSR-VAL-R2"
    garbage = b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
    [err] = validate_request(garbage)
    assert err.rule == "CSR-VAL-R2" and not err.detail_exact
    assert err.matches_cause(
        {
            "reason": "FieldValueInvalid",
            "field": "spec.request",
            "message": err.body_prefix() + ": asn1: structure error: something else",
        }
    )


def test_subject_organizations() -> None:
    assert parse_subject_organizations(ec_pem(("a", "system:masters"))) == ["a", "system:masters"]
    assert parse_subject_organizations(b"nope") is None


# ---------------------------------------------------------------------------
# signerName (S1–S6)
# ---------------------------------------------------------------------------

LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def test_signer_simple_cases() -> None:
    assert validate_signer_name("example.com/signer") == []
    assert messages(validate_signer_name("")) == ["spec.signerName: Required value"]
    assert messages(validate_signer_name("example.com")) == [
        'spec.signerName: Invalid value: "example.com": must be a fully qualified domain '
        "and path of the form 'example.com/signer-name'"
    ]
    assert messages(validate_csr_signer_name("kubernetes.io/legacy-unknown")) == [
        'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy '
        "signerName is not allowed via this API version"
    ]
    assert validate_csr_signer_name("kubernetes.io/legacy-unknown", allow_legacy=True) == []
    assert validate_signer_name("kubernetes.io/kube-apiserver-client") == []
    assert messages(validate_signer_name("example/x")) == [
        'spec.signerName: Invalid value: "example": should be a domain with at least two '
        "segments separated by dots"
    ]


def test_signer_label_messages() -> None:
    [err] = validate_signer_name("Example.com/x")
    assert err.detail == 'validating label "Example": ' + LABEL_ERR
    path_errs = validate_signer_name("example.com/a..b")
    assert [e.rule for e in path_errs] == ["CSR-VAL-S5"]
    assert path_errs[0].bad_value == "a..b"
    assert path_errs[0].detail.startswith('validating label "": a lowercase RFC 1123 subdomain')
    # A label over 63 characters gets both the length and (no) format message.
    long_label = validate_signer_name("a" * 64 + ".com/x")
    assert [e.detail for e in long_label] == [
        'validating label "' + "a" * 64 + '": must be no more than 63 characters'
    ]


def _signer(domain_len: int, total_len: int) -> str:
    labels = []
    remaining = domain_len
    while remaining > 0:
        n = min(63, remaining)
        labels.append("a" * n)
        remaining -= n + 1
    domain = ".".join(labels)[:domain_len]
    if domain.endswith("."):
        domain = domain[:-1] + "b"
    path_len = total_len - len(domain) - 1
    pieces = []
    remaining = path_len
    while remaining > 0:
        n = min(63, remaining)
        pieces.append("b" * n)
        remaining -= n + 1
    path = ".".join(pieces)[:path_len]
    if path.endswith("."):
        path = path[:-1] + "c"
    name = f"{domain}/{path}"
    assert len(domain) == domain_len and len(name) == total_len
    return name


def test_signer_length_boundaries() -> None:
    assert validate_signer_name(_signer(253, 300)) == []
    errs = validate_signer_name(_signer(254, 300))
    assert [e.error_string() for e in errs] == [
        "spec.signerName: Too long: may not be more than 253 bytes"
    ]
    assert validate_signer_name(_signer(253, 571)) == []
    errs = validate_signer_name(_signer(253, 572))
    assert [e.rule for e in errs] == ["CSR-VAL-S6"]
    assert errs[0].body() == "Too long: may not be more than 571 bytes"


@settings(max_examples=60, deadline=None)
@given(hs.text(alphabet="abcXYZ019-./", max_size=30))
def test_signer_never_crashes_and_is_syntactic(value: str) -> None:
    errs = validate_signer_name(value)
    # Valid exactly when it is "domain/path" built from lowercase DNS pieces.
    if "/" not in value or value.count("/") != 1:
        assert errs
    for e in errs:
        assert e.field == "spec.signerName"


# ---------------------------------------------------------------------------
# usages, expirationSeconds, conditions, certificate
# ---------------------------------------------------------------------------


def test_usages() -> None:
    opts = ValidationOptions()
    assert len(VALID_USAGES) == 23 and list(VALID_USAGES) == sorted(VALID_USAGES)
    assert validate_usages(list(reversed(VALID_USAGES)), opts) == []
    assert messages(validate_usages([], opts)) == ["spec.usages: Required value"]
    errs = validate_usages(["client auth", "Client Auth", "client auth"], opts)
    assert [(e.field, e.type) for e in errs] == [
        ("spec.usages[1]", fe.NOT_SUPPORTED),
        ("spec.usages[2]", fe.DUPLICATE),
    ]
    assert errs[0].body().startswith('Unsupported value: "Client Auth": supported values: "any", ')
    assert errs[0].body().endswith('"signing", "timestamping"')
    assert errs[1].body() == 'Duplicate value: "client auth"'


@pytest.mark.parametrize(
    ("value", "ok"), [(599, False), (600, True), (2147483647, True), (-1, False), (0, False)]
)
def test_expiration_seconds(value: int, ok: bool) -> None:
    errs = validate_csr_create(csr_obj(expirationSeconds=value))
    if ok:
        assert errs == []
    else:
        assert messages(errs) == [
            f"spec.expirationSeconds: Invalid value: {value}: may not specify a duration "
            "less than 600 seconds (10 minutes)"
        ]


def test_conditions_rules() -> None:
    opts = ValidationOptions()
    conds = [
        {"type": "", "status": ""},
        {"type": "Approved", "status": "False"},
        {"type": "Custom", "status": "Maybe"},
        {"type": "Approved", "status": "True"},
        {"type": "Denied", "status": "True"},
    ]
    errs = validate_conditions(conds, opts)
    assert messages(errs) == [
        "status.conditions[0].type: Required value",
        "status.conditions[0].status: Required value",
        'status.conditions[1].status: Unsupported value: "False": supported values: "True"',
        'status.conditions[2].status: Unsupported value: "Maybe": supported values: '
        '"False", "True", "Unknown"',
        'status.conditions[3].type: Duplicate value: "Approved"',
        'status.conditions: Invalid value: "Denied": Approved and Denied conditions are '
        "mutually exclusive",
    ]
    # Under v1.37 default gates the handwritten C5 error is replaced by the enforced
    # declarative union error, appended at the end.
    obj = {"status": {"conditions": conds}}
    final = apply_declarative(errs, obj, None, V1_37)
    assert final[-1].error_string() == (
        'status.conditions: Invalid value: "{conditions[{\\"type\\": \\"Approved\\"}], '
        'conditions[{\\"type\\": \\"Denied\\"}]}": must specify at most one of: '
        '`conditions[{"type": "Approved"}]`, `conditions[{"type": "Denied"}]`'
    )
    assert not any("mutually exclusive" in e.body() for e in final)
    # Before 1.37 the union is only compared: the handwritten errors come back as they were.
    for version in (V1_34, V1_35, V1_36):
        assert apply_declarative(errs, obj, None, version) == errs


def test_certificate_pem_rules() -> None:
    assert certificate_error(b"") is None
    assert certificate_error(b"no pem") == ("must contain at least one CERTIFICATE PEM block", True)
    assert certificate_error(ec_pem()) == (
        'only CERTIFICATE PEM blocks are allowed, found "CERTIFICATE REQUEST"',
        True,
    )
    hdr = b"-----BEGIN CERTIFICATE-----\nK: v\n\nQUJD\n-----END CERTIFICATE-----\n"
    assert certificate_error(hdr) == ("no PEM block headers are permitted", True)
    empty = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
    assert certificate_error(empty) == (
        "found CERTIFICATE PEM block containing 0 certificates",
        True,
    )


# ---------------------------------------------------------------------------
# metadata (M1–M4) and the order of validate_csr_create
# ---------------------------------------------------------------------------


def test_names_are_free_form_but_path_segments_are_checked() -> None:
    assert validate_csr_create(csr_obj("UPPER case: " + "x" * 300)) == []
    assert messages(validate_csr_create(csr_obj(None))) == [
        "metadata.name: Required value: name or generateName is required"
    ]
    assert messages(validate_meta_path_segments(csr_obj("a%b/c"))) == [
        "metadata.name: Invalid value: \"a%b/c\": may not contain '/'",
        "metadata.name: Invalid value: \"a%b/c\": may not contain '%'",
    ]
    assert messages(validate_meta_path_segments(csr_obj(".."))) == [
        "metadata.name: Invalid value: \"..\": may not be '..'"
    ]
    # M3 only reports when the CSR rules pass: an invalid CSR with a bad name gets one 422
    # that does not mention the name.
    errs = validate_create(csr_obj("a/b", usages=[]))
    assert messages(errs) == ["spec.usages: Required value"]
    errs = validate_create(csr_obj("a/b"))
    assert [e.rule for e in errs] == ["CSR-META-M3"]


def test_metadata_rules() -> None:
    obj = csr_obj()
    obj["metadata"].update(
        {
            "generation": -1,
            "labels": {"a b": "ok"},
            "finalizers": ["foo", "orphan", "foregroundDeletion"],
        }
    )
    got = messages(validate_csr_create(obj))
    assert got[0] == "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    assert got[1].startswith('metadata.labels: Invalid value: "a b": name part must consist of')
    assert got[2] == (
        'metadata.finalizers: Invalid value: ["foo","orphan","foregroundDeletion"]: finalizer '
        "orphan and foregroundDeletion cannot be both set"
    )
    assert got[3] == (
        'metadata.finalizers[0]: Invalid value: "foo": name is neither a standard finalizer '
        "name nor is it fully qualified"
    )


def test_validation_order_matches_upstream() -> None:
    obj = csr_obj(
        None,
        request=...,
        usages=["bad", "bad"],
        signerName="",
        expirationSeconds=1,
    )
    fields = [e.field for e in validate_csr_create(obj)]
    assert fields == [
        "metadata.name",
        "spec.request",
        "spec.usages[0]",
        "spec.usages[1]",
        "spec.usages[1]",
        "spec.signerName",
        "spec.expirationSeconds",
    ]


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------

CANNOT = (
    'CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: '
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"spec": {"expirationSeconds": 2147483648}},
            "json: cannot unmarshal number 2147483648 into Go struct field "
            "CertificateSigningRequestSpec.spec.expirationSeconds of type int32",
        ),
        (
            {"spec": {"expirationSeconds": "600"}},
            "json: cannot unmarshal string into Go struct field "
            "CertificateSigningRequestSpec.spec.expirationSeconds of type int32",
        ),
        ({"spec": {"request": "abc"}}, "illegal base64 data at input byte 0"),
        (
            {"spec": {"usages": [5]}},
            "json: cannot unmarshal number into Go struct field "
            "CertificateSigningRequestSpec.spec.usages of type v1.KeyUsage",
        ),
        (
            {"metadata": {"labels": {"a": 1}}},
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels "
            "of type string",
        ),
        (
            {"spec": "x"},
            "json: cannot unmarshal string into Go struct field CertificateSigningRequest.spec "
            "of type v1.CertificateSigningRequestSpec",
        ),
    ],
)
def test_decode_type_errors(body: dict[str, Any], message: str) -> None:
    res = decode_body(json.dumps(body).encode(), strict=True)
    assert res.error == CANNOT + message and res.exact


def test_decode_base64_offset_counts_bytes() -> None:
    res = decode_body(b'{"spec":{"request":"QUJDRA==QUJD"}}', strict=False)
    assert res.error == CANNOT + "illegal base64 data at input byte 8"
    assert res.rule == "CSR-VAL-R5"


def test_decode_strict_fields_and_merging() -> None:
    raw = b'{"spec":{"foo":1,"signerName":"a","signerName":"b","SignerName":"c"},"bar":{"x":1}}'
    res = decode_body(raw, strict=True)
    assert res.strict_errors == (
        'unknown field "spec.foo"',
        'duplicate field "spec.signerName"',
        'unknown field "spec.SignerName"',
        'unknown field "bar"',
    )
    assert res.obj is not None and res.obj["spec"]["signerName"] == "b"
    assert decode_body(raw, strict=False).strict_errors == ()
    merged = decode_body(b'{"metadata":{"labels":{"a":"1"},"labels":{"b":"2"}}}', strict=False)
    assert merged.obj is not None and merged.obj["metadata"]["labels"] == {"a": "1", "b": "2"}


def test_decode_nulls_and_byte_arrays() -> None:
    res = decode_body(b'{"spec":{"signerName":null,"usages":null,"request":[65,66]}}', strict=True)
    assert res.obj == {"spec": {"request": "QUI="}}


def test_decode_unrecognized_bodies() -> None:
    res = decode_body(b"", strict=True)
    assert res.exact and res.error == (
        "the object provided is unrecognized (must be of type CertificateSigningRequest): "
        "couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)"
    )
    res = decode_body(b'{"apiVersion": 5}', strict=True)
    assert res.exact and res.error == (
        "the object provided is unrecognized (must be of type CertificateSigningRequest): "
        "couldn't get version/kind; json parse error: json: cannot unmarshal number into Go "
        'struct field .apiVersion of type string ({"apiVersion": 5})'
    )
    assert summarize_data(b"not json") == "6e6f74206a736f6e"
    assert decode_body(b"null", strict=True).obj == {}


# ---------------------------------------------------------------------------
# the create pipeline
# ---------------------------------------------------------------------------


def test_create_success_shape() -> None:
    obj = csr_obj(None, username="mallory", groups=["system:masters"], extra={"x": ["y"]})
    obj["metadata"] = {"generateName": "demo-", "namespace": "ns", "uid": "spoofed"}
    obj["status"] = {"conditions": [{"type": "Approved", "status": "True"}]}
    d = decide(obj)
    assert d.code == 201 and d.persist and d.storage_sets_resource_version
    assert d.body["metadata"] == {
        "generateName": "demo-",
        "creationTimestamp": NOW,
        "uid": "uid-new",
        "name": "demo-x7k2q",
    }
    spec = d.body["spec"]
    assert (spec["username"], spec["uid"], spec["groups"], spec["extra"]) == (
        "alice",
        "uid-alice",
        ["dev", "system:authenticated"],
        {"scope": ["a", "b"]},
    )
    assert d.body["status"] == {}
    assert {"CSR-META-NS", "CSR-META-GEN", "CSR-CREATE-PREP-ID"} <= set(d.rules)


def test_generate_name_truncation() -> None:
    assert generate_name("a" * 70, "bcdfg") == "a" * 58 + "bcdfg"
    # A cut through a two-byte character leaves one stray byte: Go shows U+FFFD.
    assert generate_name("a" * 57 + "é", "bcdfg") == "a" * 57 + "\ufffd" + "bcdfg"


def test_create_order_invalid_beats_admission_and_conflict() -> None:
    masters = b64(ec_pem(("system:masters",)))
    obj = csr_obj("n", signerName="kubernetes.io/kube-apiserver-client", request=masters)
    assert decide(obj).code == 403
    assert decide(obj).body["message"] == (
        'certificatesigningrequests.certificates.k8s.io "n" is forbidden: use of '
        "kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"
    )
    invalid = csr_obj("n", signerName="kubernetes.io/kube-apiserver-client", request=masters)
    invalid["spec"]["usages"] = []
    assert decide(invalid).code == 422
    assert decide(csr_obj("n", usages=[]), existing=("n",)).code == 422
    assert decide(csr_obj("n"), existing=("n",)).code == 409
    # Bad CreateOptions beat an undecodable body.
    d = decide(b"not json", query={"fieldValidation": ["x"]})
    assert d.code == 422 and d.body["details"]["kind"] == "CreateOptions"
    assert subject_restriction(csr_obj(request=masters)) is None


def test_create_validation_message() -> None:
    d = decide(csr_obj("n", usages=["x"], expirationSeconds=599))
    assert d.code == 422 and d.exact
    assert d.body["message"].startswith(
        'CertificateSigningRequest.certificates.k8s.io "n" is invalid: [spec.usages[0]: '
        'Unsupported value: "x": supported values: "any", '
    )
    assert d.body["details"]["kind"] == "CertificateSigningRequest"
    assert [c["field"] for c in d.body["details"]["causes"]] == [
        "spec.usages[0]",
        "spec.expirationSeconds",
    ]


def test_create_resource_version_rules() -> None:
    obj = csr_obj("n")
    obj["metadata"]["resourceVersion"] = "5"
    d = decide(obj)
    assert d.code == 500 and d.body["message"] == (
        "resourceVersion should not be set on objects to be created"
    )
    assert decide(obj, existing=("n",)).code == 500
    dry = decide(obj, query={"dryRun": ["All"]})
    assert dry.code == 201 and not dry.persist and dry.body["metadata"]["resourceVersion"] == "5"
    obj["metadata"]["resourceVersion"] = "abc"
    assert decide(obj).code == 201
    assert resource_version_blocks_create("18446744073709551615")
    assert not resource_version_blocks_create("18446744073709551616")
    assert not resource_version_blocks_create("0") and not resource_version_blocks_create("-1")


def test_create_dry_run_and_exists() -> None:
    d = decide(csr_obj("n"), query={"dryRun": ["All"]})
    assert d.code == 201 and not d.persist and "resourceVersion" not in d.body["metadata"]
    assert decide(csr_obj("n"), query={"dryRun": ["All"]}, existing=("n",)).code == 409


def test_create_field_validation_modes() -> None:
    obj = csr_obj("n")
    obj["spec"]["foo"] = 1
    warn = decide(obj)
    assert warn.code == 201 and warn.warnings == ['299 - "unknown field \\"spec.foo\\""']
    assert decide(obj, query={"fieldValidation": ["Ignore"]}).warnings == []
    strict = decide(obj, query={"fieldValidation": ["Strict"]})
    assert strict.code == 400 and strict.body["message"] == (
        CANNOT + 'strict decoding error: unknown field "spec.foo"'
    )
    assert warning_header("a\nb") is None


def test_create_api_version_mismatch() -> None:
    raw = json.loads(body_of(csr_obj("n")))
    raw["apiVersion"] = "certificates.k8s.io/v1beta1"
    d = decide(json.dumps(raw).encode())
    assert d.code == 400 and d.body["message"] == (
        "the API version in the data (certificates.k8s.io/v1beta1) does not match the "
        "expected API version (certificates.k8s.io/v1)"
    )


def test_create_options_messages() -> None:
    errs = validate_create_options(
        {"fieldManager": ["x" * 129], "dryRun": ["All", "x"], "fieldValidation": ["y"]}
    )
    assert messages(errs) == [
        "fieldManager: Too long: may not be more than 128 bytes",
        'dryRun: Unsupported value: ["All","x"]: supported values: "All"',
        'fieldValidation: Unsupported value: "y": supported values: "", "Ignore", "Strict", "Warn"',
    ]
    assert messages(validate_create_options({"fieldManager": "a\tb"})) == [
        'fieldManager: Invalid value: "a\\tb": invalid character U+0009 (at position 1)'
    ]


def test_prepare_for_create_is_pure() -> None:
    obj = csr_obj("n", username="x")
    out = prepare_for_create(obj, None)
    assert "username" not in out["spec"] and obj["spec"]["username"] == "x"
    assert out["status"] == {}


# ---------------------------------------------------------------------------
# delete options and delete/list bodies
# ---------------------------------------------------------------------------


def test_delete_options_and_preconditions() -> None:
    from conformance.oracle.csr.delete import DeleteOptionsView, validate_delete_options

    assert validate_delete_options(DeleteOptionsView()) == []
    errs = validate_delete_options(DeleteOptionsView(propagation_policy="Foo", dry_run=["x"]))
    assert messages(errs) == [
        'propagationPolicy: Unsupported value: "Foo": supported values: "Foreground", '
        '"Background", "Orphan", "nil"',
        'dryRun: Unsupported value: ["x"]: supported values: "All"',
    ]
    both = validate_delete_options(
        DeleteOptionsView(propagation_policy="Orphan", orphan_dependents=True)
    )
    assert messages(both) == [
        'propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation '
        "cannot be both set"
    ]
    conflict = st.delete_precondition_conflict("n", st.uid_precondition_message("a", "b"))
    assert conflict["details"] == {
        "name": "n",
        "group": "certificates.k8s.io",
        "kind": "CertificateSigningRequest",
    }
    assert conflict["message"] == (
        'Operation cannot be fulfilled on CertificateSigningRequest.certificates.k8s.io "n": '
        "the UID in the precondition (a) does not match the UID in record (b). The object "
        "might have been deleted and then recreated"
    )


def test_list_body_sorted_and_never_null() -> None:
    empty = st.list_body([], "7")
    assert empty == {
        "kind": "CertificateSigningRequestList",
        "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"resourceVersion": "7"},
        "items": [],
    }
    names = [
        o["metadata"]["name"]
        for o in st.list_body([{"metadata": {"name": n}} for n in "cab"], "1")["items"]
    ]
    assert names == ["a", "b", "c"]


def test_identical_causes_are_deduplicated_on_create() -> None:
    # Declarative validation re-filters the handwritten list through ToAggregate, so two
    # identical field+message errors come back once (checked against v1.37.2).
    obj = csr_obj()
    obj["metadata"]["finalizers"] = ["x/y/z", "x/y/z"]
    errs = validate_create(obj)
    assert [e.field for e in errs] == ["metadata.finalizers"]
    obj["metadata"]["finalizers"] = ["a", "a"]
    assert [e.field for e in validate_create(obj)] == [
        "metadata.finalizers[0]",
        "metadata.finalizers[1]",
    ]
