"""Locating the directory of control-plane binaries (the envtest asset layout).

The lookup order mirrors what users already know from envtest, then falls back to
where ``ci/controlplane/build.sh`` puts its output, so a developer who ran the build
once never has to name the directory again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from conformance.oracle.versions import NEWEST, RELEASES, KubeVersion, judge
from conformance.targets.controlplane.errors import MissingAssets

K8S_VERSION: Final = RELEASES[NEWEST]
"""The kube-apiserver release used when none is named (ci/controlplane/v1.<minor>/go.mod)."""

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


BUILD_SCRIPT: Final = Path(__file__).resolve().parents[3] / "ci" / "controlplane" / "build.sh"
"""ci/controlplane/build.sh of a source checkout (absent from an installed wheel)."""


def default_assets_dir(release: str = K8S_VERSION) -> Path:
    """Where build.sh writes a release when given no destination and no
    CSR_CONFORMANCE_ASSETS."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "csr-conformance" / "assets" / release


def release_of(option: str) -> str:
    """The pinned patch release ``--kube-version`` names (1.35 -> v1.35.4); ValueError
    for a release outside the matrix, whose binaries the project does not pin."""
    version = KubeVersion.parse(option)
    if version not in RELEASES:
        known = ", ".join(str(v) for v in RELEASES)
        raise ValueError(
            f"no control-plane binaries are pinned for Kubernetes {version} (the matrix is "
            f"{known}); point --assets at binaries of that release to judge them as it"
        )
    return RELEASES[judge(None, version).judged]


def build_release(release: str) -> Path:
    """Build a release's binaries with ci/controlplane/build.sh (a no-op when current).

    Only a source checkout has the build script; elsewhere the error names what to do.
    The build takes several minutes once; its progress goes to stderr.
    """
    dest = default_assets_dir(release)
    if not BUILD_SCRIPT.is_file():
        raise MissingAssets(
            f"control-plane binaries of Kubernetes {release} not found in {dest}; build "
            f"them from a source checkout with `bash ci/controlplane/build.sh {release}` "
            "or point --assets at them"
        )
    print(
        f"csr-conformance: building the Kubernetes {release} control plane into {dest} "
        f"(bash {BUILD_SCRIPT} {release}; several minutes, once)",
        file=sys.stderr,
        flush=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "CSR_CONFORMANCE_ASSETS"}
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT), release, str(dest)],
        stdout=subprocess.DEVNULL,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise MissingAssets(
            f"building the Kubernetes {release} control plane failed (exit {proc.returncode}); "
            f"see the output of `bash ci/controlplane/build.sh {release}` above"
        )
    return dest


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


def find_assets(explicit: str | None, kube_version: str | None = None) -> str:
    """Return the first configured assets directory, checked to hold etcd and kube-apiserver.

    A directory the user named (flag or environment) is never silently replaced by a
    later candidate: if it lacks a binary, that is an error, because running against
    some other build than the one asked for would make the verdict misleading.

    ``--kube-version`` without ``--assets`` means that release's own binaries: the build
    cache's directory for it, built now if it is missing (the environment variables name
    one release's binaries, so they are not consulted).
    """
    if kube_version and not explicit:
        try:
            release = release_of(kube_version)
        except ValueError as e:
            raise MissingAssets(str(e)) from None
        built = default_assets_dir(release)
        if missing_binaries(built, REQUIRED) or not (built / ".stamp").exists():
            built = build_release(release)
        check_binaries(str(built), f"the build of Kubernetes {release}")
        return str(built)
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
