"""How one fake server instance is set up."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.oracle.versions import NEWEST, KubeVersion
from conformance.targets.fake.signing_ca import SignerConfig


@dataclass(frozen=True)
class FakeConfig:
    """Where the fake listens and which faults it carries.

    ``port=0`` lets the OS pick a free port, so parallel test sessions never collide; the
    chosen port is visible through ``FakeServer.url`` once the server has started.
    """

    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    faults: frozenset[str] = frozenset()
    signer: SignerConfig | None = field(default_factory=SignerConfig)
    """The reference signer (kube-controller-manager's csrsigning); None runs none."""
    bookmark_seconds: float = 60.0
    """How often a watch that allows bookmarks gets one: kube-apiserver's minute by default;
    the suite's embedded fake uses a fraction of a second so bookmarks show up in short
    examples."""
    log_requests: bool = False
    """Print one line per request on stderr (``serve --log-requests``)."""
    kube_version: KubeVersion = NEWEST
    """The kube-apiserver release to behave as: its /version, discovery and every
    behaviour :mod:`conformance.oracle.changes` keys by release."""
