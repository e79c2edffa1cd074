"""What was said on the wire during one Hypothesis example.

A failing property is only useful if the reader can see the exact requests that led to
it. Every exchange the client makes is appended to the current transcript; the property
decorator starts a fresh one per example, so the transcript attached to a failure is the
one of the minimal (last replayed) example.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from conformance.client.redact import redact_bytes, redact_headers, redact_text

# Headers worth showing: they change the meaning of a request or response.
_SHOWN_REQUEST_HEADERS = ("content-type", "accept", "authorization", "user-agent")
_SHOWN_RESPONSE_HEADERS = ("content-type", "warning", "audit-id")
_BODY_LIMIT = 8192


@dataclass
class Exchange:
    """One request and its response (or the reason there was none)."""

    identity: str
    method: str
    path: str
    query: list[tuple[str, str]]
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    error: str | None = None
    seconds: float = 0.0

    def render(self) -> str:
        """A curl-like, redacted rendering for humans and JUnit bodies."""
        qs = "&".join(f"{k}={v}" for k, v in self.query)
        target = self.path + (f"?{qs}" if qs else "")
        lines = [f">>> {self.method} {target}   [as {self.identity}]"]
        shown = {
            k: v for k, v in self.request_headers.items() if k.lower() in _SHOWN_REQUEST_HEADERS
        }
        lines += [f">>> {k}: {v}" for k, v in redact_headers(shown).items()]
        if self.request_body is not None:
            lines.append(">>> " + _render_body(self.request_body))
        if self.error is not None:
            lines.append(f"<<< (no response: {self.error})")
        else:
            lines.append(f"<<< {self.status}   ({self.seconds * 1000:.1f} ms)")
            shown = {
                k: v
                for k, v in self.response_headers.items()
                if k.lower() in _SHOWN_RESPONSE_HEADERS
            }
            lines += [f"<<< {k}: {v}" for k, v in shown.items()]
            if self.response_body:
                lines.append("<<< " + _render_body(self.response_body))
        return "\n".join(lines)


def _render_body(body: bytes) -> str:
    body = redact_bytes(body)
    try:
        text = json.dumps(json.loads(body), sort_keys=False, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        text = repr(body[:_BODY_LIMIT])
    if len(text) > _BODY_LIMIT:
        text = text[:_BODY_LIMIT] + f"... ({len(text) - _BODY_LIMIT} more characters)"
    return redact_text(text)


class Transcript:
    """The exchanges of the current example; thread-safe because watches run in threads."""

    def __init__(self, limit: int = 200) -> None:
        self._lock = threading.Lock()
        self._items: list[Exchange] = []
        self._limit = limit
        self._dropped = 0
        # Run-wide totals (not reset per example): how much of a run is spent waiting
        # for the server, as opposed to drawing examples and checking them.
        self.requests = 0
        self.request_seconds = 0.0

    def begin_example(self) -> None:
        with self._lock:
            self._items = []
            self._dropped = 0

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self.requests += 1
            self.request_seconds += exchange.seconds
            if len(self._items) >= self._limit:
                self._items.pop(0)
                self._dropped += 1
            self._items.append(exchange)

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._items)

    def render(self) -> str:
        with self._lock:
            items, dropped = list(self._items), self._dropped
        head = [f"({dropped} earlier exchanges dropped)"] if dropped else []
        return "\n\n".join(head + [e.render() for e in items]) or "(no HTTP exchanges)"
