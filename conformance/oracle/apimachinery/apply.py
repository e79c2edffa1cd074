"""Server-side apply and managedFields bookkeeping for CSRs (csr-semantics §3.3, §10.9).

Two pure functions model kube-apiserver's field manager for this one type:

- ``apply`` answers a ``PATCH`` with ``application/apply-patch+yaml``: it merges the
  applied configuration into the live object (conditions by ``type``, owner references
  by ``uid``, finalizers as a set, ``usages``/``groups``/``request``/``certificate`` as
  atomic values, labels/annotations/``spec.extra`` key by key), removes what the manager
  stopped applying when nobody else owns it, reports conflicts with other managers
  (unless ``force``), and returns the new managedFields.
- ``update_managed_fields`` is what every other write (create, PUT, JSON/merge/strategic
  patch) does to managedFields: fields the write changed become the manager's,
  other managers lose them, entries left empty disappear.

Both ignore each endpoint's reset fields (main: ``spec`` and ``status``; ``/status``:
``spec`` and ``status.conditions``; ``/approval``: ``spec`` and ``status.certificate``):
those are never owned and never conflict there, because the endpoint's strategy
overwrites them anyway.

The pipeline is a port of apimachinery ``util/managedfields/internal`` at v0.37.2, outer
to inner: ``versionCheckManager``, ``lastAppliedUpdater`` and ``lastAppliedManager``
(kubectl's client-side-apply migration), ``skipNonAppliedManager`` (an object without
managedFields records nothing on update; its first apply first credits every existing
field to ``before-first-apply``), ``capManagersManager`` (at most 10 Update entries; the
oldest merge into ``ancient-changes``), ``buildManagerInfoManager``,
``managedFieldsUpdater`` (times), ``stripMetaManager`` (identity fields are never owned)
and ``structuredMergeManager`` over structured-merge-diff's ``merge.Updater``.

The returned object is the merged object *before* the endpoint's update strategy runs:
the caller still applies the strategy (which restores spec/status as each endpoint
does), validation and admission, and then stores the object with the managedFields
given here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.fielderrors import go_quote
from conformance.oracle.apimachinery.ssa_fieldset import FieldSet, PathElement, path_string
from conformance.oracle.apimachinery.ssa_typed import (
    ROOT,
    TypedError,
    compare,
    ensure_named_fields_are_members,
    merge,
    remove_items,
    to_field_set,
    validate,
)
from conformance.wire import gojson
from conformance.wire.protobuf import ProtobufError, go_normalize, parse_time

Endpoint = Literal["main", "status", "approval"]

API_VERSION: Final = st.API_VERSION
LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
MAX_UPDATE_MANAGERS: Final = 10
ANCIENT_CHANGES: Final = "ancient-changes"
BEFORE_FIRST_APPLY: Final = "before-first-apply"
TOTAL_ANNOTATION_SIZE: Final = 256 * 1024

_F = PathElement.field

RESET_FIELDS: Final[Mapping[str, FieldSet]] = {
    "main": FieldSet.of((_F("spec"),), (_F("status"),)),
    "status": FieldSet.of((_F("spec"),), (_F("status"), _F("conditions"))),
    "approval": FieldSet.of((_F("spec"),), (_F("status"), _F("certificate"))),
}
"""Paths each endpoint's strategy resets (``GetResetFields`` in the CSR strategy)."""

_STRIPPED: Final = FieldSet.of(
    (_F("apiVersion"),),
    (_F("kind"),),
    (_F("metadata"),),
    *(
        (_F("metadata"), _F(name))
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        )
    ),
)
"""Fields no manager ever owns (``stripmeta.go``)."""


def subresource_of(endpoint: Endpoint) -> str:
    return "" if endpoint == "main" else endpoint


# -- manager identities and managed sets ---------------------------------------------------


@dataclass(frozen=True)
class ManagerId:
    """What makes two managedFields entries the same manager (``BuildManagerIdentifier``):
    name, operation, subresource, and for Update entries the API version."""

    manager: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    def encoded(self) -> str:
        """The JSON string kube-apiserver keys its manager map by (and sorts conflicts by)."""
        entry: dict[str, str] = {}
        for key, value in (
            ("manager", self.manager),
            ("operation", self.operation),
            ("apiVersion", self.api_version),
            ("subresource", self.subresource),
        ):
            if value:
                entry[key] = value
        return gojson.dumps(entry)

    def printed(self) -> str:
        """``printManager``: how conflict messages name the manager."""
        text = go_quote(self.manager)
        if self.subresource:
            text += f" with subresource {go_quote(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


