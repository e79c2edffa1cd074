"""Drawn watch histories and the code that plays them against a server.

A history is a short script of writes on a handful of objects (create, relabel, approve,
a custom status condition, a no-op update, delete), interleaved with the points where
watchers open, each with its own start and selectors. :func:`play` sends the script,
records what every write answered and every watcher received, and returns the record as
a :class:`conformance.history.History` for the pure checker to judge.
"""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import strategies as st

from conformance.client import Client, Response, csr_path
from conformance.client.watch import WatchStream, open_watch
from conformance.history import (
    Change,
    History,
    Watcher,
    check_history,
    guarantee_failure,
    render,
    rv_of,
)
from conformance.oracle.apimachinery import listing
from conformance.oracle.apimachinery.selectors import parse_list_selectors
from conformance.session import EXAMPLE_LABEL, Session
from strategies.csr import encode_request
from strategies.pem import csr_pems

GROUP_KEY: Final = "csr-conformance.io/group"
"""The label whose changes move objects in and out of a watcher's selection."""
SIGNERS: Final = ("example.com/watched-a", "example.org/watched-b")
"""Custom signers: no controller signs for them, so only the example's writes change them."""
CHECKED: Final = "example.com/Checked"

LABEL_TERMS: Final = (
    None,
    f"{GROUP_KEY}=a",
    f"{GROUP_KEY}!=a",
    f"{GROUP_KEY} in (a,b)",
    f"{GROUP_KEY} notin (a)",
    GROUP_KEY,
    f"!{GROUP_KEY}",
)
FIELD_TERMS: Final = (None, f"spec.signerName={SIGNERS[0]}", f"spec.signerName!={SIGNERS[0]}")
STARTS: Final = ("unset", "zero", "list", "mid", "initial")


@dataclass(frozen=True)
class WatchPlan:
    start: str
    label_term: str | None
    field_term: str | None
    bookmarks: bool


@dataclass(frozen=True)
class Step:
    op: str
    index: int
    arg: Any = None


@dataclass(frozen=True)
class Plan:
    objects: int
    steps: tuple[Step, ...]
    watchers: tuple[WatchPlan, ...]
    resume: bool


_GROUPS: Final = st.sampled_from([None, "a", "b"])


@functools.cache
def watch_plans() -> st.SearchStrategy[WatchPlan]:
    return st.builds(
        WatchPlan,
        start=st.sampled_from(STARTS),
        label_term=st.sampled_from(LABEL_TERMS),
        field_term=st.sampled_from(FIELD_TERMS),
        bookmarks=st.booleans(),
    )


@st.composite
def _plans(draw: st.DrawFn, max_objects: int, max_steps: int, max_watchers: int) -> Plan:
    n = draw(st.integers(1, max_objects))
    index = st.integers(0, n - 1)
    write = st.one_of(
        st.builds(Step, st.just("create"), index, st.tuples(st.integers(0, 1), _GROUPS)),
        st.builds(Step, st.just("relabel"), index, _GROUPS),
        st.builds(Step, st.just("approve"), index),
        st.builds(Step, st.just("condition"), index),
        st.builds(Step, st.just("noop"), index),
        st.builds(Step, st.just("delete"), index),
    )
    writes = draw(st.lists(write, min_size=1, max_size=max_steps))
    watchers = draw(st.lists(watch_plans(), min_size=1, max_size=max_watchers))
    steps = [Step("create", i, (i % 2, None)) for i in range(n)] if draw(st.booleans()) else []
    steps += writes
    # Each watcher opens at a drawn point of the script.
    for j in range(len(watchers)):
        at = draw(st.integers(0, len(steps)))
        steps.insert(at, Step("watch", j))
    return Plan(n, tuple(steps), tuple(watchers), draw(st.booleans()))


@functools.cache
def plans(
    max_objects: int = 4, max_steps: int = 12, max_watchers: int = 4
) -> st.SearchStrategy[Plan]:
    return _plans(max_objects, max_steps, max_watchers)


@functools.cache
def request_pems() -> st.SearchStrategy[bytes]:
    return csr_pems()


