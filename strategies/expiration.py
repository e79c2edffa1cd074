"""``spec.expirationSeconds``: valid values, X1 violations and undecodable (X3) values.

Upstream: validation.go rejects values below 600 and sets no maximum; the field is an
int32, so anything outside int32 fails JSON decoding (400) before validation runs.
"""

from __future__ import annotations

import functools
from typing import Final

from hypothesis import strategies as st

RULE_X1: Final = "CSR-VAL-X1"
RULE_X3: Final = "CSR-VAL-X3"

MIN_EXPIRATION_SECONDS: Final = 600
INT32_MAX: Final = 2**31 - 1
INT32_MIN: Final = -(2**31)


@functools.cache
def expiration_seconds() -> st.SearchStrategy[int | None]:
    """Valid values; ``None`` means "leave the field out" and is what draws shrink to."""
    return st.one_of(
        st.none(),
        st.sampled_from([MIN_EXPIRATION_SECONDS, 3600, 86400, INT32_MAX]),
        st.integers(MIN_EXPIRATION_SECONDS, INT32_MAX),
    )


@functools.cache
def invalid_expiration_seconds() -> st.SearchStrategy[tuple[int, str]]:
    """``(value, CSR-VAL-X1)``: int32 values below 600, boundaries included."""
    return st.tuples(
        st.one_of(
            st.sampled_from([MIN_EXPIRATION_SECONDS - 1, 0, -1, INT32_MIN]),
            st.integers(INT32_MIN, MIN_EXPIRATION_SECONDS - 1),
        ),
        st.just(RULE_X1),
    )


@functools.cache
def undecodable_expiration_seconds() -> st.SearchStrategy[tuple[int, str]]:
    """``(value, CSR-VAL-X3)``: integers just outside int32 (a 400 decode error, not 422)."""
    return st.tuples(
        st.one_of(
            st.sampled_from([INT32_MAX + 1, INT32_MIN - 1]),
            st.integers(INT32_MAX + 1, 2**63 - 1),
            st.integers(-(2**63), INT32_MIN - 1),
        ),
        st.just(RULE_X3),
    )
