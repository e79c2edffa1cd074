"""Which kube-apiserver release the oracle judges a server as, and the releases it knows.

A conformance verdict that fails the reference implementation is worse than none, and
users gate CI on kind clusters of whatever minor version they run. So the oracle states
each behaviour that changed between the releases of the matrix once, keyed by the
release that changed it (:mod:`conformance.oracle.changes`), and every judgement is made
for one :class:`KubeVersion`: the server's own (from ``/version``), or the one the user
names with ``--kube-version``.

- A server newer than every known release is judged as the newest, and the report says so.
- A server older than every known release is judged as the oldest; its verdict is
  marked "unverified for this version".
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import total_ordering
from typing import Any, Final, Literal, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$")


@total_ordering
@dataclass(frozen=True)
class KubeVersion:
    """A Kubernetes minor release, e.g. 1.35. Patch releases do not change behaviour the
    oracle models (each minor's patch is pinned in :data:`RELEASES`)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> KubeVersion:
        """``1.35``, ``v1.35``, ``1.35.4`` or a gitVersion such as ``v1.35.4+k3s1``."""
        m = _VERSION.match(text.strip())
        if not m:
            raise ValueError(f"not a Kubernetes version: {text!r} (expected e.g. 1.35)")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def from_version_info(cls, info: Mapping[str, Any]) -> KubeVersion | None:
        """From a ``/version`` body: ``major``/``minor`` (where distributions write "28+"),
        else ``gitVersion``; None when neither says anything usable."""
        major, minor = str(info.get("major") or ""), str(info.get("minor") or "")
        m1, m2 = re.match(r"^(\d+)", major), re.match(r"^(\d+)", minor)
        if m1 and m2:
            return cls(int(m1.group(1)), int(m2.group(1)))
        try:
            return cls.parse(str(info.get("gitVersion") or ""))
        except ValueError:
            return None

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


V1_34: Final = KubeVersion(1, 34)
V1_35: Final = KubeVersion(1, 35)
V1_36: Final = KubeVersion(1, 36)
V1_37: Final = KubeVersion(1, 37)

RELEASES: Final[Mapping[KubeVersion, str]] = {
    V1_34: "v1.34.4",
    V1_35: "v1.35.4",
    V1_36: "v1.36.3",
    V1_37: "v1.37.2",
}
"""The matrix: each minor release the oracle is confirmed against, and the patch release
it was confirmed on (pinned by ci/controlplane/v1.<minor>/go.mod)."""

MATRIX: Final[tuple[KubeVersion, ...]] = tuple(sorted(RELEASES))
OLDEST: Final = MATRIX[0]
NEWEST: Final = MATRIX[-1]

Standing = Literal["known", "newer", "older"]

UNVERIFIED: Final = "unverified for this version"
"""What the verdict on a release older than the matrix says of itself."""


@dataclass(frozen=True)
class Judgement:
    """The release a run judges the server as, and why."""

    judged: KubeVersion
    """The release whose behaviour the oracle expects."""
    server: KubeVersion | None
    """What the server says it is (None: /version said nothing usable)."""
    source: Literal["server", "option", "default"]
    """Where ``judged`` came from: the server's /version, ``--kube-version``, or neither."""
    standing: Standing
    requested: KubeVersion | None
    """The release asked about: ``--kube-version`` if given, else the server's."""

    @property
    def verified(self) -> bool:
        """False for a release older than the matrix: the oracle was never confirmed there."""
        return self.standing != "older"

    def summary(self) -> str:
        """One line for the summary and the report's properties."""
        said = f"the server reports {self.server}" if self.server else "the server reports none"
        if self.source == "option":
            head = f"judged as Kubernetes {self.judged} (--kube-version; {said})"
        elif self.source == "default":
            head = f"judged as Kubernetes {self.judged} ({said}; the newest known release)"
        else:
            head = f"judged as Kubernetes {self.judged} ({said})"
        if self.standing == "newer":
            return (
                f"{head}; {self.requested} is newer than every release the oracle knows "
                f"({_span()}), so it is judged as {NEWEST}"
            )
        if self.standing == "older":
            return (
                f"{head}; unverified for this version: {self.requested} is older than every "
                f"release the oracle knows ({_span()})"
            )
        return head


def _span() -> str:
    return f"{OLDEST}–{NEWEST}"


def judge(server: KubeVersion | None, option: KubeVersion | None = None) -> Judgement:
    """The release to judge a server as, given what it reports and ``--kube-version``."""
    if option is not None:
        return Judgement(_nearest(option), server, "option", _standing(option), option)
    if server is None:
        return Judgement(NEWEST, None, "default", "known", None)
    return Judgement(_nearest(server), server, "server", _standing(server), server)


def _standing(version: KubeVersion) -> Standing:
    if version > NEWEST:
        return "newer"
    if version < OLDEST:
        return "older"
    return "known"


def _nearest(version: KubeVersion) -> KubeVersion:
    """The known release whose behaviour applies: the newest known one not newer than
    ``version``, or the oldest when it is older than all (a minor release between two
    known ones behaves as the older, since every change is keyed by the release that
    made it)."""
    known = [v for v in MATRIX if v <= version]
    return known[-1] if known else OLDEST


_DECIDING: Final[contextvars.ContextVar[KubeVersion]] = contextvars.ContextVar(
    "csr_conformance_deciding", default=NEWEST
)


@contextmanager
def deciding(version: KubeVersion) -> Iterator[None]:
    """Make ``version`` the release the oracle decides by, for the calls inside.

    The oracle's entry points (``decide_create``, ``decide_update``, ``decide_delete``,
    ``validate_create``, ``validate_update``, ...) take the release as an argument and
    set it here, so the small checks deep inside (a field error's wording) ask
    :func:`release` instead of every signature on the way carrying it. A context
    variable, not a global: the fake decides in its own thread while the suite judges
    in another, each for its own release.
    """
    token = _DECIDING.set(version)
    try:
        yield
    finally:
        _DECIDING.reset(token)


def release() -> KubeVersion:
    """The release the current decision is made for (the newest outside any decision)."""
    return _DECIDING.get()


def decides(fn: Callable[P, R]) -> Callable[P, R]:
    """Run an oracle entry point under :func:`deciding` its keyword-only ``version``
    argument; without one (or with None) it decides by the release already in force
    (:func:`release`), which it passes on as ``version``."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        version = kwargs.get("version") or release()
        assert isinstance(version, KubeVersion)
        kwargs["version"] = version
        with deciding(version):
            return fn(*args, **kwargs)

    return wrapper
