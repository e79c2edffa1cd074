"""Faults of lists and selectors, kept beside the read handlers rather than inside them.

Each function takes the correct value and the active faults and returns what the faulty
server would use instead; with no fault active it returns its input unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conformance.oracle.apimachinery import listing
from conformance.oracle.apimachinery.selectors import (
    IN,
    NOT_IN,
    FieldSelector,
    LabelSelector,
    ListSelectors,
)
from conformance.targets.fake.faults import ActiveFaults


def honours_field_selector(faults: ActiveFaults) -> bool:
    """``ignore-field-selector``: no filtering by fields, and no 400 for unsupported ones."""
    return not faults.on("ignore-field-selector")


def snapshot_rv(faults: ActiveFaults, token_rv: int, current: int) -> int:
    """``pages-from-different-snapshots``: a continued list reads the current state."""
    return current if faults.on("pages-from-different-snapshots") else token_rv


def order(faults: ActiveFaults, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``unsorted-list``: items in reverse name order."""
    return list(reversed(items)) if faults.on("unsorted-list") else items


def limit(faults: ActiveFaults, asked: int) -> int:
    """``list-ignores-limit``: everything in one page."""
    return 0 if faults.on("list-ignores-limit") else asked


def envelope(faults: ActiveFaults, body: dict[str, Any], empty: bool) -> dict[str, Any]:
    """``list-without-kind`` drops kind and apiVersion; ``empty-list-null-items`` sends
    ``items: null`` for an empty list."""
    if faults.on("list-without-kind"):
        body.pop("kind", None)
        body.pop("apiVersion", None)
    if empty and faults.on("empty-list-null-items"):
        body["items"] = None
    return body


def selectors(faults: ActiveFaults, chosen: ListSelectors) -> ListSelectors:
    """The selectors a faulty list or watch applies (never used for deletecollection)."""
    labels, fields = chosen.labels, chosen.fields
    if faults.on("list-ignores-label-selector"):
        labels = LabelSelector()
    elif faults.on("label-notin-as-in"):
        labels = LabelSelector(
            tuple(
                dataclasses.replace(r, operator=IN) if r.operator == NOT_IN else r
                for r in labels.requirements
            )
        )
    if faults.on("field-selector-not-equal-ignored"):
        fields = FieldSelector(tuple(t for t in fields.terms if t.equal))
    return ListSelectors(labels, fields)


def token(faults: ActiveFaults, page: listing.Page) -> str:
    """The continue token sent; the faulty one resumes at the last item, not after it."""
    if page.continue_token and faults.on("continue-repeats-item"):
        point = listing.decode_continue(page.continue_token)
        return listing.encode_continue_key(point.rv, "/" + point.start.removesuffix("\x00"))
    return page.continue_token


def remaining(faults: ActiveFaults, page: listing.Page) -> int | None:
    if page.remaining is not None and faults.on("remaining-count-off-by-one"):
        return page.remaining + 1
    return page.remaining
