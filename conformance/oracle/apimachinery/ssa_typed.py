"""Schema-aware walks over CSR JSON, as structured-merge-diff does them for apply.

The CSR schema, seen the way SMD sees it (derived from ``conformance.wire.schema``):
structs whose fields are known; granular maps (labels, annotations, ``spec.extra``);
atomic lists (``usages``, ``groups``, ``managedFields``); the map list
``status.conditions`` keyed by ``type``; the map list ``ownerReferences`` keyed by ``uid``
whose items are atomic; and the set ``finalizers``.

Values are plain JSON (dict, list, str, int, float, bool, None); ``MISSING`` stands for an
absent field, which SMD distinguishes from an explicit null. The walks are ports of SMD v6
``typed/tofieldset.go``, ``compare.go``, ``merge.go`` (with the keep-right-hand-side rule),
``remove.go`` and ``Set.EnsureNamedFieldsAreMembers``, keeping their quirks (an emptied
map becomes null, list order after a merge) because the result must match byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

from conformance.oracle.apimachinery.ssa_fieldset import FieldSet, Path, PathElement, path_string
from conformance.wire.schema import CSR, MESSAGES


class _Missing:
    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class TypedError(ValueError):
    """The value does not fit the schema (unknown field, wrong shape, duplicate key)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(_join_errors(errors))
        self.errors = errors


def _join_errors(errors: list[str]) -> str:
    if len(errors) == 1:
        return errors[0]
    return "\n".join(["errors:", *("  " + e for e in errors)])


@dataclass(frozen=True)
class Type:
    """One SMD atom: ``scalar``, ``map`` (a struct when ``message`` is set) or ``list``."""

    kind: str
    scalar: str = ""
    """For scalars: ``string``, ``numeric``, ``boolean`` or ``any``."""
    message: str = ""
    element: Type | None = None
    atomic: bool = False
    keys: tuple[str, ...] = ()
    key_defaults: tuple[tuple[str, Any], ...] = field(default=())

    def field_type(self, name: str) -> Type | None:
        """The declared type of a struct field, or a map's element type."""
        if self.message:
            return _field_types(self.message).get(name)
        return self.element

    @property
    def associative(self) -> bool:
        return self.kind == "list" and not self.atomic


SCALAR: Final = Type("scalar", scalar="string")
_SCALARS: Final = {
    "string": SCALAR,
    "bytes": SCALAR,
    "time": SCALAR,
    "int32": Type("scalar", scalar="numeric"),
    "int64": Type("scalar", scalar="numeric"),
    "bool": Type("scalar", scalar="boolean"),
}
_ANY: Final = Type("scalar", scalar="any")


@cache
def _field_types(message: str) -> dict[str, Type]:
    msg = MESSAGES[message]
    out: dict[str, Type] = {}
    for f in msg.fields:
        if f.kind == "string_map":
            t = Type("map", element=SCALAR)
        elif f.kind == "extra_map":
            t = Type("map", element=Type("list", element=SCALAR, atomic=True))
        elif f.kind == "message":
            t = message_type(f.ref)
        else:
            t = _SCALARS.get(f.kind, _ANY)
        if f.repeated:
            if f.list_type == "map":
                item = MESSAGES[f.ref]
                defaults = tuple(
                    (k, item.by_name[k].default) for k in f.map_keys if item.by_name[k].has_default
                )
                t = Type("list", element=t, keys=f.map_keys, key_defaults=defaults)
            elif f.list_type == "set":
                t = Type("list", element=t)
            else:
                t = Type("list", element=t, atomic=True)
        out[f.name] = t
    return out


@cache
def message_type(name: str) -> Type:
    return Type("map", message=name, atomic=MESSAGES[name].map_type == "atomic")


ROOT: Final = message_type(CSR.name)


def item_element(t: Type, item: Any) -> PathElement:
    """The path element naming one item of an associative list."""
    if t.keys:
        if not isinstance(item, dict):
            raise TypedError(["associative list with keys may not have non-map elements"])
        defaults = dict(t.key_defaults)
        fields = [
            (k, item[k]) if k in item else (k, defaults[k])
            for k in t.keys
            if k in item or k in defaults
        ]
        if not fields:
            omitted = f"omits all key fields {list(t.keys)}"
            raise TypedError([f"associative list with keys has an element that {omitted}"])
        return PathElement.key(fields)
    if isinstance(item, dict | list) or item is None:
        raise TypedError(["associative list without keys has an element that is not a scalar"])
    return PathElement.value(item)


# -- validation of an applied configuration -----------------------------------------------


