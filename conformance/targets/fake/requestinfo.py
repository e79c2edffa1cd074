"""Turning a request path into authorization attributes, as kube-apiserver does first.

Authorization runs before routing, so what a denied user sees (and which verb the
Forbidden message names) depends only on this parse: a GET on a collection is ``list``
(or ``watch`` with ``watch=true``), a DELETE without a name is ``deletecollection``,
``/apis/g/v`` itself is a non-resource path, and a list whose field selector pins
``metadata.name`` carries that name.

Upstream: apiserver ``endpoints/request/requestinfo.go`` (``RequestInfoFactory``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from multidict import MultiMapping

from conformance.oracle.apimachinery.selectors import SelectorError, parse_field_selector

_API_PREFIXES: Final = ("api", "apis")
_GROUPLESS_PREFIXES: Final = ("api",)
_SPECIAL_VERBS: Final = ("proxy", "watch")
_SPECIAL_VERBS_NO_SUBRESOURCES: Final = ("proxy",)
_NAMESPACE_SUBRESOURCES: Final = ("status", "finalize")
_METHOD_VERBS: Final = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


@dataclass(frozen=True)
class RequestInfo:
    """The authorizer's view of a request."""

    path: str
    verb: str
    is_resource_request: bool = False
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()


def _split_path(path: str) -> list[str]:
    path = path.strip("/")
    return path.split("/") if path else []


def _valid_path_segment(name: str) -> bool:
    return name not in (".", "..") and "/" not in name and "%" not in name


def _watch_requested(query: MultiMapping[str]) -> bool:
    values = query.getall("watch", [])
    if not values:
        return False
    return values[0].lower() not in ("false", "0")


def parse_request_info(method: str, raw_path: str, query: MultiMapping[str]) -> RequestInfo:
    """``RequestInfoFactory.NewRequestInfo`` for the fake's purposes."""
    path = unquote(raw_path)
    non_resource = RequestInfo(path=path, verb=method.lower())
    parts = _split_path(path)
    if len(parts) < 3 or parts[0] not in _API_PREFIXES:
        return non_resource
    prefix = parts[0]
    parts = parts[1:]
    group = ""
    if prefix not in _GROUPLESS_PREFIXES:
        if len(parts) < 3:
            return non_resource
        group = parts[0]
        parts = parts[1:]
    version = parts[0]
    parts = parts[1:]

    if parts and parts[0] in _SPECIAL_VERBS:
        if len(parts) < 2:
            return non_resource
        verb = parts[0]
        parts = parts[1:]
    else:
        verb = _METHOD_VERBS.get(method.upper(), "")

    namespace = ""
    if parts and parts[0] == "namespaces" and len(parts) > 1:
        namespace = parts[1]
        if len(parts) > 2 and parts[2] not in _NAMESPACE_SUBRESOURCES:
            parts = parts[2:]

    resource = parts[0] if parts else ""
    name = ""
    subresource = ""
    if len(parts) >= 3 and verb not in _SPECIAL_VERBS_NO_SUBRESOURCES:
        subresource = parts[2]
    if len(parts) >= 2:
        name = parts[1]

    if not name and verb == "get":
        verb = "watch" if _watch_requested(query) else "list"
        selector = query.get("fieldSelector")
        if selector:
            try:
                pinned = parse_field_selector(selector).exact("metadata.name")
            except SelectorError:
                pinned = None
            if pinned is not None and _valid_path_segment(pinned):
                name = pinned
    if not name and verb == "delete":
        verb = "deletecollection"

    return RequestInfo(
        path=path,
        verb=verb,
        is_resource_request=True,
        api_prefix=prefix,
        api_group=group,
        api_version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
        parts=tuple(parts),
    )
