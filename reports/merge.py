"""One report from the reports of ``--shard 1/N`` ... ``--shard N/N``: the serial verdict.

A sharded run is only as good as its merge: the merged report must say what one serial
run would have said, or say plainly that it cannot. So the merge

- refuses shards that did not run the same suite against the same server with the same
  budget (target, kube version, seed, examples, budgets, faults, selection): their
  verdicts do not add up to one;
- refuses a shard given twice, or shards of different N;
- lists every case in the serial run's order (each shard's ``shard.json`` holds the whole
  selection in collection order) with the outcome its shard reported;
- names the shards that did not report, marks their cases ``not run``, and makes the
  verdict INCOMPLETE, instead of quietly judging a part as the whole.

Counters add up (``http.requests``, ``http.seconds``); the run's ``seconds`` is the
slowest shard's, the wall time of shards run side by side, and ``shards.seconds`` gives
the sum as well. Each shard's run id is kept (``run-id``, comma-separated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.model import CaseResult, RunResult

__all__ = ["MergeError", "ShardReport", "merge"]

# Properties that must be equal in every shard for their verdicts to be one verdict.
SAME = (
    "target.kind",
    "profile",
    "examples",
    "seed",
    "budget.max-time",
    "budget.shrink",
    "faults",
    "suite.version",
    "server.version",
    "kubernetes.judged-as",
    "verdict.scope",
    "storage",
    "watch-cache",
)
# Properties that are per shard and are summed, listed or dropped by the merge.
_SUMMED = ("http.requests", "http.seconds")
_PER_SHARD = ("shard", "run-id", *_SUMMED)
_PORT = re.compile(r"(://[^/\s:]+):\d+")


class MergeError(Exception):
    """The shards cannot be merged; the message is one line that says why."""


@dataclass
class ShardReport:
    """One shard's results.json (as a RunResult) and its shard.json record."""

    source: str  # where it came from, for messages
    result: RunResult
    record: Mapping[str, Any] | None = None
    index: int = 0
    total: int = 0
    cases: list[dict[str, Any]] = field(default_factory=list)


def _parse(text: str) -> tuple[int, int] | None:
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit()):
        return None
    index, total = int(k), int(n)
    return (index, total) if 1 <= index <= total else None


def _target(props: Mapping[str, str]) -> str:
    """The target as a person names it: the same server on another port (each shard's own
    fake or control plane) is the same target."""
    return _PORT.sub(r"\1", props.get("target", "?"))


def _check(shards: Sequence[ShardReport]) -> None:
    for s in shards:
        text = s.result.properties.get("shard")
        if not text:
            raise MergeError(f"{s.source} is not a shard's report (run it with --shard K/N)")
        parsed = _parse(text)
        if parsed is None:
            raise MergeError(f"{s.source}: shard {text!r} is not K/N")
        s.index, s.total = parsed
        # Only a shard that stopped before collecting (no target, budget spent in
        # start-up) has no record; its verdict is still merged.
        if s.record is None and s.result.setup_error is None and s.result.stopped is None:
            raise MergeError(f"{s.source} has no shard.json (written by run --shard)")
        s.cases = list((s.record or {}).get("cases") or [])
    first = shards[0]
    for s in shards[1:]:
        if s.total != first.total:
            raise MergeError(
                f"{s.source} is shard {s.index}/{s.total}, {first.source} is "
                f"{first.index}/{first.total}: not one split"
            )
        if _target(s.result.properties) != _target(first.result.properties):
            raise MergeError(
                f"different targets: {_target(first.result.properties)} ({first.source}) "
                f"vs {_target(s.result.properties)} ({s.source})"
            )
        for key in SAME:
            a, b = first.result.properties.get(key), s.result.properties.get(key)
            if a != b:
                raise MergeError(
                    f"different {key}: {a or 'unset'} ({first.source}) vs "
                    f"{b or 'unset'} ({s.source})"
                )
    seen: dict[int, str] = {}
    for s in shards:
        if s.index in seen:
            raise MergeError(
                f"shard {s.index}/{s.total} given twice ({seen[s.index]} and {s.source})"
            )
        seen[s.index] = s.source
    with_record = [s for s in shards if s.cases]
    for s in with_record[1:]:
        if _selection(s) != _selection(with_record[0]):
            raise MergeError(
                f"{s.source} and {with_record[0].source} selected different properties "
                "(different -k, --rule, --skip or suite version)"
            )


