"""The state of one run against one target: clients per role, ownership, clean-up.

Safety (design rule 5) lives here. Every object the suite creates is stamped with the
run's name prefix and label before it is sent; clean-up lists by that label and deletes
only objects that also carry the prefix, each with a UID precondition, so nothing the
run did not create is ever touched, even on a shared cluster.
"""

from __future__ import annotations

import contextlib
import copy
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from conformance import runstop
from conformance.client import Breaker, Client, Connection, TargetError, Transcript
from conformance.identities import ADMIN
from conformance.oracle.versions import Judgement, KubeVersion, judge

if TYPE_CHECKING:  # the session is handed an opened target; it never opens one itself
    from conformance.targets import TargetEnv

RUN_LABEL = "csr-conformance.io/run"
EXAMPLE_LABEL = "csr-conformance.io/example"
PROFILES = ("kube-apiserver", "portable")


@dataclass(frozen=True)
class Identity:
    """Who a context authenticates as, according to the server (SelfSubjectReview)."""

    username: str
    uid: str
    groups: list[str]
    extra: dict[str, list[str]]


@dataclass
class Session:
    """Everything a property needs to talk to the target safely."""

    env: TargetEnv
    profile: str = "kube-apiserver"
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    transcript: Transcript = field(default_factory=Transcript)
    breaker: Breaker = field(default_factory=Breaker)
    timeout: float = 30.0
    server_version: str | None = None
    """The server's gitVersion, for the report."""
    kube: Judgement = field(default_factory=lambda: judge(None))
    """The release the oracle judges this server as (``--kube-version``, else /version)."""
    kube_option: KubeVersion | None = None
    """``--kube-version``, which overrides what the server says."""
    compaction: str | None = None
    """How the target compacts its history on demand (``conformance.compaction``)."""
    _clients: dict[str, Client] = field(default_factory=dict)
    _identities: dict[str, Identity] = field(default_factory=dict)
    _example_seq: int = 0

    @property
    def prefix(self) -> str:
        return f"csrc-{self.run_id}-"

    @property
    def exact(self) -> bool:
        """True under the kube-apiserver profile: compare codes, bodies and messages exactly."""
        return self.profile == "kube-apiserver"

    # -- identities ----------------------------------------------------------------

    def has_role(self, role: str) -> bool:
        return role in self.env.contexts

    def client(self, role: str = ADMIN) -> Client:
        """A client for a role; skips the calling test when the role was not configured."""
        if role not in self.env.contexts:
            pytest.skip(f"no context configured for the {role!r} identity")
        if role not in self._clients:
            conn = Connection.from_kubeconfig(self.env.kubeconfig, self.env.contexts[role] or None)
            self._clients[role] = Client(
                conn, role, self.transcript, breaker=self.breaker, timeout=self.timeout
            )
        return self._clients[role]

    def identity(self, role: str) -> Identity:
        """The role's user as the server sees it, asked once per run."""
        if role not in self._identities:
            resp = self.client(role).request(
                "POST",
                "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
            )
            if resp.status != 201:
                raise TargetError(
                    f"SelfSubjectReview as {role!r} answered HTTP {resp.status}; "
                    "cannot learn that identity"
                )
            info = resp.obj().get("status", {}).get("userInfo", {})
            self._identities[role] = Identity(
                username=info.get("username", ""),
                uid=info.get("uid", ""),
                groups=list(info.get("groups") or []),
                extra={k: list(v) for k, v in (info.get("extra") or {}).items()},
            )
        return self._identities[role]

    def compact(self) -> None:
        """Make the target forget its history now; skips the calling test where it cannot."""
        from conformance.compaction import compactor

        run = compactor(self.compaction, lambda: self.client(ADMIN))
        if run is None:
            pytest.skip(
                "the target cannot be asked to compact its history (only the fake and the "
                "control plane with --watch-cache off can), so no resourceVersion can be made "
                "too old on demand"
            )
        run()

    @property
    def kube_version(self) -> KubeVersion:
        """The release every oracle call of this run decides by."""
        return self.kube.judged

    def fetch_version(self) -> str | None:
        """Ask /version what the server is: its gitVersion for the report, and its
        major.minor for the release to judge it as. None when it says nothing usable."""
        server: KubeVersion | None = None
        resp = self.client(ADMIN).request("GET", "/version")
        if resp.status == 200:
            with contextlib.suppress(AssertionError):
                info = resp.obj()
                version = info.get("gitVersion")
                self.server_version = str(version) if version else None
                server = KubeVersion.from_version_info(info)
        self.kube = judge(server, self.kube_option)
        return self.server_version

    # -- ownership -----------------------------------------------------------------

    def new_example_label(self) -> str:
        """A label value unique to one example, for properties that list or sweep."""
        self._example_seq += 1
        return f"{self.run_id}-{self._example_seq}"

    def stamp(self, obj: dict[str, Any], example: str | None = None) -> dict[str, Any]:
        """A copy of ``obj`` that this run owns: name prefix and run label.

        Names of '.' and '..' are left bare: the server must reject them, and no URL can
        address such an object, so they can never collide with anything real.
        """
        out = copy.deepcopy(obj)
        meta = out.setdefault("metadata", {})
        if not isinstance(meta, dict):
            return out
        name = meta.get("name")
        if isinstance(name, str) and name not in (".", ".."):
            meta["name"] = self.prefix + name
        gen = meta.get("generateName")
        if isinstance(gen, str):
            meta["generateName"] = self.prefix + gen
        if not isinstance(meta.get("labels"), dict):
            meta["labels"] = {}
        meta["labels"][RUN_LABEL] = self.run_id
        if example is not None:
            meta["labels"][EXAMPLE_LABEL] = example
        return out

    def owns(self, obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        name = meta.get("name") or ""
        return labels.get(RUN_LABEL) == self.run_id and name.startswith(self.prefix)

    def sweep(self, example: str | None = None) -> int:
        """Delete this run's objects (or one example's); returns how many were deleted."""
        admin = self.client(ADMIN)
        selector = f"{RUN_LABEL}={self.run_id}"
        if example is not None:
            selector += f",{EXAMPLE_LABEL}={example}"
        resp = admin.list({"labelSelector": selector})
        if resp.status != 200:
            return 0
        items = resp.obj().get("items") or []
        deleted = 0
        for item in items:
            if not isinstance(item, dict) or not self.owns(item):
                continue
            meta = item["metadata"]
            r = admin.delete(
                meta["name"],
                options={
                    "kind": "DeleteOptions",
                    "apiVersion": "v1",
                    "preconditions": {"uid": meta.get("uid")},
                },
            )
            deleted += r.status == 200
        return deleted

    @contextmanager
    def example(self) -> Iterator[str]:
        """Scope one example: a fresh label, and its objects deleted afterwards."""
        label = self.new_example_label()
        try:
            yield label
        finally:
            # While the run is being stopped (signal, time budget) the sweep at the end of
            # the session deletes everything the run owns, shielded; a sweep here could
            # fail on a dying target and hide the stop behind a TargetError.
            if self.breaker.reason is None and runstop.stopped() is None:
                self.sweep(label)
