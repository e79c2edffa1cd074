"""A streaming watch reader: events as they arrive, each wait bounded.

A watch is one long HTTP response, so reading it like any other body would either hang
or see nothing until the server hangs up. Here a reader thread turns the byte stream into
events (newline-delimited JSON, or length-prefixed protobuf frames for
``;stream=watch``) and a queue hands them to the property, which waits for each event at
most as long as it says and never past the watch's deadline. Closing the stream closes
the socket, which ends the reader; the whole exchange, with every event in arrival
order, lands in the run's transcript.
"""

from __future__ import annotations

import contextlib
import json
import queue
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

import urllib3

from conformance.client.api import USER_AGENT, Client, QueryArg, _describe, _query_pairs, csr_path
from conformance.client.errors import NotJSON, TargetError
from conformance.client.transcript import Exchange
from conformance.wire import protobuf

JSON_STREAM: Final = "application/json"
PROTOBUF_STREAM: Final = "application/vnd.kubernetes.protobuf;stream=watch"
_END: Final = object()


@dataclass(frozen=True)
class WatchEvent:
    """One event as the server sent it."""

    type: str
    object: dict[str, Any]
    seq: int
    """Arrival order within this stream, from 0."""
    at: float
    """Seconds since the watch was opened."""

    @property
    def resource_version(self) -> str:
        meta = self.object.get("metadata")
        return str(meta.get("resourceVersion", "")) if isinstance(meta, dict) else ""

    @property
    def name(self) -> str:
        meta = self.object.get("metadata")
        return str(meta.get("name", "")) if isinstance(meta, dict) else ""


class StreamError(AssertionError):
    """The stream broke the watch wire format (a conformance failure, not a hang-up)."""