_CURRENT_OPERATION: Final = ManagerId("current-operation", "")
"""The placeholder ``managedFieldsUpdater`` computes an update under (never encoded)."""


@dataclass
class VersionedSet:
    fields: FieldSet
    api_version: str
    applied: bool


@dataclass
class Managed:
    sets: dict[ManagerId, VersionedSet] = field(default_factory=dict)
    times: dict[ManagerId, str | None] = field(default_factory=dict)

    def copy(self) -> Managed:
        return Managed(
            {
                k: VersionedSet(v.fields.copy(), v.api_version, v.applied)
                for k, v in self.sets.items()
            },
            dict(self.times),
        )


class ManagedFieldsError(ValueError):
    """Stored managedFields kube-apiserver could not decode."""


def decode_managed_fields(entries: Any) -> Managed:
    """``DecodeManagedFields``: raises ManagedFieldsError where the server would."""
    managed = Managed()
    for i, entry in enumerate(entries or []):
        if not isinstance(entry, Mapping):
            raise ManagedFieldsError(f"managed fields entry {i} is not an object")
        operation = entry.get("operation") or ""
        if operation not in ("Apply", "Update"):
            raise ManagedFieldsError("operation must be `Apply` or `Update`")
        api_version = entry.get("apiVersion") or ""
        if not api_version:
            raise ManagedFieldsError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType") or ""
        if fields_type == "":
            raise ManagedFieldsError(f"missing fieldsType in managed fields entry {i}")
        if fields_type != "FieldsV1":
            raise ManagedFieldsError(
                f"invalid fieldsType {fields_type!r} in managed fields entry {i}"
            )
        mid = ManagerId(
            entry.get("manager") or "",
            operation,
            "" if operation == "Apply" else api_version,
            entry.get("subresource") or "",
        )
        raw = entry.get("fieldsV1")
        try:
            fields = FieldSet.from_fields(raw if isinstance(raw, Mapping) else {})
        except (ValueError, TypeError) as exc:
            raise ManagedFieldsError(f"error decoding set: {exc}") from exc
        managed.sets[mid] = VersionedSet(fields, api_version, operation == "Apply")
        managed.times[mid] = entry.get("time")
    return managed


def _seconds(time: str | None) -> int:
    if not time:
        return 0
    try:
        return parse_time(time)
    except ValueError:
        return 0


def encode_managed_fields(managed: Managed) -> list[dict[str, Any]]:
    """The sorted managedFields list (``encodeManagedFields``); empty when nobody owns
    anything, which the caller stores as an absent field."""
    entries: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for mid, vs in managed.sets.items():
        operation = "Apply" if vs.applied else mid.operation
        time = managed.times.get(mid)
        entry: dict[str, Any] = {}
        if mid.manager:
            entry["manager"] = mid.manager
        if operation:
            entry["operation"] = operation
        if vs.api_version:
            entry["apiVersion"] = vs.api_version
        if time is not None:
            entry["time"] = time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = vs.fields.to_fields()
        if mid.subresource:
            entry["subresource"] = mid.subresource
        key = (operation, _seconds(time), mid.manager, vs.api_version, mid.subresource)
        entries.append((key, entry))
    entries.sort(key=lambda e: e[0])
    return [e for _k, e in entries]


# -- structured-merge-diff's Updater ------------------------------------------------------


@dataclass(frozen=True)
class Conflict:
    """One field another manager owns with a different value."""

    manager: ManagerId
    path: str

    @property
    def message(self) -> str:
        return f"conflict with {self.manager.printed()}"

    def cause(self) -> dict[str, str]:
        return {"reason": "FieldManagerConflict", "message": self.message, "field": self.path}


class _Conflicts(Exception):
    def __init__(self, by_manager: dict[ManagerId, FieldSet]) -> None:
        super().__init__("conflicts")
        self.by_manager = by_manager

    def conflicts(self) -> list[Conflict]:
        out: list[Conflict] = []
        for mid in sorted(self.by_manager, key=ManagerId.encoded):
            out.extend(Conflict(mid, path_string(p)) for p in self.by_manager[mid].paths())
        return out


