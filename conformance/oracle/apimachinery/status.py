"""Builders for the ``Status`` bodies kube-apiserver sends, as plain JSON dicts.

The dicts follow Go's ``omitempty`` rules for ``metav1.Status`` exactly: an empty reason,
message, details, name, group or cause list is *absent*, never ``""`` or ``[]``, and
``metadata`` is always ``{}``. That matters because the fake serves these dicts verbatim
and properties compare whole bodies.

Upstream: apimachinery ``pkg/api/errors/errors.go`` (``NewNotFound``, ``NewInvalid``, …),
apiserver ``endpoints/handlers/responsewriters/status.go`` (plain errors become a 500
with reason ``Unknown`` = ``""``, so the key is omitted), ``registry/generic/registry/store.go``
(the delete Success status), and ``endpoints/handlers/negotiation`` (415 text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from conformance.oracle.apimachinery.fielderrors import FieldError, aggregate, go_quote

GROUP: Final = "certificates.k8s.io"
VERSION: Final = "v1"
RESOURCE: Final = "certificatesigningrequests"
KIND: Final = "CertificateSigningRequest"
LIST_KIND: Final = "CertificateSigningRequestList"
API_VERSION: Final = f"{GROUP}/{VERSION}"
META_GROUP: Final = "meta.k8s.io"

QUALIFIED_RESOURCE: Final = f"{RESOURCE}.{GROUP}"
"""``GroupResource.String()``: what NotFound/AlreadyExists/Conflict/Forbidden messages name."""

QUALIFIED_KIND: Final = f"{KIND}.{GROUP}"
"""``GroupKind.String()``: what the Invalid message names."""

CREATE_MEDIA_TYPES: Final[tuple[str, ...]] = (
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
)
"""Body media types a v1.37 server decodes for built-in types (CBOR is gated off by default)."""

PATCH_MEDIA_TYPES: Final[tuple[str, ...]] = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)

Status = dict[str, Any]


def _status(
    code: int,
    reason: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    status: str = "Failure",
) -> Status:
    body: Status = {"kind": "Status", "apiVersion": "v1", "metadata": {}}
    if status:
        body["status"] = status
    if message:
        body["message"] = message
    if reason:
        body["reason"] = reason
    if details:
        body["details"] = details
    if code:
        body["code"] = code
    return body


def failure(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Status:
    """A Failure Status with exactly the fields given (empty ones are left out, as Go's
    omitempty does): the builder every error body of the oracle goes through."""
    return _status(code, reason, message, details)


def _details(
    name: str = "",
    group: str = "",
    kind: str = "",
    uid: str = "",
    causes: Sequence[dict[str, str]] = (),
) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if kind:
        d["kind"] = kind
    if uid:
        d["uid"] = uid
    if causes:
        d["causes"] = list(causes)
    return d


def _qualified(name: str, group: str) -> str:
    return f"{name}.{group}" if group else name


def invalid(kind: str, group: str, name: str, errors: Sequence[FieldError]) -> Status:
    """``NewInvalid``: 422 whose details.kind is the *Kind*; causes keep duplicates."""
    qk = _qualified(kind, group)
    agg = aggregate(errors)
    if agg:
        message = f"{qk} {go_quote(name)} is invalid: {agg}"
    else:
        message = f"{qk} {go_quote(name)} is invalid"
    return _status(
        422,
        "Invalid",
        message,
        _details(name=name, group=group, kind=kind, causes=[e.cause() for e in errors]),
    )


def invalid_csr(name: str, errors: Sequence[FieldError]) -> Status:
    """The 422 for a CertificateSigningRequest that fails validation."""
    return invalid(KIND, GROUP, name, errors)


def options_invalid(kind: str, errors: Sequence[FieldError]) -> Status:
    """422 for bad CreateOptions/DeleteOptions/ListOptions…: group meta.k8s.io, empty name."""
    return invalid(kind, META_GROUP, "", errors)


def not_found(name: str) -> Status:
    return _status(
        404,
        "NotFound",
        f"{QUALIFIED_RESOURCE} {go_quote(name)} not found",
        _details(name=name, group=GROUP, kind=RESOURCE),
    )


def already_exists(name: str, *, being_deleted: bool = False) -> Status:
    """409 AlreadyExists; a name held by an object with deletionTimestamp gets a prefix.

    The prefix comes from the store's ``InterpretCreateError`` path for objects being
    deleted (``object is being deleted: ``).
    """
    msg = f"{QUALIFIED_RESOURCE} {go_quote(name)} already exists"
    if being_deleted:
        msg = "object is being deleted: " + msg
    return _status(409, "AlreadyExists", msg, _details(name=name, group=GROUP, kind=RESOURCE))


def generate_name_conflict(name: str) -> Status:
    """``NewGenerateNameConflict``: every generated-name attempt collided (409)."""
    details = _details(name=name, group=GROUP, kind=RESOURCE)
    details["retryAfterSeconds"] = 1
    return _status(
        409,
        "AlreadyExists",
        f"{QUALIFIED_RESOURCE} {go_quote(name)} already exists, the server was not able to "
        "generate a unique name for the object",
        details,
    )


def conflict(name: str, message: str) -> Status:
    """``NewConflict``: ``message`` is the wrapped error text."""
    return _status(
        409,
        "Conflict",
        f"Operation cannot be fulfilled on {QUALIFIED_RESOURCE} {go_quote(name)}: {message}",
        _details(name=name, group=GROUP, kind=RESOURCE),
    )


def delete_precondition_conflict(name: str, message: str) -> Status:
    """409 from ``rest.BeforeDelete``'s early precondition check.

    Unlike every other CSR conflict it is built from the *Kind* (``gvk.Kind`` used as the
    resource), so the message says ``CertificateSigningRequest.certificates.k8s.io`` and
    ``details.kind`` is ``CertificateSigningRequest``.
    """
    return _status(
        409,
        "Conflict",
        f"Operation cannot be fulfilled on {QUALIFIED_KIND} {go_quote(name)}: {message}",
        _details(name=name, group=GROUP, kind=KIND),
    )


def uid_precondition_message(expected: str, actual: str) -> str:
    return (
        f"the UID in the precondition ({expected}) does not match the UID in record "
        f"({actual}). The object might have been deleted and then recreated"
    )


def rv_precondition_message(expected: str, actual: str) -> str:
    return (
        f"the ResourceVersion in the precondition ({expected}) does not match the "
        f"ResourceVersion in record ({actual}). The object might have been modified"
    )


def list_body(items: Sequence[dict[str, Any]], resource_version: str) -> dict[str, Any]:
    """A list response: items sorted by name, ``items`` never null (§7.4)."""
    ordered = sorted(items, key=lambda o: str((o.get("metadata") or {}).get("name", "")))
    return {
        "kind": LIST_KIND,
        "apiVersion": API_VERSION,
        "metadata": {"resourceVersion": resource_version},
        "items": list(ordered),
    }


OBJECT_MODIFIED: Final = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def forbidden(name: str, message: str) -> Status:
    """``NewForbidden`` for the CSR resource (admission denials)."""
    if name:
        text = f"{QUALIFIED_RESOURCE} {go_quote(name)} is forbidden: {message}"
    else:
        text = f"{QUALIFIED_RESOURCE} is forbidden: {message}"
    return _status(403, "Forbidden", text, _details(name=name, group=GROUP, kind=RESOURCE))


def bad_request(message: str) -> Status:
    return _status(400, "BadRequest", message)


def name_mismatch(obj_name: str, url_name: str) -> Status:
    """``checkName``: an empty name cannot be read at all; any other must equal the URL's."""
    if obj_name == "":
        return bad_request(
            f"the name of the object ({url_name} based on URL) was undeterminable: "
            "name must be provided"
        )
    return bad_request(
        f"the name of the object ({obj_name}) does not match the name on the URL ({url_name})"
    )


