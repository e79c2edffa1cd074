"""GET handlers for ``/version``, ``/api``, ``/apis`` and the per-group documents."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from conformance.targets.fake import discovery as docs
from conformance.targets.fake.context import Call
from conformance.targets.fake.handlers.discovery_faults import hides_approval
from conformance.targets.fake.resources import GroupVersion
from conformance.targets.fake.wire import (
    NotAcceptable,
    negotiate,
    not_acceptable_status,
    respond,
)

_AGGREGATED: Final = (("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2"),)
"""Aggregated discovery formats served; v2beta1 left the server in 1.33, so it falls back."""


async def version(call: Call) -> web.Response:
    return respond(call.request, 200, docs.version_info(call.state.kube_version))


async def root(call: Call, legacy: bool) -> web.Response:
    """``/api`` or ``/apis``: aggregated when asked for, else the legacy document."""
    try:
        rendering = negotiate(call.request.headers.get("Accept"), _AGGREGATED)
    except NotAcceptable:
        return respond(call.request, 406, not_acceptable_status())
    if rendering.transform == "APIGroupDiscoveryList":
        body = docs.aggregated(legacy, hide_approval=hides_approval(call.faults))
    elif legacy:
        body = docs.api_versions(call.state.server_address)
    else:
        body = docs.api_group_list()
    return respond(call.request, 200, body, rendering=rendering)


async def group(call: Call, gv: GroupVersion) -> web.Response:
    try:
        rendering = negotiate(call.request.headers.get("Accept"))
    except NotAcceptable:
        return respond(call.request, 406, not_acceptable_status())
    return respond(call.request, 200, docs.api_group_document(gv), rendering=rendering)


async def resource_list(call: Call, gv: GroupVersion) -> web.Response:
    try:
        rendering = negotiate(call.request.headers.get("Accept"))
    except NotAcceptable:
        return respond(call.request, 406, not_acceptable_status())
    body = docs.api_resource_list(gv, hide_approval=hides_approval(call.faults))
    return respond(call.request, 200, body, rendering=rendering)