def _reconcile(
    live: Any,
    new: Any,
    version: str,
    managers: dict[ManagerId, VersionedSet],
    workflow: ManagerId,
    force: bool,
    reset: FieldSet,
) -> Any:
    """``Updater.update``: other managers lose what changed; conflicts unless forced."""
    cmp = compare(live, new).filtered(reset)
    changed = cmp.modified.union(cmp.added)
    conflicts: dict[ManagerId, FieldSet] = {}
    for mid, vs in managers.items():
        if mid == workflow:
            continue
        clash = vs.fields.intersection(changed)
        if not clash.empty():
            conflicts[mid] = clash
    if conflicts and not force:
        raise _Conflicts(conflicts)
    for mid, vs in list(managers.items()):
        if mid == workflow:
            continue
        if mid in conflicts:
            vs = VersionedSet(vs.fields.difference(conflicts[mid]), vs.api_version, vs.applied)
        if not cmp.removed.empty():
            vs = VersionedSet(vs.fields.difference(cmp.removed), vs.api_version, vs.applied)
        managers[mid] = vs
    for mid in [m for m, vs in managers.items() if vs.fields.empty()]:
        del managers[mid]
    return cmp


def _updater_update(
    live: Any,
    new: Any,
    managers: dict[ManagerId, VersionedSet],
    manager: ManagerId,
    reset: FieldSet,
) -> None:
    cmp = _reconcile(live, new, API_VERSION, managers, manager, True, reset)
    base = managers[manager].fields if manager in managers else FieldSet()
    owned = base.difference(cmp.removed).union(cmp.modified).union(cmp.added)
    owned = owned.recursive_difference(reset)
    if owned.empty():
        managers.pop(manager, None)
    else:
        managers[manager] = VersionedSet(owned, API_VERSION, False)


def _enfam(s: FieldSet) -> FieldSet:
    return ensure_named_fields_are_members(s, ROOT)


def _prune(
    merged: Any,
    managers: dict[ManagerId, VersionedSet],
    last: VersionedSet | None,
) -> Any:
    """Remove what the applier owned last time, no longer applies, and nobody else owns."""
    if last is None or last.fields.empty():
        return merged
    last_set = _enfam(last.fields)
    pruned = remove_items(merged, last_set)
    owned = FieldSet()
    for vs in managers.values():
        owned = owned.union(vs.fields)
    merged_set = _enfam(to_field_set(merged))
    pruned = remove_items(
        merged, merged_set.difference(_enfam(to_field_set(pruned)).union(_enfam(owned)))
    )
    dangling = merged_set.difference(_enfam(to_field_set(pruned))).intersection(last_set)
    return remove_items(merged, dangling)


def _updater_apply(
    live: Any,
    config: Any,
    managers: dict[ManagerId, VersionedSet],
    manager: ManagerId,
    force: bool,
    reset: FieldSet,
) -> Any:
    """``Updater.Apply``: the merged and pruned object, or None when nothing changed."""
    merged = merge(live, config)
    last = managers.get(manager)
    applied_set = to_field_set(config).recursive_difference(reset)
    managers[manager] = VersionedSet(applied_set, API_VERSION, True)
    merged = _prune(merged, managers, last)
    _reconcile(live, merged, API_VERSION, managers, manager, force, reset)
    return None if merged == live else merged


# -- the field manager chain ----------------------------------------------------------------


def _strip(managers: dict[ManagerId, VersionedSet], manager: ManagerId) -> None:
    vs = managers.get(manager)
    if vs is None:
        return
    remaining = vs.fields.difference(_STRIPPED)
    if remaining.empty():
        del managers[manager]
    else:
        managers[manager] = VersionedSet(remaining, vs.api_version, vs.applied)


