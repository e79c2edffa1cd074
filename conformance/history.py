"""Watch guarantees, judged over the recorded history of one example (no HTTP here).

A single watch event proves little; what a watch promises is about the whole sequence.
So a property records everything that happened — each write and what the server
answered, each watcher's start, selector and events in arrival order, list snapshots — and
this module checks the guarantees over that record, the way etcd's robustness tests
judge etcd (``tests/robustness/validate/watch.go``):

- **ordered**: after the initial state, resourceVersions strictly increase;
- **unique**: no change is delivered twice;
- **filtered**: only objects the selector matches (entering is ADDED, leaving DELETED);
- **faithful**: each event's object is exactly what the write that caused it returned,
  and DELETED carries the last state with the delete's resourceVersion;
- **reliable**: from its start, a watcher sees every matching change, none missing;
- **bookmarkable**: bookmarks only when asked, never going back, metadata only, and
  nothing after a bookmark older than it;
- **agreeing** / **resumable**: watchers with the same start and selector see the same
  changes, and one resumed from a resourceVersion it saw continues without loss or repeat;
- **consistent with list**: the list at R1 plus the events up to R2 is the list at R2.

Each check is a small named function returning the first :class:`Violation` it finds,
with the evidence a person needs to see where the stream went wrong.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.oracle.apimachinery.selectors import ListSelectors

ADDED: Final = "ADDED"
MODIFIED: Final = "MODIFIED"
DELETED: Final = "DELETED"
BOOKMARK: Final = "BOOKMARK"
ERROR: Final = "ERROR"

Obj = dict[str, Any]


def rv_of(obj: Obj) -> int:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    text = str(meta.get("resourceVersion", "")) if isinstance(meta, dict) else ""
    return int(text) if text.isdigit() else -1


def name_of(obj: Obj) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return str(meta.get("name", "")) if isinstance(meta, dict) else ""


@dataclass(frozen=True)
class Change:
    """One change the server made, as its write answered (deletes: as watchers saw it)."""

    rv: float
    """The change's resourceVersion; for a delete no watcher saw, a point just after the
    last change issued before it (the delete's own resourceVersion is unknown then)."""
    name: str
    object: Obj | None
    """The object after the change; None for a delete."""


@dataclass
class Watcher:
    """One watch: how it was asked for, and what it delivered."""

    label: str
    start: str
    """The resourceVersion asked for: "" (unset), "0", or a number."""
    selectors: ListSelectors
    selector_text: str
    events: list[tuple[str, Obj]] = field(default_factory=list)
    bookmarks_allowed: bool = False
    initial_events: bool = False
    resumed_from: str | None = None
    """The label of the watcher whose last seen resourceVersion this one started from."""


@dataclass
class History:
    """Everything one example did and saw."""

    changes: list[Change] = field(default_factory=list)
    """Every successful, visible write (creates, updates), with the RV its answer carried."""
    deletes: list[tuple[str, Obj, int]] = field(default_factory=list)
    """(name, last state before the delete, newest resourceVersion issued before it) for
    each successful delete, in issue order."""
    watchers: list[Watcher] = field(default_factory=list)
    lists: list[tuple[int, list[Obj]]] = field(default_factory=list)
    """(resourceVersion, items) snapshots of the example's objects."""
    log: list[str] = field(default_factory=list)
    """One line per step as it happened (writes with their answers, watch openings)."""


@dataclass(frozen=True)
class Violation:
    """A broken guarantee, with what was expected and what arrived."""

    guarantee: str
    watcher: str
    message: str
    event: int | None = None
    """Where in the watcher's events it broke (an index into ``Watcher.events``), if at
    one event; for the timeline picture of a report, not part of the message."""
    rv: float | None = None
    """The resourceVersion it broke at when no delivered event marks it (a missing event,
    a list that disagrees)."""

    def __str__(self) -> str:
        return f"watch guarantee '{self.guarantee}' broken by {self.watcher}: {self.message}"


def _short(value: Any, limit: int = 240) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(kind: str, obj: Obj) -> str:
    rv = rv_of(obj)
    return f"{kind} {name_of(obj)}@{rv if rv >= 0 else '?'}"


# ---------------------------------------------------------------------------
# the truth: every change in resourceVersion order, deletes placed where seen
# ---------------------------------------------------------------------------


def timeline(history: History) -> list[Change]:
    """Every change in RV order; a delete takes the RV a watcher saw for it.

    A delete's answer is a Status without the deletion's resourceVersion, so it is learnt
    from the DELETED events (the agreeing check makes sure watchers do not disagree).
    """
    changes = list(history.changes)
    seen: dict[str, set[int]] = {}
    for w in history.watchers:
        for kind, obj in w.events:
            if kind == DELETED:
                seen.setdefault(name_of(obj), set()).add(rv_of(obj))
    for name, last, after in history.deletes:
        # The delete of this incarnation: the first DELETED after its last known state.
        later = sorted(rv for rv in seen.get(name, ()) if rv > rv_of(last))
        changes.append(Change(later[0] if later else after + 0.5, name, None))
    return sorted(changes, key=lambda c: c.rv)


def expected_events(
    changes: Sequence[Change],
    deletes: dict[str, Obj],
    selectors: ListSelectors,
    after: float,
    state: dict[str, Obj],
) -> list[tuple[str, Obj]]:
    """What a watcher with ``selectors`` must see of ``changes`` after ``after``.

    ``state`` is the objects as they were at ``after`` (it is updated in place).
    """
    out: list[tuple[str, Obj]] = []
    for c in changes:
        before = state.get(c.name)
        if c.rv <= after:
            if c.object is None:
                state.pop(c.name, None)
            else:
                state[c.name] = c.object
            continue
        was = before is not None and selectors.matches(before)
        if c.object is None:
            state.pop(c.name, None)
            if was and before is not None:
                gone = json.loads(json.dumps(before))
                gone["metadata"]["resourceVersion"] = _rv_text(c.rv)
                out.append((DELETED, gone))
            continue
        state[c.name] = c.object
        now = selectors.matches(c.object)
        if now and was:
            out.append((MODIFIED, c.object))
        elif now:
            out.append((ADDED, c.object))
        elif was and before is not None:
            gone = json.loads(json.dumps(before))
            gone["metadata"]["resourceVersion"] = _rv_text(c.rv)
            out.append((DELETED, gone))
    return out


def _rv_text(rv: float) -> str:
    return str(int(rv)) if float(rv).is_integer() else "?"


def state_at(changes: Sequence[Change], rv: float) -> dict[str, Obj]:
    state: dict[str, Obj] = {}
    for c in changes:
        if c.rv > rv:
            break
        if c.object is None:
            state.pop(c.name, None)
        else:
            state[c.name] = c.object
    return state


# ---------------------------------------------------------------------------
# named checks, each over one watcher
# ---------------------------------------------------------------------------


def _live(w: Watcher) -> list[tuple[str, Obj]]:
    return [(k, o) for k, o in w.events if k in (ADDED, MODIFIED, DELETED)]


def _live_at(w: Watcher) -> list[tuple[int, str, Obj]]:
    """The changes a watcher received, each with its index in ``w.events``."""
    return [(i, k, o) for i, (k, o) in enumerate(w.events) if k in (ADDED, MODIFIED, DELETED)]


def _index(w: Watcher, kind: str, obj: Obj) -> int | None:
    """The index of the first event equal to (kind, obj) in ``w.events``."""
    return next((i for i, (k, o) in enumerate(w.events) if k == kind and o == obj), None)


def _first_difference(w: Watcher, want: Sequence[object], got: Sequence[object]) -> int | None:
    """The index in ``w.events`` of the first of its changes that differs from ``want``
    (or of its last change when it stopped short)."""
    live = _live_at(w)
    for n, (i, _k, _o) in enumerate(live):
        if n >= len(want) or n >= len(got) or want[n] != got[n]:
            return i
    return live[-1][0] if live else None


def bookmarkable(w: Watcher, _history: History) -> Violation | None:
    """Bookmarks only when asked; never older than anything delivered before them, so
    nothing after a bookmark is older than it; metadata.resourceVersion only."""
    last_mark = -1
    newest = -1
    for i, (kind, obj) in enumerate(w.events):
        rv = rv_of(obj)
        if kind == BOOKMARK:
            if not w.bookmarks_allowed:
                return Violation(
                    "bookmarkable", w.label, f"event {i} is a BOOKMARK nobody asked for", i
                )
            if rv < newest:
                return Violation(
                    "bookmarkable",
                    w.label,
                    f"bookmark at {rv} (event {i}) goes back: resourceVersion {newest} was "
                    "already delivered",
                    i,
                )
            meta = obj.get("metadata") or {}
            extra = sorted(
                k for k, v in meta.items() if k not in ("resourceVersion", "annotations") and v
            )
            spec = {k: v for k, v in (obj.get("spec") or {}).items() if v}
            if extra or spec or (obj.get("status") or {}):
                return Violation(
                    "bookmarkable",
                    w.label,
                    f"bookmark {i} carries more than its resourceVersion: {_short(obj)}",
                    i,
                )
            last_mark = max(last_mark, rv)
        else:
            if last_mark >= 0 and rv <= last_mark:
                return Violation(
                    "bookmarkable",
                    w.label,
                    f"{_describe(kind, obj)} (event {i}) arrived after a bookmark at {last_mark}",
                    i,
                )
            newest = max(newest, rv)
    return None


def initial_events_end(w: Watcher) -> Violation | None:
    """With sendInitialEvents (and bookmarks), the initial ADDEDs end in one bookmark
    annotated ``k8s.io/initial-events-end: "true"``, before any other kind of event."""
    if not (w.initial_events and w.bookmarks_allowed):
        return None
    for i, (kind, obj) in enumerate(w.events):
        if kind == BOOKMARK:
            notes = (obj.get("metadata") or {}).get("annotations") or {}
            if notes.get("k8s.io/initial-events-end") == "true":
                return None
        elif kind != ADDED:
            return Violation(
                "bookmarkable",
                w.label,
                f"{_describe(kind, obj)} (event {i}) came before the initial-events-end bookmark",
                i,
            )
    return Violation(
        "bookmarkable",
        w.label,
        "sendInitialEvents: no bookmark annotated k8s.io/initial-events-end arrived",
    )


def ordered(w: Watcher, initial: int) -> Violation | None:
    """After the initial state, resourceVersions strictly increase."""
    live = _live_at(w)[initial:]
    for (_i1, k1, o1), (i2, k2, o2) in itertools.pairwise(live):
        if rv_of(o2) <= rv_of(o1):
            return Violation(
                "ordered",
                w.label,
                f"{_describe(k2, o2)} arrived after {_describe(k1, o1)}",
                i2,
            )
    return None


def unique(w: Watcher) -> Violation | None:
    seen: set[tuple[str, str, int]] = set()
    for i, kind, obj in _live_at(w):
        key = (kind, name_of(obj), rv_of(obj))
        if key in seen:
            return Violation("unique", w.label, f"{_describe(kind, obj)} was delivered twice", i)
        seen.add(key)
    return None


def filtered(w: Watcher) -> Violation | None:
    for i, kind, obj in _live_at(w):
        if kind != DELETED and not w.selectors.matches(obj):
            return Violation(
                "filtered",
                w.label,
                f"{_describe(kind, obj)} does not match {w.selector_text!r} "
                f"(labels {_short((obj.get('metadata') or {}).get('labels'))}, "
                f"signer {(obj.get('spec') or {}).get('signerName')!r})",
                i,
            )
    return None


def compare(
    w: Watcher, expected: list[tuple[str, Obj]], got: list[tuple[str, Obj]]
) -> Violation | None:
    """reliable and faithful: the delivered changes are exactly the expected ones."""
    by_key = {(name_of(o), rv_of(o)): (k, o) for k, o in got}
    for kind, obj in expected:
        key = (name_of(obj), rv_of(obj))
        if key not in by_key:
            return Violation(
                "reliable",
                w.label,
                f"missing {_describe(kind, obj)} (received: "
                f"{', '.join(_describe(k, o) for k, o in got) or 'nothing'})",
                rv=rv_of(obj),
            )
        got_kind, got_obj = by_key[key]
        if got_kind != kind:
            return Violation(
                "faithful",
                w.label,
                f"{key[0]}@{key[1]} arrived as {got_kind}, expected {kind}",
                _index(w, got_kind, got_obj),
            )
        if got_obj != obj:
            from conformance.checks import diff

            problems = diff(got_obj, obj)
            return Violation(
                "faithful",
                w.label,
                f"{_describe(kind, obj)} differs from what the write returned: "
                + "; ".join(problems[:4]),
                _index(w, got_kind, got_obj),
            )
    wanted = {(name_of(o), rv_of(o)) for _k, o in expected}
    for kind, obj in got:
        if (name_of(obj), rv_of(obj)) not in wanted:
            return Violation(
                "reliable",
                w.label,
                f"unexpected {_describe(kind, obj)}: no change at that resourceVersion is visible "
                "to this watcher from its start",
                _index(w, kind, obj),
            )
    return None


def judge_watcher(w: Watcher, history: History, changes: list[Change]) -> Violation | None:
    """All single-watcher guarantees, in the order that names the root cause best."""
    deletes = {name: last for name, last, _after in history.deletes}
    for check in (unique, filtered):
        v = check(w)
        if v is not None:
            return v
    v = bookmarkable(w, history) or initial_events_end(w)
    if v is not None:
        return v
    live = _live(w)
    if w.start not in ("", "0") and not w.initial_events:
        start = int(w.start)
        exp = expected_events(changes, deletes, w.selectors, start, {})
        return ordered(w, 0) or compare(w, exp, live)
    # The initial state is the state at some resourceVersion S0: find one that explains
    # the stream (the server may serve "0" from an older snapshot).
    candidates: list[float] = sorted({0, *(c.rv for c in changes)})
    best: Violation | None = None
    for s0 in candidates:
        state = {n: o for n, o in state_at(changes, s0).items() if w.selectors.matches(o)}
        n = len(state)
        head = live[:n]
        if sorted((name_of(o), rv_of(o)) for _k, o in head) != sorted(
            (name, rv_of(o)) for name, o in state.items()
        ) or any(k != ADDED for k, _o in head):
            continue
        exp = expected_events(changes, deletes, w.selectors, s0, dict(state_at(changes, s0)))
        v = ordered(w, n) or compare(w, [(ADDED, o) for o in state.values()] + exp, live)
        if v is None:
            return None
        best = best or v
    if best is not None:
        return best
    got = ", ".join(_describe(k, o) for k, o in live[:8]) or "nothing"
    return Violation(
        "reliable",
        w.label,
        f"the initial events match the state at no resourceVersion of the history: got {got}",
    )


def agreeing(history: History) -> Violation | None:
    """Watchers with the same numeric start and selector deliver the same sequence."""
    groups: dict[tuple[str, str], Watcher] = {}
    for w in history.watchers:
        if w.start in ("", "0") or w.initial_events:
            continue
        key = (w.start, w.selector_text)
        first = groups.setdefault(key, w)
        if first is w:
            continue
        a = [(k, name_of(o), rv_of(o)) for k, o in _live(first)]
        b = [(k, name_of(o), rv_of(o)) for k, o in _live(w)]
        if a != b:
            return Violation(
                "agreeing",
                w.label,
                f"saw {b[:6]}... but {first.label} with the same start saw {a[:6]}...",
                _first_difference(w, a, b),
            )
    return None


def resumable(history: History) -> Violation | None:
    """A watcher resumed from another's last resourceVersion sees exactly its continuation."""
    by_label = {w.label: w for w in history.watchers}
    for w in history.watchers:
        if w.resumed_from is None or w.resumed_from not in by_label:
            continue
        origin = by_label[w.resumed_from]
        start = int(w.start)
        overlap = [(k, name_of(o), rv_of(o)) for k, o in _live(origin) if rv_of(o) > start]
        mine = [(k, name_of(o), rv_of(o)) for k, o in _live(w)][: len(overlap)]
        if mine != overlap:
            return Violation(
                "resumable",
                w.label,
                f"resumed at {start} it saw {mine[:6]}, "
                f"but {origin.label} saw {overlap[:6]} after it",
                _first_difference(w, overlap, mine),
            )
    return None


def consistent_with_list(history: History, changes: list[Change]) -> Violation | None:
    """The list at R1, replayed forward with the history, is the list at R2."""
    snaps = sorted(history.lists, key=lambda s: s[0])
    for (r1, items1), (r2, items2) in itertools.pairwise(snaps):
        state = {name_of(o): o for o in items1}
        for c in changes:
            if r1 < c.rv <= r2:
                if c.object is None:
                    state.pop(c.name, None)
                else:
                    state[c.name] = c.object
        want = sorted((n, rv_of(o)) for n, o in state.items())
        got = sorted((name_of(o), rv_of(o)) for o in items2)
        if want != got:
            return Violation(
                "consistent with list",
                f"list@{r2}",
                f"the list at {r1} plus the changes up to {r2} gives {want}, the list at {r2} "
                f"gave {got}",
                rv=r2,
            )
    return None


Check = Callable[[History], Violation | None]


def check_history(history: History) -> list[Violation]:
    """Every broken guarantee, at most one per watcher, then the cross-watcher ones."""
    changes = timeline(history)
    out = [v for w in history.watchers if (v := judge_watcher(w, history, changes))]
    for check in (agreeing, resumable):
        v = check(history)
        if v is not None:
            out.append(v)
    v = consistent_with_list(history, changes)
    if v is not None:
        out.append(v)
    return out


def render(history: History, violations: Sequence[Violation]) -> str:
    """The broken guarantees, then the history that broke them, for a failure report."""
    lines = [str(v) for v in violations]
    lines.append("history (in the order the steps were taken):")
    lines += [f"  {line}" for line in history.log]
    for w in history.watchers:
        lines.append(f"{w.label} received:")
        lines += [f"  {i}: {_describe(k, o)}" for i, (k, o) in enumerate(w.events)] or ["  nothing"]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# a serialisable form, for the report's timeline picture
# ---------------------------------------------------------------------------

RECORD_ATTRIBUTE: Final = "csr_watch_history"
"""The attribute of a failure's exception that carries :func:`to_record`'s form."""


def to_record(history: History, violations: Sequence[Violation]) -> dict[str, Any]:
    """The history as plain JSON data: writes by resourceVersion, each watcher's events in
    arrival order, and where each guarantee broke.

    A report draws it as a timeline; it holds names, kinds and resourceVersions only, not
    the objects, so it stays small and carries nothing the transcript does not.
    """
    seen: set[str] = set()
    writes: list[dict[str, Any]] = []
    for c in timeline(history):
        if c.object is None:
            op = "delete"
            seen.discard(c.name)
        else:
            op = "update" if c.name in seen else "create"
            seen.add(c.name)
        writes.append({"rv": c.rv, "name": c.name, "op": op})
    return {
        "writes": writes,
        "watchers": [
            {
                "label": w.label,
                "start": w.start,
                "events": [{"type": k, "name": name_of(o), "rv": rv_of(o)} for k, o in w.events],
            }
            for w in history.watchers
        ],
        "lists": [rv for rv, _items in history.lists],
        "broken": [
            {
                "guarantee": v.guarantee,
                "watcher": v.watcher,
                "message": v.message,
                "event": v.event,
                "rv": v.rv,
            }
            for v in violations
        ],
    }


def guarantee_failure(
    history: History, violations: Sequence[Violation], text: str
) -> AssertionError:
    """The failure a property raises: ``text`` as its message (what a person reads), the
    history's :func:`to_record` form attached for the report to draw."""
    error = AssertionError(text)
    setattr(error, RECORD_ATTRIBUTE, to_record(history, violations))
    return error


def record_of(error: BaseException | None) -> dict[str, Any] | None:
    """The history attached to a failure, looking inside the groups and chains Hypothesis
    wraps failures in (e.g. FlakyFailure's sub-exceptions)."""
    todo: list[BaseException] = [error] if error is not None else []
    seen: set[int] = set()
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        record = getattr(e, RECORD_ATTRIBUTE, None)
        if isinstance(record, dict):
            return record
        todo += [x for x in getattr(e, "exceptions", ()) if isinstance(x, BaseException)]
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    return None
