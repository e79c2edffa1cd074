"""Who may do what in certificates.k8s.io: the one statement of the suite's grants.

Three places need the same answer and must never drift apart: the control plane turns
these grants into ClusterRoles (``conformance.targets.controlplane.rbac``, and the kind
manifest printed by ``rbac_manifest``), the fake's authorizer serves them
(``conformance.targets.fake.authz``), and the properties predict 403s from them
(``conformance.properties.permissions``). Each derives its own shape from :data:`GRANTS`
here, which imports nothing but the role names, so neither the properties nor the
targets have to import the other.

The grants are the narrowest that let each role do its job in the suite, so a property
that expects a 403 (the user approving, the approver signing, anyone acting on an
out-of-scope signer) sees the same denial a least-privilege cluster would give. The
admin is in ``system:masters`` and needs no grant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from conformance.identities import ADMIN, APPROVER, SCOPED_SIGNER, SIGNER, USER

API_GROUP: Final = "certificates.k8s.io"
CSRS: Final = "certificatesigningrequests"
SIGNERS: Final = "signers"
"""The resource the CSR admission plugins ask about (``approve``, ``sign``), by signer name."""

_READ_CREATE: Final = ("create", "get", "list", "watch")
_SUBRESOURCE_WRITE: Final = ("update", "patch")


@dataclass(frozen=True)
class Grant:
    """One RBAC PolicyRule in :data:`API_GROUP`: these verbs on these resources.

    A resource may name a subresource (``certificatesigningrequests/status``);
    ``names`` empty means any name, as an RBAC rule without ``resourceNames``.
    """

    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    names: tuple[str, ...] = ()

    def allows(self, verb: str, resource: str, name: str) -> bool:
        return (
            verb in self.verbs
            and resource in self.resources
            and (not self.names or name in self.names)
        )


GRANTS: Final[Mapping[str, tuple[Grant, ...]]] = {
    # system:basic-user (bound to system:authenticated) already grants create on
    # selfsubjectreviews and selfsubjectaccessreviews, so no role repeats it.
    USER: (Grant((CSRS,), (*_READ_CREATE, "delete", "deletecollection")),),
    # Approver and signer may also create CSRs, so the identity properties can show
    # that every identity's own user info lands in spec.
    APPROVER: (
        Grant((CSRS,), _READ_CREATE),
        Grant((f"{CSRS}/approval",), _SUBRESOURCE_WRITE),
        Grant((SIGNERS,), ("approve",), (SCOPED_SIGNER,)),
    ),
    SIGNER: (
        Grant((CSRS,), _READ_CREATE),
        Grant((f"{CSRS}/status",), _SUBRESOURCE_WRITE),
        Grant((SIGNERS,), ("sign",), (SCOPED_SIGNER,)),
    ),
}
"""The grants of each unprivileged role; the last one of each is what the control plane
probes to learn that its RBAC authorizer has seen the bindings."""


def allowed(role: str, verb: str, resource: str, name: str) -> bool:
    """Whether ``role`` may ``verb`` the cluster-scoped ``resource`` named ``name``."""
    if role == ADMIN:
        return True
    return any(g.allows(verb, resource, name) for g in GRANTS.get(role, ()))
