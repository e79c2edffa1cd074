"""The control-plane target: a real kube-apiserver and etcd (and kube-controller-manager
for signing) started from a directory of binaries, envtest-style, with generated
certificates and the suite's four static identities.

Only Python and ``cryptography`` are needed at run time; the binaries come from
``ci/controlplane/build.sh`` or from ``setup-envtest`` (which lacks
kube-controller-manager, so signing properties then need ``controller_manager=False``
and are skipped).
"""

from conformance.targets.controlplane.assets import find_assets
from conformance.targets.controlplane.errors import ControlPlaneError, MissingAssets
from conformance.targets.controlplane.plane import ControlPlane

__all__ = ["ControlPlane", "ControlPlaneError", "MissingAssets", "find_assets"]
