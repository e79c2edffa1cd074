"""What each identity is expected to be allowed, as the oracle's ``Authorizer``.

The fake and the control plane grant exactly this (see their RBAC tables); against a
user's cluster the README asks for the same grants. The oracle needs the caller's
permissions to predict 403s, so the properties state them once, here.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.identities import ADMIN, APPROVER, SCOPED_SIGNER, SIGNER, USER

Authorizer = Callable[[str, str, str], bool]

_CSRS = "certificatesigningrequests"
_READ_CREATE = {"create", "get", "list", "watch"}
_GRANTS: dict[str, dict[str, set[str]]] = {
    USER: {_CSRS: _READ_CREATE | {"delete", "deletecollection"}},
    APPROVER: {_CSRS: set(_READ_CREATE), f"{_CSRS}/approval": {"update", "patch"}},
    SIGNER: {_CSRS: set(_READ_CREATE), f"{_CSRS}/status": {"update", "patch"}},
}
_SIGNER_VERB = {APPROVER: "approve", SIGNER: "sign"}


def authorizer_for(role: str) -> Authorizer:
    """``authorizer(verb, resource, name)`` for a role, in certificates.k8s.io."""

    def allowed(verb: str, resource: str, name: str) -> bool:
        if role == ADMIN:
            return True
        if resource == "signers":
            return _SIGNER_VERB.get(role) == verb and name == SCOPED_SIGNER
        return verb in _GRANTS.get(role, {}).get(resource, set())

    return allowed
