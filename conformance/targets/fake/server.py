"""Running the fake: an aiohttp server on its own event loop in a daemon thread.

Tests and the pytest plugin are synchronous, so the server keeps its asyncio loop to
itself; ``start`` returns only once the socket is listening (the port is bound before the
thread starts, so ``url`` is known at once), and ``stop`` shuts the loop down and joins
the thread. ``serve_forever`` is the ``csr-conformance serve`` command's body.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType, TracebackType

from aiohttp import web

from conformance.identities import StaticUser, static_users
from conformance.targets.fake.app import build_app
from conformance.targets.fake.authn import Authenticator
from conformance.targets.fake.certs import CertificateAuthority, KeyPair, server_ssl_context
from conformance.targets.fake.config import FakeConfig
from conformance.targets.fake.context import ServerState
from conformance.targets.fake.faults import ActiveFaults, check_fault_names
from conformance.targets.fake.kubeconfig import kubeconfig_document, write_kubeconfig_file
from conformance.targets.fake.signer import ReferenceSigner
from conformance.targets.fake.store import Store

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0


def _is_ipv6(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if _is_ipv6(host) else f"{host}:{port}"


_DEFAULT_CONFIG = FakeConfig()


class FakeServer:
    """One fake kube-apiserver for CSRs, reachable over HTTP(S) on loopback."""

    def __init__(self, config: FakeConfig = _DEFAULT_CONFIG) -> None:
        check_fault_names(config.faults)
        self.config = config
        self.users: dict[str, StaticUser] = static_users()
        self.ca: CertificateAuthority | None = None
        self._ssl: ssl.SSLContext | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._port = 0
        self.state = ServerState(
            authenticator=Authenticator(self.users),
            faults=ActiveFaults(frozenset(config.faults)),
            store=Store(),
            bookmark_seconds=config.bookmark_seconds,
            log_requests=config.log_requests,
            kube_version=config.kube_version,
        )
        self.signer: ReferenceSigner | None = (
            ReferenceSigner(self.state, config.signer) if config.signer is not None else None
        )

    # -- public API --------------------------------------------------------

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the fake server has not been started")
        scheme = "https" if self.config.tls else "http"
        return f"{scheme}://{_host_port(self.config.host, self._port)}"

    @property
    def store(self) -> Store:
        return self.state.store

    def compact(self) -> None:
        """Forget all history before now, as etcd compaction does (410 for older reads)."""
        self.state.store.compact()

    @property
    def ca_pem(self) -> bytes | None:
        """The CA that signed the serving certificate (None for plain HTTP)."""
        return self.ca.cert_pem if self.ca else None

    @property
    def signer_ca_pem(self) -> bytes | None:
        """The reference signer's CA certificate (None when no signer runs)."""
        return self.signer.ca.cert_pem if self.signer is not None else None

    def client_certificate(self, username: str, groups: tuple[str, ...] = ()) -> KeyPair:
        """A client certificate the fake accepts as ``username`` in ``groups`` (TLS only)."""
        if self.ca is None:
            raise RuntimeError("client certificates need a TLS fake that has been started")
        return self.ca.issue_client(username, groups)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the fake server is already running")
        host = self.config.host
        family = socket.AF_INET6 if _is_ipv6(host) else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, self.config.port))
        sock.listen(128)
        sock.setblocking(False)
        self._sock = sock
        self._port = sock.getsockname()[1]
        self.state.server_address = _host_port(host, self._port)
        if self.config.tls:
            self.ca = CertificateAuthority()
            hosts = ["127.0.0.1", "::1", "localhost", host]
            self._ssl = server_ssl_context(self.ca, self.ca.issue_serving(hosts))
        self._ready.clear()
        if self.signer is not None:
            self.signer.start()
        self._thread = threading.Thread(target=self._run, name="csrc-fake-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError("the fake server did not start in time")
        if self._error is not None:
            self._thread.join(_STOP_TIMEOUT)
            self._thread = None
            raise RuntimeError("the fake server failed to start") from self._error

    def stop(self) -> None:
        if self.signer is not None:
            self.signer.stop()
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may already be closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_STOP_TIMEOUT)
        self._thread = None
        self._loop = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def write_kubeconfig(self, path: str) -> None:
        """Contexts admin/user/approver/signer with bearer tokens; current-context admin."""
        write_kubeconfig_file(path, kubeconfig_document(self.url, self.users, self.ca_pem))

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the server thread -------------------------------------------------

    async def _serve(self) -> None:
        assert self._sock is not None
        runner = web.AppRunner(
            build_app(self.state), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.SockSite(runner, self._sock, ssl_context=self._ssl)
        await site.start()
        self._runner = runner

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as e:  # reported to start(), which raises it
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            if self._runner is not None:
                loop.run_until_complete(self._runner.cleanup())
            # Open watches are still waiting for events: end them before the loop closes.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def serve_forever(config: FakeConfig, kubeconfig_out: str | None) -> None:
    """Run a fake until Ctrl-C or SIGTERM (``csr-conformance serve``).

    Prints the URL on one line and where the kubeconfig went on the next. Without
    ``kubeconfig_out`` the kubeconfig goes to a private temporary directory that is
    removed on exit, since it holds the users' tokens.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    tmpdir: str | None = None
    if kubeconfig_out is None:
        tmpdir = tempfile.mkdtemp(prefix="csrc-fake-")
        kubeconfig_out = str(Path(tmpdir, "kubeconfig"))
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    server = FakeServer(config)
    try:
        server.start()
        server.write_kubeconfig(kubeconfig_out)
        print(server.url, flush=True)
        print(f"kubeconfig: {kubeconfig_out}", flush=True)
        if server.signer_ca_pem is not None:
            ca_dir = tmpdir or tempfile.mkdtemp(prefix="csrc-fake-")
            tmpdir = ca_dir
            ca_path = Path(ca_dir, "signer-ca.pem")
            ca_path.write_bytes(server.signer_ca_pem)
            print(f"signer CA bundle: {ca_path}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    sys.stdout.flush()