def validate(value: Any, t: Type = ROOT, path: Path = ()) -> list[str]:
    """What ``ObjectToTyped`` rejects in an apply body: unknown fields, shapes that do not
    fit, duplicate keys in map lists. Messages follow SMD's (``.spec.foo: field not
    declared in schema``)."""
    errors: list[str] = []
    where = path_string(path)
    prefix = f"{where}: " if where else ""
    if value is None:
        return errors
    if t.kind == "scalar":
        if t.scalar == "string" and not isinstance(value, str):
            errors.append(
                f"{prefix}expected string, got &value.valueUnstructured{{Value:{value!r}}}"
            )
        elif t.scalar == "numeric" and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            errors.append(f"{prefix}expected numeric (int or float), got {_go_type(value)}")
        elif t.scalar == "boolean" and not isinstance(value, bool):
            errors.append(f"{prefix}expected boolean, got {_go_v(value)}")
        elif t.scalar == "any" and isinstance(value, dict | list):
            errors.append(f"{prefix}expected any scalar, got {_go_v(value)}")
        return errors
    if t.kind == "list":
        if not isinstance(value, list):
            return [f"{prefix}expected list, got {_go_v(value)}"]
        if t.atomic:
            return errors
        seen: set[PathElement] = set()
        assert t.element is not None
        for item in value:
            try:
                pe = item_element(t, item)
            except TypedError as e:
                errors.extend(f"{prefix}{m}" for m in e.errors)
                continue
            if pe in seen:
                errors.append(f"{prefix}duplicate entries for key {pe}")
                continue
            seen.add(pe)
            errors.extend(validate(item, t.element, (*path, pe)))
        return errors
    if not isinstance(value, dict):
        return [f"{prefix}expected map, got {_go_v(value)}"]
    if t.atomic:
        return errors
    for key, sub in value.items():
        ft = t.field_type(key)
        pe = PathElement.field(key)
        if ft is None:
            errors.append(f"{path_string((*path, pe))}: field not declared in schema")
            continue
        errors.extend(validate(sub, ft, (*path, pe)))
    return errors


def _go_type(value: Any) -> str:
    """Go's ``%T`` for a decoded JSON value."""
    return {
        str: "string",
        bool: "bool",
        list: "[]interface {}",
        dict: "map[string]interface {}",
    }.get(type(value), "int64")


def _go_v(value: Any) -> str:
    """Roughly how Go's ``%v`` shows SMD's value wrapper (``&{notamap}``)."""
    if isinstance(value, str):
        return "&{" + value + "}"
    if isinstance(value, bool):
        return "&{" + ("true" if value else "false") + "}"
    if isinstance(value, list):
        return "&{[" + " ".join(str(v) for v in value) + "]}"
    if isinstance(value, dict):
        return "&{map[" + " ".join(f"{k}:{v}" for k, v in sorted(value.items())) + "]}"
    return "&{" + str(value) + "}"


# -- to field set ----------------------------------------------------------------------


def to_field_set(value: Any, t: Type = ROOT) -> FieldSet:
    out = FieldSet()
    _tfs(value, t, (), out)
    return out


def _tfs(v: Any, t: Type, path: Path, out: FieldSet) -> None:
    if t.kind == "scalar":
        out.insert(path)
        return
    if t.kind == "list":
        if t.atomic:
            out.insert(path)
            return
        if not isinstance(v, list):
            return
        assert t.element is not None
        pes = [item_element(t, item) for item in v]
        seen: set[PathElement] = set()
        dups: set[PathElement] = set()
        for pe in pes:
            if pe in seen:
                if pe not in dups:
                    out.insert((*path, pe))
                    dups.add(pe)
            else:
                seen.add(pe)
        for item, pe in zip(v, pes, strict=True):
            if pe in dups:
                continue
            _tfs(item, t.element, (*path, pe), out)
            out.insert((*path, pe))
        return
    if t.atomic:
        out.insert(path)
        return
    if not isinstance(v, dict):
        return
    for key, val in v.items():
        ft = t.field_type(key)
        child = (*path, PathElement.field(key))
        if ft is None:
            raise TypedError([f"{path_string(child)}: field not declared in schema"])
        _tfs(val, ft, child, out)
        declared = bool(t.message)
        if val is None or (isinstance(val, dict) and not val) or not declared:
            out.insert(child)


# -- compare -----------------------------------------------------------------------------


