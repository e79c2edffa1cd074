"""Kubeconfig files for the control plane: one context per identity.

Token users with the CA embedded, so the file works wherever it is copied (kubectl,
the kubernetes package, the suite's own client) without the run's temp directory.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from conformance.identities import ADMIN

CLUSTER_NAME = "csr-conformance"


def kubeconfig_dict(
    url: str, ca_pem: bytes, tokens: Mapping[str, str], current: str = ADMIN
) -> dict[str, Any]:
    """A kubeconfig whose contexts and users are named after the keys of ``tokens``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": CLUSTER_NAME,
                "cluster": {
                    "server": url,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": name, "user": {"token": token}} for name, token in tokens.items()],
        "contexts": [
            {"name": name, "context": {"cluster": CLUSTER_NAME, "user": name}} for name in tokens
        ],
        "current-context": current,
    }


def webhook_kubeconfig_dict(url: str, ca_pem: bytes) -> dict[str, Any]:
    """The kubeconfig kube-apiserver reads to reach a webhook at ``url`` (path included).

    The webhook asks for no client credentials, so the one user entry is empty.
    """
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "webhook",
                "cluster": {
                    "server": url,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [
            {"name": "webhook", "context": {"cluster": "webhook", "user": "kube-apiserver"}}
        ],
        "current-context": "webhook",
    }


def write_kubeconfig_file(path: str | os.PathLike[str], config: Mapping[str, Any]) -> None:
    """Write ``config`` readable only by its owner, since it holds bearer tokens."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(dict(config), f, sort_keys=False)
