"""Watch: a chunked stream of events, written as the store changes.

kube-apiserver serves a watch as one long HTTP 200 response: newline-delimited JSON
``{"type": …, "object": …}`` frames (or length-prefixed protobuf frames for
``;stream=watch``), each flushed as it happens. What the fake reproduces, and the suite
checks (csr-semantics §8):

- where the stream starts: no resourceVersion or ``"0"`` replays the current state as
  ADDED events; ``N`` replays exactly the changes after N; a compacted N is *not* an
  HTTP error but a 200 whose only event is ``ERROR`` with a 410 Expired Status;
- selectors: label and field selectors filter, and an update that makes an object enter
  the selection is ADDED, one that makes it leave is DELETED (previous object, new RV);
- bookmarks only when asked (``allowWatchBookmarks``), and ``sendInitialEvents`` ends
  its initial ADDEDs with a bookmark annotated ``k8s.io/initial-events-end``;
- ``timeoutSeconds`` ends the stream cleanly.

Events come from :meth:`Store.watch`, which hands over the backlog and subscribes in
one atomic step, so no change can fall between the replay and the live stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

from aiohttp import web

from conformance.oracle.apimachinery import listing
from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.selectors import (
    FieldSelector,
    FieldTerm,
    ListSelectors,
    SelectorError,
)
from conformance.targets.fake import table as tables
from conformance.targets.fake.context import Call
from conformance.targets.fake.handlers import list_faults, watch_faults
from conformance.targets.fake.objects import with_type_meta
from conformance.targets.fake.store import ADDED, DELETED, MODIFIED, Event, TooOld
from conformance.targets.fake.wire import (
    JSON,
    PROTOBUF,
    NotAcceptable,
    go_json_bytes,
    negotiate,
    not_acceptable_status,
    respond,
)
from conformance.wire import protobuf

BOOKMARK: Final = "BOOKMARK"
ERROR: Final = "ERROR"
DEFAULT_TIMEOUT_SECONDS: Final = 1800
"""Without timeoutSeconds kube-apiserver ends a watch after 30–60 minutes; the fake, 30."""

_META: Final = "meta.k8s.io"
_TRANSFORMS: Final = (("Table", _META, "v1"), ("Table", _META, "v1beta1"))


def bookmark_object(rv: int, *, initial_events_end: bool = False) -> dict[str, Any]:
    """A bookmark's object: an empty CSR that carries only its resourceVersion.

    This is what kube-apiserver v1.37 sends: a CertificateSigningRequest with only
    metadata.resourceVersion (and, ending sendInitialEvents, the annotation) set, whose
    non-omitempty spec fields come out as null and "".
    """
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_events_end:
        meta["annotations"] = {listing.INITIAL_EVENTS_END: "true"}
    return {
        "kind": st.KIND,
        "apiVersion": st.API_VERSION,
        "metadata": meta,
        "spec": {"request": None, "signerName": ""},
        "status": {},
    }


def convert(event: Event, selectors: ListSelectors) -> tuple[str, dict[str, Any]] | None:
    """What a watcher with ``selectors`` sees of one store event (None: nothing).

    Entering the selection is ADDED; leaving it is DELETED, carrying the object as it was
    before the change but with the change's resourceVersion (the cacher's rule).
    """
    now = event.type != DELETED and selectors.matches(event.object)
    before = event.previous is not None and selectors.matches(event.previous)
    if event.type == ADDED:
        return (ADDED, event.object) if now else None
    if event.type == DELETED:
        return (DELETED, event.object) if before else None
    if now and before:
        return (MODIFIED, event.object)
    if now:
        return (ADDED, event.object)
    if before and event.previous is not None:
        gone = dict(event.previous)
        gone["metadata"] = {
            **event.previous["metadata"],
            "resourceVersion": str(event.resource_version),
        }
        return (DELETED, gone)
    return None


class _Framer:
    """Turns (type, object) into the bytes of one frame in the negotiated encoding."""

    def __init__(self, call: Call, media: str, table: bool) -> None:
        self.call = call
        self.media = media
        self.table = table
        self.first_row = True

    @property
    def content_type(self) -> str:
        if self.media == PROTOBUF:
            return protobuf.WATCH_MEDIA_TYPE
        return JSON

    def frame(self, kind: str, obj: dict[str, Any]) -> bytes:
        if kind in (ADDED, MODIFIED, DELETED) and self.table:
            out: dict[str, Any] = tables.table(
                [obj],
                obj["metadata"].get("resourceVersion", ""),
                now=self.call.state.clock(),
                include_object="Metadata",
                no_headers=not self.first_row,
            )
            out["apiVersion"] = f"{_META}/v1"
            self.first_row = False
        elif kind in (ADDED, MODIFIED, DELETED):
            out = with_type_meta(obj)
        else:
            out = obj
        if self.media == PROTOBUF:
            return protobuf.encode_watch_event(kind, out)
        return go_json_bytes({"type": kind, "object": out})  # ends in a newline, like Go's


def _watch_selectors(call: Call, name: str | None) -> ListSelectors:
    from conformance.targets.fake.handlers.read import selectors_for

    chosen = selectors_for(
        call, honour_field_selector=list_faults.honours_field_selector(call.faults)
    )
    if name is not None:
        pinned = (*chosen.fields.terms, FieldTerm("metadata.name", name, True))
        chosen = ListSelectors(chosen.labels, FieldSelector(pinned))
    return watch_faults.selectors(call.faults, list_faults.selectors(call.faults, chosen))


async def serve_watch(
    call: Call, opts: listing.ListOptions, name: str | None = None
) -> web.StreamResponse:
    """Answer a watch request: refusals first, then the stream until timeout or hang-up."""
    request = call.request
    try:
        rendering = negotiate(request.headers.get("Accept"), _TRANSFORMS, protobuf=True)
    except NotAcceptable:
        return respond(request, 406, not_acceptable_status())
    errs = listing.validate_list_options(opts)
    if errs:
        return respond(request, 422, listing.options_status(errs))
    try:
        selectors = _watch_selectors(call, name)
    except SelectorError as e:
        return respond(request, 400, st.bad_request(str(e)))
    start: int | None = None
    try:
        if opts.resource_version not in ("", "0"):
            start = listing.parse_resource_version(opts.resource_version)
    except listing.OptionsError:
        status = listing.watch_resource_version_error(opts.resource_version)
        return respond(request, 500, status)
    initial = bool(opts.send_initial_events)
    if initial:
        start = None
    elif opts.send_initial_events is False and start is None:
        start = call.state.store.resource_version  # from now, without the current state
    start = watch_faults.start(call.faults, start)

    framer = _Framer(call, rendering.media_type, rendering.transform == "Table")
    resp = web.StreamResponse(status=200)
    resp.headers["Content-Type"] = framer.content_type
    resp.headers["Cache-Control"] = "no-cache, private"
    resp.enable_chunked_encoding()

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event] = asyncio.Queue()

    def listener(event: Event) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    store = call.state.store
    try:
        position, backlog, unsubscribe = store.watch(start, listener)
    except TooOld as e:
        if not watch_faults.too_old_from_now(call.faults):
            await resp.prepare(request)
            expired = listing.expired(listing.too_old_message(e.requested, e.oldest))
            await resp.write(framer.frame(ERROR, expired))
            await resp.write_eof()
            return resp
        position, backlog, unsubscribe = store.watch(store.resource_version, listener)
    if start is not None:
        position = max(position, start)  # a watch from the future sends only what follows it
    try:
        await resp.prepare(request)
        stream = watch_faults.Stream(call.faults)
        sends: list[tuple[tuple[str, dict[str, Any]], Event | None]]
        if start is None:
            sends = [((ADDED, e.object), None) for e in backlog if selectors.matches(e.object)]
        else:
            converted = ((convert(e, selectors), e) for e in backlog)
            sends = [(c, e) for c, e in converted if c is not None]
        for kind, obj in stream.backlog(sends):
            await resp.write(framer.frame(kind, obj))
        if initial and opts.allow_bookmarks and not watch_faults.no_initial_end(call.faults):
            mark = bookmark_object(position, initial_events_end=True)
            await resp.write(framer.frame(BOOKMARK, mark))
        await _follow(call, opts, resp, framer, queue, selectors, position, stream)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        unsubscribe()
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp


async def _follow(
    call: Call,
    opts: listing.ListOptions,
    resp: web.StreamResponse,
    framer: _Framer,
    queue: asyncio.Queue[Event],
    selectors: ListSelectors,
    position: int,
    stream: watch_faults.Stream,
) -> None:
    """Live events until the timeout, with bookmarks when asked for."""
    loop = asyncio.get_running_loop()
    timeout = opts.timeout_seconds if opts.timeout_seconds else DEFAULT_TIMEOUT_SECONDS
    deadline = loop.time() + max(timeout, 0)
    period = call.state.bookmark_seconds
    next_mark = loop.time() + period
    marked = position
    while True:
        now = loop.time()
        if now >= deadline:
            return
        wait = deadline - now
        if opts.allow_bookmarks:
            wait = min(wait, max(next_mark - now, 0))
        try:
            event = await asyncio.wait_for(queue.get(), timeout=wait)
        except TimeoutError:
            if opts.allow_bookmarks and loop.time() >= next_mark:
                next_mark = loop.time() + period
                rv = stream.bookmark_rv(position, marked)
                marked = max(marked, rv)
                await resp.write(framer.frame(BOOKMARK, bookmark_object(rv)))
            continue
        if event.resource_version <= position:
            continue
        position = event.resource_version
        converted = convert(event, selectors)
        for kind, obj in stream.live(converted, event):
            await resp.write(framer.frame(kind, obj))
