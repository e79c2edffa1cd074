"""Strategic merge patch for the v1 CertificateSigningRequest, ported from apimachinery.

Strategic merge patch takes its list semantics from Go struct tags. The CSR types carry
none (``status.conditions``, ``spec.usages`` and ``spec.groups`` are replaced wholesale,
exactly as in a JSON merge patch, §10.6), but ``metav1.ObjectMeta`` does:
``finalizers`` merges as a set of strings and ``ownerReferences`` merges by ``uid``. The
directives (``$patch: replace|delete|merge``, ``$retainKeys``,
``$deleteFromPrimitiveList/<list>``, ``$setElementOrder/<list>``) work anywhere a map is
merged, with the same errors and status codes as the Go code.

The port keeps Go's mutation semantics (the patch map is edited while it is applied, and
what is left of it is what a later 422 prints), Go's interface equality (``1`` and
``1.0`` differ, ``true`` is not ``1``) and Go's stable sort with the library's unusual
ordering function. Go iterates maps in random order; where that could change a result
(a list and its ``$deleteFromPrimitiveList`` twin in one patch), this port follows the
patch's key order.

Upstream: apimachinery ``util/strategicpatch/patch.go`` (``mergeMap``, ``mergeSlice``,
``mergePatchIntoOriginal``, ``applyRetainKeysDirective``…), ``meta.go``,
``util/mergepatch/errors.go``, ``third_party/forked/golang/json/fields.go``; apiserver
``endpoints/handlers/patch.go`` (``interpretStrategicMergePatchError``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from conformance.oracle.golang.jsonencode import go_format_v

DIRECTIVE: Final = "$patch"
DELETE: Final = "delete"
REPLACE: Final = "replace"
MERGE: Final = "merge"
RETAIN_KEYS: Final = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST: Final = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER: Final = "$setElementOrder"

ERR_BAD_JSON_DOC: Final = "invalid JSON document"
ERR_NO_LIST_OF_LISTS: Final = "lists of lists are not supported"
ERR_BAD_PRIMITIVE_LIST: Final = "invalid patch format of primitive list"
ERR_BAD_RETAIN_KEYS: Final = "invalid patch format of retainKeys"
ERR_BAD_SET_ELEMENT_ORDER: Final = "invalid patch format of setElementOrder list"
ERR_RETAIN_KEYS_MISMATCH: Final = "patch content doesn't match retainKeys list"

_BAD_REQUEST: Final = frozenset(
    {ERR_BAD_JSON_DOC, ERR_BAD_PRIMITIVE_LIST, ERR_BAD_RETAIN_KEYS, ERR_BAD_SET_ELEMENT_ORDER}
)
_UNPROCESSABLE: Final = frozenset({ERR_NO_LIST_OF_LISTS, ERR_RETAIN_KEYS_MISMATCH})


class SMPError(Exception):
    """A strategic-merge failure; ``code`` is what kube-apiserver answers (400/422/500)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> int:
        if self.message in _BAD_REQUEST:
            return 400
        if self.message in _UNPROCESSABLE:
            return 422
        return 500


# ---------------------------------------------------------------------------
# the Go types, as far as patch metadata lookup sees them
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GoType:
    """``kind`` is Go's reflect.Kind name; ``fields`` are (json name, type, strategy, key)."""

    kind: str
    name: str = ""
    elem: GoType | None = None
    fields: tuple[tuple[str, GoType, str, str], ...] = ()


_STRING = GoType("string")
_BOOL = GoType("bool")
_INT64 = GoType("int64")
_INT32 = GoType("int32")
_UINT8 = GoType("uint8")
_BYTES = GoType("slice", elem=_UINT8)
_STRINGS = GoType("slice", elem=_STRING)
_STRING_MAP = GoType("map", elem=_STRING)
_TIME = GoType("struct", "Time", fields=(("Time", GoType("struct", "Time"), "", ""),))


def _ptr(t: GoType) -> GoType:
    return GoType("ptr", elem=t)


