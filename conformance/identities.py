"""The identities the suite acts as, and the signer they are scoped to.

Every target (the fake, the control plane, a user's cluster) is reached through a
kubeconfig with one context per role. The fake and the control plane create these
users themselves; against a user's cluster the contexts are named on the command
line. Keeping the role names and the scoped signer here means the fake's users, the
control plane's RBAC and the properties all agree without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

ADMIN: Final = "admin"
"""Member of ``system:masters``: creates, reads and cleans up everything the run owns."""

USER: Final = "user"
"""May create, read, list, watch and delete CSRs; may not approve or sign anything."""

APPROVER: Final = "approver"
"""May update ``/approval``, and holds ``approve`` on :data:`SCOPED_SIGNER` only."""

SIGNER: Final = "signer"
"""May update ``/status``, and holds ``sign`` on :data:`SCOPED_SIGNER` only."""

ROLES: Final = (ADMIN, USER, APPROVER, SIGNER)

SCOPED_SIGNER: Final = "conformance.example.com/scoped"
"""The one signer the approver may approve and the signer may sign for."""

SCOPED_SIGNER_DOMAIN_WILDCARD: Final = "conformance.example.com/*"

USER_EXTRA: Final[Mapping[str, tuple[str, ...]]] = {"csrc.example.com/team": ("a", "b")}
"""Extra attributes of the :data:`USER` role; two values, so a reordering would show."""


@dataclass(frozen=True)
class StaticUser:
    """A user a self-hosted target (fake or control plane) provisions."""

    role: str
    username: str
    uid: str
    groups: tuple[str, ...]
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)
    token: str = ""

    def groups_as_authenticated(self) -> list[str]:
        """Groups as the server reports them: authenticators append system:authenticated."""
        gs = list(self.groups)
        if "system:authenticated" not in gs:
            gs.append("system:authenticated")
        return gs


def user_info_json(
    username: str, uid: str, groups: Iterable[str], extra: Mapping[str, Iterable[str]]
) -> dict[str, Any]:
    """An ``authentication.k8s.io/v1`` UserInfo as Go sends it, empty fields left out
    (omitempty): what a TokenReview answer and a SelfSubjectReview carry."""
    info: dict[str, Any] = {"username": username}
    if uid:
        info["uid"] = uid
    group_list = list(groups)
    if group_list:
        info["groups"] = group_list
    if extra:
        info["extra"] = {key: list(values) for key, values in extra.items()}
    return info


def static_users(token_prefix: str = "csrc") -> dict[str, StaticUser]:
    """The users both self-hosted targets create, keyed by role.

    The unprivileged user carries several groups and the :data:`USER_EXTRA`
    attributes on purpose, so the identity properties see every list and map
    PrepareForCreate fills. kube-apiserver's static token file cannot express extra
    attributes, so the control plane authenticates that one user through a token
    webhook it serves itself, and the others through the token file. The properties
    still learn every identity from a SelfSubjectReview rather than from this table,
    so each target is judged by what its authenticator actually says.
    """
    return {
        ADMIN: StaticUser(
            role=ADMIN,
            username="csrc-admin",
            uid="uid-csrc-admin",
            groups=("system:masters",),
            token=f"{token_prefix}-admin-token",
        ),
        USER: StaticUser(
            role=USER,
            username="csrc-user",
            uid="uid-csrc-user",
            groups=("csrc-users", "csrc-team-a"),
            extra=dict(USER_EXTRA),
            token=f"{token_prefix}-user-token",
        ),
        APPROVER: StaticUser(
            role=APPROVER,
            username="csrc-approver",
            uid="uid-csrc-approver",
            groups=("csrc-approvers",),
            token=f"{token_prefix}-approver-token",
        ),
        SIGNER: StaticUser(
            role=SIGNER,
            username="csrc-signer",
            uid="uid-csrc-signer",
            groups=("csrc-signers",),
            token=f"{token_prefix}-signer-token",
        ),
    }
