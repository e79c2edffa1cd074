"""``POST /apis/authentication.k8s.io/v1/selfsubjectreviews``: "who does the server think I am".

The suite learns every identity this way on every target, so the answer must be exactly
what the authenticator decided: username, uid, groups (with ``system:authenticated``)
and extra. The review is not stored; the response is 201 like any create, and (unlike most
unsaved objects) kube-apiserver stamps its ``creationTimestamp`` with the current time.
"""

from __future__ import annotations

import json

from aiohttp import web

from conformance.oracle.apimachinery import status as st
from conformance.targets.fake.context import Call
from conformance.targets.fake.resources import AUTH_GROUP, AUTH_VERSION
from conformance.targets.fake.wire import respond

_API_VERSION = f"{AUTH_GROUP}/{AUTH_VERSION}"


async def create_self_subject_review(call: Call) -> web.Response:
    raw = await call.request.read()
    media = (call.request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    # The review's body carries nothing the answer depends on, so only a JSON body is
    # checked; typed clients such as kubectl send protobuf, which the fake does not decode.
    if not raw.strip():
        return respond(
            call.request,
            400,
            st.bad_request(
                "the object provided is unrecognized (must be of type SelfSubjectReview): "
                "couldn't get version/kind; json parse error: unexpected end of JSON input "
                "(<empty>)"
            ),
        )
    if media not in ("", *st.CREATE_MEDIA_TYPES):
        return respond(call.request, 415, st.unsupported_media_type(media))
    if media in ("", "application/json"):
        try:
            doc = json.loads(raw)
        except ValueError as e:
            return respond(call.request, 400, st.bad_request(f"json parse error: {e}"))
        if not isinstance(doc, dict):
            return respond(call.request, 400, st.bad_request("json parse error: not an object"))
        kind = doc.get("kind", "SelfSubjectReview")
        version = doc.get("apiVersion", _API_VERSION)
        if kind != "SelfSubjectReview" or version != _API_VERSION:
            return respond(
                call.request,
                400,
                st.bad_request(
                    f"the API version in the data ({version}) does not match the expected "
                    f"API version ({_API_VERSION})"
                    if kind == "SelfSubjectReview"
                    else f'SelfSubjectReview in version "{AUTH_VERSION}" cannot be handled as '
                    f"a SelfSubjectReview: the kind in the data ({kind}) is not SelfSubjectReview"
                ),
            )
    body = {
        "kind": "SelfSubjectReview",
        "apiVersion": _API_VERSION,
        "metadata": {"creationTimestamp": call.state.now()},
        "status": {"userInfo": call.user.user_info()},
    }
    return respond(call.request, 201, body)
