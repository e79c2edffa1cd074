"""The RBAC the control plane grants its three unprivileged identities.

The grants are the narrowest that let each role do its job in the suite, so a
property that expects a 403 (the user approving, the approver signing, anyone
acting on an out-of-scope signer) sees the same denial a least-privilege cluster
would give.
"""

from __future__ import annotations

from typing import Any, Final

from conformance.identities import APPROVER, SCOPED_SIGNER, SIGNER, USER

CERTS: Final = "certificates.k8s.io"
CSRS: Final = "certificatesigningrequests"
READ: Final = ["get", "list", "watch"]
NAME_PREFIX: Final = "csr-conformance:"


def _rule(resources: list[str], verbs: list[str], names: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": [CERTS], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


ROLE_RULES: Final[dict[str, list[dict[str, Any]]]] = {
    # system:basic-user (bound to system:authenticated) already grants create on
    # selfsubjectreviews and selfsubjectaccessreviews, so no role repeats it.
    USER: [_rule([CSRS], ["create", *READ, "delete", "deletecollection"])],
    # Approver and signer may also create CSRs, so the identity properties can show
    # that every identity's own user info lands in spec.
    APPROVER: [
        _rule([CSRS], ["create", *READ]),
        _rule([f"{CSRS}/approval"], ["update", "patch"]),
        _rule(["signers"], ["approve"], [SCOPED_SIGNER]),
    ],
    SIGNER: [
        _rule([CSRS], ["create", *READ]),
        _rule([f"{CSRS}/status"], ["update", "patch"]),
        _rule(["signers"], ["sign"], [SCOPED_SIGNER]),
    ],
}


def cluster_role(role: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": NAME_PREFIX + role},
        "rules": ROLE_RULES[role],
    }


def user_subject(username: str) -> dict[str, Any]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": username}


def service_account_subject(namespace: str, name: str) -> dict[str, Any]:
    return {"kind": "ServiceAccount", "namespace": namespace, "name": name}


def cluster_role_binding(role: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": NAME_PREFIX + role},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": NAME_PREFIX + role,
        },
        "subjects": [subject],
    }


def probe_review(role: str) -> dict[str, Any]:
    """A SelfSubjectAccessReview the role's last grant allows, used to wait until the
    RBAC authorizer's informers have seen the new bindings."""
    attrs: dict[str, Any]
    if role == USER:
        attrs = {"group": CERTS, "resource": CSRS, "verb": "create"}
    elif role == APPROVER:
        attrs = {"group": CERTS, "resource": "signers", "verb": "approve", "name": SCOPED_SIGNER}
    else:
        attrs = {"group": CERTS, "resource": "signers", "verb": "sign", "name": SCOPED_SIGNER}
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs},
    }


def service_account_manifest(namespace: str) -> dict[str, Any]:
    """The same grants for a cluster without static tokens (kind): a namespace, one
    ServiceAccount per role named after the role, and the roles bound to them."""
    items: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    ]
    for role in ROLE_RULES:
        items.append(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": role, "namespace": namespace},
            }
        )
        items.append(cluster_role(role))
        items.append(cluster_role_binding(role, service_account_subject(namespace, role)))
    return {"apiVersion": "v1", "kind": "List", "items": items}