@dataclass
class Comparison:
    added: FieldSet = field(default_factory=FieldSet)
    modified: FieldSet = field(default_factory=FieldSet)
    removed: FieldSet = field(default_factory=FieldSet)

    def filtered(self, exclude: FieldSet | None) -> Comparison:
        if exclude is None:
            return self
        return Comparison(
            self.added.recursive_difference(exclude),
            self.modified.recursive_difference(exclude),
            self.removed.recursive_difference(exclude),
        )


def compare(lhs: Any, rhs: Any, t: Type = ROOT) -> Comparison:
    out = Comparison()
    _cmp(lhs, rhs, t, (), out)
    return out


def _as_list(v: Any) -> list[Any] | None:
    return v if isinstance(v, list) else None


def _as_map(v: Any) -> dict[str, Any] | None:
    return v if isinstance(v, dict) else None


def _cmp(lhs: Any, rhs: Any, t: Type, path: Path, out: Comparison) -> None:
    in_leaf = False

    def leaf() -> None:
        nonlocal in_leaf
        in_leaf = True
        if lhs is MISSING:
            out.added.insert(path)
        elif rhs is MISSING:
            out.removed.insert(path)
        elif lhs != rhs:
            out.modified.insert(path)

    if t.kind == "scalar":
        leaf()
    elif t.kind == "list":
        ll = _as_list(lhs) if lhs is not MISSING else None
        rl = _as_list(rhs) if rhs is not MISSING else None
        if t.atomic or (not ll and not rl):
            leaf()
        else:
            _cmp_list(t, ll, rl, path, out)
    else:
        lm = _as_map(lhs) if lhs is not MISSING else None
        rm = _as_map(rhs) if rhs is not MISSING else None
        if t.atomic or (not lm and not rm):
            leaf()
        else:
            for key in _zip_keys(lm, rm):
                ft = t.field_type(key)
                if ft is None:
                    where = path_string((*path, PathElement.field(key)))
                    raise TypedError([f"{where}: field not declared in schema"])
                _cmp(
                    lm.get(key, MISSING) if lm is not None else MISSING,
                    rm.get(key, MISSING) if rm is not None else MISSING,
                    ft,
                    (*path, PathElement.field(key)),
                    out,
                )
    if not in_leaf:
        if lhs is MISSING:
            out.added.insert(path)
        elif rhs is MISSING:
            out.removed.insert(path)


