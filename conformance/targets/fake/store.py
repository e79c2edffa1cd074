"""The fake's storage: objects by name, one store-wide resourceVersion, an event log.

It plays etcd plus the watch cache. Every successful write takes the next value of a
single counter (like the etcd revision, shared by all objects and strictly increasing)
and appends an event that also remembers the object's previous state. That makes the log
an MVCC history: :meth:`Store.state_at` rebuilds the objects as they were at any retained
resourceVersion (what an Exact list and a continue token need), and watches replay the
log from a resourceVersion and then follow new events through :meth:`Store.subscribe`.
:meth:`Store.compact` drops history the way etcd compaction does, so "too old" answers
(410) can be tested without waiting. Objects are kept as the JSON dicts the fake serves,
and copies go in and out so a handler can never alter stored state by accident.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from conformance.targets.fake.objects import go_order_metadata

ADDED: Final = "ADDED"
MODIFIED: Final = "MODIFIED"
DELETED: Final = "DELETED"

FIRST_RESOURCE_VERSION: Final = 1000
"""Where the counter starts: far from "0", which means "any version" in list requests."""

EVENT_RETENTION: Final = 2000
"""How many events the log keeps; a watch from before the oldest one is "too old" (410)."""

Obj = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """One change, as a watch would deliver it."""

    type: str
    object: Obj
    resource_version: int
    previous: Obj | None = None
    """The object before this change (None for ADDED): what a selector exit shows."""


Listener = Callable[[Event], None]


class TooOld(Exception):
    """The resourceVersion asked for is older than the retained history (compacted)."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class StaleWrite(Exception):
    """The object changed since the writer read it (a compare-and-swap lost)."""


