"""OpenAPI documents for certificates.k8s.io/v1, built from ``conformance.wire.schema``.

Why: kubectl reads OpenAPI v3 for ``explain``, to learn that the server validates
fields itself (it looks for a ``fieldValidation`` parameter on the PATCH operation of
the kind's path, and then sends ``fieldValidation=Strict``), and for client-side
``apply`` (strategic-merge patch directives such as ``x-kubernetes-patch-strategy``).
kubectl 1.37 asks for ``/openapi/v3`` and then the group document; it reads
``/openapi/v2`` only as a fallback, and then only as protobuf, which these documents do
not offer. The v2 JSON is for other tools.

Structure (types, formats, required fields, list and map semantics, GVK extensions,
paths, operation ids, parameters, media types) follows kube-apiserver v1.37; every
description is our own wording, taken from the schema module. ``respond`` reproduces
how the server serves the documents (hash-addressed URLs, ETag, caching headers, 406
and 404 with empty bodies).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from conformance.wire.schema import (
    CSR,
    CSR_LIST,
    MESSAGES,
    SCALAR_DOCS,
    Field,
    Message,
)

GROUP: Final = "certificates.k8s.io"
VERSION: Final = "v1"
GROUP_VERSION: Final = f"{GROUP}/{VERSION}"
INFO: Final = {"title": "Kubernetes", "version": "1.37"}
V3_PREFIX: Final = "/openapi/v3"
V3_GROUP_KEY: Final = f"apis/{GROUP_VERSION}"
V3_GROUP_PATH: Final = f"{V3_PREFIX}/{V3_GROUP_KEY}"
V2_PATH: Final = "/openapi/v2"

_BASE: Final = f"/apis/{GROUP_VERSION}"
_CSRS: Final = f"{_BASE}/certificatesigningrequests"
_TAG: Final = "certificates_v1"
_GVK: Final = {"group": GROUP, "kind": CSR.name, "version": VERSION}

_OBJECT_MEDIA: Final = (
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
)
_LIST_MEDIA: Final = (
    "application/json",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/yaml",
)
_PATCH_MEDIA: Final = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

_INCLUDED: Final = (
    "CertificateSigningRequest",
    "CertificateSigningRequestCondition",
    "CertificateSigningRequestList",
    "CertificateSigningRequestSpec",
    "CertificateSigningRequestStatus",
    "APIResource",
    "APIResourceList",
    "DeleteOptions",
    "ListMeta",
    "ManagedFieldsEntry",
    "ObjectMeta",
    "OwnerReference",
    "Preconditions",
    "ShardInfo",
    "Status",
    "StatusCause",
    "StatusDetails",
    "WatchEvent",
)

# -- parameters ------------------------------------------------------------------------------

_PARAMS: Final[dict[str, tuple[str, str]]] = {
    "pretty": ("string", "When 'true', the response is indented for people to read."),
    "dryRun": (
        "string",
        "Set to All to run every check (validation, admission) without storing the "
        "result; any other value is rejected.",
    ),
    "fieldManager": (
        "string",
        "The name recorded in managedFields as the author of this change; at most 128 "
        "printable characters. Required for apply patches; otherwise it defaults to the "
        "start of the client's User-Agent.",
    ),
    "fieldValidation": (
        "string",
        "What to do with unknown or duplicated fields in the body: Ignore drops them "
        "silently, Warn drops them and says so in a Warning header (the default), Strict "
        "rejects the request.",
    ),
    "force": (
        "boolean",
        "Only for apply patches: take over fields other managers own instead of failing "
        "with a conflict. Must not be set on other patches.",
    ),
    "allowWatchBookmarks": (
        "boolean",
        "Ask the watch to send BOOKMARK events, which carry only a resourceVersion so the "
        "client can resume from there. Ignored outside watches.",
    ),
    "continue": (
        "string",
        "The continue token from the previous page of a paginated list, to fetch the next "
        "page. Tokens expire.",
    ),
    "fieldSelector": (
        "string",
        "Return only objects whose fields match, for example spec.signerName=example.com/x. "
        "CertificateSigningRequests support metadata.name and spec.signerName.",
    ),
    "labelSelector": ("string", "Return only objects whose labels match this selector."),
    "limit": (
        "integer",
        "The most items to return. When more remain, the list metadata carries a continue "
        "token for the next page.",
    ),
    "resourceVersion": (
        "string",
        "Which state of the store a list or watch should start from; its meaning depends "
        "on resourceVersionMatch. Unset means the latest state.",
    ),
    "resourceVersionMatch": (
        "string",
        "How a list interprets resourceVersion: Exact or NotOlderThan.",
    ),
    "sendInitialEvents": (
        "boolean",
        "With watch=true: first send the current objects as ADDED events, then a bookmark "
        "annotated k8s.io/initial-events-end. Needs resourceVersionMatch=NotOlderThan.",
    ),
    "shardSelector": (
        "string",
        "Ask for one shard of the collection instead of all of it (alpha).",
    ),
    "timeoutSeconds": ("integer", "End the list or watch call after this many seconds."),
    "watch": (
        "boolean",
        "Stream add, update and delete events instead of returning a list.",
    ),
    "gracePeriodSeconds": (
        "integer",
        "Seconds to wait before deleting; zero means at once. CertificateSigningRequests "
        "are deleted at once regardless.",
    ),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean",
        "Delete an object the server cannot read back from storage. Dangerous; needs its "
        "own permission.",
    ),
    "orphanDependents": (
        "boolean",
        "Deprecated in favour of propagationPolicy: true leaves dependents in place.",
    ),
    "propagationPolicy": (
        "string",
        "How the garbage collector treats dependents: Orphan, Background or Foreground.",
    ),
}

_LIST_PARAMS: Final = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "shardSelector",
    "timeoutSeconds",
    "watch",
)
_WRITE_PARAMS: Final = ("dryRun", "fieldManager", "fieldValidation")
_DELETE_PARAMS: Final = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
_COLLECTION_DELETE_PARAMS: Final = tuple(
    sorted(set(_DELETE_PARAMS) | set(_LIST_PARAMS) - {"allowWatchBookmarks", "watch"})
)
_NAME_DOC: Final = "The name of the CertificateSigningRequest."


def _param(name: str, *, v3: bool, where: str = "query", doc: str = "") -> dict[str, Any]:
    kind, text = _PARAMS.get(name, ("string", doc))
    p: dict[str, Any] = {"name": name, "in": where, "description": doc or text}
    if where == "path":
        p["required"] = True
    if v3:
        p["schema"] = {"type": kind, "uniqueItems": True}
    else:
        p["type"] = kind
        p["uniqueItems"] = True
    return p


# -- schemas ---------------------------------------------------------------------------------


def _ref(name: str, *, v3: bool) -> str:
    openapi_name = MESSAGES[name].openapi_name if name in MESSAGES else SCALAR_DOCS[name][0]
    return ("#/components/schemas/" if v3 else "#/definitions/") + openapi_name


def _element_schema(f: Field, *, v3: bool) -> dict[str, Any]:
    """The schema of one value of ``f`` (one item, for a repeated field)."""
    if f.kind in ("message", "time", "fieldsv1", "raw"):
        name = {"time": "Time", "fieldsv1": "FieldsV1", "raw": "RawExtension"}.get(f.kind, f.ref)
        return {"$ref": _ref(name, v3=v3)}
    if f.kind == "string_map":
        return {"type": "object", "additionalProperties": {"type": "string"}}
    if f.kind == "extra_map":
        return {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    out: dict[str, Any] = {
        "string": {"type": "string"},
        "bytes": {"type": "string", "format": "byte"},
        "int32": {"type": "integer", "format": "int32"},
        "int64": {"type": "integer", "format": "int64"},
        "bool": {"type": "boolean"},
        "object": {"type": "object"},
    }[f.kind].copy()
    if f.enum:
        out["enum"] = list(f.enum)
    return out


def _property(f: Field, *, v3: bool) -> dict[str, Any]:
    if f.repeated:
        prop: dict[str, Any] = {
            "description": f.doc,
            "type": "array",
            "items": _element_schema(f, v3=v3),
        }
        if f.list_type:
            prop["x-kubernetes-list-type"] = f.list_type
        if f.map_keys:
            prop["x-kubernetes-list-map-keys"] = list(f.map_keys)
        if f.patch_merge_key:
            prop["x-kubernetes-patch-merge-key"] = f.patch_merge_key
        if f.patch_strategy:
            prop["x-kubernetes-patch-strategy"] = f.patch_strategy
        return prop
    element = _element_schema(f, v3=v3)
    if "$ref" in element:
        if not v3:
            return element  # Swagger 2.0 allows nothing beside a $ref
        prop = {"description": f.doc}
        if f.has_default:
            prop["default"] = f.default
        prop["allOf"] = [element]
        return prop
    prop = {"description": f.doc, **element}
    if f.has_default and v3:  # the v2 document carries no defaults
        prop["default"] = f.default
    return prop


def _definition(msg: Message, *, v3: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"description": msg.doc, "type": "object"}
    required = [f.name for f in msg.fields if f.required]
    if required:
        out["required"] = required
    out["properties"] = {
        f.name: _property(f, v3=v3) for f in sorted(msg.fields, key=lambda f: f.name)
    }
    if msg.gvks:
        out["x-kubernetes-group-version-kind"] = [
            {"group": g, "kind": k, "version": v} for g, v, k in msg.gvks
        ]
    if msg.map_type:
        out["x-kubernetes-map-type"] = msg.map_type
    return out


def _scalar_definition(name: str) -> dict[str, Any]:
    doc = SCALAR_DOCS[name][1]
    if name == "Time":
        return {"description": doc, "type": "string", "format": "date-time"}
    return {"description": doc, "type": "object"}


def _schemas(*, v3: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _INCLUDED:
        out[MESSAGES[name].openapi_name] = _definition(MESSAGES[name], v3=v3)
    for name in SCALAR_DOCS:
        out[SCALAR_DOCS[name][0]] = _scalar_definition(name)
    return dict(sorted(out.items()))


# -- operations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    method: str
    operation_id: str
    action: str
    doc: str
    response: str
    codes: tuple[str, ...]
    params: tuple[str, ...] = ()
    body: str = ""
    media: tuple[str, ...] = _OBJECT_MEDIA
    gvk: bool = True


def _ops() -> dict[str, tuple[tuple[str, ...], tuple[_Op, ...]]]:
    """path -> (path-level parameters, operations)."""
    csr, lst = CSR.name, CSR_LIST.name
    suffix = {"": "", "approval": "Approval", "status": "Status"}
    out: dict[str, tuple[tuple[str, ...], tuple[_Op, ...]]] = {
        f"{_BASE}/": (
            (),
            (
                _Op(
                    "get",
                    "getCertificatesV1APIResources",
                    "",
                    "List the resources this group version serves.",
                    "APIResourceList",
                    ("200",),
                    gvk=False,
                ),
            ),
        ),
        _CSRS: (
            ("pretty",),
            (
                _Op(
                    "get",
                    "listCertificatesV1CertificateSigningRequest",
                    "list",
                    "List CertificateSigningRequests, or watch them with watch=true.",
                    lst,
                    ("200",),
                    _LIST_PARAMS,
                    media=_LIST_MEDIA,
                ),
                _Op(
                    "post",
                    "createCertificatesV1CertificateSigningRequest",
                    "post",
                    "Create a CertificateSigningRequest.",
                    csr,
                    ("200", "201", "202"),
                    _WRITE_PARAMS,
                    body=csr,
                ),
                _Op(
                    "delete",
                    "deleteCertificatesV1CollectionCertificateSigningRequest",
                    "deletecollection",
                    "Delete every CertificateSigningRequest the selectors match.",
                    "Status",
                    ("200",),
                    _COLLECTION_DELETE_PARAMS,
                    body="DeleteOptions",
                ),
            ),
        ),
    }
    for sub in ("", "approval", "status"):
        path = f"{_CSRS}/{{name}}" + (f"/{sub}" if sub else "")
        what = {
            "": "the",
            "approval": "the approval conditions of the",
            "status": "the status of the",
        }[sub]
        ops = [
            _Op(
                "get",
                f"readCertificatesV1CertificateSigningRequest{suffix[sub]}",
                "get",
                f"Read {what} named CertificateSigningRequest.",
                csr,
                ("200",),
            ),
            _Op(
                "put",
                f"replaceCertificatesV1CertificateSigningRequest{suffix[sub]}",
                "put",
                f"Replace {what} named CertificateSigningRequest.",
                csr,
                ("200", "201"),
                _WRITE_PARAMS,
                body=csr,
            ),
        ]
        if not sub:
            ops.append(
                _Op(
                    "delete",
                    "deleteCertificatesV1CertificateSigningRequest",
                    "delete",
                    "Delete the named CertificateSigningRequest.",
                    "Status",
                    ("200", "202"),
                    _DELETE_PARAMS,
                    body="DeleteOptions",
                )
            )
        ops.append(
            _Op(
                "patch",
                f"patchCertificatesV1CertificateSigningRequest{suffix[sub]}",
                "patch",
                f"Patch {what} named CertificateSigningRequest.",
                csr,
                ("200", "201"),
                (*_WRITE_PARAMS, "force"),
                body="Patch",
            )
        )
        out[path] = (("name", "pretty"), tuple(ops))
    watch_params = tuple(sorted((*_LIST_PARAMS, "pretty")))
    out[f"{_BASE}/watch/certificatesigningrequests"] = (
        watch_params,
        (
            _Op(
                "get",
                "watchCertificatesV1CertificateSigningRequestList",
                "watchlist",
                "Deprecated: watch CertificateSigningRequests. Use list with watch=true.",
                "WatchEvent",
                ("200",),
                media=_LIST_MEDIA,
            ),
        ),
    )
    out[f"{_BASE}/watch/certificatesigningrequests/{{name}}"] = (
        tuple(sorted((*watch_params, "name"))),
        (
            _Op(
                "get",
                "watchCertificatesV1CertificateSigningRequest",
                "watch",
                "Deprecated: watch one CertificateSigningRequest. Use list with watch=true "
                "and a metadata.name field selector.",
                "WatchEvent",
                ("200",),
                media=_LIST_MEDIA,
            ),
        ),
    )
    return out


_STATUS_TEXT: Final = {"200": "OK", "201": "Created", "202": "Accepted", "401": "Unauthorized"}


def _path_params(names: tuple[str, ...], *, v3: bool) -> list[dict[str, Any]]:
    return [
        _param(n, v3=v3, where="path", doc=_NAME_DOC) if n == "name" else _param(n, v3=v3)
        for n in names
    ]


def _operation_v3(op: _Op) -> dict[str, Any]:
    out: dict[str, Any] = {"tags": [_TAG], "description": op.doc, "operationId": op.operation_id}
    if op.params:
        out["parameters"] = [_param(p, v3=True) for p in op.params]
    if op.body:
        media = _PATCH_MEDIA if op.body == "Patch" else ("*/*",)
        out["requestBody"] = {
            "content": {m: {"schema": {"$ref": _ref(op.body, v3=True)}} for m in media}
        }
        if op.body != "DeleteOptions":
            out["requestBody"]["required"] = True
    responses: dict[str, Any] = {}
    for code in op.codes:
        responses[code] = {
            "description": _STATUS_TEXT[code],
            "content": {m: {"schema": {"$ref": _ref(op.response, v3=True)}} for m in op.media},
        }
    responses["401"] = {"description": _STATUS_TEXT["401"]}
    out["responses"] = responses
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk:
        out["x-kubernetes-group-version-kind"] = dict(_GVK)
    return out


_V2_ORDER: Final = (
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


def _v2_media(media: tuple[str, ...]) -> list[str]:
    """The v2 document lists media types in the server's registration order."""
    return sorted(media, key=_V2_ORDER.index)