def _cap_update_managers(managed: Managed) -> None:
    updaters = [mid for mid, vs in managed.sets.items() if not vs.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return
    updaters.sort(key=lambda m: (_seconds(managed.times.get(m)), m.encoded()))
    first_by_version: dict[str, ManagerId] = {}
    length = len(updaters)
    for mid in updaters:
        if length <= MAX_UPDATE_MANAGERS:
            break
        vs = managed.sets[mid]
        time = managed.times.get(mid)
        bucket = ManagerId(ANCIENT_CHANGES, "Update", vs.api_version)
        first = first_by_version.get(vs.api_version)
        if first is None:
            first_by_version[vs.api_version] = mid
            continue
        if bucket not in managed.sets:
            managed.sets[bucket] = managed.sets.pop(first)
        managed.sets[bucket] = VersionedSet(
            vs.fields.union(managed.sets[bucket].fields), vs.api_version, vs.applied
        )
        del managed.sets[mid]
        length -= 1
        managed.times[bucket] = time


def _update_chain(
    live: Any, new: Any, managed: Managed, manager: str, subresource: str, reset: FieldSet, now: str
) -> Managed:
    """capManagers → buildManagerInfo → managedFieldsUpdater → stripMeta → update."""
    managed = managed.copy()
    mid = ManagerId(manager or "unknown", "Update", API_VERSION, subresource)
    _updater_update(live, new, managed.sets, _CURRENT_OPERATION, reset)
    _strip(managed.sets, _CURRENT_OPERATION)
    current = managed.sets.pop(_CURRENT_OPERATION, None)
    if current is not None:
        previous = managed.sets.get(mid)
        owned = current.fields.union(previous.fields) if previous else current.fields
        managed.sets[mid] = VersionedSet(owned, current.api_version, current.applied)
        managed.times[mid] = now
    _cap_update_managers(managed)
    return managed


def _apply_chain(
    live: Any,
    config: Any,
    managed: Managed,
    manager: str,
    subresource: str,
    force: bool,
    reset: FieldSet,
    now: str,
) -> tuple[Any, Managed]:
    """skipNonApplied → buildManagerInfo → managedFieldsUpdater → stripMeta → apply.

    Returns the new object (None when it did not change) and the managed sets.
    """
    if not managed.sets:
        managed = _update_chain(
            _empty_object(), live, managed, BEFORE_FIRST_APPLY, subresource, reset, now
        )
    managed = managed.copy()
    mid = ManagerId(manager or "unknown", "Apply", "", subresource)
    new = _updater_apply(live, config, managed.sets, mid, force, reset)
    _strip(managed.sets, mid)
    if new is not None:
        managed.times[mid] = now
    return new, managed


def _empty_object() -> dict[str, Any]:
    return go_normalize({"kind": st.KIND, "apiVersion": API_VERSION})


def _typed_view(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as the field manager sees it: Go-decoded, without managedFields."""
    full = dict(obj)
    full.setdefault("kind", st.KIND)
    full.setdefault("apiVersion", API_VERSION)
    out = go_normalize(full)
    out.get("metadata", {}).pop("managedFields", None)
    return out


# -- kubectl's last-applied annotation --------------------------------------------------------


def _allowed_by_last_applied(live: Mapping[str, Any]) -> FieldSet | None:
    """Fields kubectl may take over because its last client-side apply set them to
    their current values (``allowedConflictsFromLastApplied``); None when unusable."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(LAST_APPLIED)
    if not text:
        return None
    try:
        last = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != API_VERSION or validate(last):
        return None
    try:
        last_set = to_field_set(last)
        cmp = compare(last, _typed_view(live))
    except (TypedError, ProtobufError):
        return None
    return last_set.difference(cmp.modified).difference(cmp.added).difference(cmp.removed)


def build_last_applied(applied: Mapping[str, Any]) -> str:
    """The annotation value kube-apiserver writes for kubectl: the applied configuration
    without that annotation, as sorted compact JSON with a newline."""
    obj = copy.deepcopy(dict(applied))
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
    return gojson.dumps(obj, sort_keys=True) + "\n"


def _set_last_applied(obj: dict[str, Any], value: str) -> None:
    annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[LAST_APPLIED] = value
    total = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if total > TOTAL_ANNOTATION_SIZE:
        del annotations[LAST_APPLIED]


# -- public API --------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    """The outcome of one apply.

    ``obj`` is the merged object with its new ``metadata.managedFields`` (absent when
    nobody owns anything), before the endpoint's strategy runs; None when the apply
    failed. ``conflicts`` lists the fields owned by others (``error`` is then the 409).
    ``error`` is the Status body of any failure. ``changed`` says whether the merge
    changed the object (if not, the manager's entry gets no new time, and only
    managedFields may differ). ``created`` is set for an apply that creates the object.
    """

    obj: dict[str, Any] | None
    managed_fields: list[dict[str, Any]]
    conflicts: list[Conflict] = field(default_factory=list)
    error: dict[str, Any] | None = None
    changed: bool = False
    created: bool = False


def conflict_status(conflicts: list[Conflict]) -> dict[str, Any]:
    """The 409 ``NewApplyConflict`` body: causes per field, the message grouped by
    manager (managers sorted by their encoded identity)."""
    if len(conflicts) == 1:
        c = conflicts[0]
        message = f"Apply failed with 1 conflict: {c.message}: {c.path}"
    else:
        by_manager: dict[ManagerId, list[str]] = {}
        for c in conflicts:
            by_manager.setdefault(c.manager, []).append(c.path)
        lines: list[str] = []
        for mid in sorted(by_manager, key=ManagerId.encoded):
            lines.append(f"conflicts with {mid.printed()}:")
            lines.extend(f"- {p}" for p in by_manager[mid])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Conflict",
        "details": {"causes": [c.cause() for c in conflicts]},
        "code": 409,
    }


def _gvk_string(api_version: object, kind: object) -> str:
    av = api_version if isinstance(api_version, str) else ""
    group, _, version = av.rpartition("/")
    return f"{group}/{version}, Kind={kind if isinstance(kind, str) else ''}"


def _failure(error: dict[str, Any], live: Mapping[str, Any] | None) -> ApplyResult:
    current = list(((live or {}).get("metadata") or {}).get("managedFields") or [])
    return ApplyResult(None, current, error=error)


def apply(
    endpoint: Endpoint,
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
    manager: str,
    force: bool,
    now: str,
) -> ApplyResult:
    """Server-side apply of ``applied`` (the parsed apply body) by ``manager`` through
    ``endpoint`` onto ``live`` (None when the object does not exist), at time ``now``
    (RFC 3339, whole seconds)."""
    subresource = subresource_of(endpoint)
    reset = RESET_FIELDS[endpoint]
    meta = applied.get("metadata") if isinstance(applied, Mapping) else None
    name = str(meta.get("name") or "") if isinstance(meta, Mapping) else ""
    if live is None and endpoint != "main":
        return _failure(st.not_found(name), None)
    if not isinstance(applied, Mapping):
        return _failure(st.bad_request("invalid object type: /, Kind="), live)
    if (applied.get("apiVersion"), applied.get("kind")) != (API_VERSION, st.KIND):
        message = "invalid object type: " + _gvk_string(
            applied.get("apiVersion"), applied.get("kind")
        )
        return _failure(st.bad_request(message), live)
    if isinstance(meta, Mapping) and isinstance(meta.get("managedFields"), list):
        return _failure(st.bad_request("metadata.managedFields must be nil"), live)
    errors = validate(dict(applied))
    if errors:
        namespace = str(meta.get("namespace") or "") if isinstance(meta, Mapping) else ""
        joined = (
            errors[0] if len(errors) == 1 else "\n".join(["errors:", *("  " + e for e in errors)])
        )
        message = (
            f"failed to create typed patch object ({namespace}/{name}; {API_VERSION}, "
            f"Kind={st.KIND}): {joined}"
        )
        return _failure(st.internal_error(message), live)

    created = live is None
    live_obj: dict[str, Any] = _empty_object() if live is None else copy.deepcopy(dict(live))
    try:
        managed = decode_managed_fields((live_obj.get("metadata") or {}).get("managedFields"))
    except ManagedFieldsError as exc:
        return _failure(st.internal_error(f"failed to decode managed fields: {exc}"), live)

    try:
        live_typed = _typed_view(live_obj)
        config = copy.deepcopy(dict(applied))
        try:
            new, managed = _apply_chain(
                live_typed, config, managed, manager, subresource, force, reset, now
            )
        except _Conflicts as c:
            allowed = _allowed_by_last_applied(live_obj) if manager == "kubectl" else None
            if allowed is None:
                raise
            clash = FieldSet()
            for fs in c.by_manager.values():
                clash = clash.union(fs)
            if not clash.difference(allowed).empty():
                kept = {}
                for mid, fs in c.by_manager.items():
                    remaining = FieldSet.of(*(p for p in fs.paths() if not allowed.has(p)))
                    if not remaining.empty():
                        kept[mid] = remaining
                raise _Conflicts(kept) from None
            new, managed = _apply_chain(
                live_typed, config, managed, manager, subresource, True, reset, now
            )
        obj = go_normalize(new) if new is not None else copy.deepcopy(live_obj)
    except _Conflicts as c:
        conflicts = c.conflicts()
        result = _failure(conflict_status(conflicts), live)
        result.conflicts = conflicts
        return result
    except (TypedError, ProtobufError) as exc:
        return _failure(st.internal_error(str(exc)), live)

    if manager == "kubectl" and ((obj.get("metadata") or {}).get("annotations") or {}).get(
        LAST_APPLIED
    ):
        _set_last_applied(obj, build_last_applied(applied))
    entries = encode_managed_fields(managed)
    metadata = obj.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    if entries:
        metadata["managedFields"] = entries
    return ApplyResult(obj, entries, changed=new is not None, created=created)


def _is_reset_request(entries: Any) -> bool:
    """``isResetManagedFields``: ``[]`` or a single all-empty entry wipes managedFields."""
    if not isinstance(entries, list):
        return False
    if not entries:
        return True
    return len(entries) == 1 and isinstance(entries[0], Mapping) and not any(entries[0].values())


def update_managed_fields(
    endpoint: Endpoint,
    old_obj: Mapping[str, Any] | None,
    new_obj: Mapping[str, Any],
    manager: str,
    operation: str = "Update",
    *,
    now: str,
) -> list[dict[str, Any]]:
    """managedFields after a non-apply write by ``manager`` through ``endpoint``.

    ``old_obj`` is the stored object (None for a create); ``new_obj`` is the object the
    write proposes, as decoded from the body or produced by the patch, *before* the
    endpoint's strategy. On the main resource a body carrying its own managedFields
    replaces the stored ones (``[]`` clears them all); subresources always start from the
    stored ones. An object that has no managedFields records none on update.
    """
    if operation != "Update":
        raise ValueError("update_managed_fields models Update operations; use apply()")
    subresource = subresource_of(endpoint)
    reset = RESET_FIELDS[endpoint]
    live_obj: Mapping[str, Any] = old_obj if old_obj is not None else _empty_object()
    stored = list((live_obj.get("metadata") or {}).get("managedFields") or [])
    sent = (new_obj.get("metadata") or {}).get("managedFields")
    try:
        live_managed = decode_managed_fields(stored)
    except ManagedFieldsError:
        live_managed = Managed()
    managed = live_managed
    if not subresource:
        if _is_reset_request(sent):
            managed = Managed()
        else:
            try:
                from_new = decode_managed_fields(sent)
            except ManagedFieldsError:
                from_new = Managed()
            if from_new.sets:
                managed = from_new
    has_uid = bool((live_obj.get("metadata") or {}).get("uid"))
    if not managed.sets and has_uid:
        return []
    try:
        result = _update_chain(
            _typed_view(live_obj), _typed_view(new_obj), managed, manager, subresource, reset, now
        )
    except (TypedError, ProtobufError):
        return stored  # UpdateNoErrors keeps the stored entries when it cannot compute
    return encode_managed_fields(result)


def restore_unchanged_times(old_obj: Mapping[str, Any], new_obj: dict[str, Any]) -> dict[str, Any]:
    """``IgnoreManagedFieldsTimestampsTransformer``: when a write changes nothing but
    managedFields times, keep the old times so the write is a no-op (no new
    resourceVersion, no watch event)."""
    old_entries = (old_obj.get("metadata") or {}).get("managedFields") or []
    new_entries = (new_obj.get("metadata") or {}).get("managedFields") or []
    if len(old_entries) != len(new_entries) or not new_entries:
        return new_obj
    if all(a.get("time") == b.get("time") for a, b in zip(old_entries, new_entries, strict=True)):
        return new_obj

    def without_times(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "time"} for e in entries]

    if without_times(old_entries) != without_times(new_entries):
        return new_obj
    old_rest = copy.deepcopy(dict(old_obj))
    new_rest = copy.deepcopy(new_obj)
    old_rest.get("metadata", {}).pop("managedFields", None)
    new_rest.get("metadata", {}).pop("managedFields", None)
    if old_rest != new_rest:
        return new_obj
    for new_entry, old_entry in zip(new_entries, old_entries, strict=True):
        if "time" in old_entry:
            new_entry["time"] = old_entry["time"]
        else:
            new_entry.pop("time", None)
    return new_obj