class Store:
    """In-memory objects of one resource, keyed by name."""

    def __init__(self, *, retention: int = EVENT_RETENTION) -> None:
        self._lock = threading.RLock()
        self._objects: dict[str, Obj] = {}
        self._rv = FIRST_RESOURCE_VERSION
        self._events: deque[Event] = deque(maxlen=retention)
        self._compacted = FIRST_RESOURCE_VERSION
        self._listeners: list[Listener] = []

    # -- reads -------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out (what a list reports)."""
        with self._lock:
            return self._rv

    def get(self, name: str) -> Obj | None:
        with self._lock:
            obj = self._objects.get(name)
            return copy.deepcopy(obj) if obj is not None else None

    def names(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._objects)

    def name_sets(self) -> tuple[set[str], set[str]]:
        """Every stored name, and those being deleted (deletionTimestamp set), read in one
        step and without copying any object: what a create needs to decide on a name."""
        with self._lock:
            names = set(self._objects)
            terminating = {
                n for n, o in self._objects.items() if o["metadata"].get("deletionTimestamp")
            }
            return names, terminating

    def snapshot(self) -> tuple[int, list[Obj]]:
        """A consistent snapshot: the current resourceVersion and every object, by name.

        The objects are the stored ones, not copies, and must be treated as read-only:
        the store never changes a stored object in place (a write stores a new one), so
        a snapshot stays as it was without paying a deep copy per object on every list."""
        with self._lock:
            items = [self._objects[n] for n in sorted(self._objects, key=_key)]
            return self._rv, items

    # -- writes ------------------------------------------------------------

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _emit(self, event: Event) -> None:
        self._events.append(event)
        for listener in list(self._listeners):
            listener(event)

    def create(self, obj: Obj) -> Obj:
        """Store a new object under its name, stamping the next resourceVersion.

        The caller has already checked that the name is free (the oracle decides 409s);
        storing over an existing name here is how the ``duplicate-name-overwrites`` fault
        behaves, so it is allowed rather than asserted against.
        """
        with self._lock:
            stored = copy.deepcopy(obj)
            rv = self._next_rv()
            stored.setdefault("metadata", {})["resourceVersion"] = str(rv)
            go_order_metadata(stored)
            name = stored["metadata"]["name"]
            previous = self._objects.get(name)
            self._objects[name] = stored
            self._emit(Event(ADDED, copy.deepcopy(stored), rv, copy.deepcopy(previous)))
            return copy.deepcopy(stored)

    def update(self, obj: Obj, *, expected_rv: str | None = None) -> Obj:
        """Replace an existing object, stamping the next resourceVersion.

        With ``expected_rv`` the write happens only if the stored object still has that
        resourceVersion (etcd's compare-and-swap); otherwise :class:`StaleWrite`.
        """
        with self._lock:
            stored = copy.deepcopy(obj)
            name = stored["metadata"]["name"]
            if name not in self._objects:
                raise KeyError(name)
            self._check(name, expected_rv)
            rv = self._next_rv()
            stored["metadata"]["resourceVersion"] = str(rv)
            go_order_metadata(stored)
            previous = self._objects[name]
            self._objects[name] = stored
            self._emit(Event(MODIFIED, copy.deepcopy(stored), rv, copy.deepcopy(previous)))
            return copy.deepcopy(stored)

    def delete(self, name: str, *, expected_rv: str | None = None) -> Obj:
        """Remove an object; the DELETED event carries its last state with the new RV."""
        with self._lock:
            self._check(name, expected_rv)
            gone = self._objects.pop(name)
            rv = self._next_rv()
            final = copy.deepcopy(gone)
            final["metadata"]["resourceVersion"] = str(rv)
            self._emit(Event(DELETED, copy.deepcopy(final), rv, copy.deepcopy(gone)))
            return gone

    def _check(self, name: str, expected_rv: str | None) -> None:
        if expected_rv is None:
            return
        current = self._objects.get(name)
        if current is None or current["metadata"].get("resourceVersion") != expected_rv:
            raise StaleWrite(name)

    # -- events ------------------------------------------------------------

    def oldest_event_rv(self) -> int:
        """The oldest resourceVersion whose state is still known (the replay horizon).

        History from here on is complete: every event above it is retained, so a watch or
        an Exact list from this resourceVersion or later can be served.
        """
        with self._lock:
            return self._horizon()

    def _horizon(self) -> int:
        if self._events and self._events.maxlen == len(self._events):
            # The bounded log dropped events: only what follows its oldest entry is whole.
            return max(self._compacted, self._events[0].resource_version - 1)
        return self._compacted

    def compact(self, rv: int | None = None) -> int:
        """Forget history at and below ``rv`` (default: everything before now), like etcd.

        Returns the new horizon. Reads and watches from older resourceVersions then get
        kube-apiserver's 410 Expired.
        """
        with self._lock:
            target = self._rv if rv is None else min(max(rv, self._compacted), self._rv)
            while self._events and self._events[0].resource_version <= target:
                self._events.popleft()
            self._compacted = target
            return target

    def events_since(self, rv: int) -> list[Event]:
        """Events with a resourceVersion above ``rv``; :class:`TooOld` below the horizon."""
        with self._lock:
            horizon = self._horizon()
            if rv < horizon:
                raise TooOld(rv, horizon)
            return [copy.deepcopy(e) for e in self._events if e.resource_version > rv]

    def state_at(self, rv: int) -> list[Obj]:
        """Every object as it was at ``rv``, by name: the current state with later events
        undone. :class:`TooOld` below the horizon; ``rv`` above the newest is an error of
        the caller (kube-apiserver answers "too large" before reading). Read-only, like
        :meth:`snapshot`: events keep their own copies of what they replaced."""
        with self._lock:
            horizon = self._horizon()
            if rv < horizon:
                raise TooOld(rv, horizon)
            state = dict(self._objects)
            for event in reversed(self._events):
                if event.resource_version <= rv:
                    break
                name = event.object["metadata"]["name"]
                if event.previous is None:
                    state.pop(name, None)
                else:
                    state[name] = event.previous
            return [state[n] for n in sorted(state, key=_key)]

    def watch(
        self, rv: int | None, listener: Listener
    ) -> tuple[int, list[Event], Callable[[], None]]:
        """Atomically: the backlog after ``rv`` (or, with None, the current state as ADDED
        events), and a subscription to everything after it, so nothing falls in between.

        Returns (the resourceVersion the backlog ends at, the backlog, unsubscribe).
        """
        with self._lock:
            if rv is None:
                backlog = [
                    Event(
                        ADDED,
                        copy.deepcopy(self._objects[n]),
                        int(self._objects[n]["metadata"]["resourceVersion"]),
                    )
                    for n in sorted(self._objects, key=_key)
                ]
            else:
                backlog = self.events_since(rv)
            unsubscribe = self.subscribe(listener)
            return self._rv, backlog, unsubscribe

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every future event; returns the function that unsubscribes.

        Listeners run under the store lock, in write order, on the writer's thread; they
        must only hand the event on (for example to an asyncio queue), never block.
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)


def _key(name: str) -> bytes:
    # etcd orders keys bytewise, which is UTF-8 byte order, not Python's code point order.
    return name.encode("utf-8", errors="surrogatepass")