_OWNER_REFERENCE = GoType(
    "struct",
    "OwnerReference",
    fields=(
        ("apiVersion", _STRING, "", ""),
        ("kind", _STRING, "", ""),
        ("name", _STRING, "", ""),
        ("uid", _STRING, "", ""),
        ("controller", _ptr(_BOOL), "", ""),
        ("blockOwnerDeletion", _ptr(_BOOL), "", ""),
    ),
)
_MANAGED_FIELDS_ENTRY = GoType(
    "struct",
    "ManagedFieldsEntry",
    fields=(
        ("manager", _STRING, "", ""),
        ("operation", _STRING, "", ""),
        ("apiVersion", _STRING, "", ""),
        ("time", _ptr(_TIME), "", ""),
        ("fieldsType", _STRING, "", ""),
        ("fieldsV1", _ptr(GoType("struct", "FieldsV1")), "", ""),
        ("subresource", _STRING, "", ""),
    ),
)
_OBJECT_META = GoType(
    "struct",
    "ObjectMeta",
    fields=(
        ("name", _STRING, "", ""),
        ("generateName", _STRING, "", ""),
        ("namespace", _STRING, "", ""),
        ("selfLink", _STRING, "", ""),
        ("uid", _STRING, "", ""),
        ("resourceVersion", _STRING, "", ""),
        ("generation", _INT64, "", ""),
        ("creationTimestamp", _TIME, "", ""),
        ("deletionTimestamp", _ptr(_TIME), "", ""),
        ("deletionGracePeriodSeconds", _ptr(_INT64), "", ""),
        ("labels", _STRING_MAP, "", ""),
        ("annotations", _STRING_MAP, "", ""),
        ("ownerReferences", GoType("slice", elem=_OWNER_REFERENCE), "merge", "uid"),
        ("finalizers", _STRINGS, "merge", ""),
        ("managedFields", GoType("slice", elem=_MANAGED_FIELDS_ENTRY), "", ""),
    ),
)
_SPEC = GoType(
    "struct",
    "CertificateSigningRequestSpec",
    fields=(
        ("request", _BYTES, "", ""),
        ("signerName", _STRING, "", ""),
        ("expirationSeconds", _ptr(_INT32), "", ""),
        ("usages", _STRINGS, "", ""),
        ("username", _STRING, "", ""),
        ("uid", _STRING, "", ""),
        ("groups", _STRINGS, "", ""),
        ("extra", GoType("map", elem=_STRINGS), "", ""),
    ),
)
_CONDITION = GoType(
    "struct",
    "CertificateSigningRequestCondition",
    fields=(
        ("type", _STRING, "", ""),
        ("status", _STRING, "", ""),
        ("reason", _STRING, "", ""),
        ("message", _STRING, "", ""),
        ("lastUpdateTime", _TIME, "", ""),
        ("lastTransitionTime", _TIME, "", ""),
    ),
)
_STATUS = GoType(
    "struct",
    "CertificateSigningRequestStatus",
    fields=(
        ("conditions", GoType("slice", elem=_CONDITION), "", ""),
        ("certificate", _BYTES, "", ""),
    ),
)
CSR_SCHEMA: Final = GoType(
    "struct",
    "CertificateSigningRequest",
    fields=(
        ("kind", _STRING, "", ""),
        ("apiVersion", _STRING, "", ""),
        ("metadata", _OBJECT_META, "", ""),
        ("spec", _SPEC, "", ""),
        ("status", _STATUS, "", ""),
    ),
)


@dataclass(frozen=True)
class _Meta:
    strategies: tuple[str, ...]
    merge_key: str


def _lookup_struct(t: GoType, key: str) -> tuple[GoType, _Meta]:
    """``forkedjson.LookupPatchMetadataForStruct``."""
    if t.kind == "ptr" and t.elem is not None:
        t = t.elem
    if t.kind != "struct":
        raise SMPError(
            f"merging an object in json but data type is not struct, instead is: {t.kind}"
        )
    found = None
    for name, ft, strategy, merge_key in t.fields:
        if name == key:
            found = (ft, strategy, merge_key)
            break
        if found is None and name.lower() == key.lower():
            found = (ft, strategy, merge_key)
    if found is None:
        raise SMPError(f'unable to find api field in struct {t.name} for the json field "{key}"')
    ft, strategy, merge_key = found
    return ft, _Meta(tuple(strategy.split(",")), merge_key)


def _lookup_slice(t: GoType, key: str) -> tuple[GoType, _Meta]:
    """``PatchMetaFromStruct.LookupPatchMetadataForSlice``."""
    sub, meta = _lookup_struct(t, key)
    if sub.kind in ("slice", "array"):
        assert sub.elem is not None
        elem = sub.elem
        if elem.kind in ("slice", "array"):
            raise SMPError("unexpected slice of slice")
    elif sub.kind == "ptr":
        assert sub.elem is not None
        elem = sub.elem
        if elem.kind in ("slice", "array"):
            assert elem.elem is not None
            elem = elem.elem
    else:
        raise SMPError(f"expected slice or array type, but got: {t.kind}")
    return elem, meta


