"""The ``metadata.managedFields`` entry a write records (csr-semantics §3.3).

For CSRs both ``spec`` and ``status`` are reset fields on the main endpoint, so a create
attributes only metadata to its manager; the field manager also strips identity fields
(name, namespace, uid, creationTimestamp, generation, resourceVersion, managedFields)
before recording. What is left is usually ``generateName``, labels, annotations,
finalizers and ownerReferences, and when nothing is left no entry is written at all.

Upstream: apiserver ``endpoints/handlers/fieldmanager`` (manager name from the
User-Agent), ``managedfields/internal/stripmeta.go`` (stripped paths) and the
structured-merge-diff FieldsV1 encoding (``f:``, ``k:``, ``v:`` and ``.`` keys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from conformance.oracle.apimachinery.status import API_VERSION


def manager_name(field_manager: str | None, user_agent: str | None) -> str:
    """The query's ``fieldManager`` if given, else the User-Agent up to its first '/'."""
    if field_manager:
        return field_manager
    return (user_agent or "").split("/")[0]


def _fieldset_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if meta.get("generateName"):
        fields["f:generateName"] = {}
    for key in ("labels", "annotations"):
        value = meta.get(key)
        if isinstance(value, Mapping) and value:
            entry: dict[str, Any] = {".": {}}
            for k in sorted(value):
                entry[f"f:{k}"] = {}
            fields[f"f:{key}"] = entry
    owners = meta.get("ownerReferences")
    if isinstance(owners, list) and owners:
        entry = {".": {}}
        for ref in owners:
            uid = ref.get("uid", "") if isinstance(ref, Mapping) else ""
            entry["k:" + json.dumps({"uid": uid}, separators=(",", ":"))] = {}
        fields["f:ownerReferences"] = entry
    finalizers = meta.get("finalizers")
    if isinstance(finalizers, list) and finalizers:
        entry = {".": {}}
        for f in finalizers:
            entry["v:" + json.dumps(f, ensure_ascii=False)] = {}
        fields["f:finalizers"] = entry
    return fields


def update_entry(
    obj: Mapping[str, Any], manager: str, now: str, *, subresource: str = ""
) -> dict[str, Any] | None:
    """The ``Update`` entry a main-resource write by ``manager`` records, or None if empty."""
    fields = _fieldset_metadata(obj.get("metadata") or {})
    if not fields:
        return None
    entry: dict[str, Any] = {}
    if manager:
        entry["manager"] = manager
    entry["operation"] = "Update"
    entry["apiVersion"] = API_VERSION
    entry["time"] = now
    entry["fieldsType"] = "FieldsV1"
    entry["fieldsV1"] = {"f:metadata": fields}
    if subresource:
        entry["subresource"] = subresource
    return entry


def stamp_create(obj: dict[str, Any], manager: str, now: str) -> None:
    """Replace ``obj``'s managedFields with what a create by ``manager`` records.

    Client-sent managedFields are discarded; kube-apiserver would honour a valid set as
    the starting point, a corner no property relies on yet.
    """
    meta = obj.setdefault("metadata", {})
    meta.pop("managedFields", None)
    entry = update_entry(obj, manager, now)
    if entry is not None:
        meta["managedFields"] = [entry]
