"""Property names are the keys of reports, replays, -k selections and the fault self-check,
so no two property modules may define the same test name."""

from __future__ import annotations

import collections
import importlib
import pkgutil

import conformance.properties as properties


def test_no_two_property_modules_share_a_test_name() -> None:
    owners: dict[str, list[str]] = collections.defaultdict(list)
    for info in pkgutil.iter_modules(properties.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{properties.__name__}.{info.name}")
        for name, value in vars(module).items():
            if name.startswith("test_") and getattr(value, "__module__", "") == module.__name__:
                owners[name].append(info.name)
    shared = {name: mods for name, mods in owners.items() if len(mods) > 1}
    assert not shared, f"test names defined in more than one property module: {shared}"
