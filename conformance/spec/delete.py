"""DeleteOptions validation (§9.4), shared by DELETE and deletecollection.

kube-apiserver validates the options in the handler, before it looks the object up, so an
invalid option is a 422 even for a missing name. Upstream: apimachinery
``pkg/apis/meta/v1/validation`` ``ValidateDeleteOptions`` and
``ValidateIgnoreStoreReadError``; apiserver ``endpoints/handlers/delete.go``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from conformance.spec import fielderrors as fe

RULE: Final = "CSR-DEL-OPTS"
POLICIES: Final = ("Foreground", "Background", "Orphan")


@dataclass(frozen=True)
class DeleteOptionsView:
    """The DeleteOptions fields validation looks at (``None`` = not set)."""

    dry_run: Sequence[str] = field(default_factory=tuple)
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    grace_period_seconds: int | None = None
    has_preconditions: bool = False
    ignore_store_read_error: bool | None = None


def validate_delete_options(opts: DeleteOptionsView) -> list[fe.FieldError]:
    """``ValidateDeleteOptions``, in upstream order."""
    errs: list[fe.FieldError] = []
    if opts.orphan_dependents is not None and opts.propagation_policy is not None:
        errs.append(
            fe.invalid(
                RULE,
                "propagationPolicy",
                fe.named_string(opts.propagation_policy),
                "orphanDependents and deletionPropagation cannot be both set",
            )
        )
    if opts.propagation_policy is not None and opts.propagation_policy not in POLICIES:
        errs.append(
            fe.not_supported(RULE, "propagationPolicy", opts.propagation_policy, [*POLICIES, "nil"])
        )
    dry_run = list(opts.dry_run)
    if any(v != "All" for v in dry_run):
        errs.append(fe.not_supported(RULE, "dryRun", dry_run, ["All"]))
    if opts.ignore_store_read_error:
        path = "ignoreStoreReadErrorWithClusterBreakingPotential"
        for present, other in (
            (opts.propagation_policy is not None, ".propagationPolicy"),
            (opts.orphan_dependents is not None, ".orphanDependents"),
            (opts.grace_period_seconds is not None, ".gracePeriodSeconds"),
            (opts.has_preconditions, ".preconditions"),
        ):
            if present:
                errs.append(fe.invalid(RULE, path, True, f"cannot be set together with {other}"))
    return errs
