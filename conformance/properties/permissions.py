"""What each identity is expected to be allowed, as the oracle's ``Authorizer``.

The fake and the control plane grant exactly this: all three read the one table in
:mod:`conformance.grants`. Against a user's cluster the README asks for the same grants.
The oracle needs the caller's permissions to predict 403s, so the properties ask here.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.grants import allowed as granted

Authorizer = Callable[[str, str, str], bool]


def authorizer_for(role: str) -> Authorizer:
    """``authorizer(verb, resource, name)`` for a role, in certificates.k8s.io."""

    def allowed(verb: str, resource: str, name: str) -> bool:
        return granted(role, verb, resource, name)

    return allowed
