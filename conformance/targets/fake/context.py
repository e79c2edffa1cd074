"""The per-server state every handler reads, and the per-request facts it is given."""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from conformance.oracle.versions import NEWEST, KubeVersion
from conformance.targets.fake.authn import Authenticator, Principal
from conformance.targets.fake.faults import ActiveFaults
from conformance.targets.fake.requestinfo import RequestInfo
from conformance.targets.fake.store import Store

GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""apimachinery's ``utilrand`` alphabet: no vowels, no 0/1/3 (avoids words and look-alikes)."""


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def rfc3339(t: datetime.datetime) -> str:
    """``metav1.Time`` on the wire: UTC, second precision."""
    return t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ServerState:
    """Everything one fake instance owns: its objects, users, faults and sources of novelty.

    The clock, the uid factory and the random source are fields so tests can make them
    deterministic; nothing else in the fake reads the wall clock or ``uuid`` directly.
    """

    authenticator: Authenticator
    faults: ActiveFaults = field(default_factory=ActiveFaults)
    store: Store = field(default_factory=Store)
    server_address: str = "127.0.0.1:0"
    clock: Callable[[], datetime.datetime] = _utc_now
    new_uid: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    rng: random.Random = field(default_factory=random.Random)
    too_large_wait: float = 3.0
    """How long a read newer than the store waits before 504 (kube-apiserver: about 3 s)."""
    log_requests: bool = False
    """Print one line per request on stderr: method, path, user, status, seconds."""
    bookmark_seconds: float = 60.0
    """How often a watch that asked for bookmarks gets one (kube-apiserver: about 60 s)."""
    kube_version: KubeVersion = NEWEST
    """The kube-apiserver release the fake behaves as (``serve --kube-version``)."""

    def now(self) -> str:
        return rfc3339(self.clock())

    def name_suffix(self) -> str:
        return "".join(self.rng.choice(GENERATE_NAME_ALPHABET) for _ in range(5))


STATE_KEY: web.AppKey[ServerState] = web.AppKey("csrc_fake_state", ServerState)


@dataclass(frozen=True)
class Call:
    """One authenticated, authorized request, as handlers see it."""

    request: web.Request
    state: ServerState
    info: RequestInfo
    user: Principal

    @property
    def faults(self) -> ActiveFaults:
        return self.state.faults