def _operation_v2(op: _Op) -> dict[str, Any]:
    out: dict[str, Any] = {"description": op.doc}
    if op.body == "Patch":
        out["consumes"] = _v2_media(_PATCH_MEDIA)
    elif op.body or op.gvk:
        out["consumes"] = ["*/*"]
    else:
        out["consumes"] = _v2_media(_OBJECT_MEDIA)
    out["produces"] = _v2_media(op.media)
    out["schemes"] = ["https"]
    out["tags"] = [_TAG]
    out["operationId"] = op.operation_id
    params: list[dict[str, Any]] = []
    if op.body:
        body: dict[str, Any] = {
            "name": "body",
            "in": "body",
            "schema": {"$ref": _ref(op.body, v3=False)},
        }
        if op.body != "DeleteOptions":
            body["required"] = True
        params.append(body)
    params.extend(_param(p, v3=False) for p in op.params)
    if params:
        out["parameters"] = params
    responses: dict[str, Any] = {
        code: {"description": _STATUS_TEXT[code], "schema": {"$ref": _ref(op.response, v3=False)}}
        for code in op.codes
    }
    responses["401"] = {"description": _STATUS_TEXT["401"]}
    out["responses"] = responses
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk:
        out["x-kubernetes-group-version-kind"] = dict(_GVK)
    return out