@dataclass
class Player:
    """Plays one plan as the admin and records the history."""

    session: Session
    example: str
    request_pem: bytes
    client: Client = field(init=False)
    history: History = field(default_factory=History)
    objects: dict[int, dict[str, Any]] = field(default_factory=dict)
    streams: list[tuple[Watcher, WatchStream]] = field(default_factory=list)
    last_rv: int = 0

    def __post_init__(self) -> None:
        from conformance.identities import ADMIN

        self.client = self.session.client(ADMIN)

    @property
    def base_selector(self) -> str:
        return f"{EXAMPLE_LABEL}={self.example}"

    # -- writes --------------------------------------------------------------------

    def _record(self, i: int, resp: Response, what: str) -> None:
        if resp.status not in (200, 201):
            self.history.log.append(f"{what}: HTTP {resp.status}")
            return
        obj = resp.obj()
        self.history.log.append(f"{what}: HTTP {resp.status}, resourceVersion {rv_of(obj)}")
        before = self.objects.get(i)
        self.objects[i] = obj
        rv = rv_of(obj)
        if before is None or rv_of(before) != rv:
            self.history.changes.append(Change(rv, obj["metadata"]["name"], obj))
            self.last_rv = max(self.last_rv, rv)

    def write(self, step: Step) -> None:
        i, obj = step.index, self.objects.get(step.index)
        if step.op == "create":
            if obj is not None:
                return
            signer, group = step.arg
            labels = {GROUP_KEY: group} if group else {}
            new: dict[str, Any] = {
                "apiVersion": "certificates.k8s.io/v1",
                "kind": "CertificateSigningRequest",
                "metadata": {"name": f"w{i}", "labels": labels},
                "spec": {
                    "request": encode_request(self.request_pem),
                    "signerName": SIGNERS[signer],
                    "usages": ["client auth"],
                },
            }
            what = f"create w{i} (signer {SIGNERS[signer]}, group {group})"
            self._record(i, self.client.create(self.session.stamp(new, self.example)), what)
            return
        if obj is None:
            return
        name = obj["metadata"]["name"]
        if step.op == "relabel":
            patch = {"metadata": {"labels": {GROUP_KEY: step.arg}}}
            resp = self._send("PATCH", name, None, patch, "application/merge-patch+json")
            self._record(i, resp, f"relabel {name} group={step.arg}")
        elif step.op in ("approve", "condition"):
            conditions = (obj.get("status") or {}).get("conditions") or []
            kind = "Approved" if step.op == "approve" else CHECKED
            if any(
                c.get("type") in (kind, "Denied" if kind == "Approved" else kind)
                for c in conditions
            ):
                return
            body = copy.deepcopy(obj)
            status: dict[str, Any] = body.setdefault("status", {})
            status["conditions"] = [
                *conditions,
                {"type": kind, "status": "True", "reason": "ByTheSuite", "message": "watch test"},
            ]
            sub = "approval" if step.op == "approve" else "status"
            self._record(
                i, self._send("PUT", name, sub, body, "application/json"), f"{kind} {name}"
            )
        elif step.op == "noop":
            self._record(
                i, self._send("PUT", name, None, obj, "application/json"), f"no-op PUT {name}"
            )
        elif step.op == "delete":
            resp = self.client.delete(
                name,
                options={
                    "kind": "DeleteOptions",
                    "apiVersion": "v1",
                    "preconditions": {"uid": obj["metadata"]["uid"]},
                },
            )
            self.history.log.append(f"delete {name}: HTTP {resp.status}")
            if resp.status == 200:
                self.history.deletes.append((name, obj, self.last_rv))
                del self.objects[i]

    def _send(self, method: str, name: str, sub: str | None, body: Any, ctype: str) -> Response:
        return self.client.request(method, csr_path(name, sub), body=body, content_type=ctype)

    # -- reads ---------------------------------------------------------------------

    def snapshot(self) -> int:
        resp = self.client.list({"labelSelector": self.base_selector})
        if resp.status != 200:
            raise AssertionError(f"list of the example's objects gave HTTP {resp.status}")
        body = resp.obj()
        rv = int(body["metadata"]["resourceVersion"])
        self.history.lists.append((rv, list(body.get("items") or [])))
        return rv

    def open(
        self,
        j: int,
        plan: WatchPlan,
        list_rv: int,
        *,
        start: str | None = None,
        resumed: str | None = None,
    ) -> None:
        label = self.base_selector + (f",{plan.label_term}" if plan.label_term else "")
        query: dict[str, str] = {"labelSelector": label, "timeoutSeconds": "120"}
        if plan.field_term:
            query["fieldSelector"] = plan.field_term
        initial = plan.start == "initial" and start is None
        if start is None:
            start = {
                "unset": "",
                "zero": "0",
                "list": str(list_rv),
                "mid": str(self.last_rv or list_rv),
                "initial": "",
            }[plan.start]
        if start:
            query["resourceVersion"] = start
        bookmarks = plan.bookmarks or initial
        if bookmarks:
            query["allowWatchBookmarks"] = "true"
        if initial:
            query["sendInitialEvents"] = "true"
            query["resourceVersionMatch"] = listing.NOT_OLDER_THAN
        stream = open_watch(self.client, query, deadline=120)
        if stream.status != 200:
            stream.close()
            raise AssertionError(
                f"watch {query} was refused: HTTP {stream.status} {stream.error_body[:300]!r}"
            )
        watcher = Watcher(
            label=f"watcher {j} (resourceVersion={start or 'unset'}"
            + (", sendInitialEvents" if initial else "")
            + f", labelSelector={label!r}, fieldSelector={plan.field_term or ''!r})",
            start=start,
            selectors=parse_list_selectors(label, plan.field_term),
            selector_text=f"{label} {plan.field_term or ''}".strip(),
            bookmarks_allowed=bookmarks,
            initial_events=initial,
            resumed_from=resumed,
        )
        self.history.watchers.append(watcher)
        self.history.log.append(f"open {watcher.label}")
        self.streams.append((watcher, stream))

    def drain(self, *, quiet: float = 0.3, limit: float = 15.0) -> None:
        """Collect every watcher's events until none arrives anywhere for ``quiet`` s."""
        end = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() < end:
            got = False
            for watcher, stream in self.streams:
                while (event := stream.next(0)) is not None:
                    watcher.events.append((event.type, event.object))
                    got = True
            now = time.monotonic()
            if got:
                last = now
            elif now - last >= quiet:
                return
            time.sleep(0.02)

    def close(self) -> None:
        for _w, stream in self.streams:
            stream.close()

    def judge(self) -> None:
        """Every watch guarantee over the recorded history; the failure shows the history."""
        violations = check_history(self.history)
        if violations:
            # The message is the rendered history; the report also draws it as a timeline.
            raise guarantee_failure(self.history, violations, render(self.history, violations))
