"""What the fake serves, described once: groups, versions, resources and their verbs.

Discovery documents, routing (404 versus 405), and the authorizer all read this table,
so adding a verb or subresource later is one edit here plus its handler.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Final

from conformance.oracle.apimachinery.status import GROUP, KIND, RESOURCE, VERSION

AUTH_GROUP: Final = "authentication.k8s.io"
AUTH_VERSION: Final = "v1"


@dataclass(frozen=True)
class Resource:
    """One REST resource (or subresource) of a group version."""

    name: str  # "certificatesigningrequests" or "certificatesigningrequests/status"
    kind: str
    verbs: tuple[str, ...]
    singular: str = ""
    short_names: tuple[str, ...] = ()
    namespaced: bool = False
    storage_kind: str = ""  # kind whose storage hash discovery reports; "" for none

    @property
    def base(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def subresource(self) -> str:
        return self.name.split("/", 1)[1] if "/" in self.name else ""


@dataclass(frozen=True)
class GroupVersion:
    group: str
    version: str
    resources: tuple[Resource, ...]

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


CSR_VERBS: Final = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
SUBRESOURCE_VERBS: Final = ("get", "patch", "update")

CERTIFICATES_V1: Final = GroupVersion(
    GROUP,
    VERSION,
    (
        Resource(
            RESOURCE,
            KIND,
            CSR_VERBS,
            singular="certificatesigningrequest",
            short_names=("csr",),
            storage_kind=KIND,
        ),
        Resource(f"{RESOURCE}/approval", KIND, SUBRESOURCE_VERBS),
        Resource(f"{RESOURCE}/status", KIND, SUBRESOURCE_VERBS),
    ),
)

AUTHENTICATION_V1: Final = GroupVersion(
    AUTH_GROUP,
    AUTH_VERSION,
    (
        Resource(
            "selfsubjectreviews", "SelfSubjectReview", ("create",), singular="selfsubjectreview"
        ),
    ),
)

CORE_V1: Final = GroupVersion("", "v1", ())

GROUP_VERSIONS: Final = (AUTHENTICATION_V1, CERTIFICATES_V1)
"""Named API groups in the order kube-apiserver lists them (authentication before certificates)."""


def storage_version_hash(group: str, version: str, kind: str) -> str:
    """``discovery.StorageVersionHash``: base64 of the first 8 bytes of sha256("g/v/k")."""
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode("ascii")


def find_group_version(group: str, version: str) -> GroupVersion | None:
    for gv in (*GROUP_VERSIONS, CORE_V1):
        if gv.group == group and gv.version == version:
            return gv
    return None


def group_prefixes() -> tuple[str, ...]:
    """Path prefixes owned by a registered web service (their unknown paths get JSON 404s)."""
    out = ["/api"]
    for gv in GROUP_VERSIONS:
        out.append(f"/apis/{gv.group}")
    return tuple(out)
