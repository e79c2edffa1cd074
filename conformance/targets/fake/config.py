"""How one fake server instance is set up."""

from __future__ import annotations

from dataclasses import dataclass


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
