"""The RBAC the control plane grants its three unprivileged identities.

The grants themselves are stated once, in :mod:`conformance.grants` (the fake's
authorizer and the properties' expectations derive from the same table); this module
only renders them as ClusterRoles, bindings and the review that probes them.
"""

from __future__ import annotations

from typing import Any, Final

from conformance.grants import API_GROUP, GRANTS, Grant

NAME_PREFIX: Final = "csr-conformance:"


def _rule(grant: Grant) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "apiGroups": [API_GROUP],
        "resources": list(grant.resources),
        "verbs": list(grant.verbs),
    }
    if grant.names:
        rule["resourceNames"] = list(grant.names)
    return rule


ROLE_RULES: Final[dict[str, list[dict[str, Any]]]] = {
    role: [_rule(g) for g in grants] for role, grants in GRANTS.items()
}
"""The ClusterRole rules of each role, as sent to the server."""


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
    last = GRANTS[role][-1]
    attrs: dict[str, Any] = {
        "group": API_GROUP,
        "resource": last.resources[0],
        "verb": last.verbs[0],
    }
    if last.names:
        attrs["name"] = last.names[0]
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
