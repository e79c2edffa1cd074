"""Faults of delete and deletecollection, beside the delete handlers rather than inside them.

With no fault active every function returns the correct value it was given.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conformance.oracle.apimachinery.selectors import FieldSelector, LabelSelector, ListSelectors
from conformance.oracle.csr.delete import POLICIES, DeleteOptions
from conformance.targets.fake.faults import RUN_LABEL_KEY, ActiveFaults


def options(faults: ActiveFaults, opts: DeleteOptions) -> DeleteOptions:
    """``delete-options-unvalidated``: the handler takes the options as decoded, with no
    validation and no unsafe-delete handling (every delete is an ordinary one)."""
    if not faults.on("delete-options-unvalidated"):
        return opts
    return replace(
        opts,
        propagation_policy=opts.propagation_policy if opts.propagation_policy in POLICIES else None,
        orphan_dependents=None if opts.propagation_policy is not None else opts.orphan_dependents,
        dry_run=[d for d in opts.dry_run if d == "All"],
        ignore_store_read_error=None,
    )


def dry_run(faults: ActiveFaults, asked: bool) -> bool:
    """``dryrun-delete-deletes``: dryRun=All deletes anyway."""
    return asked and not faults.on("dryrun-delete-deletes")


def preconditions(faults: ActiveFaults, conflict: dict[str, Any] | None) -> dict[str, Any] | None:
    """``delete-ignores-preconditions``: the 409 never happens."""
    return None if faults.on("delete-ignores-preconditions") else conflict


def answer(faults: ActiveFaults, status: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """``delete-returns-object``: the deleted object instead of the Success Status."""
    return obj if faults.on("delete-returns-object") else status


def collection_selectors(faults: ActiveFaults, chosen: ListSelectors) -> ListSelectors:
    """``deletecollection-ignores-selector`` forgets every restriction but the run label.

    It stays correct when there is no run label to fall back on, so it can never reach
    another run's objects.
    """
    if not faults.on("deletecollection-ignores-selector"):
        return chosen
    run_terms = tuple(r for r in chosen.labels.requirements if r.key == RUN_LABEL_KEY)
    if not run_terms:
        return chosen
    return ListSelectors(LabelSelector(run_terms), FieldSelector())