@dataclass
class WatchStream:
    """An open watch. Iterate with :meth:`next`; always :meth:`close` (or use ``with``)."""

    client: Client
    query: list[tuple[str, str]]
    path: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    error_body: bytes = b""
    events: list[WatchEvent] = field(default_factory=list)
    ended: bool = False
    problem: str | None = None
    _queue: queue.Queue[Any] = field(default_factory=queue.Queue)
    _response: Any = None
    _thread: threading.Thread | None = None
    _opened: float = 0.0
    _exchange: Exchange | None = None
    _raw: bytearray = field(default_factory=bytearray)

    # -- life cycle ------------------------------------------------------------------

    def open(self, *, deadline: float, accept: str) -> WatchStream:
        client = self.client
        client.breaker.check()
        url = client.connection.host + self.path + "?" + urlencode(self.query)
        hdrs = {"Accept": accept, "User-Agent": USER_AGENT}
        token = client.connection.auth_header()
        if token:
            hdrs["Authorization"] = token
        self._exchange = Exchange(client.identity, "GET", self.path, self.query, dict(hdrs), None)
        self._opened = time.monotonic()
        try:
            resp = client.connection.pool.request(
                "GET",
                url,
                headers=hdrs,
                timeout=urllib3.Timeout(connect=min(5.0, deadline), read=deadline),
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as e:
            reason = _describe(e, client.connection.host)
            self._exchange.error = reason
            client.transcript.record(self._exchange)
            client.breaker.trip(reason)
            raise TargetError(reason) from None
        self._response = resp
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.headers.items()}
        if resp.status != 200:
            self.error_body = resp.read()
            resp.release_conn()
            self.ended = True
            self._finish()
            return self
        protobuf_stream = self.headers.get("content-type", "").startswith(
            "application/vnd.kubernetes.protobuf"
        )
        self._thread = threading.Thread(
            target=self._read, args=(resp, protobuf_stream), name="watch-reader", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Hang up (idempotent); the transcript gets the exchange once."""
        resp = self._response
        if resp is not None:
            # Hanging up must never raise, whatever state the connection is in.
            with contextlib.suppress(Exception):
                if hasattr(resp, "shutdown"):
                    resp.shutdown()
            with contextlib.suppress(Exception):
                resp.release_conn()
                resp.close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._finish()

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _finish(self) -> None:
        ex = self._exchange
        if ex is None or ex.status is not None:
            return
        ex.status = self.status or None
        ex.response_headers = dict(self.headers)
        ex.response_body = self.error_body or bytes(self._raw)
        ex.seconds = time.monotonic() - self._opened
        if ex.status is None:
            ex.status = 0
        self.client.transcript.record(ex)

    # -- reading ---------------------------------------------------------------------

    def _read(self, resp: Any, protobuf_stream: bool) -> None:
        buf = b""
        try:
            for chunk in resp.stream(65536, decode_content=True):
                if not chunk:
                    continue
                if len(self._raw) < 1_000_000:
                    self._raw += chunk
                buf += chunk
                buf = self._frames(buf, protobuf_stream)
        except Exception as e:  # a broken or closed stream ends the watch
            if not self.ended:
                self._queue.put(("broken", _describe(e, self.client.connection.host)))
        self._queue.put(_END)

    def _frames(self, buf: bytes, protobuf_stream: bool) -> bytes:
        while True:
            if protobuf_stream:
                if len(buf) < 4:
                    return buf
                (length,) = struct.unpack(">I", buf[:4])
                if len(buf) < 4 + length:
                    return buf
                frame, buf = buf[: 4 + length], buf[4 + length :]
                for kind, obj in protobuf.decode_watch_events(frame):
                    self._queue.put(("event", kind, obj))
                continue
            line, sep, rest = buf.partition(b"\n")
            if not sep:
                return buf
            buf = rest
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                self._queue.put(("bad", f"watch frame is not JSON: {line[:200]!r}"))
                continue
            if not isinstance(value, dict) or not isinstance(value.get("object"), dict):
                self._queue.put(("bad", f"watch frame is not an event: {line[:200]!r}"))
                continue
            self._queue.put(("event", str(value.get("type", "")), value["object"]))

    def next(self, timeout: float) -> WatchEvent | None:
        """The next event, or None when none arrives within ``timeout`` or the stream ended.

        A frame that breaks the wire format raises :class:`StreamError`.
        """
        if self.ended:
            return None
        try:
            item = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if item is _END:
            self.ended = True
            return None
        if item[0] == "bad":
            raise StreamError(item[1])
        if item[0] == "broken":
            self.problem = item[1]
            self.ended = True
            return None
        event = WatchEvent(item[1], item[2], len(self.events), time.monotonic() - self._opened)
        self.events.append(event)
        return event

    def collect(self, *, quiet: float, limit: float) -> list[WatchEvent]:
        """Events until none arrives for ``quiet`` seconds, at most ``limit`` in all."""
        out: list[WatchEvent] = []
        end = time.monotonic() + limit
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return out
            event = self.next(min(quiet, left))
            if event is None:
                return out
            out.append(event)

    def until(
        self, predicate: Callable[[WatchEvent], bool], *, limit: float
    ) -> Iterator[WatchEvent]:
        """Events until one satisfies ``predicate`` (inclusive) or ``limit`` seconds pass."""
        end = time.monotonic() + limit
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            event = self.next(left)
            if event is None:
                return
            yield event
            if predicate(event):
                return

    def error_status(self) -> dict[str, Any]:
        """The Status body of a refused watch (non-200)."""
        try:
            value = json.loads(self.error_body)
        except ValueError:
            raise NotJSON(
                f"HTTP {self.status} body is not JSON: {self.error_body[:120]!r}"
            ) from None
        if not isinstance(value, dict):
            raise NotJSON(f"HTTP {self.status} body is not a JSON object")
        return value


def open_watch(
    client: Client,
    query: QueryArg = None,
    *,
    deadline: float = 30.0,
    protobuf_stream: bool = False,
    legacy_name: str | None = None,
    legacy: bool = False,
) -> WatchStream:
    """Start a watch on the CSR collection (or the legacy ``/watch/`` path).

    ``deadline`` bounds every read on the socket; properties also bound each wait.
    """
    pairs = _query_pairs(query)
    if legacy or legacy_name is not None:
        path = csr_path().replace(
            "/certificatesigningrequests", "/watch/certificatesigningrequests"
        )
        if legacy_name is not None:
            path += "/" + legacy_name
    else:
        path = csr_path()
        if not any(k == "watch" for k, _ in pairs):
            pairs = [("watch", "true"), *pairs]
    accept = PROTOBUF_STREAM if protobuf_stream else JSON_STREAM
    return WatchStream(client, pairs, path).open(deadline=deadline, accept=accept)