_SECURITY_SCHEME: Final = {
    "type": "apiKey",
    "description": "A bearer token in the Authorization header.",
    "name": "authorization",
    "in": "header",
}


@cache
def _v3_bytes() -> bytes:
    paths: dict[str, Any] = {}
    for path, (path_params, ops) in _ops().items():
        item: dict[str, Any] = {op.method: _operation_v3(op) for op in ops}
        if path_params:
            item["parameters"] = _path_params(path_params, v3=True)
        paths[path] = item
    doc = {
        "openapi": "3.0.0",
        "info": dict(INFO),
        "paths": paths,
        "components": {
            "schemas": _schemas(v3=True),
            "securitySchemes": {"BearerToken": dict(_SECURITY_SCHEME)},
        },
    }
    return document_bytes(doc)


@cache
def _v2_bytes() -> bytes:
    paths: dict[str, Any] = {}
    for path, (path_params, ops) in _ops().items():
        item: dict[str, Any] = {op.method: _operation_v2(op) for op in ops}
        if path_params:
            item["parameters"] = _path_params(path_params, v3=False)
        paths[path] = item
    doc = {
        "swagger": "2.0",
        "info": dict(INFO),
        "paths": paths,
        "definitions": _schemas(v3=False),
        "securityDefinitions": {"BearerToken": dict(_SECURITY_SCHEME)},
        "security": [{"BearerToken": []}],
    }
    return document_bytes(doc)


