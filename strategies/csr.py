"""Whole CertificateSigningRequest wire objects (plain JSON dicts), valid and invalid.

``valid_csr`` draws what a client POSTs: ``metadata`` with a name or a generateName (and
sometimes labels and annotations) and a ``spec`` with request, signerName, usages and
sometimes expirationSeconds. Sometimes it also carries fields the server must silently
discard or overwrite on create (``spec.username/uid/groups/extra``, ``status``,
``metadata.namespace``, ``metadata.uid``, ``metadata.creationTimestamp``).

``invalid_csr`` takes a valid draw and breaks exactly one rule, returning the object
with the rule id and the field the 422 cause should name.

Names are drawn as *suffixes*: the suite puts a run prefix in front of every name before
sending (``prefixed``). A few name violations only exist on the bare name ('.', '..',
and a missing name); ``InvalidCSR.needs_bare_name`` marks them.

``valid_csr`` and ``invalid_csr`` return one cached strategy per set of arguments, and the
composites behind them draw only from strategies built once: Hypothesis validates a
strategy on its first draw, so a strategy built afresh per draw is validated per draw
(that was over half of the suite's wall time).
"""

import base64
import copy
import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import strategies as st

from strategies.expiration import expiration_seconds, invalid_expiration_seconds
from strategies.keys import PrivateKey
from strategies.names import (
    RULE_S2,
    annotations,
    custom_signer_names,
    generate_names,
    invalid_annotations,
    invalid_generate_names,
    invalid_labels,
    invalid_object_names,
    invalid_signer_names,
    labels,
    name_violation_survives_prefix,
    object_names,
)
from strategies.pem import csr_pems, malformed_requests, tolerated_requests
from strategies.usages import invalid_usage_lists, usage_lists

API_VERSION: Final = "certificates.k8s.io/v1"
KIND: Final = "CertificateSigningRequest"

RULE_R1: Final = "CSR-VAL-R1"
RULE_M2: Final = "CSR-META-M2"

JSON = dict[str, Any]


@dataclass(frozen=True)
class InvalidCSR:
    """A CSR that breaks one rule.

    ``field`` is where the 422 cause lands (for indexed fields such as ``spec.usages`` it
    is the prefix of the cause's field). ``needs_bare_name`` is True when the violation
    would change once a run prefix is put in front of the name ('.', '..', an empty or
    absent name): send their metadata names exactly as drawn; the server rejects them, so
    nothing is created under an unprefixed name.
    """

    obj: JSON
    rule: str
    field: str
    kind: str
    needs_bare_name: bool = False


def encode_request(pem: bytes) -> str:
    """``spec.request`` as JSON carries it: standard base64 of the PEM bytes."""
    return base64.b64encode(pem).decode("ascii")


def prefixed(obj: JSON, prefix: str) -> JSON:
    """A deep copy with ``prefix`` put in front of metadata.name and metadata.generateName
    where present (an empty name too). Not for ``InvalidCSR.needs_bare_name`` objects."""
    out = copy.deepcopy(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in ("name", "generateName"):
            value = meta.get(key)
            if isinstance(value, str):
                meta[key] = prefix + value
    return out


# ---------------------------------------------------------------------------
# Discarded client-sent fields
# ---------------------------------------------------------------------------

_IDENTITY_TEXT: Final = st.one_of(
    st.sampled_from(["system:admin", "system:masters", "admin", "system:node:n1"]),
    st.text(max_size=20),
)


@functools.cache
def _timestamps() -> st.SearchStrategy[str]:
    return st.datetimes(
        min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(2100, 1, 1)
    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))


@functools.cache
def _junk_conditions(min_size: int = 0) -> st.SearchStrategy[list[JSON]]:
    condition = st.fixed_dictionaries(
        {
            "type": st.one_of(st.sampled_from(["Approved", "Denied", "Failed"]), st.text()),
            "status": st.sampled_from(["True", "False", "Unknown", ""]),
        },
        optional={
            "reason": st.text(max_size=20),
            "message": st.text(max_size=40),
            "lastUpdateTime": _timestamps(),
        },
    )
    return st.lists(condition, min_size=min_size, max_size=3)


@functools.cache
def _junk_status() -> st.SearchStrategy[JSON]:
    return st.fixed_dictionaries(
        {},
        optional={
            "conditions": _junk_conditions(),
            "certificate": st.binary(max_size=64).map(encode_request),
        },
    )


