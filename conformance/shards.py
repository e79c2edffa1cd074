"""``--shard K/N``: which properties one of N CI jobs runs, and the record the merge reads.

The suite scales past one machine through the CI system's own job matrix: N jobs run the
same command with ``--shard 1/N`` ... ``--shard N/N`` and a last job merges their reports
(reports/merge.py). For that to give the serial run's verdict, the split must be

- a partition: every selected test case lands in exactly one shard, whatever the
  selection (``-k``, ``--rule``, ``--skip``, ``--last-failed``);
- the same on every machine and every run: no timing, no randomness, no host names.

So a whole property (with all its parametrised cases, which share a function and its
set-up) is placed by its name alone, over the catalogue of *every* property, not over
the selection: the shard of a property never depends on what else was selected, so
``run --list --shard K/N`` (which lists without pytest) and the run agree exactly. The
catalogue is balanced by longest-first greedy packing on a static weight per property
(seconds it took on the fake plus kube-apiserver, measured once, below), so the slow
watch and signer properties do not all end up in one job.

Loaded into pytest by the CLI as ``-p conformance.shards`` (``--csr-shard K/N``); it
drops the other shards' cases after every other selection has run, and writes
``shard.json`` into the report directory: the whole selection in collection order with
each case's shard, which is how the merge restores the serial order and names the
cases of a shard that never reported.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

SHARD_FILE = "shard.json"

# Seconds per property on the fake + on kube-apiserver v1.34 at the default budget
# (25 examples), rounded; 2026-11-29, from full runs' results.json. Properties not
# listed weigh DEFAULT_WEIGHT. Only the balance depends on these numbers, never the
# partition itself, so a stale table costs wall time, not correctness.
WEIGHTS: Mapping[str, int] = {
    "test_unapproved_requests_never_get_a_certificate": 81,
    "test_approved_request_gets_one_certificate": 49,
    "test_policy_violation_ends_in_failed": 47,
    "test_protobuf_watch_streams_the_same_events": 33,
    "test_invalid_create_is_rejected_with_the_expected_causes": 22,
    "test_watch_histories_keep_every_guarantee": 21,
    "test_concurrent_writers_are_seen_in_one_order_by_every_watcher": 20,
    "test_label_selectors_select_exactly_on_list_and_watch": 19,
    "test_watch_options_are_refused_exactly_as_kube_apiserver_refuses_them": 14,
    "test_bookmarks_never_go_back_and_carry_only_a_resource_version": 14,
    "test_update_histories_follow_kube_apiserver": 9,
    "test_certificate_follows_the_signer_policy": 6,
    "test_certificate_lifetime": 6,
    "test_requestor_fields_come_from_the_authenticated_user": 5,
    "test_label_selectors_select_exactly_the_matching_objects": 5,
    "test_field_selectors_on_name_and_signer": 5,
    "test_requests_of_every_key_family_and_subject_are_accepted": 4,
    "test_deletecollection_deletes_exactly_the_selected_objects": 4,
    "test_metadata_changes_through_every_endpoint": 4,
    "test_merge_and_strategic_patches_replace_the_condition_list": 4,
}
DEFAULT_WEIGHT = 2


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str) -> Shard:
    """``K/N`` with 1 <= K <= N; anything else is a ValueError with a one-line reason."""
    k, sep, n = text.strip().partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise ValueError(f"must be K/N (e.g. 1/4), not {text!r}")
    index, total = int(k), int(n)
    if total < 1 or not 1 <= index <= total:
        raise ValueError(f"must be K/N with 1 <= K <= N, not {text!r}")
    return Shard(index, total)


def assign(names: Iterable[str], total: int) -> dict[str, int]:
    """Property name -> shard (1-based): heaviest first, each to the lightest shard so far
    (ties to the lowest shard), names ordered so the result is the same everywhere."""
    load = [0] * total
    out: dict[str, int] = {}
    for name in sorted(set(names), key=lambda n: (-WEIGHTS.get(n, DEFAULT_WEIGHT), n)):
        lightest = min(range(total), key=lambda i: (load[i], i))
        load[lightest] += WEIGHTS.get(name, DEFAULT_WEIGHT)
        out[name] = lightest + 1
    return out


def catalogue() -> list[str]:
    """Every property's name (test function names are unique across the property modules,
    tests/test_property_names.py keeps them so)."""
    from conformance.properties.catalog import property_rules

    return sorted(property_rules())


def shard_of(name: str, total: int, placed: Mapping[str, int]) -> int:
    """The shard of a property, by its name (``[...]`` parameters ignored). A test the
    catalogue does not know (none today) still gets a fixed place, by a checksum."""
    base = name.split("[", 1)[0]
    if base in placed:
        return placed[base]
    return zlib.crc32(base.encode()) % total + 1


# -- pytest -----------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("csr-conformance").addoption(
        "--csr-shard",
        default=None,
        help="run only shard K of N (K/N) of the selected properties",
    )


@pytest.hookimpl(trylast=True)  # after -k, --csr-rule, --csr-skip, --csr-nodeids
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    text = config.getoption("--csr-shard", default=None)
    if not text:
        return
    try:
        shard = parse_shard(text)
    except ValueError as e:
        raise pytest.UsageError(f"--csr-shard: {e}") from None
    placed = assign(catalogue(), shard.total)
    where = {item.nodeid: shard_of(item.name, shard.total, placed) for item in items}
    report_dir = config.getoption("--csr-report-dir", default=None)
    if report_dir:
        os.makedirs(report_dir, exist_ok=True)
        with open(os.path.join(report_dir, SHARD_FILE), "w", encoding="utf-8") as f:
            json.dump(_record(shard, items, where), f, indent=1)
    mine = [i for i in items if where[i.nodeid] == shard.index]
    if len(mine) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if where[i.nodeid] != shard.index])
        items[:] = mine


def _record(shard: Shard, items: list[pytest.Item], where: Mapping[str, int]) -> dict[str, Any]:
    """The whole selection, in collection order, with each case's shard, rules and concern:
    what the merge needs to order the cases as a serial run does and to list the cases of
    a shard that never reported."""
    from conformance.properties import support
    from reports.concerns import case_rules, concern_of

    cases = []
    for item in items:
        fn = getattr(item, "function", None)
        rules = case_rules(item, support.rules_of(fn))
        module = getattr(getattr(item, "module", None), "__name__", "")
        cases.append(
            {
                "nodeid": item.nodeid,
                "name": item.name,
                "shard": where[item.nodeid],
                "rules": list(rules),
                "concern": concern_of(module, item.name, rules),
            }
        )
    return {"shard": str(shard), "cases": cases}
