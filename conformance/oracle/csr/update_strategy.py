"""What an update does to a CSR before it is stored: the three strategies and validation.

``prepare_update`` is ``rest.BeforeUpdate`` up to validation: generation forced to the old
value, the endpoint's ``PrepareForUpdate`` (§5.1–5.3), then uid, creationTimestamp,
deletionTimestamp and deletionGracePeriodSeconds carried over (§5, M5).

``validate_update`` is ``rest.ValidateUpdate``: the generic object-meta checks with
path-segment names and the generic immutability checks (``validateCommonFields``), then
the endpoint's ``ValidateUpdate`` (the whole create-time CSR validation with the
compatibility tolerances of §4.8, then C6, C7, K3/K4, then the metadata update checks
again), then declarative validation, which also removes repeated messages.

Objects are v1 wire dicts as :mod:`conformance.oracle.apimachinery.decode` produces them. One
storage
detail is kept on purpose: ``status.certificate`` present as ``""`` is a non-nil empty
byte slice in Go, which differs from an absent certificate for the signing admission
check and for no-op detection (both confirmed on kube-apiserver v1.37.2).

Upstream (v1.37.2): ``pkg/registry/certificates/certificates/strategy.go``,
``pkg/apis/certificates/validation/validation.go``, apiserver
``pkg/registry/rest/update.go``, apimachinery ``pkg/api/validation/objectmeta.go``,
``pkg/util/diff/diff.go`` (go-difflib unified diff of ``json.MarshalIndent``).
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, Literal

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.csr.validation import (
    APPROVED,
    DENIED,
    FAILED,
    ValidationOptions,
    apply_declarative,
    bytes_field,
    conditions_of,
    validate_csr,
    validate_labels_annotations_owners,
    validate_meta_path_segments,
    validation_options,
)
from conformance.oracle.versions import KubeVersion, release

Endpoint = Literal["main", "status", "approval"]
ENDPOINTS: Final[tuple[Endpoint, ...]] = ("main", "status", "approval")

IMMUTABLE_MESSAGE: Final = "field is immutable"
STANDARD_FINALIZERS: Final = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


def _map(obj: Mapping[str, Any] | None, key: str) -> dict[str, Any]:
    if obj is None:
        return {}
    v = obj.get(key)
    return dict(v) if isinstance(v, Mapping) else {}


def _str(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key)
    return v if isinstance(v, str) else ""


# ---------------------------------------------------------------------------
# PrepareForUpdate (§5)
# ---------------------------------------------------------------------------


def _zero_time(value: object) -> bool:
    return not (isinstance(value, str) and value)


def populate_condition_timestamps(
    conditions: list[dict[str, Any]], old: Mapping[str, Any], now: str
) -> None:
    """``populateConditionTimestamps``: fill zero times; carry lastTransitionTime over
    from the first old condition with the same type and status (§5.4)."""
    old_conds = conditions_of(old)
    for cond in conditions:
        if _zero_time(cond.get("lastUpdateTime")):
            cond["lastUpdateTime"] = now
        if _zero_time(cond.get("lastTransitionTime")):
            last = now
            for oc in old_conds:
                if (
                    _str(oc, "type") == _str(cond, "type")
                    and _str(oc, "status") == _str(cond, "status")
                    and not _zero_time(oc.get("lastTransitionTime"))
                ):
                    last = str(oc["lastTransitionTime"])
                    break
            cond["lastTransitionTime"] = last


def _preserve_condition_instances(
    conditions: list[dict[str, Any]], old: Mapping[str, Any], ctype: str
) -> None:
    """``preserveConditionInstances``: same count → old instances copied in position."""
    old_conds = conditions_of(old)
    old_idx = [i for i, c in enumerate(old_conds) if _str(c, "type") == ctype]
    new_idx = [i for i, c in enumerate(conditions) if _str(c, "type") == ctype]
    if len(old_idx) != len(new_idx):
        return
    for o, n in zip(old_idx, new_idx, strict=True):
        conditions[n] = copy.deepcopy(dict(old_conds[o]))


def _new_conditions(new: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    status = new.get("status")
    if not isinstance(status, Mapping):
        return None
    conds = status.get("conditions")
    if not isinstance(conds, list):
        return None
    return [copy.deepcopy(dict(c)) if isinstance(c, Mapping) else {} for c in conds]


def prepare_update(
    endpoint: Endpoint, new: Mapping[str, Any], old: Mapping[str, Any], now: str
) -> dict[str, Any]:
    """The object ``rest.BeforeUpdate`` hands to validation, as a new dict.

    ``new`` is the decoded request object (or the patched object), ``old`` the stored
    one, ``now`` the request's RFC 3339 second-precision time. The result keeps the old
    ``resourceVersion`` (what the store sets before BeforeUpdate) and drops ``selfLink``
    and ``namespace`` (never stored for a cluster-scoped object).
    """
    out: dict[str, Any] = copy.deepcopy(dict(new))
    meta = _map(out, "metadata")
    old_meta = _map(old, "metadata")
    meta.pop("namespace", None)
    meta.pop("selfLink", None)

    generation = old_meta.get("generation")
    if isinstance(generation, int) and not isinstance(generation, bool) and generation != 0:
        meta["generation"] = generation
    else:
        meta.pop("generation", None)

    old_spec = copy.deepcopy(_map(old, "spec"))
    old_status = copy.deepcopy(_map(old, "status"))
    if endpoint == "main":
        out["spec"] = old_spec
        out["status"] = old_status
    elif endpoint == "approval":
        conds = _new_conditions(new)
        if conds is not None:
            populate_condition_timestamps(conds, old, now)
        status = old_status
        if conds is None:
            status.pop("conditions", None)
        else:
            status["conditions"] = conds
        out["spec"] = old_spec
        out["status"] = status
    else:
        out["spec"] = old_spec
        conds = _new_conditions(new)
        status = _map(new, "status")
        if conds is not None:
            _preserve_condition_instances(conds, old, APPROVED)
            _preserve_condition_instances(conds, old, DENIED)
            populate_condition_timestamps(conds, old, now)
            status["conditions"] = conds
        out["status"] = status

    if not _str(meta, "uid") and _str(old_meta, "uid"):
        meta["uid"] = old_meta["uid"]
    if not _zero_time(old_meta.get("creationTimestamp")):
        meta["creationTimestamp"] = old_meta["creationTimestamp"]
    if not _zero_time(old_meta.get("deletionTimestamp")):
        meta["deletionTimestamp"] = old_meta["deletionTimestamp"]
    old_grace = old_meta.get("deletionGracePeriodSeconds")
    if isinstance(old_grace, int) and meta.get("deletionGracePeriodSeconds") is None:
        meta["deletionGracePeriodSeconds"] = old_grace
    if _str(old_meta, "resourceVersion"):
        meta["resourceVersion"] = old_meta["resourceVersion"]
    out["metadata"] = meta
    _drop_empty_condition_strings(out)
    return out


def _drop_empty_condition_strings(obj: dict[str, Any]) -> None:
    """``reason`` and ``message`` are omitempty strings: Go never shows them empty.

    Seen on kube-apiserver v1.37.2: a condition sent with ``"message": ""`` comes back
    without the key.
    """
    status = obj.get("status")
    if not isinstance(status, dict) or not isinstance(status.get("conditions"), list):
        return
    for cond in status["conditions"]:
        if isinstance(cond, dict):
            for key in ("reason", "message"):
                if cond.get(key) == "":
                    del cond[key]


# ---------------------------------------------------------------------------
# metadata update rules (M5)
# ---------------------------------------------------------------------------


def _go_sharp_v_strings(values: Sequence[str]) -> str:
    """``%#v`` of a ``[]string``."""
    return "[]string{" + ", ".join(fe.go_quote(v) for v in values) + "}"


