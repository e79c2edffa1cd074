"""A real kube-apiserver (with etcd and, optionally, kube-controller-manager) started
from a directory of binaries, envtest-style, for one run of the suite.

Start-up order and why:
1. PKI, token file and kubeconfigs are written to a private temp directory, and the
   token webhook (see ``token_webhook``) starts serving the roles in
   :data:`WEBHOOK_ROLES`, whose extra attributes the token file cannot hold.
2. The storage starts: etcd, or kine (``storage="kine-sqlite"|"kine-memory"``, see
   ``kine``); the API server is started only once etcd answers ``/health`` (kine: once
   its gRPC port accepts connections), so a broken storage is reported as such instead
   of as an API server that never got ready.
3. kube-apiserver starts; we poll ``/readyz`` as admin until it says ok.
4. kube-controller-manager is spawned right away, so its informers sync while we
   create the RBAC below; we never wait for it to become ready, since only the
   properties about built-in signers need it and they poll for certificates anyway.
5. RBAC for user/approver/signer is created, then each role's key permission is
   checked with a SelfSubjectAccessReview until the authorizer's cache agrees, so
   the first property never sees a 403 that a later one would not.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import socket
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Final

import urllib3

from conformance.identities import ADMIN, ROLES, USER, StaticUser, static_users
from conformance.targets.controlplane import rbac, teardown
from conformance.targets.controlplane.api import ApiClient
from conformance.targets.controlplane.assets import (
    ETCD,
    KUBE_APISERVER,
    KUBE_CONTROLLER_MANAGER,
    REQUIRED,
    check_binaries,
)
from conformance.targets.controlplane.errors import ControlPlaneError
from conformance.targets.controlplane.kine import KINE, KINE_VERSION, STORAGES, find_kine, kine_argv
from conformance.targets.controlplane.kubeconfig import (
    kubeconfig_dict,
    webhook_kubeconfig_dict,
    write_kubeconfig_file,
)
from conformance.targets.controlplane.pki import ClusterPKI, write_cluster_pki
from conformance.targets.controlplane.process import Process, free_port, stop_all
from conformance.targets.controlplane.token_webhook import TokenWebhook

log = logging.getLogger(__name__)

SERVICE_CLUSTER_IP_RANGE: Final = "10.0.0.0/24"
KCM_USERNAME: Final = "system:kube-controller-manager"
CSR_CONTROLLERS: Final = (
    "certificatesigningrequest-signing-controller",
    "certificatesigningrequest-approving-controller",
    "certificatesigningrequest-cleaner-controller",
)
WEBHOOK_ROLES: Final = (USER,)
"""Roles authenticated by the token webhook rather than the token file."""
STOP_GRACE_SECONDS: Final = 5.0
_POLL_SECONDS: Final = 0.1
_PORT_ATTEMPTS: Final = 3
_PORT_CLASH: Final = "address already in use"


class _PortClash(Exception):
    """A child lost the race for a port we picked; the start is retried on new ports."""


class ControlPlane:
    """etcd or kine + kube-apiserver (+ kube-controller-manager) on loopback, for one run."""

    def __init__(
        self,
        assets_dir: str,
        *,
        controller_manager: bool = True,
        log_dir: str | None = None,
        watch_cache: bool = True,
        storage: str = "etcd",
        kine_version: str = KINE_VERSION,
    ) -> None:
        if storage not in STORAGES:
            raise ValueError(f"unknown storage {storage!r}; choose one of {', '.join(STORAGES)}")
        needed = (*REQUIRED, KUBE_CONTROLLER_MANAGER) if controller_manager else REQUIRED
        if controller_manager:
            source = "needed for signing; pass controller_manager=False to run without it"
        else:
            source = "the assets directory"
        check_binaries(assets_dir, source, needed)
        self.assets_dir = Path(assets_dir)
        self.controller_manager = controller_manager
        self.watch_cache = watch_cache
        self.storage = storage
        self.kine_version = kine_version
        self.kine_binary = None if storage == "etcd" else find_kine(kine_version, assets_dir)
        self.etcd_url: str | None = None
        """Where kube-apiserver's --etcd-servers points: etcd's client URL, or kine's."""
        self.log_dir = Path(log_dir) if log_dir else None
        self.timings: dict[str, float] = {}
        """Seconds from the start of ``start()`` to each milestone, for reports."""
        self.users: dict[str, StaticUser] = static_users(f"csrc-{secrets.token_hex(12)}")
        self._kcm_token = f"csrc-kcm-{secrets.token_hex(12)}"
        self._tmp: Path | None = None
        self._pki: ClusterPKI | None = None
        self._etcd: Process | None = None
        self._apiserver: Process | None = None
        self._kcm: Process | None = None
        self._webhook: TokenWebhook | None = None
        self._api: ApiClient | None = None
        self._url: str | None = None
        self._version: str | None = None

    # -- public API -------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("control plane is not started")
        return self._url

    @property
    def version(self) -> str:
        if self._version is None:
            raise RuntimeError("control plane is not started")
        return self._version

    @property
    def ca_pem(self) -> bytes:
        """The CA that signed the API server's serving certificate."""
        if self._pki is None:
            raise RuntimeError("control plane is not started")
        return self._pki.serving_ca.read_bytes()

    @property
    def signing_ca_file(self) -> str | None:
        """PEM file of the cluster-signing CA kube-controller-manager issues from (the CA
        bundle the signer properties verify against); None without the controller."""
        if self._pki is None or not self.controller_manager:
            return None
        return str(self._pki.cluster_signing_cert)

    @property
    def pids(self) -> list[int]:
        """Process ids of the children, for checks that nothing outlives ``stop``."""
        return [p.pid for p in (self._etcd, self._apiserver, self._kcm) if p is not None]

    @property
    def compaction(self) -> str | None:
        """How to compact the storage on demand (``conformance.compaction``):
        etcd by its JSON gateway; kine has no gateway, only etcd's gRPC Compact."""
        if self.etcd_url is None:
            return None
        if self.storage == "etcd":
            return f"etcd:{self.etcd_url}"
        return f"etcd-grpc:{self.etcd_url}"

    @property
    def temp_dir(self) -> str | None:
        return str(self._tmp) if self._tmp is not None else None

    def start(self, timeout: float = 90.0) -> None:
        """Start everything, bounded by ``timeout`` seconds; on any failure, clean up."""
        if self._url is not None:
            raise RuntimeError("control plane is already started")
        teardown.register(self)
        t0 = time.monotonic()
        try:
            for attempt in range(1, _PORT_ATTEMPTS + 1):
                try:
                    self._start_once(t0, timeout)
                    return
                except _PortClash:
                    log.info("port clash on start attempt %d; retrying on new ports", attempt)
                    self._stop_processes()
            raise ControlPlaneError(f"could not bind free ports in {_PORT_ATTEMPTS} attempts")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill the processes (SIGTERM, then SIGKILL), stop the token webhook's thread
        and remove the temp directory."""
        self._stop_processes()
        # After kube-apiserver, so no review is cut off while it still serves requests.
        if self._webhook is not None:
            self._webhook.stop()
            self._webhook = None
        if self._api is not None:
            self._api.close()
            self._api = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._url = None
        teardown.unregister(self)

    def write_kubeconfig(self, path: str) -> None:
        """A kubeconfig with contexts admin/user/approver/signer, current-context admin."""
        tokens = {role: self.users[role].token for role in ROLES}
        write_kubeconfig_file(path, kubeconfig_dict(self.url, self.ca_pem, tokens))

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- start-up ---------------------------------------------------------------------

    def _mark(self, milestone: str, t0: float) -> None:
        self.timings[milestone] = round(time.monotonic() - t0, 3)

    def _start_once(self, t0: float, timeout: float) -> None:
        deadline = t0 + timeout
        self.timings = {}
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="csr-conformance-cp-"))
            self._pki = write_cluster_pki(self._tmp / "pki")
            self._write_token_file()
            self._start_webhook()
        assert self._pki is not None
        self._mark("pki", t0)
        logs = self.log_dir or self._tmp / "logs"
        logs.mkdir(parents=True, exist_ok=True)

        if self.kine_binary is None:
            etcd_url = self._start_etcd(logs, deadline)
        else:
            etcd_url = self._start_kine(self.kine_binary, logs, deadline)
        self.etcd_url = etcd_url
        self._mark("etcd_healthy", t0)

        port = free_port()
        url = f"https://127.0.0.1:{port}"
        self._apiserver = Process(
            KUBE_APISERVER, self._apiserver_argv(port, etcd_url), logs / "kube-apiserver.log"
        )
        if self._api is not None:
            self._api.close()
        self._api = ApiClient(url, str(self._pki.serving_ca))
        self._wait_ready(self._apiserver, deadline, timeout)
        self._mark("apiserver_ready", t0)

        if self.controller_manager:
            self._write_kcm_kubeconfig(url)
            self._kcm = Process(
                KUBE_CONTROLLER_MANAGER, self._kcm_argv(), logs / "kube-controller-manager.log"
            )

        self._create_rbac(deadline, timeout)
        self._mark("rbac_done", t0)
        self._version = self._read_version()
        if self._kcm is not None and self._kcm.exited() is not None:
            self._fail(self._kcm, f"exited with code {self._kcm.exited()} right after start")
        self._url = url
        self._mark("total", t0)
        log.info("control plane %s at %s started: %s", self._version, url, self.timings)

    def _write_token_file(self) -> None:
        assert self._tmp is not None
        rows = [
            (u.token, u.username, u.uid, ",".join(u.groups))
            for u in self.users.values()
            if u.role not in WEBHOOK_ROLES
        ]
        rows.append((self._kcm_token, KCM_USERNAME, "uid-csrc-kcm", "system:masters"))
        path = self._tmp / "tokens.csv"
        path.touch(mode=0o600)
        # Quote every field: the groups column holds commas.
        path.write_text("".join(",".join(f'"{f}"' for f in row) + "\n" for row in rows))

    def _start_webhook(self) -> None:
        assert self._tmp is not None and self._pki is not None
        self._webhook = TokenWebhook(
            [self.users[role] for role in WEBHOOK_ROLES],
            self._pki.token_webhook_cert,
            self._pki.token_webhook_key,
        )
        self._webhook.start()
        write_kubeconfig_file(
            self._tmp / "token-webhook.kubeconfig",
            webhook_kubeconfig_dict(self._webhook.url, self.ca_pem),
        )

    def _write_kcm_kubeconfig(self, url: str) -> None:
        assert self._tmp is not None
        config = kubeconfig_dict(
            url,
            self.ca_pem,
            {"kube-controller-manager": self._kcm_token},
            current="kube-controller-manager",
        )
        write_kubeconfig_file(self._tmp / "kcm.kubeconfig", config)

    def _start_etcd(self, logs: Path, deadline: float) -> str:
        assert self._tmp is not None
        data = self._tmp / "etcd"
        shutil.rmtree(data, ignore_errors=True)
        client_port = free_port()
        peer_port = free_port()
        while peer_port == client_port:
            peer_port = free_port()
        client = f"http://127.0.0.1:{client_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        argv = [
            str(self.assets_dir / ETCD),
            "--name=csr-conformance",
            f"--data-dir={data}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=csr-conformance={peer}",
            "--unsafe-no-fsync=true",
            # A single member elects itself after one election timeout; the default
            # (1s) is most of etcd's start-up time, and with no peers a short one is safe.
            "--heartbeat-interval=10",
            "--election-timeout=100",
            "--log-level=warn",
        ]
        self._etcd = Process(ETCD, argv, logs / "etcd.log")
        pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=1.0, read=2.0))
        try:
            while True:
                self._check_alive(self._etcd)
                with contextlib.suppress(urllib3.exceptions.HTTPError):
                    r = pool.request("GET", f"{client}/health")
                    if r.status == 200 and b'"true"' in r.data:
                        return client
                if time.monotonic() > deadline:
                    self._fail(self._etcd, "did not report healthy on /health in time")
                time.sleep(_POLL_SECONDS)
        finally:
            pool.clear()

    def _start_kine(self, binary: Path, logs: Path, deadline: float) -> str:
        """kine on a free loopback port, its SQLite database in this run's temp dir; up
        once the port accepts connections (kine serves only gRPC there, no /health)."""
        assert self._tmp is not None
        data = self._tmp / "kine"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
        port = free_port()
        argv = kine_argv(binary, self.storage, port, data)
        self._etcd = Process(KINE, argv, logs / "kine.log")
        while True:
            self._check_alive(self._etcd)
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=1.0),
            ):
                return f"http://127.0.0.1:{port}"
            if time.monotonic() > deadline:
                self._fail(self._etcd, f"did not accept connections on port {port} in time")
            time.sleep(_POLL_SECONDS)

    def _apiserver_argv(self, port: int, etcd_url: str) -> list[str]:
        assert self._tmp is not None and self._pki is not None
        pki = self._pki
        return [
            str(self.assets_dir / KUBE_APISERVER),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            # v1.37's endpoint reconcilers reject a loopback advertise address; nothing
            # here needs the default/kubernetes endpoints, so turn reconciling off.
            "--endpoint-reconciler-type=none",
            f"--secure-port={port}",
            f"--cert-dir={self._tmp / 'apiserver-certs'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            # Certificates kube-controller-manager issues for kube-apiserver-client
            # authenticate, as they do on a kubeadm cluster.
            f"--client-ca-file={pki.cluster_signing_cert}",
            f"--token-auth-file={self._tmp / 'tokens.csv'}",
            f"--authentication-token-webhook-config-file={self._tmp / 'token-webhook.kubeconfig'}",
            "--authentication-token-webhook-version=v1",
            "--authorization-mode=RBAC",
            f"--service-account-issuer=https://127.0.0.1:{port}",
            f"--service-account-key-file={pki.sa_public_key}",
            f"--service-account-signing-key-file={pki.sa_private_key}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            # No controller creates the default ServiceAccount (envtest does the same).
            "--disable-admission-plugins=ServiceAccount",
            "--profiling=false",
            f"--watch-cache={'true' if self.watch_cache else 'false'}",
        ]

    def _kcm_argv(self) -> list[str]:
        assert self._tmp is not None and self._pki is not None
        kubeconfig = self._tmp / "kcm.kubeconfig"
        return [
            str(self.assets_dir / KUBE_CONTROLLER_MANAGER),
            f"--kubeconfig={kubeconfig}",
            f"--controllers={','.join(CSR_CONTROLLERS)}",
            f"--cluster-signing-cert-file={self._pki.cluster_signing_cert}",
            f"--cluster-signing-key-file={self._pki.cluster_signing_key}",
            "--use-service-account-credentials=false",
            "--leader-elect=false",
            "--secure-port=0",
            "--profiling=false",
        ]

    def _wait_ready(self, proc: Process, deadline: float, timeout: float) -> None:
        assert self._api is not None
        token = self.users[ADMIN].token
        last = "no answer yet"
        while True:
            self._check_alive(proc)
            assert self._etcd is not None
            self._check_alive(self._etcd)
            try:
                r = self._api.request("GET", "/readyz", token)
                if r.status == 200:
                    return
                last = f"HTTP {r.status}: {_failing_checks(r.body)}"
            except urllib3.exceptions.HTTPError as exc:
                last = type(exc).__name__
            if time.monotonic() > deadline:
                self._fail(proc, f"not ready after {timeout:.0f}s (/readyz: {last})")
            time.sleep(_POLL_SECONDS)

    def _create_rbac(self, deadline: float, timeout: float) -> None:
        assert self._api is not None and self._apiserver is not None
        admin = self.users[ADMIN].token
        base = "/apis/rbac.authorization.k8s.io/v1"
        for role in rbac.ROLE_RULES:
            for path, body in (
                (f"{base}/clusterroles", rbac.cluster_role(role)),
                (
                    f"{base}/clusterrolebindings",
                    rbac.cluster_role_binding(role, rbac.user_subject(self.users[role].username)),
                ),
            ):
                r = self._api.request("POST", path, admin, body)
                if r.status not in (201, 409):
                    self._fail(
                        self._apiserver,
                        f"creating RBAC for {role}: HTTP {r.status} "
                        f"{r.body[:300].decode('utf-8', 'replace')}",
                    )
        review = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
        pending = set(rbac.ROLE_RULES)
        while pending:
            for role in sorted(pending):
                r = self._api.request(
                    "POST", review, self.users[role].token, rbac.probe_review(role)
                )
                if r.status == 201 and r.json().get("status", {}).get("allowed") is True:
                    pending.discard(role)
            if not pending:
                return
            if time.monotonic() > deadline:
                self._fail(
                    self._apiserver,
                    f"RBAC for {sorted(pending)} not in effect after {timeout:.0f}s",
                )
            time.sleep(_POLL_SECONDS)

    def _read_version(self) -> str:
        assert self._api is not None and self._apiserver is not None
        r = self._api.request("GET", "/version", self.users[ADMIN].token)
        if r.status != 200:
            self._fail(self._apiserver, f"GET /version gave HTTP {r.status}")
        version = r.json().get("gitVersion")
        return str(version)

    def _check_alive(self, proc: Process) -> None:
        code = proc.exited()
        if code is None:
            return
        if proc.log_contains(_PORT_CLASH):
            raise _PortClash(proc.name)
        self._fail(proc, f"exited with code {code} during start-up")

    def _fail(self, proc: Process, what: str) -> None:
        raise ControlPlaneError(
            f"{proc.name} {what} (log: {proc.log_path})\n"
            f"--- last lines of {proc.log_path.name} ---\n{proc.tail()}"
        )

    # -- tear-down --------------------------------------------------------------------

    def _stop_processes(self) -> None:
        # The API server and controller manager first, so neither spends its shutdown
        # retrying a vanished etcd; then etcd.
        front = [p for p in (self._kcm, self._apiserver) if p is not None]
        stop_all(front, STOP_GRACE_SECONDS)
        if self._etcd is not None:
            self._etcd.stop(STOP_GRACE_SECONDS)
        self._kcm = self._apiserver = self._etcd = None


def _failing_checks(body: bytes) -> str:
    """The ``[-]name failed`` lines of a /readyz?verbose-style body, or its start."""
    text = body.decode("utf-8", "replace")
    failed = [ln.strip() for ln in text.splitlines() if ln.startswith("[-]")]
    return "; ".join(failed) if failed else text[:200].strip()
