"""The watch history checker, on hand-made histories: one that keeps every guarantee, and
one for each guarantee that breaks exactly it (so a checker bug cannot hide a server bug)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from conformance.history import (
    ADDED,
    BOOKMARK,
    DELETED,
    MODIFIED,
    Change,
    History,
    Watcher,
    check_history,
)
from conformance.oracle.apimachinery.selectors import parse_list_selectors

SEL = "ex=1"


def obj(name: str, rv: int, **labels: str) -> dict[str, Any]:
    return {
        "kind": "CertificateSigningRequest",
        "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"name": name, "resourceVersion": str(rv), "labels": {"ex": "1", **labels}},
        "spec": {"signerName": "example.com/a"},
    }


def bookmark(rv: int) -> dict[str, Any]:
    return {"kind": "CertificateSigningRequest", "metadata": {"resourceVersion": str(rv)}}


def watcher(
    start: str, events: list[tuple[str, dict[str, Any]]], sel: str = SEL, **kw: Any
) -> Watcher:
    return Watcher(
        label=f"w{start}",
        start=start,
        selectors=parse_list_selectors(sel, None),
        selector_text=sel,
        events=events,
        **kw,
    )


def good() -> History:
    """a created at 11, modified at 12 (leaves g=x), b created at 13, a deleted at 14."""
    a11, a12, b13 = obj("a", 11, g="x"), obj("a", 12), obj("b", 13, g="x")
    h = History(
        changes=[Change(11, "a", a11), Change(12, "a", a12), Change(13, "b", b13)],
        deletes=[("a", a12, 13)],
        lists=[(10, []), (14, [b13])],
    )
    deleted = copy.deepcopy(a12)
    deleted["metadata"]["resourceVersion"] = "14"
    left = copy.deepcopy(a11)
    left["metadata"]["resourceVersion"] = "12"
    h.watchers = [
        watcher("10", [(ADDED, a11), (MODIFIED, a12), (ADDED, b13), (DELETED, deleted)]),
        watcher("10", [(ADDED, a11), (MODIFIED, a12), (ADDED, b13), (DELETED, deleted)]),
        watcher(
            "10",
            [(ADDED, a11), (DELETED, left), (BOOKMARK, bookmark(12)), (ADDED, b13)],
            sel=f"{SEL},g=x",
            bookmarks_allowed=True,
        ),
        watcher("", [(ADDED, a11), (MODIFIED, a12), (ADDED, b13), (DELETED, deleted)]),
        watcher("12", [(ADDED, b13), (DELETED, deleted)], resumed_from="w10"),
    ]
    return h


def test_a_history_that_keeps_every_guarantee_passes() -> None:
    assert check_history(good()) == []


def _break(kind: str) -> History:
    h = good()
    w = h.watchers[0]
    if kind == "ordered":
        w.events[1], w.events[2] = w.events[2], w.events[1]
    elif kind == "unique":
        w.events.insert(1, w.events[0])
    elif kind == "reliable":
        del w.events[1]
    elif kind == "faithful":
        bent = copy.deepcopy(w.events[1][1])
        bent["spec"]["signerName"] = "example.com/other"
        w.events[1] = (MODIFIED, bent)
    elif kind == "filtered":
        w.events.insert(0, (ADDED, obj("z", 9, ex="2")))
    elif kind == "bookmarkable":
        h.watchers[2].events.insert(3, (BOOKMARK, bookmark(11)))
    elif kind == "agreeing":
        h.watchers[1].events = h.watchers[1].events[:1]
    elif kind == "resumable":
        h.watchers[4].events = h.watchers[4].events[1:]
    elif kind == "consistent with list":
        h.lists[1] = (14, [])
    return h


@pytest.mark.parametrize(
    "guarantee",
    [
        "ordered",
        "unique",
        "reliable",
        "faithful",
        "filtered",
        "bookmarkable",
        "agreeing",
        "resumable",
        "consistent with list",
    ],
)
def test_each_broken_guarantee_is_named(guarantee: str) -> None:
    broken = check_history(_break(guarantee))
    assert broken, f"{guarantee}: nothing reported"
    assert guarantee in {v.guarantee for v in broken}, [str(v) for v in broken]


def test_the_initial_state_may_come_from_any_snapshot_of_the_history() -> None:
    h = good()
    # A watch without resourceVersion that started after a was modified: its initial
    # ADDED is a@12, then b, then the delete.
    deleted = copy.deepcopy(h.changes[1].object)
    assert deleted is not None
    deleted["metadata"]["resourceVersion"] = "14"
    h.watchers = [
        watcher("", [(ADDED, obj("a", 12)), (ADDED, obj("b", 13, g="x")), (DELETED, deleted)])
    ]
    assert check_history(h) == []
