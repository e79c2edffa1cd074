"""Faults of the watch stream, beside the watch handler rather than inside it.

Each is a bug real watch implementations have shipped (kube-apiserver's watch cache, kine,
hand-written fakes): see the watch-cache and kine histories in shared/references.md. With
no fault active every function here returns its input unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from conformance.oracle.apimachinery.selectors import ListSelectors
from conformance.targets.fake.faults import ActiveFaults
from conformance.targets.fake.store import ADDED, DELETED, MODIFIED, Event

Send = tuple[str, dict[str, Any]]


def selectors(faults: ActiveFaults, chosen: ListSelectors) -> ListSelectors:
    """``watch-ignores-selector``: every object is sent, whatever was asked."""
    return ListSelectors() if faults.on("watch-ignores-selector") else chosen


def start(faults: ActiveFaults, rv: int | None) -> int | None:
    """``watch-ignores-start-rv``: a watch from N starts like one without a version."""
    return None if faults.on("watch-ignores-start-rv") else rv


def too_old_from_now(faults: ActiveFaults) -> bool:
    """``watch-too-old-from-now``: a compacted start streams from now instead of 410."""
    return faults.on("watch-too-old-from-now")


def no_initial_end(faults: ActiveFaults) -> bool:
    """``initial-events-end-missing``: sendInitialEvents never says the replay is done."""
    return faults.on("initial-events-end-missing")


class Stream:
    """Per-watch state of the faults that bend the sequence of events."""

    def __init__(self, faults: ActiveFaults) -> None:
        self.faults = faults
        self.held: Send | None = None
        self.modified_seen = 0
        self.first_rv: int | None = None

    def backlog(self, sends: list[tuple[Send, Event | None]]) -> Iterator[Send]:
        for send, event in sends:
            yield from self._bend(send, event)

    def live(self, send: Send | None, event: Event) -> Iterator[Send]:
        if send is None:
            return
        yield from self._bend(send, event)

    def _bend(self, send: Send, event: Event | None) -> Iterator[Send]:
        kind, obj = send
        if self.first_rv is None:
            self.first_rv = int(obj["metadata"].get("resourceVersion") or 0)
        if kind == MODIFIED and self.faults.on("watch-drops-modified"):
            self.modified_seen += 1
            if self.modified_seen % 2 == 0:
                return
        if kind == DELETED and event is not None and self.faults.on("watch-deleted-wrong-rv"):
            obj = copy.deepcopy(obj)
            previous = event.previous or obj
            obj["metadata"]["resourceVersion"] = previous["metadata"]["resourceVersion"]
        if self.faults.on("watch-events-reordered"):
            # Hold each event back until the next one, then send the pair swapped.
            if self.held is None:
                self.held = (kind, obj)
                return
            held, self.held = self.held, None
            yield (kind, obj)
            yield held
            return
        yield (kind, obj)
        if kind == ADDED and self.faults.on("watch-duplicates-event"):
            yield (kind, obj)

    def bookmark_rv(self, position: int, last_bookmark: int) -> int:
        """The resourceVersion of the next bookmark: where the stream is.

        ``bookmark-goes-backwards`` sends where the stream *started* instead.
        """
        if self.faults.on("bookmark-goes-backwards") and self.first_rv is not None:
            return self.first_rv - 1
        return position
