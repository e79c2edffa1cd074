"""The aiohttp application: the filter chain kube-apiserver runs, then routing.

Order matters and follows kube-apiserver's handler chain: authentication (401), then
authorization on the parsed request attributes (403), and only then routing, so a
denied user gets 403 even for a path that does not exist, while an allowed one gets 404
or 405. Routing mimics go-restful's split: paths under a registered group prefix get a
JSON ``Status`` 404/405, anything else gets Go's plain-text ``404 page not found``.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Final, Literal

from aiohttp import web

from conformance.compaction import FAKE_PATH
from conformance.oracle.apimachinery import status as st
from conformance.oracle.versions import deciding
from conformance.targets.fake.authz import authorize, forbidden_status
from conformance.targets.fake.context import STATE_KEY, Call, ServerState
from conformance.targets.fake.handlers import access_review as access_review_handlers
from conformance.targets.fake.handlers import create as create_handlers
from conformance.targets.fake.handlers import delete as delete_handlers
from conformance.targets.fake.handlers import discovery as discovery_handlers
from conformance.targets.fake.handlers import openapi as openapi_handlers
from conformance.targets.fake.handlers import read as read_handlers
from conformance.targets.fake.handlers import review as review_handlers
from conformance.targets.fake.handlers import update as update_handlers
from conformance.targets.fake.handlers.update_faults import filter_allows
from conformance.targets.fake.requestinfo import parse_request_info
from conformance.targets.fake.resources import (
    AUTHENTICATION_V1,
    CERTIFICATES_V1,
    CORE_V1,
    find_group_version,
    group_prefixes,
)
from conformance.targets.fake.wire import plain_not_found, respond

log = logging.getLogger(__name__)

Handler = Callable[[], Awaitable[web.StreamResponse]]

_CSR_BASE: Final = f"/apis/{CERTIFICATES_V1.group_version}/{st.RESOURCE}"
_CSR_WATCH: Final = f"/apis/{CERTIFICATES_V1.group_version}/watch/{st.RESOURCE}"
_SSAR_PATH: Final = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
_SSR_PATH: Final = f"/apis/{AUTHENTICATION_V1.group_version}/selfsubjectreviews"
_HEALTH_PATHS: Final = ("/healthz", "/livez", "/readyz")

_PRODUCES_OBJECT: Final = (
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
)
_PRODUCES_LIST: Final = (
    *_PRODUCES_OBJECT,
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
)
_PRODUCES_VERSION: Final = ("application/json",)


def _restful_failure(code: int, reason: str, message: str) -> dict[str, object]:
    """A Failure Status as kube-apiserver wraps go-restful's own errors: ``details`` is an
    empty struct there, not a nil pointer, so it is sent as ``{}``."""
    body = st.failure(0, reason, message)
    body["details"] = {}
    body["code"] = code
    return body


def generic_status(code: int) -> dict[str, object]:
    """``NewGenericServerResponse`` with no resource: what go-restful's errors become."""
    reason, message = {
        404: ("NotFound", "the server could not find the requested resource"),
        405: (
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
    }[code]
    return _restful_failure(code, reason, message)


def _under_group_prefix(path: str) -> bool:
    if path in ("/apis", "/apis/"):
        return True
    return any(path == p or path.startswith(p + "/") for p in group_prefixes())


def restful_accepts(accept: str | None, produces: tuple[str, ...]) -> bool:
    """go-restful's route check on Accept: a clause (parameters dropped) must be ``*/*`` or
    exactly one of the route's types; ``application/*`` does not count."""
    if not accept:
        return True
    for clause in accept.split(","):
        media = clause.split(";", 1)[0].strip()
        if media == "*/*" or media in produces:
            return True
    return False


def not_acceptable_restful(produces: tuple[str, ...]) -> dict[str, object]:
    """go-restful's own 406, wrapped as a Status by kube-apiserver's service error handler."""
    message = "406: Not Acceptable\n\nAvailable representations: " + ", ".join(produces)
    return _restful_failure(406, "NotAcceptable", message)


def route(call: Call) -> tuple[Handler, tuple[str, ...]] | int | None:
    """The handler for this request and the media types its go-restful route declares
    (empty when the path is not a go-restful route), None for "no such path", or 405."""
    request = call.request
    path = request.path
    method = request.method
    produces: tuple[str, ...] = _PRODUCES_OBJECT
    if path in ("/version", "/version/"):
        produces = _PRODUCES_VERSION
        table: dict[str, Handler] = {"GET": lambda: discovery_handlers.version(call)}
    elif path in _HEALTH_PATHS:
        produces = ()
        table = {"GET": lambda: _health(call)}
    elif path in ("/api", "/api/"):
        produces = ()
        table = {"GET": lambda: discovery_handlers.root(call, legacy=True)}
    elif path in ("/apis", "/apis/"):
        produces = ()
        table = {"GET": lambda: discovery_handlers.root(call, legacy=False)}
    elif path.rstrip("/") == "/api/v1":
        produces = ()
        table = {"GET": lambda: discovery_handlers.resource_list(call, CORE_V1)}
    elif path == "/openapi" or path.startswith("/openapi/"):
        produces = ()
        table = {"GET": lambda: openapi_handlers.serve(call)}
    elif path == FAKE_PATH:
        produces = ()
        table = {"POST": lambda: _compact(call)}
    elif path == _SSAR_PATH:
        table = {"POST": lambda: access_review_handlers.create_self_subject_access_review(call)}
    elif path == _SSR_PATH:
        table = {"POST": lambda: review_handlers.create_self_subject_review(call)}
    elif path == _CSR_BASE:
        produces = _PRODUCES_LIST if method in ("GET", "HEAD") else _PRODUCES_OBJECT
        table = {
            "GET": lambda: read_handlers.list_(call),
            "POST": lambda: create_handlers.create(call),
            "DELETE": lambda: delete_handlers.delete_collection(call),
        }
    elif path == _CSR_WATCH or path.startswith(_CSR_WATCH + "/"):
        produces = _PRODUCES_LIST
        rest = path[len(_CSR_WATCH) :].strip("/").split("/")
        if len(rest) > 1:
            return None
        watched = rest[0] or None
        table = {"GET": lambda: read_handlers.watch_path(call, watched)}
    elif path.startswith(_CSR_BASE + "/"):
        rest = path[len(_CSR_BASE) + 1 :].split("/")
        name = rest[0]
        if not name or len(rest) > 2:
            return None
        if len(rest) == 1:
            table = {
                "GET": lambda: read_handlers.get(call, name),
                "DELETE": lambda: delete_handlers.delete(call, name),
                "PUT": lambda: update_handlers.write(call, name, "main", "PUT"),
                "PATCH": lambda: update_handlers.write(call, name, "main", "PATCH"),
            }
        elif rest[1] in ("status", "approval"):
            sub: Literal["status", "approval"] = "status" if rest[1] == "status" else "approval"
            table = {
                "GET": lambda: read_handlers.get(call, name, sub),
                "PUT": lambda: update_handlers.write(call, name, sub, "PUT"),
                "PATCH": lambda: update_handlers.write(call, name, sub, "PATCH"),
            }
        else:
            return None
    else:
        produces = ()
        m = re.fullmatch(r"/apis/([^/]+)(?:/([^/]+))?/?", path)
        gv = find_group_version(m.group(1), m.group(2)) if m and m.group(2) else None
        if m and m.group(2) is None:
            gv = next(
                (g for g in (AUTHENTICATION_V1, CERTIFICATES_V1) if g.group == m.group(1)), None
            )
            if gv is None:
                return None
            group_gv = gv
            table = {"GET": lambda: discovery_handlers.group(call, group_gv)}
        elif gv is not None:
            version_gv = gv
            table = {"GET": lambda: discovery_handlers.resource_list(call, version_gv)}
        else:
            return None
    handler = table.get("GET" if method == "HEAD" else method)
    return (handler, produces) if handler is not None else 405


async def _compact(call: Call) -> web.Response:
    """The fake's admin endpoint: forget history now, as etcd compaction does."""
    horizon = call.state.store.compact()
    return respond(call.request, 200, {"compactedResourceVersion": str(horizon)})


async def _health(call: Call) -> web.Response:
    resp = web.Response(status=200, text="ok")
    resp.headers["Content-Type"] = "text/plain; charset=utf-8"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Every request is decided by the release the fake behaves as (``deciding`` sets it
    for this request's task only)."""
    state = request.app[STATE_KEY]
    with deciding(state.kube_version):
        return await _logged(request, state)


async def _logged(request: web.Request, state: ServerState) -> web.StreamResponse:
    if not state.log_requests:
        return await _dispatch(request, state)
    started = time.monotonic()
    user = "-"
    status: int | str = "-"
    try:
        response = await _dispatch(request, state)
        status = response.status
        return response
    finally:
        who = request.get(_USER_KEY)
        if who is not None:
            user = who
        print(
            f"{request.method} {request.path_qs} user={user} status={status} "
            f"{time.monotonic() - started:.3f}s",
            file=sys.stderr,
            flush=True,
        )


_USER_KEY: Final = web.RequestKey("csrc_user", str)


async def _dispatch(request: web.Request, state: ServerState) -> web.StreamResponse:
    info = parse_request_info(request.method, request.raw_path.split("?", 1)[0], request.query)
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    user = state.authenticator.authenticate(request.headers.get("Authorization"), ssl_object)
    if user is None:
        return respond(request, 401, st.unauthorized())
    request[_USER_KEY] = user.username
    allowed = authorize(user, info)
    if not filter_allows(state.faults, allowed, info.verb, info.resource, info.subresource):
        denied = respond(request, 403, forbidden_status(user, info))
        denied.headers["X-Content-Type-Options"] = "nosniff"
        return denied
    call = Call(request, state, info, user)
    target = route(call)
    if target is None:
        if _under_group_prefix(request.path):
            return respond(request, 404, generic_status(404))
        return plain_not_found(request)
    if isinstance(target, int):
        return respond(request, target, generic_status(target))
    handler, produces = target
    if produces and not restful_accepts(request.headers.get("Accept"), produces):
        return respond(request, 406, not_acceptable_restful(produces))
    try:
        return await handler()
    except Exception:
        log.exception("fake: handler failed for %s %s", request.method, request.path)
        return respond(
            request, 500, st.internal_error_wrapped("the fake failed to handle this request")
        )


def build_app(state: ServerState) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
