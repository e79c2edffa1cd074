"""kine, k3s's etcd shim over SQL, as the control plane's storage instead of etcd.

kine is the most widely deployed independent implementation of the storage layer that
CSR list and watch semantics depend on; kube-apiserver talks to it as to etcd (gRPC on
``--etcd-servers``). With the watch cache off, kube-apiserver serves lists and watches
straight from storage, so kine's own semantics reach the client.

The binary comes from ``ci/kine/build.sh [VERSION]``, which writes
``<cache>/csr-conformance/assets/kine-<version>/kine``, a sibling of the control-plane
assets directory; a kine of another version than the one asked for is never used
instead, since the verdict would then name the wrong subject.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from conformance.targets.controlplane.errors import MissingAssets

KINE: Final = "kine"
KINE_VERSION: Final = "v0.17.5"
"""The kine release ci/kine/go.mod pins, used unless --kine-version names another."""

STORAGES: Final = ("etcd", "kine-sqlite", "kine-memory")
"""What the control plane can keep its data in."""

SQLITE_PARAMS: Final = (
    "_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL"
    "&_txlock=immediate&_stmt_cache_size=20&cache=shared"
)
"""kine's own default DSN parameters (pkg/drivers/sqlite DefaultParams), as k3s runs it."""

_VERSION = re.compile(r"v\d+\.\d+\.\d+")


def check_version(version: str) -> str:
    """The version if it looks like a kine release tag; ValueError (one line) if not."""
    if not _VERSION.fullmatch(version):
        raise ValueError(f"--kine-version must look like {KINE_VERSION}, not {version!r}")
    return version


def kine_dir(version: str, assets_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where ``ci/kine/build.sh VERSION`` puts kine: $CSR_CONFORMANCE_KINE_ASSETS for the
    pinned version, else a ``kine-<version>`` sibling of the assets directory."""
    explicit = os.environ.get("CSR_CONFORMANCE_KINE_ASSETS")
    if explicit and version == KINE_VERSION:
        return Path(explicit)
    if assets_dir is not None:
        sibling = Path(assets_dir).parent / f"kine-{version}"
        if sibling.is_dir():
            return sibling
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "csr-conformance" / "assets" / f"kine-{version}"


def find_kine(version: str, assets_dir: str | os.PathLike[str] | None = None) -> Path:
    """The kine binary of ``version``; MissingAssets (one line, with the build command)."""
    path = kine_dir(check_version(version), assets_dir) / KINE
    if not path.is_file() or not os.access(path, os.X_OK):
        arg = "" if version == KINE_VERSION else f" {version}"
        raise MissingAssets(
            f"kine {version} not found at {path}; build it with `bash ci/kine/build.sh{arg}`"
        )
    return path


def kine_argv(binary: Path, storage: str, port: int, data_dir: Path) -> list[str]:
    """kine on loopback only (its default is 0.0.0.0:2379), without its metrics listener
    (default :8080, which would clash between runs and expose the process)."""
    if storage == "kine-sqlite":
        endpoint = f"sqlite://{data_dir / 'state.db'}?{SQLITE_PARAMS}"
    elif storage == "kine-memory":
        endpoint = "memory://"
    else:
        raise ValueError(f"not a kine storage: {storage!r}")
    return [
        str(binary),
        f"--listen-address=127.0.0.1:{port}",
        f"--endpoint={endpoint}",
        "--metrics-bind-address=0",
    ]
