"""Who may write to a CSR: the RBAC check in front of every update and the two CSR
admission plugins behind validation (§6).

Both take an ``authorizer``: a callable ``(verb, resource, name) -> bool`` answering for
the calling user in the ``certificates.k8s.io`` group at cluster scope. ``resource`` is
``certificatesigningrequests``, ``certificatesigningrequests/approval`` or
``certificatesigningrequests/status`` for the request itself, and ``signers`` for the
approve/sign checks. The fake answers from its RBAC table; the properties answer from the
permissions they expect each identity to hold.

Upstream: apiserver ``endpoints/filters/authorization.go`` and
``endpoints/handlers/responsewriters/errors.go`` (the 403 text), kubernetes
``plugin/pkg/admission/certificates/approval`` and ``.../signing``,
``pkg/certauthorization/certauthorization.go`` (exact name, then ``<domain>/*``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.fielderrors import go_quote
from conformance.oracle.csr.update_strategy import Endpoint, conditions_equal
from conformance.oracle.csr.validation import conditions_of

Authorizer = Callable[[str, str, str], bool]
"""``authorizer(verb, resource, name)`` for the caller, in certificates.k8s.io."""

SIGNERS: Final = "signers"


def endpoint_resource(endpoint: Endpoint) -> str:
    """The RBAC resource string of an endpoint (subresource included)."""
    return st.RESOURCE if endpoint == "main" else f"{st.RESOURCE}/{endpoint}"


def rbac_forbidden(username: str, verb: str, endpoint: Endpoint, name: str) -> st.Status:
    """The 403 the authorization filter writes when RBAC denies the request."""
    resource = endpoint_resource(endpoint)
    reason = (
        f"User {go_quote(username)} cannot {verb} resource {go_quote(resource)} "
        f"in API group {go_quote(st.GROUP)} at the cluster scope"
    )
    return st.forbidden(name, reason)


def is_authorized_for_signer(authorizer: Authorizer, verb: str, signer_name: str) -> bool:
    """``IsAuthorizedForSignerName``: the exact signer, else ``<domain>/*``."""
    if authorizer(verb, SIGNERS, signer_name):
        return True
    domain = signer_name.split("/")[0]
    return authorizer(verb, SIGNERS, domain + "/*")


def _signer(obj: Mapping[str, Any]) -> str:
    spec = obj.get("spec")
    if isinstance(spec, Mapping) and isinstance(spec.get("signerName"), str):
        return str(spec["signerName"])
    return ""


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("name"), str):
        return str(meta["name"])
    return ""


def _certificate_token(obj: Mapping[str, Any]) -> str | None:
    """The certificate as ``reflect.DeepEqual`` sees it: ``None`` for a nil slice."""
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return None
    cert = status.get("certificate")
    return cert if isinstance(cert, str) else None


def signing_relevant_change(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether the CertificateSigning plugin looks at this /status write: the certificate
    differs (nil and empty differ here) or the conditions differ semantically."""
    if _certificate_token(new) != _certificate_token(old):
        return True
    return not conditions_equal(conditions_of(new), conditions_of(old))


def admission_update(
    endpoint: Endpoint,
    new_prepared: Mapping[str, Any],
    old: Mapping[str, Any],
    user: object,
    authorizer: Authorizer,
) -> st.Status | None:
    """The validating admission verdict for an update: a 403 Status, or ``None`` to admit.

    ``user`` is accepted for symmetry with the server's attributes; the authorizer
    already answers for that user. Both plugins read the *old* signerName.
    """
    del user
    name = _name(old) or _name(new_prepared)
    signer = _signer(old)
    if endpoint == "approval":
        if not is_authorized_for_signer(authorizer, "approve", signer):
            return st.forbidden(
                name, f"user not permitted to approve requests with signerName {go_quote(signer)}"
            )
    elif (
        endpoint == "status"
        and signing_relevant_change(new_prepared, old)
        and not is_authorized_for_signer(authorizer, "sign", signer)
    ):
        return st.forbidden(
            name, f"user not permitted to sign requests with signerName {go_quote(signer)}"
        )
    return None