def _extract_retain_keys_strategy(strategies: tuple[str, ...]) -> str:
    if len(strategies) == 0:
        return ""
    if len(strategies) == 1:
        return "" if strategies[0] == "retainKeys" else strategies[0]
    if len(strategies) == 2:
        if strategies[0] == "retainKeys":
            return strategies[1]
        if strategies[1] == "retainKeys":
            return strategies[0]
    raise SMPError(f"unexpected patch strategy: [{' '.join(strategies)}]")


# ---------------------------------------------------------------------------
# Go value semantics
# ---------------------------------------------------------------------------


def _go_type_name(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    return type(v).__name__


def _kind(v: Any) -> str:
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "slice"
    return _go_type_name(v)


def _eq(a: Any, b: Any) -> bool:
    """Go ``==`` on two ``interface{}`` values (panics on maps and slices)."""
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        if type(a) is type(b):
            raise SMPError("runtime error: comparing uncomparable type " + _go_type_name(a))
        return False
    return type(a) is type(b) and a == b


def _hash_key(v: Any) -> tuple[str, Any]:
    if isinstance(v, dict | list):
        raise SMPError("runtime error: hash of unhashable type " + _go_type_name(v))
    return (_go_type_name(v), v)


def _bad_arg_type(expected: str, actual: Any) -> SMPError:
    # reflect.TypeOf(nil) prints as %!s(<nil>) through %s.
    got = "%!s(<nil>)" if actual is None else _go_type_name(actual)
    return SMPError(f"expected a {expected}, but received a {got}")


def _go_s(v: Any) -> str:
    """``%s`` of an interface value: strings as is, anything else as Go's bad-verb form."""
    if isinstance(v, str):
        return v
    if v is None:
        return "%!s(<nil>)"
    return f"%!s({_go_type_name(v)}={go_format_v(v)})"


def _no_merge_key(m: dict[str, Any], key: str) -> SMPError:
    return SMPError(f"map: {go_format_v(m)} does not contain declared merge key: {key}")


# ---------------------------------------------------------------------------
# mergeMap and friends
# ---------------------------------------------------------------------------


def strategic_merge(original: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any]:
    """``StrategicMergeMapPatch(original, patch, &v1.CertificateSigningRequest{})``.

    Both maps are modified in place, as in Go. Raises :class:`SMPError`.
    """
    if patch is None:
        return original
    return _merge_map(original, patch, CSR_SCHEMA)


def apply_strategic_merge_patch(
    obj: Mapping[str, Any], patch: dict[str, Any] | None
) -> dict[str, Any] | SMPError:
    """Apply ``patch`` (decoded JSON, ints as ``int``) to a stored CSR.

    The CSR is first turned into its unstructured form (what the apiserver merges into);
    the result is the merged map, or the :class:`SMPError` the server would report.
    """
    from conformance.oracle.golang.jsonencode import to_unstructured

    try:
        return strategic_merge(to_unstructured(obj), copy.deepcopy(patch))
    except SMPError as exc:
        return exc


def _handle_directive_in_merge_map(directive: Any, patch: dict[str, Any]) -> dict[str, Any]:
    if _eq(directive, REPLACE):
        del patch[DIRECTIVE]
        return patch
    if _eq(directive, DELETE):
        return {}
    raise SMPError(f"unknown patch type: {_go_s(directive)} in map: {go_format_v(patch)}")


def _merge_map(
    original: dict[str, Any] | None, patch: dict[str, Any], schema: GoType
) -> dict[str, Any]:
    if DIRECTIVE in patch:
        return _handle_directive_in_merge_map(patch[DIRECTIVE], patch)
    if original is None:
        original = {}
    _apply_retain_keys(original, patch)
    _merge_patch_into_original(original, patch, schema)
    for k in list(patch):
        if k not in patch:
            continue
        patch_v = patch[k]
        is_delete_list = False
        if k.startswith(DELETE_FROM_PRIMITIVE_LIST):
            k = _extract_key(k, DELETE_FROM_PRIMITIVE_LIST)
            is_delete_list = True
        if patch_v is None:
            original.pop(k, None)
            continue
        if k not in original:
            if not is_delete_list:
                _discard_nulls(patch_v)
                value, keep = _remove_directives(patch_v)
                if keep:
                    original[k] = value
                else:
                    original.pop(k, None)
            continue
        orig_v = original[k]
        if _go_type_name(orig_v) != _go_type_name(patch_v) or orig_v is None:
            if not is_delete_list:
                _discard_nulls(patch_v)
                value, keep = _remove_directives(patch_v)
                if keep:
                    original[k] = value
                else:
                    original.pop(k, None)
            continue
        if isinstance(orig_v, dict):
            sub, meta = _lookup_struct(schema, k)
            strategy = _extract_retain_keys_strategy(meta.strategies)
            original[k] = _merge_map_handler(orig_v, patch_v, sub, strategy)
        elif isinstance(orig_v, list):
            sub, meta = _lookup_slice(schema, k)
            strategy = _extract_retain_keys_strategy(meta.strategies)
            original[k] = _merge_slice_handler(
                orig_v, patch_v, sub, strategy, meta.merge_key, is_delete_list
            )
        else:
            value, keep = _remove_directives(patch_v)
            if keep:
                original[k] = value
            else:
                original.pop(k, None)
    return original


def _extract_key(s: str, prefix: str) -> str:
    parts = s.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST:
            raise SMPError(ERR_BAD_PRIMITIVE_LIST)
        if prefix == SET_ELEMENT_ORDER:
            raise SMPError(ERR_BAD_SET_ELEMENT_ORDER)
        raise SMPError(f'fail to find unknown prefix "{prefix}" in {s}\n')
    return parts[1]


def _discard_nulls(v: Any) -> None:
    if isinstance(v, dict):
        for k in list(v):
            if v[k] is None:
                del v[k]
            else:
                _discard_nulls(v[k])
    elif isinstance(v, list):
        for item in v:
            _discard_nulls(item)


def _remove_directives(obj: Any) -> tuple[Any, bool]:
    if obj is None:
        return obj, True
    if isinstance(obj, dict):
        if DIRECTIVE in obj:
            return None, False
        for k in list(obj):
            value, keep = _remove_directives(obj[k])
            if keep:
                obj[k] = value
            else:
                del obj[k]
        return obj, True
    if isinstance(obj, list):
        out = []
        for v in obj:
            value, keep = _remove_directives(v)
            if keep:
                out.append(value)
        return out, True
    return obj, True


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if RETAIN_KEYS not in patch:
        return
    retain = patch.pop(RETAIN_KEYS)
    if not isinstance(retain, list):
        raise SMPError(ERR_BAD_RETAIN_KEYS)
    keep = {_hash_key(v) for v in retain}
    for k, v in patch.items():
        if v is None or k.startswith(DELETE_FROM_PRIMITIVE_LIST) or k.startswith(SET_ELEMENT_ORDER):
            continue
        if ("string", k) not in keep:
            raise SMPError(ERR_BAD_RETAIN_KEYS)
    for k in list(original):
        if ("string", k) not in keep:
            del original[k]


def _merge_map_handler(original: Any, patch: Any, schema: GoType, strategy: str) -> dict[str, Any]:
    if not isinstance(original, dict):
        raise _bad_arg_type("map[string]interface {}", original)
    if not isinstance(patch, dict):
        raise _bad_arg_type("map[string]interface {}", patch)
    if strategy != REPLACE:
        return _merge_map(original, patch, schema)
    return patch


def _merge_slice_handler(
    original: Any,
    patch: Any,
    schema: GoType,
    strategy: str,
    merge_key: str,
    is_delete_list: bool,
) -> list[Any]:
    if not isinstance(original, list):
        raise _bad_arg_type("[]interface {}", original)
    if not isinstance(patch, list):
        raise _bad_arg_type("[]interface {}", patch)
    if strategy == MERGE or is_delete_list:
        return _merge_slice(original, patch, schema, merge_key, is_delete_list)
    return patch


def _slice_element_kind(*slices: list[Any]) -> str:
    prev: str | None = None
    for s in slices:
        for v in s:
            cur = _go_type_name(v)
            if prev is None:
                prev = cur
                if isinstance(v, list):
                    raise SMPError(ERR_NO_LIST_OF_LISTS)
            elif prev != cur:
                rendered = "[" + " ".join(go_format_v(x) for x in slices) + "]"
                raise SMPError(f"list element types are not identical: {rendered}")
    if prev is None:
        raise SMPError("no elements in any of the given slices")
    return prev


def _merge_slice(
    original: list[Any], patch: list[Any], schema: GoType, merge_key: str, is_delete_list: bool
) -> list[Any]:
    if len(original) == 0 and len(patch) == 0:
        return original
    elem = _slice_element_kind(original, patch)
    is_map = elem == "map[string]interface {}"
    if not is_map:
        if is_delete_list:
            drop = {_hash_key(v) for v in patch}
            return [v for v in original if _hash_key(v) not in drop]
        merged = _dedup_scalars([*original, *patch])
    else:
        if merge_key == "":
            raise SMPError(f"cannot merge lists without merge key for {schema.kind}")
        original, patch = _merge_slice_special(original, patch, merge_key)
        merged = _merge_slice_plain(original, patch, merge_key, schema)
    if not merge_key:
        patch_items, server_only = _partition_primitives(merged, patch)
    else:
        patch_items, server_only = _partition_maps(merged, patch, merge_key)
    return _normalize_element_order(patch_items, server_only, patch, original, merge_key, is_map)


def _dedup_scalars(s: list[Any]) -> list[Any]:
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _eq(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _merge_slice_special(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    without: list[Any] = []
    replace = False
    for v in patch:
        assert isinstance(v, dict)
        if DIRECTIVE not in v:
            without.append(v)
            continue
        directive = v[DIRECTIVE]
        if _eq(directive, DELETE):
            if merge_key not in v:
                raise _no_merge_key(v, merge_key)
            original = _delete_matching(original, merge_key, v[merge_key])
        elif _eq(directive, REPLACE):
            replace = True
        elif _eq(directive, MERGE):
            raise SMPError("merging lists cannot yet be specified in the patch")
        else:
            raise SMPError(f"unknown patch type: {_go_s(directive)} in map: {go_format_v(v)}")
    if replace:
        return without, []
    return original, without


def _find_map(items: list[Any], key: str, value: Any) -> tuple[dict[str, Any] | None, int]:
    for i, v in enumerate(items):
        if not isinstance(v, dict):
            raise SMPError(f"value for key {i} is not a map")
        if key in v and _eq(v[key], value):
            return v, i
    return None, -1


def _delete_matching(original: list[Any], key: str, value: Any) -> list[Any]:
    while True:
        found, idx = _find_map(original, key, value)
        if found is None:
            return original
        original = original[:idx] + original[idx + 1 :]


def _merge_slice_plain(
    original: list[Any], patch: list[Any], merge_key: str, schema: GoType
) -> list[Any]:
    for v in patch:
        assert isinstance(v, dict)
        if merge_key not in v:
            raise _no_merge_key(v, merge_key)
        found, idx = _find_map(original, merge_key, v[merge_key])
        if found is not None:
            original[idx] = _merge_map(found, v, schema)
        else:
            original = [*original, v]
    return original


def _partition_primitives(original: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    in_patch = {_hash_key(v) for v in by}
    patch_items = [v for v in original if _hash_key(v) in in_patch]
    server_only = [v for v in original if _hash_key(v) not in in_patch]
    return patch_items, server_only


def _partition_maps(
    original: list[Any], by: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    patch_items: list[Any] = []
    server_only: list[Any] = []
    for v in original:
        if not isinstance(v, dict):
            raise _bad_arg_type("map[string]interface {}", v)
        if merge_key not in v:
            raise _no_merge_key(v, merge_key)
        found, _ = _find_map(by, merge_key, v[merge_key])
        (patch_items if found is not None else server_only).append(v)
    return patch_items, server_only


def _index(items: list[Any], value: Any, merge_key: str, is_map: bool) -> int:
    def key_of(item: Any) -> Any:
        if is_map:
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    target = key_of(value)
    for i, v in enumerate(items):
        if _eq(target, key_of(v)):
            return i
    return -1


def _validate_merge_key_in_lists(merge_key: str, *lists: list[Any]) -> None:
    for items in lists:
        for item in items:
            if not isinstance(item, dict):
                raise _bad_arg_type("map[string]interface {}", item)
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)


def _stable_sort(items: list[Any], less: Callable[[Any, Any], bool]) -> list[Any]:
    """Go's ``sort.SliceStable`` (insertion sort in blocks of 20, then symmetric merges).

    The library's ordering function is not a strict weak order, so the exact algorithm
    matters; lists longer than 20 fall back to the same insertion sort over the whole
    list, which agrees with Go whenever the order list covers every item.
    """
    out = list(items)
    for i in range(1, len(out)):
        j = i
        while j > 0 and less(out[j], out[j - 1]):
            out[j], out[j - 1] = out[j - 1], out[j]
            j -= 1
    return out


def _normalize_slice_order(
    to_sort: list[Any], order: list[Any], merge_key: str, is_map: bool
) -> list[Any]:
    to_delete: list[Any] = []
    if is_map:
        _validate_merge_key_in_lists(merge_key, to_sort, order)
        keep: list[Any] = []
        for v in to_sort:
            if isinstance(v, dict) and DIRECTIVE in v and _eq(v[DIRECTIVE], DELETE):
                to_delete.append(v)
            else:
                keep.append(v)
        to_sort = keep

    def less(a: Any, b: Any) -> bool:
        ia = _index(order, a, merge_key, is_map)
        if ia >= 0:
            ib = _index(order, b, merge_key, is_map)
            if ib >= 0:
                return ia < ib
        return True

    return _stable_sort(to_sort, less) + to_delete


def _merge_sorted(
    left: list[Any], right: list[Any], server_order: list[Any], merge_key: str, is_map: bool
) -> list[Any]:
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, is_map)
            ri = _index(server_order, right[j], merge_key, is_map)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _normalize_element_order(
    patch: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    is_map: bool,
) -> list[Any]:
    patch = _normalize_slice_order(patch, patch_order, merge_key, is_map)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, is_map)
    return _merge_sorted(server_only, patch, server_order, merge_key, is_map)


def _validate_with_set_order(patch_list: Any, order: Any, merge_key: str) -> None:
    if not isinstance(order, list) or not isinstance(patch_list, list):
        raise SMPError(ERR_BAD_SET_ELEMENT_ORDER)
    if not order or not patch_list:
        return
    if merge_key:
        non_delete = []
        for v in patch_list:
            if not isinstance(v, dict):
                raise _bad_arg_type("map[string]interface {}", v)
            if not (DIRECTIVE in v and _eq(v[DIRECTIVE], DELETE)):
                non_delete.append(v)
    else:
        non_delete = patch_list
    pi = oi = 0
    while pi < len(non_delete) and oi < len(order):
        item = non_delete[pi]
        if isinstance(item, dict) and DIRECTIVE in item:
            pi += 1
            continue
        if _merge_key_equal(item, order[oi], merge_key):
            pi += 1
        oi += 1
    if pi < len(non_delete) and oi >= len(order):
        raise SMPError(
            f"The order in patch list:\n{go_format_v(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{go_format_v(order)}\n"
        )


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _eq(left, right)
    if not isinstance(left, dict):
        raise _bad_arg_type("map[string]interface {}", left)
    if not isinstance(right, dict):
        raise _bad_arg_type("map[string]interface {}", right)
    if merge_key not in left:
        raise _no_merge_key(left, merge_key)
    if merge_key not in right:
        raise _no_merge_key(right, merge_key)
    return _eq(left[merge_key], right[merge_key])


def _merge_patch_into_original(
    original: dict[str, Any], patch: dict[str, Any], schema: GoType
) -> None:
    for key in list(patch):
        if key not in patch or not key.startswith(SET_ELEMENT_ORDER):
            continue
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _bad_arg_type("[]interface {}", order)
        original_key = _extract_key(key, SET_ELEMENT_ORDER)
        found_original = original_key in original
        found_patch = original_key in patch
        original_list: list[Any] = []
        patch_list: list[Any] = []
        if found_original:
            if not isinstance(original[original_key], list):
                raise _bad_arg_type("[]interface {}", original[original_key])
            original_list = original[original_key]
        if found_patch:
            if not isinstance(patch[original_key], list):
                raise _bad_arg_type("[]interface {}", patch[original_key])
            patch_list = patch[original_key]
        sub, meta = _lookup_slice(schema, original_key)
        strategy = _extract_retain_keys_strategy(meta.strategies)
        _validate_with_set_order(patch_list, order, meta.merge_key)
        if found_original and not found_patch:
            merged = original_list
        elif not found_original and found_patch:
            value, _ = _remove_directives(patch_list)
            merged = value
        elif found_original and found_patch:
            merged = _merge_slice_handler(
                original_list, patch_list, sub, strategy, meta.merge_key, False
            )
        else:
            continue
        if not meta.merge_key:
            patch_items, server_only = _partition_primitives(merged, order)
        else:
            patch_items, server_only = _partition_maps(merged, order, meta.merge_key)
        elem = _slice_element_kind(original_list, patch_list)
        is_map = elem == "map[string]interface {}"
        original[original_key] = _normalize_element_order(
            patch_items, server_only, order, original_list, meta.merge_key, is_map
        )
        patch.pop(original_key, None)
