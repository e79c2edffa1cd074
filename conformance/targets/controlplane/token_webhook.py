"""The TokenReview webhook the control plane serves to its own kube-apiserver.

kube-apiserver's static token file has no column for extra attributes, yet the suite's
unprivileged user must carry some, so that ``spec.extra`` is exercised on the real
server exactly as on the fake. The webhook token authenticator can carry them, so the
plane runs this small HTTPS server in a daemon thread and points
``--authentication-token-webhook-config-file`` at it.

It answers for the users it is given and says ``authenticated: false`` to every other
token, which kube-apiserver turns into the same 401 an unknown token gets. The webhook
runs after the token file in kube-apiserver's union of token authenticators, so the
roles kept in the file never reach it, and kube-apiserver caches a positive answer
(two minutes by default), so the thread sees one request per user every so often
rather than one per API call.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from conformance.identities import StaticUser, user_info_json

log = logging.getLogger(__name__)

TOKEN_REVIEW_PATH: Final = "/tokenreview"
API_VERSION: Final = "authentication.k8s.io/v1"
KIND: Final = "TokenReview"

_MAX_BODY: Final = 1 << 20
# Longer than Go's 90 s idle-connection timeout, so kube-apiserver is the side that
# closes an idle keep-alive connection; it also bounds a connection that never
# finishes its TLS handshake.
_CONNECTION_TIMEOUT: Final = 120.0
_POLL_SECONDS: Final = 0.05
_JOIN_SECONDS: Final = 5.0


class BadReview(ValueError):
    """The request body is not an ``authentication.k8s.io/v1`` TokenReview."""


def user_info(user: StaticUser) -> dict[str, Any]:
    """``status.user`` for ``user``, empty fields left out as Go's omitempty would.

    Groups are sent as they are: kube-apiserver appends ``system:authenticated`` to
    whatever any authenticator returns, as it does for the token file.
    """
    return user_info_json(user.username, user.uid, user.groups, user.extra)


def review_answer(review: Any, users_by_token: Mapping[str, StaticUser]) -> dict[str, Any]:
    """The TokenReview to send back for the decoded request body ``review``.

    No ``status.audiences`` is returned: kube-apiserver then treats the token as valid
    for its own audiences, which are the ones it asks about.
    """
    if not isinstance(review, dict):
        raise BadReview("body is not a JSON object")
    if review.get("apiVersion") != API_VERSION or review.get("kind") != KIND:
        raise BadReview(
            f"want apiVersion {API_VERSION} kind {KIND}, "
            f"got {review.get('apiVersion')!r} {review.get('kind')!r}"
        )
    spec = review.get("spec")
    token = spec.get("token") if isinstance(spec, dict) else None
    user = users_by_token.get(token) if isinstance(token, str) and token else None
    status: dict[str, Any] = {"authenticated": user is not None}
    if user is not None:
        status["user"] = user_info(user)
    return {"apiVersion": API_VERSION, "kind": KIND, "status": status}


class _Server(ThreadingHTTPServer):
    """Tracks open connections so ``stop`` can cut idle keep-alive ones."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, users_by_token: Mapping[str, StaticUser]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.users_by_token = users_by_token
        self.reviews = 0
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        # The handshake happens in the connection's own thread (see _Handler.setup),
        # so a client that stalls in it cannot hold up accepting the next one.
        tls = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return tls, addr

    def cut_connections(self) -> None:
        with self.lock:
            open_now = list(self.connections)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _CONNECTION_TIMEOUT
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        # A failed handshake or a reset mid-request ends this one connection quietly.
        with contextlib.suppress(OSError):
            assert isinstance(self.connection, ssl.SSLSocket)
            self.connection.do_handshake()
            super().handle()

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != TOKEN_REVIEW_PATH:
            self._reply(404, {"error": f"only POST {TOKEN_REVIEW_PATH} is served"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply(411, {"error": "Content-Length required"})
            return
        if not 0 <= length <= _MAX_BODY:
            self._reply(413, {"error": "body too large"})
            return
        try:
            answer = review_answer(json.loads(self.rfile.read(length)), self.server.users_by_token)
        except (ValueError, BadReview) as exc:
            self._reply(400, {"error": str(exc)})
            return
        with self.server.lock:
            self.server.reviews += 1
        self._reply(200, answer)

    def _reply(self, code: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("token webhook: " + format, *args)


class TokenWebhook:
    """An HTTPS TokenReview endpoint on a loopback port of its own choosing."""

    def __init__(self, users: Iterable[StaticUser], cert_file: Path, key_file: Path) -> None:
        self._users_by_token = {u.token: u for u in users if u.token}
        self._cert_file = cert_file
        self._key_file = key_file
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where kube-apiserver posts its reviews (the full URL, path included)."""
        if self._server is None:
            raise RuntimeError("token webhook is not started")
        port = self._server.server_address[1]
        return f"https://127.0.0.1:{port}{TOKEN_REVIEW_PATH}"

    @property
    def reviews(self) -> int:
        """TokenReviews answered so far, for checks on how often kube-apiserver asks."""
        return self._server.reviews if self._server is not None else 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Bind port 0 (so no other process can race us for it) and serve in a thread."""
        if self._server is not None:
            raise RuntimeError("token webhook is already started")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self._cert_file, self._key_file)
        self._server = _Server(context, self._users_by_token)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="csrc-token-webhook",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, cut open connections and join the thread. Idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        if thread is not None and thread.is_alive():
            server.shutdown()
        server.server_close()
        server.cut_connections()
        if thread is not None:
            thread.join(_JOIN_SECONDS)