def _zip_keys(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> list[str]:
    keys = list(a or {})
    keys += [k for k in (b or {}) if a is None or k not in a]
    return keys


def _cmp_list(
    t: Type, lhs: list[Any] | None, rhs: list[Any] | None, path: Path, out: Comparison
) -> None:
    assert t.element is not None
    order: list[PathElement] = []
    lvals: dict[PathElement, list[Any]] = {}
    rvals: dict[PathElement, list[Any]] = {}
    for item in lhs or []:
        pe = item_element(t, item)
        if pe not in lvals:
            order.append(pe)
        lvals.setdefault(pe, []).append(item)
    for item in rhs or []:
        pe = item_element(t, item)
        if pe not in rvals and pe not in lvals:
            order.append(pe)
        rvals.setdefault(pe, []).append(item)
    for pe in order:
        ll, rl = lvals.get(pe, []), rvals.get(pe, [])
        child = (*path, pe)
        if len(ll) <= 1 and len(rl) <= 1:
            _cmp(ll[0] if ll else MISSING, rl[0] if rl else MISSING, t.element, child, out)
        elif len(ll) >= 2 and len(rl) >= 2:
            if ll != rl:
                out.modified.insert(child)
        elif len(ll) >= 2:
            if rl:
                _cmp(MISSING, rl[0], t.element, child, out)
            out.removed.insert(child)
        else:
            if ll:
                _cmp(ll[0], MISSING, t.element, child, out)
            out.added.insert(child)


# -- merge -------------------------------------------------------------------------------


def merge(lhs: Any, rhs: Any, t: Type = ROOT) -> Any:
    """``lhs.Merge(rhs)``: the right-hand side wins leaf by leaf; map lists merge by key."""
    return _merge(lhs, rhs, t)


def _merge(lhs: Any, rhs: Any, t: Type) -> Any:
    def keep_rhs() -> Any:
        return rhs if rhs is not MISSING else lhs

    if t.kind == "scalar":
        return keep_rhs()
    if t.kind == "list":
        ll = _as_list(lhs) if lhs is not MISSING else None
        rl = _as_list(rhs) if rhs is not MISSING else None
        if t.atomic or (not ll and not rl):
            return keep_rhs()
        merged = _merge_list(t, ll or [], rl or [])
        return merged if merged else MISSING
    lm = _as_map(lhs) if lhs is not MISSING else None
    rm = _as_map(rhs) if rhs is not MISSING else None
    if t.atomic or (not lm and not rm):
        return keep_rhs()
    out: dict[str, Any] = {}
    for key in _zip_keys(lm, rm):
        ft = t.field_type(key)
        if ft is None:
            raise TypedError([f".{key}: field not declared in schema"])
        value = _merge(
            lm.get(key, MISSING) if lm is not None else MISSING,
            rm.get(key, MISSING) if rm is not None else MISSING,
            ft,
        )
        if value is not MISSING:
            out[key] = value
    return out if out else MISSING


def _merge_list(t: Type, lhs: list[Any], rhs: list[Any]) -> list[Any]:
    assert t.element is not None
    elem = t.element
    rhs_pes: list[PathElement] = []
    observed_rhs: dict[PathElement, Any] = {}
    for item in rhs:
        pe = item_element(t, item)
        if pe in observed_rhs:
            raise TypedError([f"duplicate entries for key {pe}"])
        observed_rhs[pe] = item
        rhs_pes.append(pe)
    lhs_pes: list[PathElement] = []
    observed_lhs: dict[PathElement, Any] = {}
    for item in lhs:
        pe = item_element(t, item)
        observed_lhs[pe] = None if pe in observed_lhs else item
        lhs_pes.append(pe)

    shared = [pe for pe in rhs_pes if pe in observed_lhs]
    next_shared: PathElement | None = shared.pop(0) if shared else None
    merged_rhs: set[PathElement] = set()
    out: list[Any] = []

    def add(value: Any) -> None:
        if value is not MISSING:
            out.append(value)

    li = ri = 0
    while li < len(lhs_pes) or ri < len(rhs_pes):
        if li < len(lhs_pes) and ri < len(rhs_pes):
            pe = lhs_pes[li]
            if pe == rhs_pes[ri]:
                merged_rhs.add(pe)
                add(_merge(observed_lhs[pe], observed_rhs[pe], elem))
                li += 1
                ri += 1
                next_shared = shared.pop(0) if shared else None
                continue
            if pe in observed_rhs and next_shared is not None and next_shared != pe:
                li += 1
                continue
        if li < len(lhs_pes):
            pe = lhs_pes[li]
            if pe not in observed_rhs:
                add(_merge(lhs[li], MISSING, elem))
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
        if ri < len(rhs_pes):
            pe = rhs_pes[ri]
            merged_rhs.add(pe)
            add(_merge(observed_lhs.get(pe, MISSING), observed_rhs[pe], elem))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop(0) if shared else None
    return out


# -- remove ------------------------------------------------------------------------------


def remove_items(value: Any, to_remove: FieldSet, t: Type = ROOT) -> Any:
    """``RemoveItems``: drop every path in ``to_remove`` (a containing field goes whole);
    a list or map left empty becomes null, as in SMD."""
    return _remove(value, to_remove, t)


def _remove(v: Any, s: FieldSet, t: Type) -> Any:
    if t.kind == "scalar":
        return v
    if t.kind == "list":
        if not isinstance(v, list) or not v or t.atomic:
            return None
        assert t.element is not None
        items: list[Any] = []
        for item in v:
            pe = item_element(t, item)
            if s.has((pe,)):
                continue
            sub = s.with_prefix(pe)
            items.append(_remove(item, sub, t.element) if not sub.empty() else item)
        return items or None
    if not isinstance(v, dict) or not v or t.atomic:
        return None
    out: dict[str, Any] = {}
    for key, val in v.items():
        pe = PathElement.field(key)
        if s.has((pe,)):
            continue
        sub = s.with_prefix(pe)
        if not sub.empty():
            ft = t.field_type(key)
            assert ft is not None
            val = _remove(val, sub, ft)
        out[key] = val
    return out or None


# -- named fields ------------------------------------------------------------------------


def ensure_named_fields_are_members(s: FieldSet, t: Type = ROOT) -> FieldSet:
    """Make every declared struct field that has children in ``s`` a member too."""
    out = FieldSet()
    out.members = set(s.members)
    for pe, child in s.children.items():
        name = pe.field_name
        child_type: Type | None = None
        if name is not None and t.kind == "map":
            if t.message and name in _field_types(t.message):
                out.members.add(pe)
            child_type = t.field_type(name)
        elif pe.rank == 1 and t.kind == "list":
            child_type = t.element
        out.children[pe] = ensure_named_fields_are_members(child, child_type or SCALAR)
    return out
