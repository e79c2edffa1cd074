"""Where the control-plane binaries are, for tests that need a real kube-apiserver.

Such a test is skipped, with the lookup's own reason, on a machine without them (set
``KUBEBUILDER_ASSETS`` or run ``ci/controlplane/build.sh``). Import it as ``binaries``
(``tests/`` is on ``sys.path`` under pytest).
"""

from __future__ import annotations

import pytest

from conformance.targets.controlplane import MissingAssets, find_assets


def newest_assets() -> tuple[str | None, str]:
    """The newest release's binaries: their directory and "", or None and why not."""
    try:
        return find_assets(None), ""
    except MissingAssets as exc:
        return None, str(exc)


ASSETS, WHY_NO_ASSETS = newest_assets()
needs_assets = pytest.mark.skipif(
    ASSETS is None, reason=f"no control-plane assets: {WHY_NO_ASSETS}"
)
