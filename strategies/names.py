"""Names: signer names, object names, generateName prefixes, labels and annotations.

Valid strategies draw values kube-apiserver must accept; invalid ones draw
``(value, rule_id)`` pairs that break exactly one rule, so a property can assert the rule
id and the field of the 422 cause it expects. Boundaries (253/254-byte domains, 571/572-byte
signer names, 63/64-character label parts) are drawn on purpose, not left to chance.

Upstream: ``ValidateSignerName`` (pkg/apis/core/validation), ``IsDNS1123Label`` /
``IsDNS1123Subdomain`` / ``IsQualifiedName`` / ``IsValidLabelValue``
(apimachinery pkg/util/validation), ``ValidateAnnotations`` and
``IsValidPathSegmentName`` (apimachinery pkg/api/validation).

Every strategy here is built once and cached (``functools.cache``): Hypothesis validates
a strategy the first time it is drawn from, and a strategy built afresh inside a per-draw
composite is validated again on every draw, which used to be most of the suite's time.
Composites therefore only ever draw from cached strategies.
"""

import functools
from collections.abc import Iterable
from typing import Final

from hypothesis import strategies as st
from hypothesis.internal.intervalsets import IntervalSet

RULE_S1: Final = "CSR-VAL-S1"
RULE_S2: Final = "CSR-VAL-S2"
RULE_S3: Final = "CSR-VAL-S3"
RULE_S4: Final = "CSR-VAL-S4"
RULE_S5: Final = "CSR-VAL-S5"
RULE_S6: Final = "CSR-VAL-S6"
RULE_M3: Final = "CSR-META-M3"
RULE_M4: Final = "CSR-META-M4"

WELL_KNOWN_SIGNERS: Final[tuple[str, ...]] = (
    "kubernetes.io/kube-apiserver-client",
    "kubernetes.io/kube-apiserver-client-kubelet",
    "kubernetes.io/kubelet-serving",
)
LEGACY_UNKNOWN_SIGNER: Final = "kubernetes.io/legacy-unknown"

MAX_DOMAIN: Final = 253  # DNS1123SubdomainMaxLength
MAX_LABEL: Final = 63  # DNS1123LabelMaxLength
MAX_SIGNER_NAME: Final = 571  # 253 + 1 + (253 + 63 + 1)
MAX_GENERATE_NAME_KEPT: Final = 58  # generateName is cut to this many bytes
MAX_ANNOTATIONS_BYTES: Final = 256 * 1024

_ALNUM: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_LABEL_INNER: Final = _ALNUM + "-"
_QN_EDGE: Final = _ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_QN_INNER: Final = _QN_EDGE + "-_."

Pair = tuple[str, str]
"""``(value, rule_id)`` for invalid values."""


def is_kubernetes_signer_name(name: str) -> bool:
    """Upstream ``IsKubernetesSignerName``: the domain is kubernetes.io or a subdomain."""
    host = name.split("/", 1)[0]
    return host == "kubernetes.io" or host.endswith(".kubernetes.io")


# ---------------------------------------------------------------------------
# DNS building blocks
# ---------------------------------------------------------------------------


def _shrink_order(alphabet: str) -> str:
    """``alphabet``'s characters in the order Hypothesis shrinks text towards."""
    chars = IntervalSet.from_string(alphabet)
    return "".join(chars.char_in_shrink_order(i) for i in range(len(chars)))


