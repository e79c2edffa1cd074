"""Server-side table output (``Accept: …;as=Table;v=v1;g=meta.k8s.io``) for CSRs.

``kubectl get csr`` prints whatever columns the server sends, so the fake sends the ones
kube-apiserver's CSR printer sends (csr-semantics §1.7), computed the same way: ages and
requested durations in ``duration.HumanDuration`` form, and a Condition column that ranks
Denied over Approved over Pending and appends ``,Failed`` and ``,Issued``.

Upstream: ``pkg/printers/internalversion/printers.go`` (``printCertificateSigningRequest``,
``extractCSRStatus``), apimachinery ``pkg/util/duration/duration.go`` (``HumanDuration``),
``pkg/printers/storage`` (row objects as PartialObjectMetadata by default).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, Final

_COLUMNS: Final = (
    ("Name", "name", "The object's name, unique within the cluster for this resource."),
    ("Age", "", "How long ago the object was created (metadata.creationTimestamp)."),
    ("SignerName", "", "The signer the request is addressed to (spec.signerName)."),
    ("Requestor", "", "The user who created the request (spec.username)."),
    ("RequestedDuration", "", "The certificate lifetime asked for (spec.expirationSeconds)."),
    ("Condition", "", "Denied, Approved or Pending, plus Failed and Issued when they apply."),
)
# Column descriptions are our own summaries of upstream's swagger texts; clients do not
# read them, and the names, types, formats and priorities match upstream exactly.


def column_definitions() -> list[dict[str, Any]]:
    return [
        {"name": n, "type": "string", "format": f, "description": d, "priority": 0}
        for n, f, d in _COLUMNS
    ]


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration`` for a duration of ``seconds``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def _parse_time(value: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None


def condition_summary(obj: dict[str, Any]) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    types = {c.get("type") for c in conditions if isinstance(c, dict)}
    if "Denied" in types:
        text = "Denied"
    elif "Approved" in types:
        text = "Approved"
    else:
        text = "Pending"
    if "Failed" in types:
        text += ",Failed"
    if (obj.get("status") or {}).get("certificate"):
        text += ",Issued"
    return text


def row_cells(obj: dict[str, Any], now: datetime.datetime) -> list[Any]:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    created = _parse_time(meta.get("creationTimestamp", ""))
    age = "<unknown>" if created is None else human_duration((now - created).total_seconds())
    signer = spec.get("signerName") or "<none>"
    exp = spec.get("expirationSeconds")
    requested = "<none>" if exp is None else human_duration(int(exp))
    return [
        meta.get("name", ""),
        age,
        signer,
        spec.get("username", ""),
        requested,
        condition_summary(obj),
    ]


def _row_object(obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def table(
    objects: Sequence[dict[str, Any]],
    resource_version: str,
    *,
    now: datetime.datetime,
    include_object: str = "Metadata",
    no_headers: bool = False,
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objects`` (items must carry kind/apiVersion for Object)."""
    rows: list[dict[str, Any]] = []
    for obj in objects:
        row: dict[str, Any] = {"cells": row_cells(obj, now)}
        ro = _row_object(obj, include_object)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    out: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version} if resource_version else {},
    }
    if not no_headers:
        out["columnDefinitions"] = column_definitions()
    out["rows"] = rows
    return out
