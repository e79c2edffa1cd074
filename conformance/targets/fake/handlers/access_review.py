"""``POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews``: "may I do this?".

``kubectl auth can-i`` asks it, and so does anyone checking an RBAC setup before running
the suite against a cluster. The answer is the fake's own authorizer applied to the
attributes in the review, for the caller: the same decision a real request would get.
kubectl sends the review as protobuf, so both encodings are read.

Upstream: ``pkg/registry/authorization/selfsubjectaccessreview/rest.go``.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import web

from conformance.oracle.apimachinery import status as st
from conformance.targets.fake.authz import authorize
from conformance.targets.fake.context import Call
from conformance.targets.fake.requestinfo import RequestInfo
from conformance.targets.fake.wire import PROTOBUF, respond
from conformance.wire import protobuf

API_VERSION: Final = "authorization.k8s.io/v1"
_RESOURCE_FIELDS: Final = (
    "namespace",
    "verb",
    "group",
    "version",
    "resource",
    "subresource",
    "name",
)


def _strings(data: bytes, names: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, _wire, value in protobuf.fields(data):
        if isinstance(value, bytes) and 1 <= number <= len(names):
            out[names[number - 1]] = value.decode("utf-8", "replace")
    return out


def _spec_from_protobuf(raw: bytes) -> dict[str, Any]:
    """The review's spec from its protobuf form (field numbers from authorization/v1)."""
    _version, _kind, message = protobuf.unwrap(raw)
    spec: dict[str, Any] = {}
    for number, _wire, value in protobuf.fields(message):
        if number != 2 or not isinstance(value, bytes):
            continue
        for n, _w, inner in protobuf.fields(value):
            if n == 1 and isinstance(inner, bytes):
                spec["resourceAttributes"] = _strings(inner, _RESOURCE_FIELDS)
            elif n == 2 and isinstance(inner, bytes):
                spec["nonResourceAttributes"] = _strings(inner, ("path", "verb"))
    return spec


def attributes(spec: dict[str, Any]) -> RequestInfo:
    """The request the review asks about, as the authorizer sees requests."""
    res = spec.get("resourceAttributes")
    if isinstance(res, dict):
        return RequestInfo(
            path="",
            verb=str(res.get("verb", "")),
            is_resource_request=True,
            api_prefix="apis" if res.get("group") else "api",
            api_group=str(res.get("group", "")),
            api_version=str(res.get("version", "")),
            namespace=str(res.get("namespace", "")),
            resource=str(res.get("resource", "")),
            subresource=str(res.get("subresource", "")),
            name=str(res.get("name", "")),
        )
    non = spec.get("nonResourceAttributes") or {}
    return RequestInfo(path=str(non.get("path", "")), verb=str(non.get("verb", "")))


async def create_self_subject_access_review(call: Call) -> web.Response:
    raw = await call.request.read()
    media = (call.request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    spec: dict[str, Any]
    try:
        if media == PROTOBUF:
            spec = _spec_from_protobuf(raw)
        else:
            doc = json.loads(raw or b"null")
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            given = doc.get("spec")
            spec = given if isinstance(given, dict) else {}
    except (ValueError, protobuf.ProtobufError) as e:
        return respond(call.request, 400, st.bad_request(f"invalid SelfSubjectAccessReview: {e}"))
    if not spec.get("resourceAttributes") and not spec.get("nonResourceAttributes"):
        detail = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        message = (
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
            f'[spec.resourceAttributes: Invalid value: "null": {detail}, '
            f'spec.nonResourceAttributes: Invalid value: "null": {detail}]'
        )
        return respond(call.request, 422, st.failure(422, "Invalid", message))
    allowed = authorize(call.user, attributes(spec))
    status: dict[str, Any] = {"allowed": allowed}
    if allowed:
        status["reason"] = "allowed by the csr-conformance fake's policy"
    body = {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": API_VERSION,
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }
    return respond(call.request, 201, body)
