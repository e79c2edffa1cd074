"""GET under ``/openapi``: the v2 document, the v3 index and the certificates.k8s.io/v1
group document, as ``conformance.wire.openapi`` renders and serves them.

kubectl needs these for ``explain`` and to learn that the server validates fields itself
(it then sends ``fieldValidation=Strict`` on create, patch and apply).
"""

from __future__ import annotations

from aiohttp import web

from conformance.targets.fake.context import Call
from conformance.targets.fake.wire import plain_not_found
from conformance.wire import openapi


async def serve(call: Call) -> web.Response:
    request = call.request
    query = {k: request.query[k] for k in request.query}
    served = openapi.respond(request.path, query, request.headers.get("Accept"), call.state.clock())
    if served is None:
        return plain_not_found(request)
    resp = web.Response(status=served.status, body=served.body)
    for key, value in served.headers.items():
        resp.headers[key] = value
    return resp
