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

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.apimachinery import status as st
from conformance.oracle.changes import DELETE_OPTIONS_BAD_REQUEST, UNSAFE_DELETE
from conformance.oracle.versions import release

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


def _json_kind(value: Any) -> str:
    """encoding/json's ``UnmarshalTypeError.Value``: the JSON kind it met ("number 1.5"
    for a number that does not fit an integer field)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, float):
        return f"number {value!r}" if not value.is_integer() else "number"
    return "number"


def _unmarshal_error(field_name: str, go_type: str, value: Any) -> OptionsError:
    return OptionsError(
        f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
        f"DeleteOptions.{field_name} of type {go_type}"
    )


def undecodable_status(message: str) -> st.Status:
    """The answer to DeleteOptions that cannot be decoded from the body: 400 BadRequest
    from 1.35; before, the raw decode error surfaced as a 500 without a reason
    (:data:`~conformance.oracle.changes.DELETE_OPTIONS_BAD_REQUEST`)."""
    if DELETE_OPTIONS_BAD_REQUEST.applies(release()):
        return st.bad_request(message)
    return st.internal_error(message)


def honoured_options(opts: DeleteOptions) -> DeleteOptions:
    """The options the handler goes on with: before 1.37 (AllowUnsafeMalformedObjectDeletion
    off) ``ignoreStoreReadErrorWithClusterBreakingPotential`` is dropped before validation,
    so it changes nothing (:data:`~conformance.oracle.changes.UNSAFE_DELETE`)."""
    if opts.ignore_store_read_error is not None and not UNSAFE_DELETE.applies(release()):
        opts.ignore_store_read_error = None
    return opts


def unsafe_delete_requested(opts: DeleteOptions) -> bool:
    """True when honoured options (:func:`honoured_options`, which drops the option
    before 1.37) ask for the corrupt-object deleter."""
    return bool(opts.ignore_store_read_error)


UNSAFE_DELETE_VERB: Final = "unsafe-delete-ignore-read-errors"


def unsafe_delete_forbidden(name: str, reason: str = "") -> st.Status:
    """403 from ``authorizeUnsafeDelete`` (the caller may delete, but not unsafely)."""
    return st.forbidden(name, f'not permitted to do "{UNSAFE_DELETE_VERB}", reason: {reason}')


def unsafe_delete_conflict(name: str) -> st.Status:
    """409 from the corrupt-object deleter for an object that decodes fine (every CSR a
    client can create): nothing is deleted. etcd3's ``InvalidObjError`` names the key."""
    return st.conflict(
        name,
        "StorageError: invalid object, Code: 4, Key: "
        f"/registry/{st.RESOURCE}/{name}, ResourceVersion: 0, AdditionalErrorMsg: unsafe "
        "deletion is not allowed because the object is decodable from storage",
    )


def refuse_options(
    opts: DeleteOptions, name: str, exists: bool, may_delete_unsafely: bool
) -> st.Status | None:
    """What the single-object DELETE handler answers about its (decoded, honoured)
    options before it deletes anything: 422 for invalid ones, then for an unsafe delete
    403 without the verb, 404 for a missing name and 409 for any object a client can
    create. None: the delete goes on as an ordinary one."""
    errs = validate_delete_options(opts)
    if errs:
        return options_status(errs)
    if not unsafe_delete_requested(opts):
        return None
    if not may_delete_unsafely:
        return unsafe_delete_forbidden(name)
    if not exists:
        return st.not_found(name)
    return unsafe_delete_conflict(name)


def collection_unsafe_errors(opts: DeleteOptions) -> list[fe.FieldError]:
    """deletecollection refuses the option outright (1.37 and later)."""
    if not unsafe_delete_requested(opts):
        return []
    return [
        fe.invalid(
            RULE,
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            True,
            "is not allowed with DELETECOLLECTION, try again after removing the option",
        )
    ]


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
            raise _unmarshal_error("dryRun", "[]string", dry)
        opts.dry_run = list(dry)
    policy = doc.get("propagationPolicy")
    if policy is not None:
        if not isinstance(policy, str):
            raise _unmarshal_error("propagationPolicy", "v1.DeletionPropagation", policy)
        opts.propagation_policy = policy
    orphan = doc.get("orphanDependents")
    if orphan is not None:
        if not isinstance(orphan, bool):
            raise _unmarshal_error("orphanDependents", "bool", orphan)
        opts.orphan_dependents = orphan
    grace = doc.get("gracePeriodSeconds")
    if grace is not None:
        if isinstance(grace, bool) or not isinstance(grace, int):
            raise _unmarshal_error("gracePeriodSeconds", "int64", grace)
        opts.grace_period_seconds = grace
    unsafe = doc.get("ignoreStoreReadErrorWithClusterBreakingPotential")
    if unsafe is not None:
        if not isinstance(unsafe, bool):
            raise _unmarshal_error(
                "ignoreStoreReadErrorWithClusterBreakingPotential", "bool", unsafe
            )
        opts.ignore_store_read_error = unsafe
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
