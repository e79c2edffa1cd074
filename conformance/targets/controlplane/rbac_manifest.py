"""Print the suite's RBAC for clusters without static tokens, for ``kubectl apply -f -``.

``ci/kind/run.sh`` uses this so a kind cluster grants its ServiceAccount identities
exactly what the control-plane target grants its static users: one definition of
the roles, two ways of binding them.

Usage: ``python -m conformance.targets.controlplane.rbac_manifest [--namespace NS]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from conformance.targets.controlplane.rbac import service_account_manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.targets.controlplane.rbac_manifest",
        description="Print a List of the namespace, ServiceAccounts and RBAC for the "
        "user/approver/signer identities.",
    )
    parser.add_argument("--namespace", default="csr-conformance")
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(service_account_manifest(args.namespace), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
