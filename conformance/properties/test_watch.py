"""Watch: drawn histories of writes and watchers, judged by the history checker.

Each example plays a short script of writes on a few objects while watchers open at
drawn points, with drawn starts (unset, "0", the list's resourceVersion, one seen
mid-history, sendInitialEvents) and drawn label and field selectors; one more watcher may
resume from a resourceVersion another saw. Everything sent and received is recorded and
:mod:`conformance.history` judges the whole record: ordered, unique, filtered, faithful,
reliable, bookmarkable, agreeing, resumable, and consistent with the lists.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.client import Response
from conformance.client.watch import WatchEvent, open_watch
from conformance.history import History, Watcher, bookmarkable, guarantee_failure, rv_of
from conformance.identities import ADMIN
from conformance.oracle.apimachinery import listing
from conformance.oracle.apimachinery.selectors import parse_list_selectors
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.watchdraws import (
    Plan,
    Player,
    Step,
    WatchPlan,
    plans,
    request_pems,
)
from conformance.session import EXAMPLE_LABEL

_TOO_OLD = re.compile(r"too old resource version: 1 \(\d+\)")


def _play(plan: Plan, pem: bytes) -> None:
    session = current_session()
    with session.example() as ex:
        player = Player(session, ex, pem)
        try:
            list_rv = player.snapshot()
            for step in plan.steps:
                if step.op == "watch":
                    player.open(step.index, plan.watchers[step.index], list_rv)
                else:
                    player.write(step)
            player.snapshot()
            player.drain()
            if plan.resume:
                first, _stream = player.streams[0]
                seen = [rv_of(o) for k, o in first.events if k in ("ADDED", "MODIFIED", "DELETED")]
                if seen and first.start not in ("", "0") and not first.initial_events:
                    # The first watcher opened, not the first drawn: resume with its plan.
                    origin = plan.watchers[next(s.index for s in plan.steps if s.op == "watch")]
                    player.open(
                        len(player.streams),
                        origin,
                        list_rv,
                        start=str(seen[0]),
                        resumed=first.label,
                    )
                    player.drain()
        finally:
            player.close()
        player.judge()


@given(plan=plans(), pem=request_pems())
@rules(
    "CSR-WATCH-START",
    "CSR-WATCH-ORDER",
    "CSR-WATCH-FAITHFUL",
    "CSR-WATCH-FILTER",
    "CSR-WATCH-RESUME",
    "CSR-WATCH-BOOKMARK",
)
def test_watch_histories_keep_every_guarantee(plan: Plan, pem: bytes) -> None:
    """Any script of writes, watched from any start with any selectors, keeps the
    watch guarantees (ordered, unique, filtered, faithful, reliable, bookmarkable,
    agreeing, resumable, consistent with list)."""
    _play(plan, pem)


@given(
    writers=st.integers(2, 3),
    ops=st.lists(
        st.sampled_from(["relabel", "approve", "condition", "noop"]), min_size=2, max_size=4
    ),
    pem=request_pems(),
)
@rules("CSR-WATCH-ORDER", "CSR-WATCH-FAITHFUL")
def test_concurrent_writers_are_seen_in_one_order_by_every_watcher(
    writers: int, ops: list[str], pem: bytes
) -> None:
    """Several threads writing at once: every watcher from the same start sees the same
    changes, in resourceVersion order, each exactly as its write returned it."""
    session = current_session()
    with session.example() as ex:
        player = Player(session, ex, pem)
        list_rv = player.snapshot()
        for j in range(2):
            player.open(j, WatchPlan("list", None, None, False), list_rv)

        def work(t: int) -> None:
            # Every thread's object is created, changed and deleted, so each watcher sees
            # every kind of event from every writer.
            player.write(Step("create", t, (t % 2, "a")))
            for i, op in enumerate(ops):
                player.write(Step(op, t, "ab"[i % 2] if op == "relabel" else None))
            player.write(Step("relabel", t, "c"))
            player.write(Step("delete", t))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        try:
            player.snapshot()
            player.drain()
        finally:
            player.close()
        player.judge()


@given(plan=plans(max_objects=3, max_steps=6, max_watchers=1), pem=request_pems())
@rules("CSR-WATCH-ORDER", "CSR-WATCH-FAITHFUL")
def test_protobuf_watch_streams_the_same_events(plan: Plan, pem: bytes) -> None:
    """A ``;stream=watch`` protobuf watch delivers the same events as JSON would."""
    session = current_session()
    with session.example() as ex:
        player = Player(session, ex, pem)
        list_rv = player.snapshot()
        client = session.client(ADMIN)
        query = {
            "labelSelector": f"{EXAMPLE_LABEL}={ex}",
            "resourceVersion": str(list_rv),
            "timeoutSeconds": "60",
        }
        pb = open_watch(client, query, deadline=60, protobuf_stream=True)
        js = open_watch(client, query, deadline=60)
        try:
            for step in plan.steps:
                if step.op != "watch":
                    player.write(step)
            got_pb = pb.collect(quiet=0.3, limit=10)
            got_js = js.collect(quiet=0.3, limit=10)
        finally:
            pb.close()
            js.close()
        if pb.headers.get("content-type") != "application/vnd.kubernetes.protobuf;stream=watch":
            raise AssertionError(
                f"protobuf watch answered content-type {pb.headers.get('content-type')!r}"
            )
        a = [(e.type, e.object) for e in got_pb]
        b = [(e.type, e.object) for e in got_js]
        if a != b:
            problems = checks.diff(a, b)
            raise AssertionError(
                "protobuf and JSON watches differ:\n  " + "\n  ".join(problems[:6])
            )


@given(bookmarks=st.booleans(), legacy=st.booleans())
@rules("CSR-WATCH-EXPIRED")
def test_watch_from_a_compacted_version_is_one_expired_error(bookmarks: bool, legacy: bool) -> None:
    """A watch from a compacted resourceVersion is HTTP 200 with exactly one ERROR event
    holding a 410 Expired Status, after which the stream ends."""
    session = current_session()
    session.compact()
    query: dict[str, Any] = {"resourceVersion": "1", "timeoutSeconds": "30"}
    if bookmarks:
        query["allowWatchBookmarks"] = "true"
    with open_watch(session.client(ADMIN), query, deadline=30, legacy=legacy) as stream:
        if stream.status != 200:
            raise AssertionError(
                f"a too-old watch must be HTTP 200 with an ERROR event; got HTTP {stream.status}: "
                f"{stream.error_body[:200]!r}"
            )
        events = stream.collect(quiet=3.0, limit=10)
        ended = stream.ended
    kinds = [e.type for e in events]
    if kinds != ["ERROR"]:
        raise AssertionError(f"a too-old watch sent {kinds[:6]}, expected exactly ['ERROR']")
    obj = events[0].object
    want = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": "Expired",
        "code": 410,
    }
    problems = checks.diff({k: obj.get(k) for k in want}, want)
    if problems:
        raise AssertionError("the ERROR event's Status differs:\n  " + "\n  ".join(problems))
    message = str(obj.get("message", ""))
    from_storage = (session.compaction or "").startswith(("etcd:", "etcd-grpc:"))
    if session.exact and from_storage and message != listing.WATCH_EXPIRED_FROM_STORAGE:
        raise AssertionError(
            f"ERROR message {message!r}; a watch served from etcd says "
            f"{listing.WATCH_EXPIRED_FROM_STORAGE!r}"
        )
    if session.exact and not from_storage and not _TOO_OLD.fullmatch(message):
        raise AssertionError(
            f"ERROR message {message!r}; the watch cache says 'too old resource version: 1 (N)'"
        )
    if not ended:
        raise AssertionError("the stream stayed open after the ERROR event")


@given(start=st.sampled_from(["abc", "-1", "1.5", " 7"]))
@rules("CSR-WATCH-EXPIRED", "CSR-ERR-STATUS")
def test_watch_from_an_unparseable_version_is_refused_before_streaming(start: str) -> None:
    """An unparseable resourceVersion is refused with a Status before any stream starts
    (v1.37: HTTP 500 with the field error, unlike a list's 400)."""
    session = current_session()
    with open_watch(session.client(ADMIN), {"resourceVersion": start}, deadline=30) as stream:
        status = stream.status
        body = stream.error_body
    if status == 200:
        raise AssertionError(
            f"watch from resourceVersion {start!r} was streamed, expected it refused"
        )
    expected = listing.watch_resource_version_error(start)

    resp = Response(status=status, headers={}, body=body)
    if session.exact:
        checks.status_matches(resp, expected, exact_message=True)
    else:
        checks.status_code(resp, 400, 500)


@given(writes=st.integers(1, 2), protobuf=st.booleans())
@rules("CSR-WATCH-BOOKMARK")
def test_bookmarks_never_go_back_and_carry_only_a_resource_version(
    writes: int, protobuf: bool
) -> None:
    """Bookmarks, when a server sends them, never carry a resourceVersion older than an
    event already delivered, hold nothing but that resourceVersion, and nothing after
    them is older. (Servers choose when to send them: kube-apiserver about once a minute,
    the fake twice a second; a server that sends none in the window passes.)"""

    session = current_session()
    with session.example() as ex:
        player = Player(session, ex, b"")
        list_rv = player.snapshot()
        selector = f"{EXAMPLE_LABEL}={ex}"
        query = {
            "labelSelector": selector,
            "resourceVersion": str(list_rv),
            "allowWatchBookmarks": "true",
            "timeoutSeconds": "30",
        }
        pem = _pem()
        with open_watch(session.client(ADMIN), query, deadline=30, protobuf_stream=protobuf) as w:
            player.request_pem = pem
            for i in range(writes):
                player.write(Step("create", i, (0, None)))
            # Until a bookmark follows the writes' events (the fake sends one within a
            # second), or 3 s pass without one (kube-apiserver's come once a minute).
            events = []

            def settled(event: WatchEvent) -> bool:
                events.append(event)
                added = sum(e.type == "ADDED" for e in events)
                return event.type == "BOOKMARK" and added >= writes

            for _ in w.until(settled, limit=3.0):
                pass
    watcher = Watcher(
        label="watcher with allowWatchBookmarks",
        start=str(list_rv),
        selectors=parse_list_selectors(selector, None),
        selector_text=selector,
        events=[(e.type, e.object) for e in events],
        bookmarks_allowed=True,
    )
    broken = bookmarkable(watcher, player.history)
    if broken is not None:
        drawn = History(changes=player.history.changes, watchers=[watcher])
        raise guarantee_failure(drawn, [broken], str(broken))


@functools.cache
def _pem() -> bytes:
    """One request for the bookmark property, made once (its content does not matter)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bookmarks")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


_WATCH_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "resourceVersion": st.sampled_from(["", "0"]),
        "resourceVersionMatch": st.sampled_from(["", "Exact", "NotOlderThan", "Bogus"]),
        "sendInitialEvents": st.sampled_from(["true", "false"]),
        "allowWatchBookmarks": st.sampled_from(["true", "false"]),
    },
)


@given(query=_WATCH_QUERIES)
@rules("CSR-WATCH-BOOKMARK", "CSR-READ-RV", "CSR-ERR-STATUS")
def test_watch_options_are_refused_exactly_as_kube_apiserver_refuses_them(
    query: dict[str, str],
) -> None:
    """resourceVersionMatch and sendInitialEvents on a watch: kube-apiserver's 422
    ListOptions for every invalid combination, a stream for the valid ones, and a stream
    that ends by itself when timeoutSeconds runs out."""
    session = current_session()
    query = {**query, "labelSelector": "csr-conformance.io/none=x", "timeoutSeconds": "1"}
    opts = listing.parse_list_options({**query, "watch": "true"})
    errs = listing.validate_list_options(opts)
    with open_watch(session.client(ADMIN), query, deadline=15) as stream:
        if not errs:
            if stream.status != 200:
                raise AssertionError(
                    f"watch {query} gave HTTP {stream.status}, expected a stream: "
                    f"{stream.error_body[:300]!r}"
                )
            events = stream.collect(quiet=5.0, limit=8.0)
            if not stream.ended:
                raise AssertionError("a watch with timeoutSeconds=1 was still open after 8 s")
            kinds = {e.type for e in events} - {"BOOKMARK"}
            if kinds:
                raise AssertionError(f"a watch on an empty selection sent {sorted(kinds)}")
            return
        resp = Response(status=stream.status, headers=stream.headers, body=stream.error_body)
    expected = listing.options_status(errs)
    if session.exact:
        checks.status_matches(resp, expected, exact_message=True)
    else:
        checks.status_code(resp, 422)