def api_version_mismatch(api_version: str) -> Status:
    """A body of another group/version than the endpoint's (create and update decoding)."""
    return bad_request(
        f"the API version in the data ({api_version}) does not match "
        f"the expected API version ({API_VERSION})"
    )


def unsupported_media_type(
    content_type: str = "", accepted: Sequence[str] = CREATE_MEDIA_TYPES
) -> Status:
    """415. kube-apiserver does not echo the offending type; it lists the accepted ones.

    ``content_type`` is accepted for call-site symmetry only and is not part of the text.
    """
    del content_type
    return _status(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def internal_error(message: str) -> Status:
    """A plain (non-API) error surfacing as 500: reason Unknown, which JSON omits.

    This is the shape of ``resourceVersion should not be set on objects to be created``.
    """
    return _status(500, "", message)


def internal_error_wrapped(message: str) -> Status:
    """``NewInternalError``: reason InternalError, the text repeated as a single cause."""
    return _status(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def delete_success(name: str, uid: str) -> Status:
    """What DELETE returns when the object is gone at once: Success, no ``code``."""
    return _status(
        0, "", "", _details(name=name, group=GROUP, kind=RESOURCE, uid=uid), status="Success"
    )


def unauthorized() -> Status:
    """The 401 body the authentication filter writes."""
    return _status(401, "Unauthorized", "Unauthorized")


def is_status(body: object) -> bool:
    """Whether a response body has the outer shape of a ``Status``."""
    return (
        isinstance(body, dict)
        and body.get("kind") == "Status"
        and body.get("apiVersion") == "v1"
        and isinstance(body.get("metadata"), dict)
    )