@functools.cache
def _ordered_text(order: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Text over the characters of ``order`` that shrinks towards ``order[0]``.

    One string choice per draw (a label drawn character by character, or as first +
    middle + last, costs several choices, and each choice costs Hypothesis far more than
    the string it yields); the characters are translated so that the one Hypothesis
    shrinks towards becomes ``order[0]``.
    """
    native = _shrink_order(order)
    table = str.maketrans(native, order)
    return st.text(alphabet=native, min_size=min_size, max_size=max_size).map(
        lambda s: s.translate(table)
    )


def _fix_edges(text: str, edge: str) -> str:
    """``text`` with a first or last character outside ``edge`` replaced by ``edge[0]``."""
    if text and text[0] not in edge:
        text = edge[0] + text[1:]
    if text and text[-1] not in edge:
        text = text[:-1] + edge[0]
    return text


def _label_edges(text: str) -> str:
    return _fix_edges(text, _ALNUM)


_LABEL_ORDER: Final = _ALNUM + "-"


@functools.cache
def _label_of_size(size: int) -> st.SearchStrategy[str]:
    """A valid RFC 1123 label (no length cap here: callers pick the size)."""
    return dns_labels(size, size)


@functools.cache
def dns_labels(min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """Valid DNS-1123 labels (lower case, digits, inner '-'); shrink towards "a"."""
    return _ordered_text(_LABEL_ORDER, min_size, max_size).map(_label_edges)


def _split_sizes(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@functools.cache
def _dotted_of_length(length: int, max_piece: int, min_pieces: int) -> st.SearchStrategy[str]:
    """Dot-joined valid labels whose total length is exactly ``length``."""
    pieces = max(min_pieces, -(-(length + 1) // (max_piece + 1)))
    sizes = _split_sizes(length - (pieces - 1), pieces)
    if min(sizes) < 1 or max(sizes) > max_piece:
        raise ValueError(f"cannot split {length} into {pieces} pieces of 1..{max_piece}")
    return st.tuples(*(_label_of_size(s) for s in sizes)).map(".".join)


@functools.cache
def domains_of_length(length: int) -> st.SearchStrategy[str]:
    """Valid multi-label domains of exactly ``length`` bytes (>= 3)."""
    return _dotted_of_length(length, MAX_LABEL, 2)


@functools.cache
def _paths_of_length(length: int) -> st.SearchStrategy[str]:
    return _dotted_of_length(length, MAX_DOMAIN, 1)


@functools.cache
def domains() -> st.SearchStrategy[str]:
    """Valid domains with 2-4 short labels."""
    return st.lists(dns_labels(1, 12), min_size=2, max_size=4).map(".".join)


@functools.cache
def _signer_paths() -> st.SearchStrategy[str]:
    return st.lists(dns_labels(1, 16), min_size=1, max_size=3).map(".".join)


# ---------------------------------------------------------------------------
# Signer names
# ---------------------------------------------------------------------------


_BOUNDARIES: Final = st.sampled_from(["domain-253", "total-571", "path-piece-253", "label-63"])


@st.composite
def _boundary_signer_names(draw: st.DrawFn) -> str:
    which = draw(_BOUNDARIES)
    if which == "domain-253":
        return draw(domains_of_length(MAX_DOMAIN)) + "/" + draw(_signer_paths())
    if which == "total-571":
        domain_len = draw(st.integers(3, MAX_DOMAIN))
        path_len = MAX_SIGNER_NAME - 1 - domain_len
        return draw(domains_of_length(domain_len)) + "/" + draw(_paths_of_length(path_len))
    if which == "path-piece-253":
        return draw(domains()) + "/" + draw(_label_of_size(MAX_DOMAIN))
    return draw(_label_of_size(MAX_LABEL)) + "." + draw(domains()) + "/" + draw(_signer_paths())


@functools.cache
def custom_signer_names() -> st.SearchStrategy[str]:
    """Valid signer names outside kubernetes.io, i.e. ones no in-tree signer acts on.

    Properties that run against real clusters should use these, so no controller ever
    approves or signs what they create.
    """
    simple = st.builds(lambda d, p: f"{d}/{p}", domains(), _signer_paths())
    return st.one_of(simple, _boundary_signer_names()).filter(
        lambda s: not is_kubernetes_signer_name(s)
    )


@functools.cache
def signer_names() -> st.SearchStrategy[str]:
    """Every kind of valid signer name: custom, the three well-known ones, and other
    kubernetes.io names (syntactically valid; the API treats them like any other)."""
    reserved = st.builds(
        lambda sub, p: f"{sub}kubernetes.io/{p}",
        st.sampled_from(["", "sub.", "a.b."]),
        _signer_paths(),
    ).filter(lambda s: s != LEGACY_UNKNOWN_SIGNER)
    return st.one_of(custom_signer_names(), st.sampled_from(WELL_KNOWN_SIGNERS), reserved)


@functools.cache
def _bad_label(max_len: int) -> st.SearchStrategy[str]:
    """One invalid label/path piece; each breaks the label rule once (one error)."""
    good = dns_labels(1, 10)
    return st.one_of(
        st.just(""),
        good.map(lambda s: s[:-1] + s[-1].upper() if s[-1].isalpha() else s + "A"),
        good.map(lambda s: s + "_x"),
        good.map(lambda s: "-" + s),
        good.map(lambda s: s + "-"),
        good.map(lambda s: s + "é"),
        good.map(lambda s: s + " x"),
        st.integers(max_len + 1, max_len + 8).flatmap(_label_of_size),
    )


_SHORT_LABEL_LISTS_2_4: Final = st.lists(dns_labels(1, 10), min_size=2, max_size=4)
_SHORT_LABEL_LISTS_1_3: Final = st.lists(dns_labels(1, 10), min_size=1, max_size=3)
_TOO_LONG_TOTALS: Final = st.one_of(st.just(MAX_SIGNER_NAME + 1), st.integers(572, 600))


@st.composite
def _domain_with_bad_label(draw: st.DrawFn) -> str:
    labels = draw(_SHORT_LABEL_LISTS_2_4)
    index = draw(st.integers(0, len(labels) - 1))
    labels[index] = draw(_bad_label(MAX_LABEL))
    return ".".join(labels)


@st.composite
def _path_with_bad_piece(draw: st.DrawFn) -> str:
    pieces = draw(_SHORT_LABEL_LISTS_1_3)
    index = draw(st.integers(0, len(pieces) - 1))
    pieces[index] = draw(_bad_label(MAX_DOMAIN))
    return ".".join(pieces)


@st.composite
def _signer_too_long(draw: st.DrawFn) -> str:
    domain_len = draw(st.integers(3, MAX_DOMAIN))
    total = draw(_TOO_LONG_TOTALS)
    return (
        draw(domains_of_length(domain_len)) + "/" + draw(_paths_of_length(total - 1 - domain_len))
    )


@functools.cache
def _pair(rule: str) -> st.SearchStrategy[str]:
    return st.just(rule)


def invalid_signer_names(rules: Iterable[str] | None = None) -> st.SearchStrategy[Pair]:
    """``(signerName, rule)`` pairs, one branch per rule S1-S6; each breaks only that rule.

    ``rules`` narrows the draw to some of them.
    """
    return _invalid_signer_names(None if rules is None else frozenset(rules))


@functools.cache
def _invalid_signer_names(rules: frozenset[str] | None) -> st.SearchStrategy[Pair]:
    path = _signer_paths()
    s3 = st.one_of(
        domains(),
        st.builds(lambda d, a, b: f"{d}/{a}/{b}", domains(), path, path),
        st.builds(lambda d, p: f"/{d}/{p}", domains(), path),
        st.builds(lambda d, p: f"{d}//{p}", domains(), path),
    )
    s4 = st.one_of(
        st.builds(lambda d, p: f"{d}/{p}", _domain_with_bad_label(), path),
        st.builds(lambda d, p: f"{d}/{p}", dns_labels(1, 12), path),
        st.builds(
            lambda d, p: f"{d}/{p}",
            # 254 bytes, one past the limit, on purpose; then anything longer.
            st.one_of(
                domains_of_length(MAX_DOMAIN + 1),
                st.integers(MAX_DOMAIN + 1, MAX_DOMAIN + 40).flatmap(domains_of_length),
            ),
            path,
        ),
    )
    s5 = st.one_of(
        domains().map(lambda d: d + "/"),
        st.builds(lambda d, p: f"{d}/{p}", domains(), _path_with_bad_piece()),
    )
    by_rule: dict[str, st.SearchStrategy[str]] = {
        RULE_S1: st.just(LEGACY_UNKNOWN_SIGNER),
        RULE_S2: st.just(""),
        RULE_S3: s3,
        RULE_S4: s4,
        RULE_S5: s5,
        RULE_S6: _signer_too_long(),
    }
    if rules is not None:
        wanted = set(rules)
        if not wanted or wanted - set(by_rule):
            raise ValueError(f"rules must be a non-empty subset of {sorted(by_rule)}")
        by_rule = {r: s for r, s in by_rule.items() if r in wanted}
    return st.one_of([st.tuples(s, st.just(r)) for r, s in by_rule.items()])


# ---------------------------------------------------------------------------
# Object names and generateName
# ---------------------------------------------------------------------------

# Control characters are left out: they are legal in a CSR name, but they make reports
# unreadable and stress URL handling rather than the CSR API. Code points unassigned in
# this Python's Unicode tables (Cn) are left out too: the server's Go may know them
# (Go 1.26 has newer Unicode than Python 3.11), and %q quoting depends on that.
_NAME_CHARS: Final = st.characters(
    codec="utf-8", exclude_categories=["Cc", "Cn"], exclude_characters="/%"
)
_FORBIDDEN_WHOLE: Final = frozenset({".", ".."})


_LONG_NAME_LENGTHS: Final = st.integers(MAX_DOMAIN + 1, MAX_DOMAIN + 60)
_LONG_NAME_STEMS: Final = st.text(alphabet=_NAME_CHARS, min_size=1, max_size=8)


@st.composite
def _long_names(draw: st.DrawFn) -> str:
    length = draw(_LONG_NAME_LENGTHS)
    stem = draw(_LONG_NAME_STEMS)
    return (stem * (length // len(stem) + 1))[:length]


@functools.cache
def object_names() -> st.SearchStrategy[str]:
    """Names kube-apiserver accepts for a CSR: anything but '.', '..', '/' and '%'.

    Upper case, spaces, ':', non-ASCII and names over 253 characters are all legal (a CSR
    name has no DNS rules). Never empty, so the name stays valid with or without the run
    prefix the suite puts in front of it.
    """
    return st.one_of(
        st.text(alphabet=_LABEL_INNER, min_size=1, max_size=20),
        st.text(alphabet=_QN_INNER + " :@~+=!$&'()*,;?#[]", min_size=1, max_size=30),
        st.text(alphabet=_NAME_CHARS, min_size=1, max_size=40),
        _long_names(),
    ).filter(lambda s: s not in _FORBIDDEN_WHOLE)


def name_violation_survives_prefix(name: str) -> bool:
    """Whether ``name`` is still invalid once a run prefix is put in front of it.

    '/' and '%' are forbidden anywhere; '.' and '..' only as the whole name.
    """
    return "/" in name or "%" in name


_FORBIDDEN_BASES: Final = st.text(alphabet=_LABEL_INNER, max_size=12)
_FORBIDDEN_PARTS: Final = st.sampled_from(["/", "%", "/%", "%2F", "%25"])


@st.composite
def _names_containing_forbidden(draw: st.DrawFn) -> str:
    base = draw(_FORBIDDEN_BASES)
    bad = draw(_FORBIDDEN_PARTS)
    at = draw(st.integers(0, len(base)))
    return base[:at] + bad + base[at:]


@functools.cache
def invalid_object_names() -> st.SearchStrategy[Pair]:
    """``(name, CSR-META-M3)``: '.', '..', or names containing '/' and/or '%'.

    Use ``name_violation_survives_prefix`` to tell which stay invalid behind a prefix.
    """
    return st.tuples(
        st.one_of(st.sampled_from([".", ".."]), _names_containing_forbidden()), _pair(RULE_M3)
    )


@functools.cache
def generate_names() -> st.SearchStrategy[str]:
    """Valid generateName prefixes, including ones longer than the 58 bytes kept.

    ASCII only: the server cuts the prefix at a byte offset, and a multi-byte character
    split there yields a name that no longer round-trips through JSON, so the object could
    not be found (or cleaned up) by name afterwards.
    """
    printable = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "/%")
    return st.one_of(
        st.text(alphabet=_LABEL_INNER, min_size=1, max_size=20).map(lambda s: s + "-"),
        st.text(alphabet=printable, min_size=1, max_size=30),
        st.text(
            alphabet=_LABEL_INNER,
            min_size=MAX_GENERATE_NAME_KEPT - 2,
            max_size=MAX_GENERATE_NAME_KEPT + 40,
        ),
    )


@functools.cache
def invalid_generate_names() -> st.SearchStrategy[Pair]:
    """``(generateName, CSR-META-M3)``: prefixes containing '/' or '%'."""
    return st.tuples(_names_containing_forbidden(), _pair(RULE_M3))


# ---------------------------------------------------------------------------
# Labels and annotations
# ---------------------------------------------------------------------------


def _qn_edges(text: str) -> str:
    return _fix_edges(text, _QN_EDGE)


@functools.cache
def _qualified_name_parts(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Name parts of a qualified name ([A-Za-z0-9-_.], alphanumeric ends), one choice."""
    return _ordered_text(_QN_INNER, min_size, max_size).map(_qn_edges)


def _qualified_name_part(size: int) -> st.SearchStrategy[str]:
    return _qualified_name_parts(size, size)


@functools.cache
def _name_parts() -> st.SearchStrategy[str]:
    return st.one_of(_qualified_name_parts(1, 12), _qualified_name_parts(MAX_LABEL, MAX_LABEL))


@functools.cache
def _prefixes(upper: bool) -> st.SearchStrategy[str]:
    base = st.lists(dns_labels(1, 10), min_size=1, max_size=3).map(".".join)
    if upper:
        return st.builds(lambda p, up: p.upper() if up else p, base, st.booleans())
    return base


@functools.cache
def _qualified_names(upper_prefix: bool) -> st.SearchStrategy[str]:
    return st.one_of(
        _name_parts(),
        st.builds(lambda p, n: f"{p}/{n}", _prefixes(upper_prefix), _name_parts()),
    )


@functools.cache
def label_values() -> st.SearchStrategy[str]:
    """Valid label values: empty, or up to 63 characters [A-Za-z0-9-_.] with
    alphanumeric ends."""
    return st.one_of(st.just(""), _name_parts())


@functools.cache
def labels() -> st.SearchStrategy[dict[str, str]]:
    """Valid label maps (possibly empty)."""
    return st.dictionaries(_qualified_names(False), label_values(), max_size=4)


@functools.cache
def annotations() -> st.SearchStrategy[dict[str, str]]:
    """Valid annotation maps. Keys are checked after lower-casing, so an upper-case prefix
    is legal here (unlike in a label key); values are free text."""
    return st.dictionaries(_qualified_names(True), st.text(max_size=60), max_size=4)


@functools.cache
def _bad_qualified_names(lowercased: bool) -> st.SearchStrategy[str]:
    name = _name_parts()
    prefix = _prefixes(False)
    options = [
        st.just(""),
        name.map(lambda n: "-" + n),
        name.map(lambda n: n + "."),
        name.map(lambda n: n + " x"),
        name.map(lambda n: n + "é"),
        st.builds(lambda p, a, b: f"{p}/{a}/{b}", prefix, name, name),
        name.map(lambda n: "/" + n),
        prefix.map(lambda p: p + "/"),
        st.builds(lambda p, n: f"{p}_x/{n}", prefix, name),
        st.integers(MAX_LABEL + 1, MAX_LABEL + 10).flatmap(_qualified_name_part),
        st.builds(
            lambda p, n: f"{p}/{n}",
            st.integers(MAX_DOMAIN + 1, MAX_DOMAIN + 10).flatmap(domains_of_length),
            name,
        ),
    ]
    if not lowercased:
        options.append(st.builds(lambda p, n: f"{p.upper()}/{n}", prefix, name))
    return st.one_of(options)


@functools.cache
def _bad_label_values() -> st.SearchStrategy[str]:
    name = _name_parts()
    return st.one_of(
        st.integers(MAX_LABEL + 1, MAX_LABEL + 10).flatmap(_qualified_name_part),
        name.map(lambda n: "-" + n),
        name.map(lambda n: n + "_"),
        name.map(lambda n: n + " x"),
        name.map(lambda n: n + "/x"),
        name.map(lambda n: n + "é"),
    )


@st.composite
def _invalid_labels(draw: st.DrawFn) -> dict[str, str]:
    good = draw(labels())
    if draw(st.booleans()):
        good[draw(_bad_qualified_names(False))] = draw(label_values())
    else:
        good[draw(_qualified_names(False))] = draw(_bad_label_values())
    return good


@functools.cache
def invalid_labels() -> st.SearchStrategy[tuple[dict[str, str], str]]:
    """``(labels, CSR-META-M4)``: a valid map plus one bad key or one bad value."""
    return st.tuples(_invalid_labels(), _pair(RULE_M4))


_SHORT_TEXT: Final = st.text(max_size=20)
_OVERSHOOT: Final = st.integers(1, 64)


@st.composite
def _invalid_annotations(draw: st.DrawFn) -> dict[str, str]:
    good = draw(annotations())
    if draw(st.booleans()):
        good[draw(_bad_qualified_names(True))] = draw(_SHORT_TEXT)
        return good
    # Oversized: one value pushes the total (keys + values, in bytes) just past 256 KiB.
    # A key the map already has is overwritten (no per-draw filter: that would build and
    # validate a new strategy on every draw).
    key = draw(_qualified_names(True))
    good.pop(key, None)
    used = sum(len(k.encode()) + len(v.encode()) for k, v in good.items())
    over = draw(_OVERSHOOT)
    good[key] = "x" * max(0, MAX_ANNOTATIONS_BYTES - used - len(key.encode()) + over)
    return good


@functools.cache
def invalid_annotations() -> st.SearchStrategy[tuple[dict[str, str], str]]:
    """``(annotations, CSR-META-M4)``: one bad key, or a total size over 256 KiB."""
    return st.tuples(_invalid_annotations(), _pair(RULE_M4))
