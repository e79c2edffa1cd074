"""Discovery documents: legacy (/api, /apis, /apis/g, /apis/g/v) and aggregated v2.

kubectl 1.26+ asks for aggregated discovery first and falls back to the legacy documents
when the answer is plain JSON; serving both correctly means kubectl resolves ``csr`` and
``certificatesigningrequests`` against the fake exactly as against a cluster.

Upstream: apiserver ``endpoints/discovery`` (``APIGroupList``, ``APIResourceList``) and
``endpoints/discovery/aggregated`` (``APIGroupDiscoveryList`` v2).
"""

from __future__ import annotations

from typing import Any

from conformance.oracle.versions import RELEASES, KubeVersion
from conformance.targets.fake.resources import (
    CORE_V1,
    GROUP_VERSIONS,
    GroupVersion,
    Resource,
    storage_version_hash,
)


def version_info(version: KubeVersion) -> dict[str, str]:
    """``/version``. The fake claims the release it imitates (the patch release the oracle
    was confirmed on); gitVersion marks it as the fake. ``minCompatibility`` is the
    previous minor, as kube-apiserver's compatibility version reports it."""
    minor = str(version.minor)
    return {
        "major": str(version.major),
        "minor": minor,
        "emulationMajor": str(version.major),
        "emulationMinor": minor,
        "minCompatibilityMajor": str(version.major),
        "minCompatibilityMinor": str(version.minor - 1),
        "gitVersion": f"{RELEASES.get(version, f'v{version}.0')}+csr-conformance-fake",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _hidden(resource: Resource, hide_approval: bool) -> bool:
    return hide_approval and resource.subresource == "approval"


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _gv_entry(gv: GroupVersion) -> dict[str, str]:
    return {"groupVersion": gv.group_version, "version": gv.version}


def api_group(gv: GroupVersion) -> dict[str, Any]:
    return {
        "name": gv.group,
        "versions": [_gv_entry(gv)],
        "preferredVersion": _gv_entry(gv),
    }


def api_group_list() -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [api_group(gv) for gv in GROUP_VERSIONS],
    }


def api_group_document(gv: GroupVersion) -> dict[str, Any]:
    return {"kind": "APIGroup", "apiVersion": "v1", **api_group(gv)}


def api_resource_list(gv: GroupVersion, *, hide_approval: bool = False) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for r in gv.resources:
        if _hidden(r, hide_approval):
            continue
        entry: dict[str, Any] = {
            "name": r.name,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.storage_kind:
            entry["storageVersionHash"] = storage_version_hash(gv.group, gv.version, r.storage_kind)
        resources.append(entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv.group_version,
        "resources": resources,
    }


def _aggregated_version(gv: GroupVersion, hide_approval: bool) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for r in gv.resources:
        if r.subresource:
            continue
        entry: dict[str, Any] = {
            "resource": r.name,
            "responseKind": {"group": "", "version": "", "kind": r.kind},
            "scope": "Namespaced" if r.namespaced else "Cluster",
            "singularResource": r.singular,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        subs = [
            {
                "subresource": s.subresource,
                "responseKind": {"group": "", "version": "", "kind": s.kind},
                "verbs": list(s.verbs),
            }
            for s in gv.resources
            if s.base == r.name and s.subresource and not _hidden(s, hide_approval)
        ]
        if subs:
            entry["subresources"] = subs
        resources.append(entry)
    version: dict[str, Any] = {"version": gv.version}
    if resources:
        version["resources"] = resources
    version["freshness"] = "Current"
    return version


def aggregated(legacy: bool, *, hide_approval: bool = False) -> dict[str, Any]:
    """``APIGroupDiscoveryList`` v2 for ``/api`` (``legacy``) or ``/apis``."""
    gvs = (CORE_V1,) if legacy else GROUP_VERSIONS
    items: list[dict[str, Any]] = []
    for gv in gvs:
        metadata: dict[str, Any] = {"name": gv.group} if gv.group else {}
        items.append({"metadata": metadata, "versions": [_aggregated_version(gv, hide_approval)]})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
