"""The strategies draw what they claim: valid draws pass the oracle, invalid draws break
exactly their labelled rule, requests parse (or fail) the way Go would, keys are reused.

The oracle judges *prepared* objects (after kube-apiserver's create-time clean-up), so the
raw wire objects drawn here are prepared the same way first (``_prepared``).
"""

import copy
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from conformance.oracle.apimachinery.fielderrors import FieldError
from conformance.oracle.csr.request import validate_request
from conformance.oracle.csr.rules import RULES
from conformance.oracle.csr.signer import validate_csr_signer_name
from conformance.oracle.csr.validation import (
    ValidationOptions,
    is_path_segment_name,
    is_path_segment_prefix,
    validate_csr_create,
    validate_expiration_seconds,
    validate_meta_path_segments,
    validate_object_meta,
    validate_usages,
)
from conformance.oracle.golang.decoders import b64decode, pem_decode
from strategies import keys as keypool
from strategies.csr import (
    INVALID_CSR_RULES,
    InvalidCSR,
    invalid_csr,
    prefixed,
    valid_csr,
    violations,
)
from strategies.expiration import expiration_seconds, invalid_expiration_seconds
from strategies.names import (
    LEGACY_UNKNOWN_SIGNER,
    WELL_KNOWN_SIGNERS,
    annotations,
    custom_signer_names,
    generate_names,
    invalid_annotations,
    invalid_generate_names,
    invalid_labels,
    invalid_object_names,
    invalid_signer_names,
    is_kubernetes_signer_name,
    labels,
    name_violation_survives_prefix,
    object_names,
    signer_names,
)
from strategies.pem import (
    CSR_BLOCK,
    MALFORMED_KINDS,
    Malformed,
    Tolerated,
    csr_pems,
    labelled_tolerated_requests,
    malformed_request_classes,
    malformed_requests,
    tolerated_requests,
)
from strategies.usages import USAGES, invalid_usage_lists, usage_lists

RUN_PREFIX = "csrc-ab12cd-"

# Example counts stay small so this module runs in seconds; set STRATEGY_TEST_SCALE (e.g.
# 20) for a deeper local hunt.
SCALE = max(1, int(os.environ.get("STRATEGY_TEST_SCALE", "1")))
FAST = settings(
    max_examples=40 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=15 * SCALE)
