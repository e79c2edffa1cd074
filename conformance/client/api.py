"""A raw-JSON client for the CSR endpoints, one instance per identity.

Properties judge what the server sent, so responses are kept as status, headers and
bytes; ``Response.json()`` parses lazily and refuses garbage loudly. Every call has a
timeout and lands in the shared transcript. Once the target has failed to answer, a
shared breaker makes every later call fail at once with the same reason, so a dead or
hanging server costs one timeout per run rather than one per Hypothesis example.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

from conformance.client.connection import Connection
from conformance.client.errors import NotJSON, TargetError
from conformance.client.transcript import Exchange, Transcript

GROUP_PATH = "/apis/certificates.k8s.io/v1"
CSR_PATH = f"{GROUP_PATH}/certificatesigningrequests"
USER_AGENT = "csr-conformance/0.1.0"

QueryArg = Mapping[str, str | int | bool] | Iterable[tuple[str, str]] | None


@dataclass
class Response:
    """What the server said, unparsed until asked."""

    status: int
    headers: dict[str, str]
    body: bytes
    warnings: list[str] = field(default_factory=list)
    _parsed: Any = None
    _parsed_ok: bool = False

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a conformance failure."""
        if not self._parsed_ok:
            try:
                self._parsed = json.loads(self.body)
            except (ValueError, UnicodeDecodeError):
                snippet = self.body[:120]
                raise NotJSON(
                    f"HTTP {self.status} body is not JSON "
                    f"(content-type {self.headers.get('content-type', '?')!r}): {snippet!r}"
                ) from None
            self._parsed_ok = True
        return self._parsed

    def obj(self) -> dict[str, Any]:
        """The body as a JSON object (the only top-level shape the API ever sends)."""
        value = self.json()
        if not isinstance(value, dict):
            raise NotJSON(f"HTTP {self.status} body is JSON but not an object: {value!r:.120}")
        return value


class Breaker:
    """Remembers that the target stopped answering, shared by every client of a run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None

    def trip(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason

    def check(self) -> None:
        if self.reason is not None:
            raise TargetError(f"target unavailable earlier in this run: {self.reason}")


def _query_pairs(query: QueryArg) -> list[tuple[str, str]]:
    if query is None:
        return []
    items: Iterable[tuple[str, Any]]
    items = query.items() if isinstance(query, Mapping) else query
    out: list[tuple[str, str]] = []
    for k, v in items:
        out.append((k, ("true" if v else "false") if isinstance(v, bool) else str(v)))
    return out


def csr_path(name: str | None = None, sub: str | None = None) -> str:
    """The URL path of the collection, an object, or an object's subresource."""
    if name is None:
        return CSR_PATH
    path = f"{CSR_PATH}/{quote(name, safe='')}"
    return f"{path}/{sub}" if sub else path


class Client:
    """Raw HTTP as one identity."""

    def __init__(
        self,
        connection: Connection,
        identity: str,
        transcript: Transcript,
        *,
        breaker: Breaker | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.connection = connection
        self.identity = identity
        self.transcript = transcript
        self.breaker = breaker or Breaker()
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        query: QueryArg = None,
        body: Any = None,
        data: bytes | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        auth: bool = True,
    ) -> Response:
        """Send one request; JSON-encode ``body`` unless raw ``data`` is given."""
        self.breaker.check()
        pairs = _query_pairs(query)
        url = self.connection.host + path + (f"?{urlencode(pairs)}" if pairs else "")
        hdrs = {"Accept": accept, "User-Agent": USER_AGENT}
        if body is not None and data is None:
            data = json.dumps(body).encode()
        if data is not None:
            hdrs["Content-Type"] = content_type
        if auth:
            token = self.connection.auth_header()
            if token:
                hdrs["Authorization"] = token
        if headers:
            hdrs.update(headers)
        exchange = Exchange(self.identity, method, path, pairs, dict(hdrs), data)
        t0 = time.monotonic()
        try:
            raw = self.connection.pool.request(
                method,
                url,
                body=data,
                headers=hdrs,
                timeout=urllib3.Timeout(
                    connect=min(5.0, timeout or self.timeout), read=timeout or self.timeout
                ),
                redirect=False,
                preload_content=True,
            )
        except urllib3.exceptions.HTTPError as e:
            reason = _describe(e, self.connection.host)
            exchange.error = reason
            exchange.seconds = time.monotonic() - t0
            self.transcript.record(exchange)
            self.breaker.trip(reason)
            raise TargetError(reason) from None
        exchange.seconds = time.monotonic() - t0
        resp_headers = {k.lower(): v for k, v in raw.headers.items()}
        exchange.status = raw.status
        exchange.response_headers = resp_headers
        exchange.response_body = raw.data
        self.transcript.record(exchange)
        return Response(
            status=raw.status,
            headers=resp_headers,
            body=raw.data,
            warnings=list(raw.headers.getlist("Warning")),
        )

    # -- CSR verbs ---------------------------------------------------------------

    def create(self, obj: Any, query: QueryArg = None) -> Response:
        return self.request("POST", csr_path(), query=query, body=obj)

    def get(self, name: str, sub: str | None = None, query: QueryArg = None) -> Response:
        return self.request("GET", csr_path(name, sub), query=query)

    def list(self, query: QueryArg = None) -> Response:
        return self.request("GET", csr_path(), query=query)

    def delete(self, name: str, options: Any = None, query: QueryArg = None) -> Response:
        return self.request("DELETE", csr_path(name), query=query, body=options)

    def delete_collection(self, query: QueryArg = None, options: Any = None) -> Response:
        return self.request("DELETE", csr_path(), query=query, body=options)


def _describe(error: Exception, host: str) -> str:
    """One line that says what went wrong with the connection."""
    text = str(error)
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        text = str(error.reason)
        error = error.reason
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x: test it first.
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return f"cannot connect to {host}: connection refused or unreachable"
    if isinstance(error, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.TimeoutError)):
        return f"{host} did not answer in time ({type(error).__name__})"
    if isinstance(error, urllib3.exceptions.SSLError):
        return f"TLS handshake with {host} failed: {text}"
    if isinstance(error, urllib3.exceptions.ProtocolError):
        return f"{host} broke the HTTP exchange: {text}"
    return f"request to {host} failed: {text}"
