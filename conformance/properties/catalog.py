"""Which property checks which rules, found by importing the property modules.

The project's self-check uses this to run, for each fault of the fake, only the
properties that claim the rules the fault breaks, and to list rules no property checks.
"""

from __future__ import annotations

import importlib
import pkgutil

import conformance.properties as _pkg
from conformance.properties.support import rules_of


def property_rules() -> dict[str, tuple[str, ...]]:
    """Test function name -> the rule ids it declares."""
    out: dict[str, tuple[str, ...]] = {}
    for info in pkgutil.iter_modules(_pkg.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{_pkg.__name__}.{info.name}")
        for name, fn in vars(module).items():
            if name.startswith("test_") and callable(fn):
                out[name] = rules_of(fn)
    return out


def properties_for(rules: tuple[str, ...] | frozenset[str]) -> list[str]:
    """The properties that name at least one of ``rules``."""
    wanted = set(rules)
    return sorted(name for name, rs in property_rules().items() if wanted & set(rs))
