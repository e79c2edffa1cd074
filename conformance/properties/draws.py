"""Strategies that only make sense for properties: shapes of several objects at once."""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st

from strategies.csr import valid_csr


def _name_key(csr: dict[str, Any]) -> str:
    meta = csr["metadata"]
    return str(meta.get("name", "generateName:" + str(meta.get("generateName"))))


@functools.cache
def distinct_csrs(min_size: int, max_size: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Several valid CSRs whose names differ (generateName ones may repeat a prefix)."""
    return st.lists(valid_csr(), min_size=min_size, max_size=max_size, unique_by=_name_key)
