"""Who is calling: bearer tokens from the static user table, or a client certificate.

The fake provisions the same four users as the control-plane target
(``conformance.identities.static_users``), extra attributes of the unprivileged user
included, so both targets fill ``spec.extra`` alike. Like kube-apiserver with
anonymous auth off, a request with no credentials or an unknown token gets 401; a client
certificate signed by the fake's CA authenticates as CN with its O entries as groups, and
wins over a token when both are sent (x509 runs first in the union authenticator).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.identities import StaticUser, user_info_json

AUTHENTICATED_GROUP: Final = "system:authenticated"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, as the request context sees it."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    role: str = ""  # the static role this caller is, "" for certificate-only users

    def user_info(self) -> dict[str, Any]:
        """``status.userInfo`` of a SelfSubjectReview (omitempty applied)."""
        return user_info_json(self.username, self.uid, self.groups, self.extra)


def _with_authenticated(groups: tuple[str, ...]) -> tuple[str, ...]:
    return groups if AUTHENTICATED_GROUP in groups else (*groups, AUTHENTICATED_GROUP)


class Authenticator:
    """Maps credentials to a :class:`Principal`, or None for a 401."""

    def __init__(self, users: Mapping[str, StaticUser]) -> None:
        self._by_token = {u.token: u for u in users.values() if u.token}

    def from_token(self, header: str | None) -> Principal | None:
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        user = self._by_token.get(token)
        if user is None:
            return None
        return Principal(
            username=user.username,
            uid=user.uid,
            groups=_with_authenticated(user.groups),
            extra={k: tuple(v) for k, v in user.extra.items()},
            role=user.role,
        )

    @staticmethod
    def from_certificate(peercert: Mapping[str, Any] | None) -> Principal | None:
        """A verified client certificate (``SSLObject.getpeercert()``) as a user."""
        if not peercert:
            return None
        common_name = ""
        orgs: list[str] = []
        for rdn in peercert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    common_name = value
                elif key == "organizationName":
                    orgs.append(value)
        if not common_name:
            return None
        return Principal(username=common_name, groups=_with_authenticated(tuple(orgs)))

    def authenticate(
        self, authorization: str | None, ssl_object: ssl.SSLObject | None
    ) -> Principal | None:
        if ssl_object is not None:
            principal = self.from_certificate(ssl_object.getpeercert())
            if principal is not None:
                return principal
        return self.from_token(authorization)
