"""Key usages for ``spec.usages``: valid lists and lists that break U1, U2 or U3.

Upstream: ``allValidUsages`` in pkg/apis/certificates/validation/validation.go and the
``KeyUsage`` constants in staging/src/k8s.io/api/certificates/v1/types.go. Matching is
exact: case, spacing and punctuation all matter, which is what the U2 variants probe.

Strategies are built once and cached; composites draw only from cached strategies (a
strategy built per draw is validated again per draw, see ``strategies.names``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final, TypeVar

from hypothesis import strategies as st

RULE_U1: Final = "CSR-VAL-U1"
RULE_U2: Final = "CSR-VAL-U2"
RULE_U3: Final = "CSR-VAL-U3"

USAGES: Final[tuple[str, ...]] = (
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
)
"""The 23 values kube-apiserver accepts, in the order types.go declares them."""

_USAGE_SET: Final = frozenset(USAGES)
_T = TypeVar("_T")

# The order draws shrink along: the usages a real client certificate asks for come first,
# so a minimal failing example reads like an ordinary request.
_SHRINK_ORDER: Final[tuple[str, ...]] = (
    "digital signature",
    "client auth",
    "key encipherment",
    "server auth",
    *(
        u
        for u in USAGES
        if u not in ("digital signature", "client auth", "key encipherment", "server auth")
    ),
)


@functools.cache
def usages() -> st.SearchStrategy[str]:
    """One valid usage."""
    return st.sampled_from(_SHRINK_ORDER)


@functools.cache
def usage_lists(min_size: int = 1) -> st.SearchStrategy[list[str]]:
    """Non-empty lists of distinct valid usages, in any order (the server keeps the order)."""
    return st.lists(usages(), min_size=min_size, max_size=len(USAGES), unique=True)


def _variants(usage: str) -> list[str]:
    return [
        usage.upper(),
        usage.title(),
        usage.capitalize(),
        usage.replace(" ", "-"),
        usage.replace(" ", "_"),
        usage.replace(" ", ""),
        usage.replace(" ", "  "),
        " " + usage,
        usage + " ",
        usage + "\t",
    ]


_VARIANTS: Final = {u: st.sampled_from(_variants(u)) for u in USAGES}


@st.composite
def _near_miss(draw: st.DrawFn) -> str:
    usage = draw(usages())
    return draw(_VARIANTS[usage])


@functools.cache
def _permutations(size: int) -> st.SearchStrategy[list[int]]:
    return st.permutations(range(size))


def _shuffled(draw: st.DrawFn, values: list[str]) -> list[str]:
    """``draw(st.permutations(values))`` through a cached strategy of index permutations
    (the same choices, so the same shrinking: towards the original order)."""
    return [values[i] for i in draw(_permutations(len(values)))]


@functools.cache
def unknown_usages() -> st.SearchStrategy[str]:
    """Strings that are not valid usages: near misses of real ones, and arbitrary text."""
    return st.one_of(
        _near_miss(), st.sampled_from(["", "ClientAuth", "tls client", "serverAuth"]), st.text()
    ).filter(lambda u: u not in _USAGE_SET)


@st.composite
def _with_unknown(draw: st.DrawFn) -> list[str]:
    known = draw(_KNOWN_0_5)
    unknown = draw(_UNKNOWN_1_3)
    return _shuffled(draw, known + unknown)


_KNOWN_0_5: Final = st.lists(usages(), max_size=5, unique=True)
_KNOWN_1_5: Final = st.lists(usages(), min_size=1, max_size=5, unique=True)
_UNKNOWN_1_3: Final = st.lists(unknown_usages(), min_size=1, max_size=3, unique=True)


@functools.cache
def _repeat_indices(size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, size - 1), min_size=1, max_size=3)


@st.composite
def _with_duplicates(draw: st.DrawFn) -> list[str]:
    known = draw(_KNOWN_1_5)
    repeats = [known[i] for i in draw(_repeat_indices(len(known)))]
    return _shuffled(draw, known + repeats)


def invalid_usage_lists(
    rules: Iterable[str] | None = None,
) -> st.SearchStrategy[tuple[list[str] | None, str]]:
    """``(usages, rule)``; ``None`` means "leave spec.usages out".

    - U1: missing or empty.
    - U2: unknown values, all distinct from each other and from the valid ones in the
      list (a repeated unknown value would also be a U3 duplicate).
    - U3: repeats of valid values only.

    ``rules`` narrows the draw to some of the three.
    """
    return _invalid_usage_lists(None if rules is None else frozenset(rules))


@functools.cache
def _invalid_usage_lists(
    rules: frozenset[str] | None,
) -> st.SearchStrategy[tuple[list[str] | None, str]]:
    by_rule: dict[str, st.SearchStrategy[list[str] | None]] = {
        RULE_U1: st.sampled_from([None, []]),
        RULE_U2: _with_unknown(),
        RULE_U3: _with_duplicates(),
    }
    return st.one_of([st.tuples(s, st.just(r)) for r, s in _select(by_rule, rules).items()])


def _select(by_rule: dict[str, _T], rules: Iterable[str] | None) -> dict[str, _T]:
    if rules is None:
        return by_rule
    wanted = set(rules)
    unknown = wanted - set(by_rule)
    if unknown or not wanted:
        raise ValueError(f"rules must be a non-empty subset of {sorted(by_rule)}")
    return {r: s for r, s in by_rule.items() if r in wanted}