def _time_json(value: object) -> fe.RawJSON:
    return fe.RawJSON(fe.go_json_string(value) if isinstance(value, str) and value else "null")


def validate_object_meta_update(
    new: Mapping[str, Any], old: Mapping[str, Any]
) -> list[fe.FieldError]:
    """apimachinery ``ValidateObjectMetaAccessorUpdate``. Its label, annotation and
    owner-reference checks repeat the create-time ones: before 1.37 every repeat reaches
    ``details.causes``; from 1.37 declarative validation's filter drops them."""
    meta = _map(new, "metadata")
    old_meta = _map(old, "metadata")
    errs: list[fe.FieldError] = []
    if not _zero_time(old_meta.get("deletionTimestamp")):
        new_fins = {f for f in meta.get("finalizers") or [] if isinstance(f, str)}
        old_fins = {f for f in old_meta.get("finalizers") or [] if isinstance(f, str)}
        extra = sorted(new_fins - old_fins)
        if extra:
            errs.append(
                fe.forbidden(
                    "CSR-IMM-META",
                    "metadata.finalizers",
                    "no new finalizers can be added if the object is being deleted, found new "
                    f"finalizers {_go_sharp_v_strings(extra)}",
                )
            )
    if not _str(meta, "resourceVersion"):
        errs.append(
            fe.invalid(
                "CSR-IMM-META", "metadata.resourceVersion", "", "must be specified for an update"
            )
        )
    new_gen = meta.get("generation") if isinstance(meta.get("generation"), int) else 0
    old_gen = old_meta.get("generation") if isinstance(old_meta.get("generation"), int) else 0
    assert isinstance(new_gen, int) and isinstance(old_gen, int)
    if new_gen < 0:
        errs.append(
            fe.invalid(
                "CSR-META-M4", "metadata.generation", new_gen, "must be greater than or equal to 0"
            )
        )
    if new_gen < old_gen:
        errs.append(
            fe.invalid("CSR-IMM-META", "metadata.generation", new_gen, "must not be decremented")
        )
    if _str(meta, "name") != _str(old_meta, "name"):
        errs.append(
            fe.invalid("CSR-IMM-META", "metadata.name", _str(meta, "name"), IMMUTABLE_MESSAGE)
        )
    if _str(meta, "namespace") != _str(old_meta, "namespace"):
        errs.append(
            fe.invalid(
                "CSR-IMM-META", "metadata.namespace", _str(meta, "namespace"), IMMUTABLE_MESSAGE
            )
        )
    if _str(meta, "uid") != _str(old_meta, "uid"):
        errs.append(
            fe.invalid(
                "CSR-IMM-META",
                "metadata.uid",
                fe.named_string(_str(meta, "uid")),
                IMMUTABLE_MESSAGE,
            )
        )
    for key in ("creationTimestamp", "deletionTimestamp"):
        a, b = meta.get(key), old_meta.get(key)
        if (a or None) != (b or None):
            errs.append(
                fe.invalid("CSR-IMM-META", f"metadata.{key}", _time_json(a), IMMUTABLE_MESSAGE)
            )
    grace, old_grace = (
        meta.get("deletionGracePeriodSeconds"),
        old_meta.get("deletionGracePeriodSeconds"),
    )
    if grace != old_grace:
        errs.append(
            fe.invalid(
                "CSR-IMM-META",
                "metadata.deletionGracePeriodSeconds",
                fe.RawJSON("null" if grace is None else str(grace)),
                IMMUTABLE_MESSAGE,
            )
        )
    errs.extend(validate_labels_annotations_owners(meta))
    return errs