@functools.cache
def _junk_spec() -> st.SearchStrategy[JSON]:
    return st.fixed_dictionaries(
        {},
        optional={
            "username": _IDENTITY_TEXT,
            "uid": st.uuids().map(str),
            "groups": st.lists(_IDENTITY_TEXT, max_size=3),
            "extra": st.dictionaries(st.text(max_size=10), st.lists(st.text(max_size=10))),
        },
    )


@functools.cache
def _junk_metadata() -> st.SearchStrategy[JSON]:
    return st.fixed_dictionaries(
        {},
        optional={
            "namespace": st.sampled_from(["default", "kube-system", "ns1"]),
            "uid": st.uuids().map(str),
            "creationTimestamp": _timestamps(),
        },
    )


@functools.cache
def forged_server_fields() -> st.SearchStrategy[JSON]:
    """Fields only the server may set, all present at once: ``{"metadata", "spec", "status"}``.

    The optional junk inside ``valid_csr`` is rare by design (it shrinks away); a property
    that is *about* discarding forged fields needs every one of them in every draw.
    """
    return st.fixed_dictionaries(
        {
            "metadata": st.fixed_dictionaries(
                {
                    "namespace": st.sampled_from(["default", "kube-system", "ns1"]),
                    "uid": st.uuids().map(str),
                    "creationTimestamp": _timestamps(),
                }
            ),
            "spec": st.fixed_dictionaries(
                {
                    "username": _IDENTITY_TEXT,
                    "uid": st.uuids().map(str),
                    "groups": st.lists(_IDENTITY_TEXT, min_size=1, max_size=3),
                    "extra": st.dictionaries(
                        st.text(min_size=1, max_size=10),
                        st.lists(st.text(max_size=10)),
                        min_size=1,
                        max_size=2,
                    ),
                }
            ),
            "status": st.fixed_dictionaries(
                {
                    "conditions": _junk_conditions(min_size=1),
                    "certificate": st.binary(min_size=1, max_size=64).map(encode_request),
                }
            ),
        }
    )


# ---------------------------------------------------------------------------
# Valid objects
# ---------------------------------------------------------------------------


@functools.cache
def requests(keys: st.SearchStrategy[PrivateKey] | None = None) -> st.SearchStrategy[bytes]:
    """PEM bytes for ``spec.request``: mostly clean requests, sometimes tolerated
    irregular ones (text around the block, headers, extra blocks)."""
    return st.one_of(
        csr_pems(keys),
        csr_pems(keys),
        csr_pems(keys),
        tolerated_requests(keys),
    )


@functools.cache
def valid_csr(
    *,
    signer_names: st.SearchStrategy[str] | None = None,
    names: st.SearchStrategy[str] | None = None,
    request_pems: st.SearchStrategy[bytes] | None = None,
    usages: st.SearchStrategy[list[str]] | None = None,
    expirations: st.SearchStrategy[int | None] | None = None,
    junk: bool = True,
) -> st.SearchStrategy[JSON]:
    """A v1 CSR object kube-apiserver must accept (201) as drawn and once prefixed.

    Defaults: ``custom_signer_names()``, ``object_names()``, ``requests()``,
    ``usage_lists()``, ``expiration_seconds()``. ``junk=False`` leaves out the fields the
    server discards.
    """
    return _valid_csr(
        signer_names if signer_names is not None else custom_signer_names(),
        names if names is not None else object_names(),
        request_pems if request_pems is not None else requests(),
        usages if usages is not None else usage_lists(),
        expirations if expirations is not None else expiration_seconds(),
        junk,
    )


_ONE_IN_FIVE: Final = st.integers(0, 4)
_ONE_IN_FOUR: Final = st.integers(0, 3)