def _selection(s: ShardReport) -> list[tuple[str, int]]:
    return [(str(c.get("nodeid")), int(c.get("shard") or 0)) for c in s.cases]


def merge(shards: Sequence[ShardReport]) -> RunResult:
    """The serial run's report from the shards' reports (MergeError when they do not fit)."""
    if not shards:
        raise MergeError("no shard reports to merge")
    _check(shards)
    shards = sorted(shards, key=lambda s: s.index)
    total = shards[0].total
    missing = [k for k in range(1, total + 1) if k not in {s.index for s in shards}]
    reported: dict[str, CaseResult] = {}
    extra: list[CaseResult] = []  # cases outside the selection: a shard's setup error
    for s in shards:
        for case in s.result.cases:
            if case.nodeid == "setup":  # the shard could not start: its one error entry
                extra.append(case)
                continue
            if case.nodeid in reported:
                raise MergeError(f"{case.nodeid} is in two shards' reports ({s.source})")
            reported[case.nodeid] = case
    order = next((s.cases for s in shards if s.cases), [])
    cases: list[CaseResult] = []
    for entry in order:
        nodeid = str(entry.get("nodeid"))
        if nodeid in reported:
            cases.append(reported.pop(nodeid))
        else:
            cases.append(_not_reported(entry, total, missing))
    extra += reported.values()
    first = shards[0]
    props = {k: v for k, v in first.result.properties.items() if k not in _PER_SHARD}
    run_ids = [s.result.properties.get("run-id") for s in shards]
    if any(run_ids):
        props["run-id"] = ",".join(r or "?" for r in run_ids)
    for key in _SUMMED:
        values = [s.result.properties.get(key) for s in shards]
        if any(v is not None for v in values):
            added = sum(float(v or 0) for v in values)
            props[key] = str(int(added)) if key == "http.requests" else f"{added:.2f}"
    seconds = [s.result.seconds for s in shards]
    props["shards"] = (
        f"{len(shards)} of {total} ({', '.join(f'{s.index}/{total}' for s in shards)})"
    )
    props["shards.seconds"] = (
        f"slowest {max(seconds):.1f}s (the run's time), sum {sum(seconds):.1f}s"
    )
    if missing:
        props["shards.missing"] = ", ".join(f"{k}/{total}" for k in missing)
    setup = [s for s in shards if s.result.setup_error is not None]
    stopped = [s for s in shards if s.result.stopped is not None]
    return RunResult(
        cases=extra + cases if setup else cases + extra,
        properties=props,
        seconds=max(seconds),
        setup_error=(
            f"shard {setup[0].index}/{total}: {setup[0].result.setup_error}" if setup else None
        ),
        stopped=(
            f"shard {stopped[0].index}/{total}: {stopped[0].result.stopped}" if stopped else None
        ),
        stop_code=stopped[0].result.stop_code if stopped else None,
    )


def _not_reported(entry: Mapping[str, Any], total: int, missing: Sequence[int]) -> CaseResult:
    shard = int(entry.get("shard") or 0)
    concern = str(entry.get("concern") or "")
    why = (
        f"not run: shard {shard}/{total} did not report"
        if shard in missing
        else f"not run: shard {shard}/{total} reported without it"
    )
    return CaseResult(
        name=str(entry.get("name") or entry.get("nodeid")),
        classname=f"csr-conformance.{concern or 'other'}",
        nodeid=str(entry.get("nodeid")),
        rules=tuple(entry.get("rules") or ()),
        outcome="error",
        message=why,
        concern=concern,
    )