def document_bytes(doc: Mapping[str, Any]) -> bytes:
    """Compact JSON without a trailing newline, as the server sends these documents."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


# -- public API ------------------------------------------------------------------------------


def openapi_v3_group() -> dict[str, Any]:
    """The document served at ``/openapi/v3/apis/certificates.k8s.io/v1``."""
    doc: dict[str, Any] = json.loads(_v3_bytes())
    return doc


def openapi_v2() -> dict[str, Any]:
    """A Swagger 2.0 document covering the same paths and definitions."""
    doc: dict[str, Any] = json.loads(_v2_bytes())
    return doc


def group_hash() -> str:
    """The hash in the group document's URL and its ETag: SHA-512 of its bytes, in upper
    case hex, as kube-apiserver computes it."""
    return hashlib.sha512(_v3_bytes()).hexdigest().upper()


def openapi_v3_index(base_url: str = "") -> dict[str, Any]:
    """The ``/openapi/v3`` discovery document. ``base_url`` is a path prefix for servers
    mounted below the root (normally empty: the URLs are server-relative)."""
    url = f"{base_url.rstrip('/')}{V3_GROUP_PATH}?hash={group_hash()}"
    return {"paths": {V3_GROUP_KEY: {"serverRelativeURL": url}}}


@dataclass(frozen=True)
class Served:
    status: int
    headers: dict[str, str]
    body: bytes


def _accepts_json(accept: str | None) -> bool:
    if not accept:
        return True
    for clause in accept.split(","):
        media = clause.split(";", 1)[0].strip().lower()
        if media in ("application/json", "*/*", "application/*"):
            return True
    return False


def respond(
    path: str, query: Mapping[str, str], accept: str | None, now: datetime | None = None
) -> Served | None:
    """What kube-apiserver answers for a GET under ``/openapi``, or None when ``path``
    is not an OpenAPI path. Differences from the real server: no protobuf renderings
    (a protobuf-only Accept gets 406), and no Last-Modified header."""
    no_cache = {"Cache-Control": "no-cache, private"}
    if path.rstrip("/") == V3_PREFIX:
        body = document_bytes(openapi_v3_index())
        # kube-apiserver labels this JSON document text/plain.
        return Served(200, {**no_cache, "Content-Type": "text/plain; charset=utf-8"}, body)
    if path.startswith(V3_PREFIX + "/"):
        if path != V3_GROUP_PATH:
            return Served(404, dict(no_cache), b"")
        if not _accepts_json(accept):
            return Served(406, {**no_cache, "Vary": "Accept"}, b"")
        headers = {
            "Content-Type": "application/json",
            "Etag": f'"{group_hash()}"',
            "Vary": "Accept",
        }
        if "hash" in query:
            expires = (now or datetime.now(UTC)) + timedelta(days=365)
            headers["Cache-Control"] = "public, immutable"
            headers["Expires"] = expires.strftime("%a, %d %b %Y %H:%M:%S UTC")
        else:
            headers.update(no_cache)
        return Served(200, headers, _v3_bytes())
    if path == V2_PATH:
        if not _accepts_json(accept):
            return Served(406, {**no_cache, "Vary": "Accept-Encoding"}, b"")
        etag = hashlib.sha512(_v2_bytes()).hexdigest().upper()
        headers = {
            **no_cache,
            "Content-Type": "application/json",
            "Etag": f'"{etag}"',
            "Vary": "Accept-Encoding",
        }
        return Served(200, headers, _v2_bytes())
    return None
