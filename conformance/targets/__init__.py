"""Where the suite runs: opening a target yields a kubeconfig with one context per role.

Whatever the target (the embedded fake, a control plane started from binaries, or a
cluster the user names), the rest of the suite sees the same thing: a kubeconfig file
and a map from role (``conformance.identities.ROLES``) to context name. Roles the user
did not provide are simply absent; properties that need them are skipped with a reason.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from conformance.identities import ADMIN, ROLES
from conformance.oracle.versions import NEWEST, KubeVersion, judge

KINDS = ("fake", "controlplane", "kubeconfig")


SUITE_BOOKMARK_SECONDS = 0.5
"""The embedded fake's bookmark period in a suite run: short, so examples see bookmarks."""


@dataclass(frozen=True)
class TargetSpec:
    """What the user asked for on the command line."""

    kind: str = "fake"
    kubeconfig: str | None = None
    contexts: dict[str, str] = field(default_factory=dict)  # role -> context (kubeconfig target)
    assets: str | None = None
    faults: tuple[str, ...] = ()
    http: bool = False
    signers: tuple[str, ...] = ()
    """Signer names the fake's reference signer serves besides the kubernetes.io ones."""
    watch_cache: bool = True
    """Control plane: kube-apiserver's watch cache on (its default) or off (lists and
    watches straight from storage)."""
    storage: str = "etcd"
    """Control plane: where kube-apiserver keeps its data (etcd, kine-sqlite, kine-memory)."""
    kine_version: str | None = None
    """Control plane on kine: the kine release (None: the one ci/kine pins)."""
    kube_version: str | None = None
    """``--kube-version``: the release to judge as; the fake behaves as it, the control
    plane runs its binaries (None: the fake and the control plane are the newest, and a
    kubeconfig's cluster is judged as what its /version says)."""


@dataclass(frozen=True)
class TargetEnv:
    """An opened target: how to reach it, and what it is, for the report."""

    kind: str
    kubeconfig: str | None
    contexts: dict[str, str]
    description: str
    faults: tuple[str, ...] = ()
    signer_ca: str | None = None
    """PEM file of the CA the target's own signer issues from (fake, control plane)."""
    compaction: str | None = None
    """How to make the target forget its history now (see ``conformance.compaction``);
    None where it cannot. Properties of "too old" answers (410) need it."""


class TargetStartError(Exception):
    """The target could not be started or reached; the message is one line."""


def fake_release(option: str | None) -> KubeVersion:
    """The release the fake behaves as: the known release ``--kube-version`` maps to."""
    return NEWEST if option is None else judge(None, KubeVersion.parse(option)).judged


@contextlib.contextmanager
def open_target(spec: TargetSpec) -> Iterator[TargetEnv]:
    """Start (or just describe) the target, and tear it down afterwards."""
    if spec.kind not in KINDS:
        raise TargetStartError(f"unknown target {spec.kind!r}; choose one of {', '.join(KINDS)}")
    if spec.faults and spec.kind != "fake":
        raise TargetStartError("--fault applies only to the embedded fake target")
    if spec.kind == "kubeconfig":
        contexts = {ADMIN: spec.contexts.get(ADMIN, "")}
        contexts.update({r: c for r, c in spec.contexts.items() if c and r in ROLES})
        where = spec.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        yield TargetEnv("kubeconfig", spec.kubeconfig, contexts, f"kubeconfig {where}")
        return
    with tempfile.TemporaryDirectory(prefix="csr-conformance-") as tmp:
        path = os.path.join(tmp, "kubeconfig")
        if spec.kind == "fake":
            from conformance.compaction import FAKE_PATH
            from conformance.targets.fake import FakeConfig, FakeServer
            from conformance.targets.fake.signing_ca import SignerConfig

            names = tuple(dict.fromkeys((*SignerConfig().names, *spec.signers)))
            try:
                server = FakeServer(
                    FakeConfig(
                        tls=not spec.http,
                        faults=frozenset(spec.faults),
                        signer=SignerConfig(names=names),
                        bookmark_seconds=SUITE_BOOKMARK_SECONDS,
                        kube_version=fake_release(spec.kube_version),
                    )
                )
            except ValueError as e:
                raise TargetStartError(str(e)) from None
            server.start()
            try:
                server.write_kubeconfig(path)
                signer_ca = os.path.join(tmp, "signer-ca.pem")
                with open(signer_ca, "wb") as f:
                    f.write(server.signer_ca_pem or b"")
                faults = f" with faults {', '.join(spec.faults)}" if spec.faults else ""
                yield TargetEnv(
                    "fake",
                    path,
                    {r: r for r in ROLES},
                    f"embedded fake at {server.url}{faults}",
                    spec.faults,
                    signer_ca=signer_ca,
                    compaction=f"fake:{FAKE_PATH}",
                )
            finally:
                server.stop()
        else:
            from conformance.targets.controlplane import (
                ControlPlane,
                ControlPlaneError,
                MissingAssets,
                find_assets,
            )

            try:
                assets = find_assets(spec.assets, spec.kube_version)
                # setup-envtest archives carry no kube-controller-manager; run without it then.
                kcm = os.path.join(assets, "kube-controller-manager")
                plane = ControlPlane(
                    assets,
                    controller_manager=os.access(kcm, os.X_OK),
                    watch_cache=spec.watch_cache,
                    storage=spec.storage,
                    **({"kine_version": spec.kine_version} if spec.kine_version else {}),
                )
                plane.start()
            except (MissingAssets, ControlPlaneError, ValueError) as e:
                lines = str(e).splitlines() or [type(e).__name__]
                raise TargetStartError(lines[0]) from None
            try:
                plane.write_kubeconfig(path)
                yield TargetEnv(
                    "controlplane",
                    path,
                    {r: r for r in ROLES},
                    f"kube-apiserver {plane.version} at {plane.url} (assets {assets})"
                    + _storage_note(plane.storage, plane.kine_version, spec.watch_cache),
                    signer_ca=plane.signing_ca_file,
                    compaction=None if spec.watch_cache else plane.compaction,
                )
            finally:
                plane.stop()


def _storage_note(storage: str, kine_version: str, watch_cache: bool) -> str:
    """What the target description adds about storage, so reports name the subject."""
    where = "etcd" if storage == "etcd" else f"{storage} (kine {kine_version})"
    return f" on {where}, watch cache {'on' if watch_cache else 'off'}"