def _kube_finalizer_errors(new: Mapping[str, Any]) -> list[fe.FieldError]:
    errs: list[fe.FieldError] = []
    for i, fin in enumerate(_map(new, "metadata").get("finalizers") or []):
        f = fin if isinstance(fin, str) else ""
        if "/" not in f and f not in STANDARD_FINALIZERS:
            errs.append(
                fe.invalid(
                    "CSR-META-M4",
                    f"metadata.finalizers[{i}]",
                    f,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return errs


# ---------------------------------------------------------------------------
# C6, C7, K3, K4 and the C7 diff
# ---------------------------------------------------------------------------

_CONDITION_FIELDS: Final = (
    ("Type", "type"),
    ("Status", "status"),
    ("Reason", "reason"),
    ("Message", "message"),
    ("LastUpdateTime", "lastUpdateTime"),
    ("LastTransitionTime", "lastTransitionTime"),
)


def _normal_condition(c: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(_str(c, key) for _, key in _CONDITION_FIELDS)


def conditions_equal(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    """``apiequality.Semantic.DeepEqual`` on condition lists (nil equals empty)."""
    return [_normal_condition(c) for c in a] == [_normal_condition(c) for c in b]


def _pretty_conditions(conds: Sequence[Mapping[str, Any]] | None) -> str:
    """``json.MarshalIndent(conds, "", " ")`` of the *internal* type (no json tags)."""
    if conds is None:
        return "null"
    if not conds:
        return "[]"
    items = []
    for c in conds:
        lines = []
        for go_name, key in _CONDITION_FIELDS:
            value = _str(c, key)
            if key.startswith("last"):
                text = fe.go_json_string(value) if value else "null"
            else:
                text = fe.go_json_string(value)
            lines.append(f'  "{go_name}": {text}')
        items.append(" {\n" + ",\n".join(lines) + "\n }")
    return "[\n" + ",\n".join(items) + "\n]"


def condition_diff(
    old: Sequence[Mapping[str, Any]] | None, new: Sequence[Mapping[str, Any]] | None
) -> str:
    """``diff.Diff(old, new)``: a go-difflib unified diff without file headers."""
    a = _split_lines(_pretty_conditions(old))
    b = _split_lines(_pretty_conditions(new))
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b)
    for group in matcher.get_grouped_opcodes(3):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + line for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                out.extend("-" + line for line in a[i1:i2])
            if tag in ("replace", "insert"):
                out.extend("+" + line for line in b[j1:j2])
    return "".join(out)


def _split_lines(s: str) -> list[str]:
    lines = s.split("\n")
    return [line + "\n" for line in lines]


def _range(start: int, stop: int) -> str:
    beginning = start + 1
    length = stop - start
    if length == 1:
        return str(beginning)
    if length == 0:
        beginning -= 1
    return f"{beginning},{length}"


def _find(obj: Mapping[str, Any], ctype: str) -> list[Mapping[str, Any]]:
    return [c for c in conditions_of(obj) if _str(c, "type") == ctype]


def _certificate_changed(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    a = bytes_field(_map(new, "status"), "certificate") or b""
    b = bytes_field(_map(old, "status"), "certificate") or b""
    return a != b


def transition_errors(
    endpoint: Endpoint, new: Mapping[str, Any], old: Mapping[str, Any]
) -> list[fe.FieldError]:
    """The update-only CSR rules: C6 (no removals), C7 (Approved/Denied only through
    /approval), K3/K4 (certificate set once, only through /status)."""
    errs: list[fe.FieldError] = []
    for ctype in (APPROVED, DENIED, FAILED):
        if len(_find(new, ctype)) < len(_find(old, ctype)):
            errs.append(
                fe.forbidden(
                    "CSR-VAL-C6",
                    "status.conditions",
                    f"updates may not remove a condition of type {fe.go_quote(ctype)}",
                )
            )
    if endpoint != "approval":
        for ctype in (APPROVED, DENIED):
            o, n = _find(old, ctype), _find(new, ctype)
            if len(n) < len(o):
                continue
            if len(n) > len(o):
                errs.append(
                    fe.forbidden(
                        "CSR-VAL-C7",
                        "status.conditions",
                        f"updates may not add a condition of type {fe.go_quote(ctype)}",
                    )
                )
            elif not conditions_equal(o, n):
                diff = condition_diff(o or None, n or None)
                errs.append(
                    fe.forbidden(
                        "CSR-VAL-C7",
                        "status.conditions",
                        f"updates may not modify a condition of type {fe.go_quote(ctype)}\n{diff}",
                    )
                )
    if _certificate_changed(new, old):
        if endpoint != "status":
            errs.append(
                fe.forbidden(
                    "CSR-VAL-K4", "status.certificate", "updates may not set certificate content"
                )
            )
        elif bytes_field(_map(old, "status"), "certificate"):
            errs.append(
                fe.forbidden(
                    "CSR-VAL-K3",
                    "status.certificate",
                    "updates may not modify existing certificate content",
                )
            )
    return errs


def endpoint_options(
    endpoint: Endpoint, new: Mapping[str, Any], old: Mapping[str, Any]
) -> ValidationOptions:
    """``getValidationOptions`` plus what the endpoint's validator switches on."""
    opts = validation_options(new, old)
    if endpoint == "status":
        return replace(opts, allow_setting_certificate=True)
    if endpoint == "approval":
        return replace(opts, allow_setting_approval_conditions=True)
    return opts


def validate_update(
    endpoint: Endpoint,
    new: Mapping[str, Any],
    old: Mapping[str, Any],
    version: KubeVersion | None = None,
) -> list[fe.FieldError]:
    """Everything ``rest.ValidateUpdate`` reports for a prepared object, in order.

    The same message can be produced by several passes (labels are checked four times);
    from 1.37 declarative validation's filter keeps the first of each, as the server does.
    """
    errs: list[fe.FieldError] = []
    # validateCommonFields: generic meta with path-segment names, generic meta update
    errs.extend(validate_meta_path_segments(new))
    errs.extend(validate_object_meta_update(new, old))
    # the strategy (its ValidateObjectMeta runs inside validate_csr)
    errs.extend(validate_csr(new, endpoint_options(endpoint, new, old)))
    errs.extend(transition_errors(endpoint, new, old))
    errs.extend(validate_object_meta_update(new, old))
    errs.extend(_kube_finalizer_errors(new))
    return apply_declarative(errs, new, old, version or release())


def storage_form(obj: Mapping[str, Any], *, nil_equals_empty: bool = False) -> Any:
    """What the stored bytes of ``obj`` depend on, for no-op detection.

    Zero-valued struct fields and empty lists/maps are dropped (Go encodes them the same
    as absent); map entries are data and kept; ``resourceVersion`` and ``managedFields``
    are left out (storage sets the first, the field manager owns the second). A present
    but empty ``status.certificate`` is kept (non-nil empty bytes are stored) unless
    ``nil_equals_empty`` asks for semantic equality instead.
    """
    meta = _map(obj, "metadata")
    meta.pop("resourceVersion", None)
    meta.pop("managedFields", None)
    meta.pop("selfLink", None)
    out_meta: dict[str, Any] = {}
    for k, v in meta.items():
        if k in ("labels", "annotations"):
            if isinstance(v, Mapping) and v:
                out_meta[k] = dict(v)
        elif k == "deletionGracePeriodSeconds":
            if v is not None:
                out_meta[k] = v
        elif k == "ownerReferences":
            if isinstance(v, list) and v:
                out_meta[k] = [_drop_zero(r, keep_false=True) for r in v]
        elif v not in (None, "", 0, [], {}) or v is False:
            out_meta[k] = v
    status = _map(obj, "status")
    out_status: dict[str, Any] = {}
    conds = status.get("conditions")
    if isinstance(conds, list) and conds:
        out_status["conditions"] = [_drop_zero(c, keep_false=False) for c in conds]
    cert = status.get("certificate")
    if cert is not None and not (nil_equals_empty and cert == ""):
        out_status["certificate"] = cert
    return {
        "metadata": out_meta,
        "spec": _drop_zero(_map(obj, "spec"), keep_false=True),
        "status": out_status,
    }


def _drop_zero(value: object, *, keep_false: bool) -> object:
    if not isinstance(value, Mapping):
        return value
    return {
        k: v
        for k, v in value.items()
        if v is not None and v != "" and v != [] and v != {} and (keep_false or v is not False)
    }


def same_storage(
    a: Mapping[str, Any], b: Mapping[str, Any], *, nil_equals_empty: bool = False
) -> bool:
    """Whether two objects store as the same bytes (ignoring RV and managedFields)."""
    fa = storage_form(a, nil_equals_empty=nil_equals_empty)
    fb = storage_form(b, nil_equals_empty=nil_equals_empty)
    return json.dumps(fa, sort_keys=True) == json.dumps(fb, sort_keys=True)
