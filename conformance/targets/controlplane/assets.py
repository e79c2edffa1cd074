"""Locating the directory of control-plane binaries (the envtest asset layout).

The lookup order mirrors what users already know from envtest, then falls back to
where ``ci/controlplane/build.sh`` puts its output, so a developer who ran the build
once never has to name the directory again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from conformance.targets.controlplane.errors import MissingAssets

K8S_VERSION: Final = "v1.37.2"
"""The kube-apiserver version the suite is pinned to (ci/controlplane/go.mod)."""

ETCD: Final = "etcd"
KUBE_APISERVER: Final = "kube-apiserver"
KUBE_CONTROLLER_MANAGER: Final = "kube-controller-manager"
KUBECTL: Final = "kubectl"

REQUIRED: Final = (ETCD, KUBE_APISERVER)
"""What every start needs; envtest archives hold exactly these (plus kubectl)."""

HOW_TO_GET: Final = (
    "build them with `bash ci/controlplane/build.sh` "
    "or point --assets / KUBEBUILDER_ASSETS at `setup-envtest use -p path`"
)


def default_assets_dir() -> Path:
    """Where build.sh writes when given no destination and no CSR_CONFORMANCE_ASSETS."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "csr-conformance" / "assets" / K8S_VERSION


def missing_binaries(directory: str | os.PathLike[str], names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are not executable files in ``directory``."""
    root = Path(directory)
    return [n for n in names if not (root / n).is_file() or not os.access(root / n, os.X_OK)]


def check_binaries(directory: str, source: str, names: Iterable[str] = REQUIRED) -> None:
    """Raise MissingAssets naming the first absent binary, where it was looked for and why."""
    absent = missing_binaries(directory, names)
    if absent:
        raise MissingAssets(
            f"control-plane {'binaries' if len(absent) > 1 else 'binary'} {', '.join(absent)} "
            f"not found in {directory} ({source}); "
            f"{HOW_TO_GET}"
        )


def find_assets(explicit: str | None) -> str:
    """Return the first configured assets directory, checked to hold etcd and kube-apiserver.

    A directory the user named (flag or environment) is never silently replaced by a
    later candidate: if it lacks a binary, that is an error, because running against
    some other build than the one asked for would make the verdict misleading.
    """
    if explicit:
        directory, source = explicit, "from --assets"
    elif os.environ.get("KUBEBUILDER_ASSETS"):
        directory, source = os.environ["KUBEBUILDER_ASSETS"], "from $KUBEBUILDER_ASSETS"
    elif os.environ.get("CSR_CONFORMANCE_ASSETS"):
        directory, source = os.environ["CSR_CONFORMANCE_ASSETS"], "from $CSR_CONFORMANCE_ASSETS"
    else:
        directory, source = str(default_assets_dir()), "the build.sh default"
    directory = os.path.abspath(os.path.expanduser(directory))
    check_binaries(directory, source)
    return directory
