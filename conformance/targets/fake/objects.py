"""Small, shared reshapings of stored CSR dicts for the different ways they are served."""

from __future__ import annotations

from typing import Any

from conformance.oracle.apimachinery.status import API_VERSION, KIND
from conformance.wire.schema import OBJECT_META_FIELDS


def served(obj: dict[str, Any]) -> dict[str, Any]:
    """A stored object as the wire shows it.

    The store keeps an empty-but-set ``status.certificate`` as ``""`` because Go stores
    a non-nil empty byte slice differently from none (it matters to the next update's
    no-op and signing checks); ``omitempty`` hides it on the wire, so it is dropped here.
    """
    status = obj.get("status")
    if isinstance(status, dict) and status.get("certificate") == "":
        obj = {**obj, "status": {k: v for k, v in status.items() if k != "certificate"}}
    return obj


def with_type_meta(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with kind and apiVersion first, as a single-object response carries them."""
    rest = {k: v for k, v in served(obj).items() if k not in ("kind", "apiVersion")}
    return {"kind": KIND, "apiVersion": API_VERSION, **rest}


def list_item(obj: dict[str, Any]) -> dict[str, Any]:
    """An item of a typed list: kube-apiserver leaves the items' kind/apiVersion empty."""
    return {k: v for k, v in served(obj).items() if k not in ("kind", "apiVersion")}


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def go_order_metadata(obj: dict[str, Any]) -> None:
    """Put ``metadata`` keys in ObjectMeta's field order, as Go's encoder writes them."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return
    ordered = {k: meta[k] for k in OBJECT_META_FIELDS if k in meta}
    ordered.update({k: v for k, v in meta.items() if k not in ordered})
    obj["metadata"] = ordered
