"""The kubeconfig the fake hands out: one context per role, named after the role."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from conformance.identities import ADMIN, ROLES, StaticUser

CLUSTER_NAME = "csr-conformance-fake"


def kubeconfig_document(
    server_url: str, users: Mapping[str, StaticUser], ca_pem: bytes | None
) -> dict[str, Any]:
    """A kubeconfig dict; ``ca_pem`` None means plain HTTP (no CA to embed)."""
    cluster: dict[str, Any] = {"server": server_url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    contexts = []
    kc_users = []
    for role in ROLES:
        user = users[role]
        contexts.append({"name": role, "context": {"cluster": CLUSTER_NAME, "user": role}})
        kc_users.append({"name": role, "user": {"token": user.token}})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": cluster}],
        "contexts": contexts,
        "users": kc_users,
        "current-context": ADMIN,
        "preferences": {},
    }


def write_kubeconfig_file(path: str, document: Mapping[str, Any]) -> None:
    """Write ``document`` readable by the owner only: it holds bearer tokens."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(dict(document), sort_keys=False)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(target, 0o600)