# ``find`` without shrinking: the first draw that matches (the very first draw Hypothesis
# makes is the simplest one, so this also shows what draws shrink to).
FIRST = settings(
    max_examples=1000,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module", autouse=True)
def _warm_pool() -> None:
    """Pay key generation (or cache loading) once, outside every example."""
    keypool.key_pool()


def _prepared(obj: dict[str, Any]) -> dict[str, Any]:
    """What validation sees on create: status wiped, namespace and system fields cleared,
    user fields set by the server, a name generated from generateName."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.setdefault("metadata", {})
    for key in ("namespace", "uid", "creationTimestamp"):
        meta.pop(key, None)
    if not meta.get("name") and meta.get("generateName"):
        prefix = meta["generateName"].encode()[:58].decode("utf-8", errors="ignore")
        meta["name"] = prefix + "bcdfg"
    spec = out.setdefault("spec", {})
    for key in ("uid", "groups", "extra"):
        spec.pop(key, None)
    spec["username"] = "alice"
    return out


def _create_errors(obj: dict[str, Any]) -> list[FieldError]:
    """Strategy validation first; the path-segment pass only if that found nothing."""
    prepared = _prepared(obj)
    errs = validate_csr_create(prepared)
    return errs or validate_meta_path_segments(prepared)


def _describe(errs: list[FieldError]) -> str:
    return "; ".join(f"{e.rule} {e.field}: {e.body()}" for e in errs)


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------


def test_pool_is_bounded_and_ordered_cheapest_first() -> None:
    slots = keypool.slots()
    assert len(slots) == sum(keypool.POOL_SIZES.values()) <= 20
    assert slots[0] == ("ed25519", 0)
    assert [k for k, _ in slots] == sorted((k for k, _ in slots), key=keypool.KEY_KINDS.index)
    assert keypool.POOL_SIZES["rsa-4096"] == 1


@SLOW
@given(st.data())
def test_draws_reuse_pool_keys_and_never_generate(data: st.DataObject) -> None:
    pool_ids = {id(k) for k in keypool.key_pool()}
    original = keypool._generate
    keypool._generate = _refuse_generation
    try:
        for _ in range(5):
            key = data.draw(keypool.private_keys())
            assert id(key) in pool_ids
            data.draw(csr_pems())
    finally:
        keypool._generate = original
    assert len(keypool.generated_slots()) <= len(keypool.slots())


def _refuse_generation(kind: keypool.KeyKind) -> keypool.PrivateKey:
    raise AssertionError(f"a draw generated a {kind} key")


@FAST
@given(st.data())
def test_private_keys_respects_kinds(data: st.DataObject) -> None:
    kinds = data.draw(st.lists(st.sampled_from(keypool.KEY_KINDS), min_size=1, unique=True))
    key = data.draw(keypool.private_keys(kinds))
    assert keypool.key_kind(key) in kinds


def test_every_kind_is_the_type_it_claims() -> None:
    for kind, index in keypool.slots():
        key = keypool.pool_key(kind, index)
        assert keypool.key_kind(key) == kind
        if kind.startswith("rsa-"):
            assert isinstance(key, rsa.RSAPrivateKey)
        elif kind.startswith("ecdsa-"):
            assert isinstance(key, ec.EllipticCurvePrivateKey)


@pytest.fixture
def isolated_pool(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    saved = dict(keypool._pool)
    saved_loaded = keypool._cache_loaded
    monkeypatch.setenv(keypool.CACHE_ENV, str(tmp_path / "keys.pem"))
    keypool.clear_key_pool()
    try:
        yield tmp_path / "keys.pem"
    finally:
        keypool.clear_key_pool()
        keypool._pool.update(saved)
        keypool._cache_loaded = saved_loaded


def test_cache_file_round_trips_the_pool(isolated_pool: Any) -> None:
    first = [keypool.pool_key("ed25519", 0), keypool.pool_key("ecdsa-p384", 1)]
    assert isolated_pool.exists()
    assert isolated_pool.stat().st_mode & 0o077 == 0
    keypool.clear_key_pool()
    again = keypool.pool_key("ed25519", 0)
    assert again is not first[0]
    assert _public(again) == _public(first[0])
    # A slot after a gap is not persisted (slots are saved in order per kind) but works.
    assert keypool.key_kind(keypool.pool_key("ecdsa-p384", 1)) == "ecdsa-p384"


def test_cache_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keypool.CACHE_ENV, "off")
    assert keypool.cache_path() is None
    monkeypatch.delenv(keypool.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", "/x")
    assert str(keypool.cache_path()) == "/x/csr-conformance/keys.pem"


def _public(key: keypool.PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ---------------------------------------------------------------------------
# requests
# ---------------------------------------------------------------------------


@FAST
@given(csr_pems())
def test_csr_pems_parse_and_verify(pem: bytes) -> None:
    assert pem.startswith(b"-----BEGIN CERTIFICATE REQUEST-----\n")
    csr = x509.load_pem_x509_csr(pem)
    assert csr.is_signature_valid
    block, _ = pem_decode(pem)
    assert block is not None and block.type == CSR_BLOCK and not block.headers
    assert validate_request(pem) == []
    for attribute in csr.subject:
        assert not str(attribute.value).lower().startswith("system:")


def _check_malformed(m: Malformed) -> None:
    assert MALFORMED_KINDS[m.kind.split(":")[0]] == m.rule
    block, _ = pem_decode(m.pem)
    if m.rule == "CSR-VAL-R1":
        assert block is None or block.type != CSR_BLOCK
    else:
        assert block is not None and block.type == CSR_BLOCK
        if m.rule == "CSR-VAL-R2":
            with pytest.raises(ValueError):
                x509.load_der_x509_csr(block.bytes)
        else:
            assert not x509.load_der_x509_csr(block.bytes).is_signature_valid
    errs = validate_request(m.pem)
    assert [e.rule for e in errs] == [m.rule], _describe(errs)


@pytest.mark.parametrize("kind", sorted(MALFORMED_KINDS))
def test_each_malformed_class_is_what_it_claims(kind: str) -> None:
    @settings(SLOW, max_examples=8 * SCALE)
    @given(malformed_request_classes()[kind])
    def check(m: Malformed) -> None:
        assert m.kind.split(":")[0] == kind
        _check_malformed(m)

    check()


@FAST
@given(malformed_requests(rules=["CSR-VAL-R3"]))
def test_rule_filter_narrows_malformed_classes(m: Malformed) -> None:
    assert m.rule == "CSR-VAL-R3"
    _check_malformed(m)


@FAST
@given(labelled_tolerated_requests())
def test_tolerated_requests_are_accepted(t: Tolerated) -> None:
    block, _ = pem_decode(t.pem)
    assert block is not None and block.type == CSR_BLOCK
    assert x509.load_der_x509_csr(block.bytes).is_signature_valid
    assert validate_request(t.pem) == [], t.kind
    if "headers" in t.kind:
        assert block.headers


@settings(FAST, max_examples=5)
@given(tolerated_requests())
def test_tolerated_requests_are_plain_bytes(pem: bytes) -> None:
    assert isinstance(pem, bytes)


# ---------------------------------------------------------------------------
# names, usages, expiration
# ---------------------------------------------------------------------------


@FAST
@given(signer_names())
def test_signer_names_are_valid(name: str) -> None:
    assert name != LEGACY_UNKNOWN_SIGNER
    assert validate_csr_signer_name(name) == []


@FAST
@given(custom_signer_names())
def test_custom_signer_names_avoid_kubernetes_io(name: str) -> None:
    assert not is_kubernetes_signer_name(name)
    assert name not in WELL_KNOWN_SIGNERS


def test_signer_name_boundaries_are_reached() -> None:
    assert len(find(custom_signer_names(), lambda s: len(s) == 571, settings=FIRST)) == 571
    domain_253 = find(custom_signer_names(), lambda s: len(s.split("/")[0]) == 253, settings=FIRST)
    assert validate_csr_signer_name(domain_253) == []
    s6 = find(invalid_signer_names(), lambda p: len(p[0]) == 572, settings=FIRST)
    assert s6[1] == "CSR-VAL-S6"
    s4 = find(
        invalid_signer_names(),
        lambda p: p[1] == "CSR-VAL-S4" and len(p[0].split("/")[0]) == 254,
        settings=FIRST,
    )
    assert [e.rule for e in validate_csr_signer_name(s4[0])] == ["CSR-VAL-S4"]


@FAST
@given(invalid_signer_names())
def test_invalid_signer_names_break_only_their_rule(pair: tuple[str, str]) -> None:
    value, rule = pair
    errs = validate_csr_signer_name(value)
    assert errs and {e.rule for e in errs} == {rule}, _describe(errs)
    assert rule in RULES


@FAST
@given(object_names(), generate_names())
def test_object_names_are_valid_bare_and_prefixed(name: str, generate: str) -> None:
    assert name and is_path_segment_name(name) == []
    assert is_path_segment_name(RUN_PREFIX + name) == []
    assert generate and is_path_segment_prefix(generate) == []


@FAST
@given(invalid_object_names())
def test_invalid_object_names_break_m3(pair: tuple[str, str]) -> None:
    name, rule = pair
    assert rule == "CSR-META-M3" and is_path_segment_name(name)
    prefixed_errors = is_path_segment_name(RUN_PREFIX + name)
    assert bool(prefixed_errors) == name_violation_survives_prefix(name)


@FAST
@given(invalid_generate_names())
def test_invalid_generate_names_survive_prefix(pair: tuple[str, str]) -> None:
    assert is_path_segment_prefix(RUN_PREFIX + pair[0])


@FAST
@given(labels(), annotations())
def test_labels_and_annotations_are_valid(lab: dict[str, str], ann: dict[str, str]) -> None:
    obj = {"metadata": {"name": "x", "labels": lab, "annotations": ann}}
    assert validate_object_meta(obj) == []


@FAST
@given(
    st.one_of(
        invalid_labels().map(lambda p: ("labels", *p)),
        invalid_annotations().map(lambda p: ("annotations", *p)),
    )
)
def test_invalid_labels_and_annotations_break_m4(case: tuple[str, dict[str, str], str]) -> None:
    where, value, rule = case
    errs = validate_object_meta({"metadata": {"name": "x", where: value}})
    assert errs and {e.rule for e in errs} == {rule} == {"CSR-META-M4"}, _describe(errs)
    assert {e.field for e in errs} == {f"metadata.{where}"}


@FAST
@given(usage_lists())
def test_usage_lists_are_valid(usages: list[str]) -> None:
    assert usages and len(set(usages)) == len(usages) and set(usages) <= set(USAGES)
    assert validate_usages(usages, ValidationOptions()) == []


def test_there_are_23_usages() -> None:
    assert len(USAGES) == len(set(USAGES)) == 23


@FAST
@given(invalid_usage_lists())
def test_invalid_usage_lists_break_only_their_rule(pair: tuple[list[str] | None, str]) -> None:
    usages, rule = pair
    errs = validate_usages(usages or [], ValidationOptions())
    assert errs and {e.rule for e in errs} == {rule}, _describe(errs)


@FAST
@given(expiration_seconds(), invalid_expiration_seconds())
def test_expiration_seconds(valid: int | None, invalid: tuple[int, str]) -> None:
    assert validate_expiration_seconds(valid) == []
    errs = validate_expiration_seconds(invalid[0])
    assert [e.rule for e in errs] == [invalid[1]] == ["CSR-VAL-X1"]


# ---------------------------------------------------------------------------
# whole objects
# ---------------------------------------------------------------------------


@SLOW
@given(valid_csr())
def test_valid_csrs_pass_the_oracle_bare_and_prefixed(obj: dict[str, Any]) -> None:
    assert obj["apiVersion"] == "certificates.k8s.io/v1"
    assert obj["kind"] == "CertificateSigningRequest"
    assert ("name" in obj["metadata"]) != ("generateName" in obj["metadata"])
    b64decode(obj["spec"]["request"].encode())
    for candidate in (obj, prefixed(obj, RUN_PREFIX)):
        errs = _create_errors(candidate)
        assert errs == [], _describe(errs)


@SLOW
@given(valid_csr(signer_names=signer_names(), junk=False))
def test_valid_csrs_with_any_signer_and_no_junk(obj: dict[str, Any]) -> None:
    assert "status" not in obj and "username" not in obj["spec"]
    assert _create_errors(obj) == []


@settings(SLOW, max_examples=40 * SCALE)
@given(invalid_csr())
def test_invalid_csrs_break_exactly_their_rule(bad: InvalidCSR) -> None:
    assert bad.rule in RULES
    errs = _create_errors(bad.obj)
    assert errs, f"{bad.kind} ({bad.rule}) was accepted"
    assert {e.rule for e in errs} == {bad.rule}, f"{bad.kind}: {_describe(errs)}"
    assert any(e.field.startswith(bad.field) for e in errs), _describe(errs)
    with_prefix = _create_errors(prefixed(bad.obj, RUN_PREFIX))
    if bad.needs_bare_name:
        meta = bad.obj["metadata"]
        if "name" in meta or "generateName" in meta:
            assert with_prefix == [], f"{bad.kind}: {_describe(with_prefix)}"
        else:
            assert bad.rule == "CSR-META-M2"
    else:
        assert {e.rule for e in with_prefix} == {bad.rule}, _describe(with_prefix)


def test_violations_cover_every_rule_class() -> None:
    assert set(INVALID_CSR_RULES) == {
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
    }
    for rule in INVALID_CSR_RULES:
        assert find(violations([rule]), lambda _: True, settings=FIRST).rule == rule


@settings(SLOW, max_examples=20 * SCALE)
@given(st.data())
def test_invalid_csr_rules_filter(data: st.DataObject) -> None:
    rules = data.draw(st.lists(st.sampled_from(INVALID_CSR_RULES), min_size=1, unique=True))
    assert data.draw(invalid_csr(rules=rules, junk=False)).rule in rules


def test_simplest_draws_read_like_ordinary_requests() -> None:
    obj = find(valid_csr(), lambda _: True, settings=FIRST)
    assert set(obj) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(obj["metadata"]) == {"name"}
    assert set(obj["spec"]) == {"request", "signerName", "usages"}
    assert obj["spec"]["usages"] == ["digital signature"]
    assert find(signer_names(), lambda _: True, settings=FIRST) == "a.a/a"
    key = find(keypool.private_keys(), lambda _: True, settings=FIRST)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
