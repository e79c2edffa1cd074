"""DELETE of one CSR and of a selected collection (csr-semantics §9).

The order of checks follows kube-apiserver: DeleteOptions are decoded (400) and validated
(422) before the object is looked up (404); then ``rest.BeforeDelete`` checks the
preconditions against the stored object (409) before anything changes. CSRs have no
graceful deletion, so an object without finalizers goes at once and the answer is a
Success ``Status``; an object with finalizers (including ones the propagation policy adds)
is only marked with ``deletionTimestamp`` and returned as is.

Upstream: apiserver ``endpoints/handlers/delete.go``, ``registry/rest/delete.go``
(``BeforeDelete``), ``registry/generic/registry/store.go`` (``Delete``,
``DeleteCollection``, ``deletionFinalizersForGarbageCollection``, ``markAsDeleting``),
apimachinery ``apis/meta/v1/validation`` (``ValidateDeleteOptions``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from conformance.spec import fielderrors as fe
from conformance.spec import status as st
from conformance.spec.selectors import (
    FieldSelector,
    LabelSelector,
    ListSelectors,
    SelectorError,
)
from conformance.targets.fake.context import Call
from conformance.targets.fake.faults import RUN_LABEL_KEY
from conformance.targets.fake.handlers.read import list_body, selectors_for
from conformance.targets.fake.objects import go_order_metadata, with_type_meta
from conformance.targets.fake.store import Obj
from conformance.targets.fake.wire import respond

ORPHAN: Final = "orphan"
FOREGROUND: Final = "foregroundDeletion"
_POLICIES: Final = ("Foreground", "Background", "Orphan")
_OPTS_RULE: Final = "CSR-DEL-OPTS"
"""Tag for DeleteOptions field errors (no rule of the catalogue covers them yet)."""


class OptionsError(Exception):
    """DeleteOptions that cannot be decoded: a 400 with this message."""


@dataclass
class DeleteOptions:
    """The parts of ``metav1.DeleteOptions`` a CSR delete looks at."""

    dry_run: list[str] = field(default_factory=list)
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    grace_period_seconds: int | None = None

    @property
    def is_dry_run(self) -> bool:
        return "All" in self.dry_run


def _decode_body(raw: bytes) -> DeleteOptions:
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise OptionsError(f"couldn't get version/kind; json parse error: {e}") from None
    if not isinstance(doc, dict):
        raise OptionsError("couldn't get version/kind; json parse error: not an object")
    kind = doc.get("kind", "")
    if kind not in ("", "DeleteOptions"):
        raise OptionsError("decoded object cannot be converted to DeleteOptions")
    opts = DeleteOptions()
    dry = doc.get("dryRun")
    if dry is not None:
        if not isinstance(dry, list) or not all(isinstance(x, str) for x in dry):
            raise OptionsError(
                "json: cannot unmarshal into Go struct field DeleteOptions.dryRun of type []string"
            )
        opts.dry_run = list(dry)
    policy = doc.get("propagationPolicy")
    if policy is not None:
        if not isinstance(policy, str):
            raise OptionsError(
                "json: cannot unmarshal into Go struct field "
                "DeleteOptions.propagationPolicy of type v1.DeletionPropagation"
            )
        opts.propagation_policy = policy
    orphan = doc.get("orphanDependents")
    if orphan is not None:
        if not isinstance(orphan, bool):
            raise OptionsError(
                "json: cannot unmarshal into Go struct field "
                "DeleteOptions.orphanDependents of type bool"
            )
        opts.orphan_dependents = orphan
    grace = doc.get("gracePeriodSeconds")
    if grace is not None:
        if isinstance(grace, bool) or not isinstance(grace, int):
            raise OptionsError(
                "json: cannot unmarshal into Go struct field "
                "DeleteOptions.gracePeriodSeconds of type int64"
            )
        opts.grace_period_seconds = grace
    pre = doc.get("preconditions")
    if isinstance(pre, dict):
        uid = pre.get("uid")
        rv = pre.get("resourceVersion")
        opts.precondition_uid = uid if isinstance(uid, str) else None
        opts.precondition_rv = rv if isinstance(rv, str) else None
    return opts


def _decode_query(call: Call) -> DeleteOptions:
    q = call.request.query
    opts = DeleteOptions(dry_run=list(q.getall("dryRun", [])))
    if "propagationPolicy" in q:
        opts.propagation_policy = q["propagationPolicy"]
    if "orphanDependents" in q:
        value = q["orphanDependents"].lower()
        if value not in ("true", "false", "1", "0", "t", "f"):
            raise OptionsError(
                f'strconv.ParseBool: parsing "{q["orphanDependents"]}": invalid syntax'
            )
        opts.orphan_dependents = value in ("true", "1", "t")
    if "gracePeriodSeconds" in q:
        try:
            opts.grace_period_seconds = int(q["gracePeriodSeconds"])
        except ValueError:
            raise OptionsError(
                f'strconv.ParseInt: parsing "{q["gracePeriodSeconds"]}": invalid syntax'
            ) from None
    return opts


async def read_options(call: Call) -> DeleteOptions:
    """DeleteOptions from the body when there is one, else from the query (never both)."""
    raw = await call.request.read()
    if raw.strip():
        return _decode_body(raw)
    return _decode_query(call)


def validate_options(opts: DeleteOptions) -> list[fe.FieldError]:
    errs: list[fe.FieldError] = []
    if opts.orphan_dependents is not None and opts.propagation_policy is not None:
        errs.append(
            fe.invalid(
                _OPTS_RULE,
                "propagationPolicy",
                opts.propagation_policy,
                "orphanDependents and deletionPropagation cannot be both set",
            )
        )
    if opts.propagation_policy is not None and opts.propagation_policy not in _POLICIES:
        errs.append(
            fe.not_supported(
                _OPTS_RULE, "propagationPolicy", opts.propagation_policy, [*_POLICIES, "nil"]
            )
        )
    if any(v != "All" for v in opts.dry_run):
        errs.append(fe.not_supported(_OPTS_RULE, "dryRun", list(opts.dry_run), ["All"]))
    return errs


def precondition_conflict(name: str, message: str) -> dict[str, Any]:
    """``BeforeDelete``'s early precondition check names the *Kind*, not the resource.

    It builds ``GroupResource{Group, Resource: gvk.Kind}`` from the stored object's kind,
    so the message reads ``… on CertificateSigningRequest.certificates.k8s.io "<name>"``
    and ``details.kind`` is the Kind.
    """
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"Operation cannot be fulfilled on {st.QUALIFIED_KIND} "
        f"{fe.go_quote(name)}: {message}",
        "reason": "Conflict",
        "details": {"name": name, "group": st.GROUP, "kind": st.KIND},
        "code": 409,
    }


def check_preconditions(call: Call, obj: Obj, opts: DeleteOptions) -> dict[str, Any] | None:
    if call.faults.on("delete-ignores-preconditions"):
        return None
    meta = obj.get("metadata", {})
    name = meta.get("name", "")
    uid = meta.get("uid", "")
    rv = meta.get("resourceVersion", "")
    if opts.precondition_uid is not None and opts.precondition_uid != uid:
        return precondition_conflict(
            name,
            f"the UID in the precondition ({opts.precondition_uid}) does not match the UID in "
            f"record ({uid}). The object might have been deleted and then recreated",
        )
    if opts.precondition_rv is not None and opts.precondition_rv != rv:
        return precondition_conflict(
            name,
            f"the ResourceVersion in the precondition ({opts.precondition_rv}) does not match "
            f"the ResourceVersion in record ({rv}). The object might have been modified",
        )
    return None


def _gc_finalizers(finalizers: list[str], opts: DeleteOptions) -> list[str]:
    """``deletionFinalizersForGarbageCollection`` for a type with no GC default."""
    if opts.orphan_dependents is not None:
        orphan, foreground = opts.orphan_dependents, False
    elif opts.propagation_policy in _POLICIES:
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


@dataclass
class DeleteOutcome:
    """What deleting one object did: its answer, and whether it is gone."""

    code: int
    body: dict[str, Any]
    deleted: bool


def delete_object(call: Call, obj: Obj, opts: DeleteOptions) -> DeleteOutcome:
    """Delete (or start deleting) one stored object; preconditions already checked."""
    store = call.state.store
    meta = obj["metadata"]
    name = meta["name"]
    dry_run = opts.is_dry_run and not call.faults.on("dryrun-delete-deletes")
    finalizers = list(meta.get("finalizers") or [])
    new_finalizers = _gc_finalizers(finalizers, opts)
    if new_finalizers:
        marked = _mark_deleting(obj, new_finalizers, call.state.now())
        result = marked
        if marked != obj and not dry_run:
            result = store.update(marked)
        code = 202 if opts.orphan_dependents is False else 200
        return DeleteOutcome(code, with_type_meta(result), False)
    if not dry_run:
        store.delete(name)
    if call.faults.on("delete-returns-object"):
        return DeleteOutcome(200, with_type_meta(obj), True)
    return DeleteOutcome(200, st.delete_success(name, meta.get("uid", "")), True)


def _mark_deleting(obj: Obj, finalizers: list[str], now: str) -> Obj:
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
    go_order_metadata(marked)
    return marked


async def delete(call: Call, name: str) -> web.Response:
    try:
        opts = await read_options(call)
    except OptionsError as e:
        return respond(call.request, 400, st.bad_request(str(e)))
    errs = validate_options(opts)
    if errs:
        return respond(call.request, 422, st.options_invalid("DeleteOptions", errs))
    obj = call.state.store.get(name)
    if obj is None:
        return respond(call.request, 404, st.not_found(name))
    conflict = check_preconditions(call, obj, opts)
    if conflict is not None:
        return respond(call.request, 409, conflict)
    outcome = delete_object(call, obj, opts)
    return respond(call.request, outcome.code, outcome.body)


def _collection_selectors(call: Call) -> ListSelectors:
    selectors = selectors_for(call)
    if not call.faults.on("deletecollection-ignores-selector"):
        return selectors
    # The fault forgets every restriction except the run label, and stays correct when
    # there is no run label to fall back on, so it can never reach another run's objects.
    run_terms = tuple(r for r in selectors.labels.requirements if r.key == RUN_LABEL_KEY)
    if not run_terms:
        return selectors
    return ListSelectors(LabelSelector(run_terms), FieldSelector())


async def delete_collection(call: Call) -> web.Response:
    try:
        selectors = _collection_selectors(call)
    except SelectorError as e:
        return respond(call.request, 400, st.bad_request(str(e)))
    try:
        opts = await read_options(call)
    except OptionsError as e:
        return respond(call.request, 400, st.bad_request(str(e)))
    errs = validate_options(opts)
    if errs:
        return respond(call.request, 422, st.options_invalid("DeleteOptions", errs))
    rv, objects = call.state.store.snapshot()
    matched = [o for o in objects if selectors.matches(o)]
    for obj in matched:
        current = call.state.store.get(obj["metadata"]["name"])
        if current is None:
            continue  # gone meanwhile: upstream ignores NotFound during the sweep
        conflict = check_preconditions(call, current, opts)
        if conflict is not None:
            return respond(call.request, 409, conflict)
        delete_object(call, current, opts)
    return respond(call.request, 200, list_body(call, rv, matched))
