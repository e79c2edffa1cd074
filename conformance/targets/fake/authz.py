"""Who may do what: a small RBAC-like table and kube-apiserver's Forbidden message.

The table is deliberately tiny: ``system:masters`` may do anything; every authenticated
user may read discovery and OpenAPI and create SelfSubjectReviews (kube-apiserver's
bootstrap roles); the roles hold exactly the suite's grants of :mod:`conformance.grants`,
the table the control plane's ClusterRoles and the properties' expectations are made
from too. Nobody but the admin may update or patch the main resource.

:func:`authorizer_for` exposes the same table in the shape the update oracle's admission
step asks questions in, so the fake's 403s from the filter and from the CSR admission
plugins come from one policy.

Upstream: apiserver ``endpoints/filters/authorization.go`` and
``endpoints/handlers/responsewriters/errors.go`` (``ForbiddenStatusError``,
``forbiddenMessage``), the bootstrap roles ``system:discovery``, ``system:basic-user`` and
``system:public-info-viewer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from conformance.grants import API_GROUP, GRANTS
from conformance.oracle.apimachinery.fielderrors import go_quote
from conformance.oracle.apimachinery.status import GROUP, failure
from conformance.targets.fake.authn import AUTHENTICATED_GROUP, Principal
from conformance.targets.fake.requestinfo import RequestInfo
from conformance.targets.fake.resources import AUTH_GROUP

AUTHORIZATION_GROUP: Final = "authorization.k8s.io"

MASTERS_GROUP: Final = "system:masters"


@dataclass(frozen=True)
class PolicyRule:
    """One permission: who (a role or a group), and which requests it allows.

    ``resources`` entries may name a subresource (``certificatesigningrequests/status``);
    ``resource_names`` empty means any name. ``paths`` is for non-resource requests, where
    a trailing ``*`` matches any suffix, as in RBAC.
    """

    subject: str  # "role:<role>" or "group:<group>"
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    def applies_to(self, who: Principal) -> bool:
        kind, _, value = self.subject.partition(":")
        if kind == "role":
            return who.role == value
        return kind == "group" and value in who.groups

    def allows(self, info: RequestInfo) -> bool:
        if "*" not in self.verbs and info.verb not in self.verbs:
            return False
        if not info.is_resource_request:
            return any(
                p == info.path or (p.endswith("*") and info.path.startswith(p[:-1]))
                for p in self.paths
            )
        resource = info.resource + (f"/{info.subresource}" if info.subresource else "")
        if "*" not in self.api_groups and info.api_group not in self.api_groups:
            return False
        if "*" not in self.resources and resource not in self.resources:
            return False
        return not self.resource_names or info.name in self.resource_names


POLICY: Final[tuple[PolicyRule, ...]] = (
    PolicyRule(f"group:{MASTERS_GROUP}", ("*",), ("*",), ("*",), paths=("*",)),
    # system:discovery, system:public-info-viewer
    PolicyRule(
        f"group:{AUTHENTICATED_GROUP}",
        ("get",),
        paths=(
            "/api",
            "/api/*",
            "/apis",
            "/apis/*",
            "/healthz",
            "/livez",
            "/readyz",
            "/version",
            "/version/",
            "/openapi",
            "/openapi/*",
        ),
    ),
    # system:basic-user
    PolicyRule(f"group:{AUTHENTICATED_GROUP}", ("create",), (AUTH_GROUP,), ("selfsubjectreviews",)),
    PolicyRule(
        f"group:{AUTHENTICATED_GROUP}",
        ("create",),
        (AUTHORIZATION_GROUP,),
        ("selfsubjectaccessreviews", "selfsubjectrulesreviews"),
    ),
    *(
        PolicyRule(f"role:{role}", grant.verbs, (API_GROUP,), grant.resources, grant.names)
        for role, grants in GRANTS.items()
        for grant in grants
    ),
)
"""The whole policy; any allowing rule allows. The admin needs no role rule: its
``system:masters`` group is allowed everything."""


def authorize(who: Principal, info: RequestInfo, rules: tuple[PolicyRule, ...] = POLICY) -> bool:
    return any(r.applies_to(who) and r.allows(info) for r in rules)


Authorizer = Callable[[str, str, str], bool]
"""``authorizer(verb, resource, name)`` in certificates.k8s.io at cluster scope; the
shape ``conformance.oracle.csr.update_admission`` asks its questions in."""


def resource_attributes(verb: str, resource: str, name: str) -> RequestInfo:
    """A cluster-scoped resource request in certificates.k8s.io, as the authorizer sees it.

    ``resource`` may carry a subresource (``certificatesigningrequests/approval``); the
    admission plugins' ``signers`` checks are such requests too (a SubjectAccessReview
    with ``resource: signers`` and the signer, or ``<domain>/*``, as the name).
    """
    base, _, sub = resource.partition("/")
    return RequestInfo(
        path="",
        verb=verb,
        is_resource_request=True,
        api_prefix="apis",
        api_group=GROUP,
        api_version="*",
        resource=base,
        subresource=sub,
        name=name,
    )


def authorizer_for(who: Principal, rules: tuple[PolicyRule, ...] = POLICY) -> Authorizer:
    """The fake's policy for one caller, as the update oracle's ``authorizer``."""

    def allowed(verb: str, resource: str, name: str) -> bool:
        return authorize(who, resource_attributes(verb, resource, name), rules)

    return allowed


def forbidden_message(who: Principal, info: RequestInfo) -> str:
    if not info.is_resource_request:
        return f"User {go_quote(who.username)} cannot {info.verb} path {go_quote(info.path)}"
    resource = info.resource + (f"/{info.subresource}" if info.subresource else "")
    where = (
        f"in the namespace {go_quote(info.namespace)}" if info.namespace else "at the cluster scope"
    )
    return (
        f"User {go_quote(who.username)} cannot {info.verb} resource {go_quote(resource)} "
        f"in API group {go_quote(info.api_group)} {where}"
    )


def forbidden_status(who: Principal, info: RequestInfo) -> dict[str, Any]:
    """``ForbiddenStatusError``: details name the resource without its subresource."""
    err = forbidden_message(who, info)
    qualified = ""
    if info.is_resource_request and info.resource:
        qualified = f"{info.resource}.{info.api_group}" if info.api_group else info.resource
    if not qualified:
        message = f"forbidden: {err}"
    elif info.name:
        message = f"{qualified} {go_quote(info.name)} is forbidden: {err}"
    else:
        message = f"{qualified} is forbidden: {err}"
    details: dict[str, Any] = {}
    if info.name:
        details["name"] = info.name
    if info.is_resource_request and info.api_group:
        details["group"] = info.api_group
    if info.is_resource_request and info.resource:
        details["kind"] = info.resource
    body = failure(0, "Forbidden", message)
    body["details"] = details  # NewForbidden always sets details, so {} is sent when empty
    body["code"] = 403
    return body
