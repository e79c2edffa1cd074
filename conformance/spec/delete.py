"""Delete and deletecollection (§9): DeleteOptions, preconditions, finalizers.

kube-apiserver decodes the options (from the body when there is one, else from the query),
validates them in the handler before it looks the object up — so an invalid option is a
422 even for a missing name — then checks the preconditions against the stored object,
and finally either removes the object or, when finalizers remain, marks it as being
deleted. The fake's handlers call these functions and only store and respond.

Upstream: apimachinery ``pkg/apis/meta/v1/validation`` (``ValidateDeleteOptions``),
apiserver ``endpoints/handlers/delete.go``, ``registry/rest/delete.go``
(``BeforeDelete``) and ``registry/generic/registry/store.go``
(``deletionFinalizersForGarbageCollection``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.spec import fielderrors as fe
from conformance.spec import status as st

RULE: Final = "CSR-DEL-OPTS"
POLICIES: Final = ("Foreground", "Background", "Orphan")
ORPHAN: Final = "orphan"
FOREGROUND: Final = "foregroundDeletion"

Obj = dict[str, Any]


class OptionsError(Exception):
    """DeleteOptions that cannot be decoded: a 400 with this message."""


@dataclass
class DeleteOptions:
    """The parts of ``metav1.DeleteOptions`` a CSR delete looks at (``None`` = not set)."""

    dry_run: list[str] = field(default_factory=list)
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    grace_period_seconds: int | None = None
    ignore_store_read_error: bool | None = None

    @property
    def is_dry_run(self) -> bool:
        return "All" in self.dry_run

    @property
    def has_preconditions(self) -> bool:
        return self.precondition_uid is not None or self.precondition_rv is not None


DeleteOptionsView = DeleteOptions
"""The name validation's callers used before decoding moved here."""


def _unmarshal_error(field_name: str, go_type: str) -> OptionsError:
    return OptionsError(
        f"json: cannot unmarshal into Go struct field DeleteOptions.{field_name} of type {go_type}"
    )


def decode_body(raw: bytes) -> DeleteOptions:
    """DeleteOptions from a request body; :class:`OptionsError` for a 400."""
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise OptionsError(f"couldn't get version/kind; json parse error: {e}") from None
    if not isinstance(doc, dict):
        raise OptionsError("couldn't get version/kind; json parse error: not an object")
    if doc.get("kind", "") not in ("", "DeleteOptions"):
        raise OptionsError("decoded object cannot be converted to DeleteOptions")
    opts = DeleteOptions()
    dry = doc.get("dryRun")
    if dry is not None:
        if not isinstance(dry, list) or not all(isinstance(x, str) for x in dry):
            raise _unmarshal_error("dryRun", "[]string")
        opts.dry_run = list(dry)
    policy = doc.get("propagationPolicy")
    if policy is not None:
        if not isinstance(policy, str):
            raise _unmarshal_error("propagationPolicy", "v1.DeletionPropagation")
        opts.propagation_policy = policy
    orphan = doc.get("orphanDependents")
    if orphan is not None:
        if not isinstance(orphan, bool):
            raise _unmarshal_error("orphanDependents", "bool")
        opts.orphan_dependents = orphan
    grace = doc.get("gracePeriodSeconds")
    if grace is not None:
        if isinstance(grace, bool) or not isinstance(grace, int):
            raise _unmarshal_error("gracePeriodSeconds", "int64")
        opts.grace_period_seconds = grace
    pre = doc.get("preconditions")
    if isinstance(pre, dict):
        uid = pre.get("uid")
        rv = pre.get("resourceVersion")
        opts.precondition_uid = uid if isinstance(uid, str) else None
        opts.precondition_rv = rv if isinstance(rv, str) else None
    return opts


def decode_query(pairs: Iterable[tuple[str, str]]) -> DeleteOptions:
    """DeleteOptions from the query, when the request has no body."""
    values: dict[str, list[str]] = {}
    for k, v in pairs:
        values.setdefault(k, []).append(v)
    opts = DeleteOptions(dry_run=list(values.get("dryRun", [])))
    if "propagationPolicy" in values:
        opts.propagation_policy = values["propagationPolicy"][0]
    if "orphanDependents" in values:
        text = values["orphanDependents"][0]
        if text.lower() not in ("true", "false", "1", "0", "t", "f"):
            raise OptionsError(f'strconv.ParseBool: parsing "{text}": invalid syntax')
        opts.orphan_dependents = text.lower() in ("true", "1", "t")
    if "gracePeriodSeconds" in values:
        text = values["gracePeriodSeconds"][0]
        try:
            opts.grace_period_seconds = int(text)
        except ValueError:
            raise OptionsError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
    return opts


def validate_delete_options(opts: DeleteOptions) -> list[fe.FieldError]:
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


def options_status(errs: Sequence[fe.FieldError]) -> st.Status:
    return st.options_invalid("DeleteOptions", errs)


def precondition_failure(obj: Obj, opts: DeleteOptions) -> st.Status | None:
    """``BeforeDelete``'s early precondition check: the 409, or None when they hold."""
    meta = obj.get("metadata", {})
    name = str(meta.get("name", ""))
    uid = str(meta.get("uid", ""))
    rv = str(meta.get("resourceVersion", ""))
    if opts.precondition_uid is not None and opts.precondition_uid != uid:
        return st.delete_precondition_conflict(
            name, st.uid_precondition_message(opts.precondition_uid, uid)
        )
    if opts.precondition_rv is not None and opts.precondition_rv != rv:
        return st.delete_precondition_conflict(
            name, st.rv_precondition_message(opts.precondition_rv, rv)
        )
    return None


def gc_finalizers(finalizers: list[str], opts: DeleteOptions) -> list[str]:
    """``deletionFinalizersForGarbageCollection`` for a type with no GC default."""
    if opts.orphan_dependents is not None:
        orphan, foreground = opts.orphan_dependents, False
    elif opts.propagation_policy in POLICIES:
        orphan = opts.propagation_policy == "Orphan"
        foreground = opts.propagation_policy == "Foreground"
    else:
        orphan = foreground = False
        for f in finalizers:
            if f == ORPHAN:
                orphan = True
                break
            if f == FOREGROUND:
                foreground = True
                break
    kept = [f for f in finalizers if f not in (ORPHAN, FOREGROUND)]
    if orphan:
        kept.append(ORPHAN)
    if foreground:
        kept.append(FOREGROUND)
    return finalizers if set(kept) == set(finalizers) else kept


def mark_deleting(obj: Obj, finalizers: list[str], now: str) -> Obj:
    """The object as stored while finalizers hold its deletion back."""
    marked: Obj = copy.deepcopy(obj)
    meta = marked["metadata"]
    if finalizers:
        meta["finalizers"] = finalizers
    else:
        meta.pop("finalizers", None)
    if "deletionTimestamp" not in meta:
        gen = meta.get("generation")
        if isinstance(gen, int) and gen > 0:
            meta["generation"] = gen + 1
        meta["deletionTimestamp"] = now
    meta["deletionGracePeriodSeconds"] = 0
    return marked


def answer_code(opts: DeleteOptions) -> int:
    """202 when a finalizer-held delete was asked not to orphan, else 200."""
    return 202 if opts.orphan_dependents is False else 200