@st.composite
def _valid_csr(
    draw: st.DrawFn,
    signer_names: st.SearchStrategy[str],
    names: st.SearchStrategy[str],
    request_pems: st.SearchStrategy[bytes],
    usages: st.SearchStrategy[list[str]],
    expirations: st.SearchStrategy[int | None],
    junk: bool,
) -> JSON:
    meta: JSON = {}
    # One in five uses generateName; draws shrink to a plain name.
    if draw(_ONE_IN_FIVE) == 4:
        meta["generateName"] = draw(generate_names())
    else:
        meta["name"] = draw(names)
    if draw(st.booleans()):
        meta["labels"] = draw(labels())
    if draw(st.booleans()):
        meta["annotations"] = draw(annotations())

    spec: JSON = {
        "request": encode_request(draw(request_pems)),
        "signerName": draw(signer_names),
        "usages": draw(usages),
    }
    expiration = draw(expirations)
    if expiration is not None:
        spec["expirationSeconds"] = expiration

    obj: JSON = {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": spec}
    if junk and draw(_ONE_IN_FOUR) == 3:
        meta.update(draw(_junk_metadata()))
        spec.update(draw(_junk_spec()))
        status = draw(_optional_junk_status())
        if status is not None:
            obj["status"] = status
    return obj


@functools.cache
def _optional_junk_status() -> st.SearchStrategy[JSON | None]:
    return st.one_of(st.none(), _junk_status())


# ---------------------------------------------------------------------------
# Invalid objects: one violation each
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A single-rule change to a valid object (what ``invalid_csr`` applies)."""

    rule: str
    field: str
    kind: str
    section: str  # "metadata" or "spec"
    key: str
    value: Any  # _REMOVE deletes the key
    needs_bare_name: bool = False


_REMOVE: Final = object()


@functools.cache
def _request_violations(rule: str) -> st.SearchStrategy[Violation]:
    malformed = malformed_requests(rules=[rule]).map(
        lambda m: Violation(
            m.rule, "spec.request", f"request:{m.kind}", "spec", "request", encode_request(m.pem)
        )
    )
    if rule != RULE_R1:
        return malformed
    absent = st.just(
        Violation(RULE_R1, "spec.request", "request:absent", "spec", "request", _REMOVE)
    )
    return st.one_of(malformed, absent)


@functools.cache
def _usage_violations(rule: str) -> st.SearchStrategy[Violation]:
    return invalid_usage_lists([rule]).map(
        lambda p: Violation(
            p[1],
            "spec.usages",
            "usages:absent" if p[0] is None else "usages",
            "spec",
            "usages",
            _REMOVE if p[0] is None else p[0],
        )
    )


@functools.cache
def _signer_violations(rule: str) -> st.SearchStrategy[Violation]:
    values: st.SearchStrategy[tuple[object, str]] = invalid_signer_names([rule])
    if rule == RULE_S2:
        values = st.one_of(values, st.just((_REMOVE, RULE_S2)))
    return values.map(
        lambda p: Violation(
            p[1],
            "spec.signerName",
            "signerName:absent" if p[0] is _REMOVE else "signerName",
            "spec",
            "signerName",
            p[0],
        )
    )


def _expiration_violations() -> st.SearchStrategy[Violation]:
    return invalid_expiration_seconds().map(
        lambda p: Violation(
            p[1], "spec.expirationSeconds", "expirationSeconds", "spec", "expirationSeconds", p[0]
        )
    )


def _missing_name_violations() -> st.SearchStrategy[Violation]:
    return st.sampled_from([_REMOVE, ""]).map(
        lambda v: Violation(RULE_M2, "metadata.name", "name:missing", "metadata", "name", v, True)
    )


def _path_segment_violations() -> st.SearchStrategy[Violation]:
    bad_name = invalid_object_names().map(
        lambda p: Violation(
            p[1],
            "metadata.name",
            "name",
            "metadata",
            "name",
            p[0],
            not name_violation_survives_prefix(p[0]),
        )
    )
    bad_generate = invalid_generate_names().map(
        lambda p: Violation(
            p[1], "metadata.generateName", "generateName", "metadata", "generateName", p[0]
        )
    )
    return st.one_of(bad_name, bad_generate)


def _metadata_map_violations() -> st.SearchStrategy[Violation]:
    return st.one_of(
        invalid_labels().map(
            lambda p: Violation(p[1], "metadata.labels", "labels", "metadata", "labels", p[0])
        ),
        invalid_annotations().map(
            lambda p: Violation(
                p[1], "metadata.annotations", "annotations", "metadata", "annotations", p[0]
            )
        ),
    )


@functools.cache
def _violations_by_rule() -> dict[str, st.SearchStrategy[Violation]]:
    # Insertion order is the shrink order: simple, cheap violations first.
    return {
        "CSR-VAL-U1": _usage_violations("CSR-VAL-U1"),
        "CSR-VAL-U2": _usage_violations("CSR-VAL-U2"),
        "CSR-VAL-U3": _usage_violations("CSR-VAL-U3"),
        "CSR-VAL-S1": _signer_violations("CSR-VAL-S1"),
        "CSR-VAL-S2": _signer_violations("CSR-VAL-S2"),
        "CSR-VAL-S3": _signer_violations("CSR-VAL-S3"),
        "CSR-VAL-S4": _signer_violations("CSR-VAL-S4"),
        "CSR-VAL-S5": _signer_violations("CSR-VAL-S5"),
        "CSR-VAL-S6": _signer_violations("CSR-VAL-S6"),
        "CSR-VAL-X1": _expiration_violations(),
        RULE_M2: _missing_name_violations(),
        "CSR-META-M3": _path_segment_violations(),
        "CSR-META-M4": _metadata_map_violations(),
        RULE_R1: _request_violations(RULE_R1),
        "CSR-VAL-R2": _request_violations("CSR-VAL-R2"),
        "CSR-VAL-R3": _request_violations("CSR-VAL-R3"),
    }


INVALID_CSR_RULES: Final[tuple[str, ...]] = tuple(_violations_by_rule())
"""Every rule ``invalid_csr`` can break."""


def violations(rules: Iterable[str] | None = None) -> st.SearchStrategy[Violation]:
    """Single-rule violations, the rule drawn first and uniformly (see ``invalid_csr``)."""
    return _violations(None if rules is None else frozenset(rules))


@functools.cache
def _violations(rules: frozenset[str] | None) -> st.SearchStrategy[Violation]:
    by_rule = _violations_by_rule()
    chosen = INVALID_CSR_RULES if rules is None else tuple(rules)
    unknown = set(chosen) - set(by_rule)
    if unknown or not chosen:
        raise ValueError(f"rules must be a non-empty subset of {list(INVALID_CSR_RULES)}")
    ordered = [r for r in INVALID_CSR_RULES if r in chosen]
    return st.sampled_from(ordered).flatmap(by_rule.__getitem__)


def invalid_csr(
    *,
    rules: Iterable[str] | None = None,
    signer_names: st.SearchStrategy[str] | None = None,
    names: st.SearchStrategy[str] | None = None,
    junk: bool = True,
) -> st.SearchStrategy[InvalidCSR]:
    """A valid CSR (see ``valid_csr``) with exactly one single-rule violation, drawn from
    requests (R1-R3), usages (U1-U3), signerName (S1-S6), expirationSeconds (X1), names
    (M2, M3) and labels/annotations (M4); ``rules`` narrows the choice.

    The rule is drawn before anything else: Hypothesis steers away from parts of the
    search space it has exhausted, and rules with few distinct violations (U1, S1, S2,
    M2) would otherwise almost never be drawn after a large base object.
    """
    chosen = INVALID_CSR_RULES if rules is None else tuple(rules)
    unknown = set(chosen) - set(INVALID_CSR_RULES)
    if unknown or not chosen:
        raise ValueError(f"rules must be a non-empty subset of {list(INVALID_CSR_RULES)}")
    ordered = tuple(r for r in INVALID_CSR_RULES if r in chosen)
    return _invalid_csr(ordered, valid_csr(signer_names=signer_names, names=names, junk=junk))


@functools.cache
def _invalid_csr(
    rules: tuple[str, ...], valid: st.SearchStrategy[JSON]
) -> st.SearchStrategy[InvalidCSR]:
    return _invalid_csr_drawn(st.sampled_from(rules), valid)


@st.composite
def _invalid_csr_drawn(
    draw: st.DrawFn, rules: st.SearchStrategy[str], valid: st.SearchStrategy[JSON]
) -> InvalidCSR:
    rule = draw(rules)
    obj = draw(valid)
    v = draw(_VIOLATIONS[rule])
    meta: JSON = obj["metadata"]
    if v.key in ("name", "generateName"):
        # The violation decides the whole naming: drop whichever the base drew.
        meta.pop("name", None)
        meta.pop("generateName", None)
    target: JSON = obj[v.section]
    if v.value is _REMOVE:
        target.pop(v.key, None)
    else:
        target[v.key] = v.value
    return InvalidCSR(obj, v.rule, v.field, v.kind, v.needs_bare_name)


_VIOLATIONS: Final = _violations_by_rule()
