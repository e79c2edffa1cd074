"""The writes properties send: creating a CSR, posting a drawn body, one judged update.

Every update property does the same three things around the request it aims: read the
stored object (the oracle needs it), send the write exactly as drawn (raw bytes, any
Content-Type, any query), and hand both to :func:`~conformance.properties.expect.judge_update`.
Creates are simpler (make this example's object, or post a body as drawn) but were
written out again in every module that needed one. Keeping them in one place means a
property states only what it aims at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from conformance import checks
from conformance.client import Response, csr_path
from conformance.identities import ADMIN
from conformance.oracle.csr.update import UpdateDecision
from conformance.properties.expect import judge_update
from conformance.session import Session

CONTENT_TYPES: dict[str, str] = {
    "put": "application/json",
    "merge": "application/merge-patch+json",
    "smp": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}
"""Content-Type of each encoding a focused property draws."""


def create(
    session: Session, csr: dict[str, Any], example: str, signer: str | None = None
) -> dict[str, Any]:
    """Create ``csr`` (for ``signer`` if given) as this run's object of ``example``, as the
    admin; the created object."""
    obj = session.stamp(csr, example)
    if signer:
        obj["spec"]["signerName"] = signer
    resp = session.client(ADMIN).create(obj)
    checks.status_code(resp, 201)
    created: dict[str, Any] = resp.obj()
    return created


def post(
    session: Session,
    body: bytes,
    query: Mapping[str, Sequence[str]] | None = None,
    *,
    role: str = ADMIN,
    content_type: str = "application/json",
) -> Response:
    """POST ``body`` to the CSR collection byte for byte, with ``query`` as drawn."""
    return session.client(role).request(
        "POST",
        csr_path(),
        query=[(k, v) for k, vs in (query or {}).items() for v in vs],
        data=body,
        content_type=content_type,
    )


def stored(session: Session, name: str) -> dict[str, Any] | None:
    resp = session.client(ADMIN).get(name)
    return resp.obj() if resp.status == 200 else None


def without_managed_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` as a client would send it back in a PUT (managedFields left out)."""
    out = dict(obj)
    out["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return out


_SURROGATE_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)(\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2})")


def apply_json(value: Any) -> bytes:
    """``value`` as JSON an apply body can carry: ASCII escapes, except that characters
    beyond the BMP are written as UTF-8, since go-yaml refuses the surrogate-pair escapes
    JSON encoders use for them (what kubectl sends is UTF-8 too)."""
    text = _SURROGATE_PAIR.sub(
        lambda m: m.group(1) + json.loads(f'"{m.group(2)}"'), json.dumps(value)
    )
    return text.encode("utf-8")


def send(
    session: Session,
    *,
    role: str,
    endpoint: str,
    method: str,
    name: str,
    body: bytes | Any,
    content_type: str = "application/json",
    query: Mapping[str, Sequence[str]] | None = None,
) -> tuple[Response, UpdateDecision]:
    """Send one PUT or PATCH as drawn and fail unless kube-apiserver would answer the same.

    ``body`` is sent byte for byte when it is bytes, else JSON-encoded.
    """
    if isinstance(body, bytes):
        raw = body
    elif content_type == CONTENT_TYPES["apply"]:
        raw = apply_json(body)
    else:
        raw = json.dumps(body).encode()
    query = dict(query or {})
    before = stored(session, name)
    resp = session.client(role).request(
        method,
        csr_path(name, None if endpoint == "main" else endpoint),
        data=raw,
        content_type=content_type,
        query=[(k, v) for k, vs in query.items() for v in vs],
    )
    decision = judge_update(
        session,
        resp,
        endpoint=endpoint,
        method=method,
        name=name,
        body=raw,
        content_type=content_type,
        query=query,
        role=role,
        stored=before,
    )
    return resp, decision


APPLY_MANAGER = "csr-conformance-apply"
"""The field manager of the focused properties' server-side applies."""

_SERVER_SET_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp")


def apply_body(desired: Mapping[str, Any]) -> dict[str, Any]:
    """A server-side apply configuration asking for ``desired``'s metadata and status.

    spec is left out (it never changes) and so are the fields the server sets; what is
    left is what an applier that wants this object would own.
    """
    meta = {k: v for k, v in desired["metadata"].items() if k not in _SERVER_SET_METADATA}
    body: dict[str, Any] = {
        "apiVersion": desired.get("apiVersion", "certificates.k8s.io/v1"),
        "kind": desired.get("kind", "CertificateSigningRequest"),
        "metadata": meta,
    }
    if desired.get("status"):
        body["status"] = desired["status"]
    return body
