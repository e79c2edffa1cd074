"""Field paths and field sets as server-side apply keeps them, and their FieldsV1 form.

A managedFields entry names the fields one manager owns as a trie of path elements:
``f:<field>`` for a struct or map field, ``k:<json>`` for an item of a keyed list (its
key fields), ``v:<json>`` for an item of a set, ``i:<n>`` for a list index, and ``.`` to
say a node is itself a member, not only a prefix of members. The set algebra here is a
port of structured-merge-diff v6 ``fieldpath`` (``set.go``, ``element.go``,
``serialize.go``, ``serialize-pe.go``): ordering, ``Difference`` being shallow while
``RecursiveDifference`` drops whole subtrees, and the exact JSON the server writes,
because properties compare managedFields byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.oracle.apimachinery.fielderrors import go_quote
from conformance.wire import gojson

_FIELD, _KEY, _VALUE, _INDEX = 0, 1, 2, 3


def value_sort_key(value: Any) -> tuple[Any, ...]:
    """SMD's total order on values: numbers, strings, booleans, lists, maps, null."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(value_sort_key(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple(sorted((k, value_sort_key(v)) for k, v in value.items())))
    return (5,)


def go_value_string(value: Any) -> str:
    """``value.ToString``: how a key or set value appears in a conflict's path."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(go_value_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "".join(f"{k}={go_value_string(v)}" for k, v in value.items())
    return "{{undefined}}"


@dataclass(frozen=True)
class PathElement:
    """One step of a field path; equality and order follow SMD's ``PathElement.Compare``."""

    rank: int
    sort: tuple[Any, ...]
    payload: Any = field(compare=False, hash=False)

    def __lt__(self, other: PathElement) -> bool:
        return (self.rank, self.sort) < (other.rank, other.sort)

    @staticmethod
    def field(name: str) -> PathElement:
        return PathElement(_FIELD, (name,), name)

    @staticmethod
    def key(fields: Sequence[tuple[str, Any]]) -> PathElement:
        ordered = tuple(sorted(fields, key=lambda kv: kv[0]))
        return PathElement(_KEY, tuple((k, value_sort_key(v)) for k, v in ordered), ordered)

    @staticmethod
    def value(v: Any) -> PathElement:
        return PathElement(_VALUE, value_sort_key(v), v)

    @staticmethod
    def index(i: int) -> PathElement:
        return PathElement(_INDEX, (i,), i)

    @property
    def field_name(self) -> str | None:
        return str(self.payload) if self.rank == _FIELD else None

    def serialize(self) -> str:
        """The FieldsV1 key (``f:name``, ``k:{...}``, ``v:...``, ``i:n``)."""
        if self.rank == _FIELD:
            return f"f:{self.payload}"
        if self.rank == _KEY:
            body = ",".join(f"{gojson.dumps(k)}:{gojson.dumps(v)}" for k, v in self.payload)
            return "k:{" + body + "}"
        if self.rank == _VALUE:
            return "v:" + gojson.dumps(self.payload)
        return f"i:{self.payload}"

    def __str__(self) -> str:
        """``PathElement.String``, as conflict messages print it."""
        if self.rank == _FIELD:
            return "." + str(self.payload)
        if self.rank == _KEY:
            return "[" + ",".join(f"{k}={go_value_string(v)}" for k, v in self.payload) + "]"
        if self.rank == _VALUE:
            return f"[={go_value_string(self.payload)}]"
        return f"[{self.payload}]"

    @staticmethod
    def parse(text: str) -> PathElement | None:
        """A FieldsV1 key; None for kinds SMD does not know (which it skips)."""
        if len(text) < 2 or text[1] != ":":
            raise ValueError(f"bad path element {text!r}")
        kind, rest = text[0], text[2:]
        if kind == "f":
            return PathElement.field(rest)
        if kind == "k":
            parsed = json.loads(rest, object_pairs_hook=list)
            if not isinstance(parsed, list):
                raise ValueError(f"bad key {text!r}")
            return PathElement.key([(str(k), _plain(v)) for k, v in parsed])
        if kind == "v":
            return PathElement.value(json.loads(rest))
        if kind == "i":
            return PathElement.index(int(rest))
        return None


def _plain(value: Any) -> Any:
    """Undo ``object_pairs_hook=list`` below the top level of a key."""
    if isinstance(value, list) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


Path = tuple[PathElement, ...]


def path_string(path: Path) -> str:
    return "".join(str(pe) for pe in path)


class FieldSet:
    """SMD's ``fieldpath.Set``: members at this level, and child sets by path element."""

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[PathElement] = set()
        self.children: dict[PathElement, FieldSet] = {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        s = cls()
        for p in paths:
            s.insert(p)
        return s

    def copy(self) -> FieldSet:
        out = FieldSet()
        out.members = set(self.members)
        out.children = {pe: c.copy() for pe, c in self.children.items()}
        return out

    def insert(self, path: Path) -> None:
        if not path:
            return
        node = self
        for pe in path[:-1]:
            node = node.children.setdefault(pe, FieldSet())
        node.members.add(path[-1])

    def has(self, path: Path) -> bool:
        if not path:
            return False
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node else None
            if node is None:
                return False
        return node is not None and path[-1] in node.members

    def with_prefix(self, pe: PathElement) -> FieldSet:
        return self.children.get(pe) or FieldSet()

    def empty(self) -> bool:
        return not self.members and all(c.empty() for c in self.children.values())

    def union(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members | other.members
        for pe in self.children.keys() | other.children.keys():
            a, b = self.children.get(pe), other.children.get(pe)
            if a is not None and b is not None:
                out.children[pe] = a.union(b)
            else:
                out.children[pe] = (a or b or FieldSet()).copy()
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members & other.members
        for pe in self.children.keys() & other.children.keys():
            res = self.children[pe].intersection(other.children[pe])
            if not res.empty():
                out.children[pe] = res
        return out

    def difference(self, other: FieldSet) -> FieldSet:
        """Shallow: a member of ``other`` removes only that path, not what lies below."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, child in self.children.items():
            sub = other.children.get(pe)
            if sub is None:
                out.children[pe] = child.copy()
                continue
            diff = child.difference(sub)
            if not diff.empty():
                out.children[pe] = diff
        return out

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """A member of ``other`` removes the whole subtree below it too."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, child in self.children.items():
            if pe in other.members:
                continue
            sub = other.children.get(pe)
            if sub is None:
                out.children[pe] = child.copy()
                continue
            diff = child.recursive_difference(sub)
            if not diff.empty():
                out.children[pe] = diff
        return out

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every member path, members of a level before its children, each sorted."""
        for pe in sorted(self.members):
            yield (*prefix, pe)
        for pe in sorted(self.children):
            yield from self.children[pe].paths((*prefix, pe))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return set(self.paths()) == set(other.paths())

    def __hash__(self) -> int:  # pragma: no cover - sets are mutable, never hashed
        raise TypeError("FieldSet is unhashable")

    def __repr__(self) -> str:
        return "FieldSet(" + ", ".join(path_string(p) for p in self.paths()) + ")"

    # -- FieldsV1 ------------------------------------------------------------------------

    def to_fields(self) -> dict[str, Any]:
        """The FieldsV1 JSON object, keys in SMD's order (``.`` first where present)."""
        return self._emit(include_self=False)

    def _emit(self, include_self: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if include_self and (self.members or self.children):
            out["."] = {}
        live_children = {pe: c for pe, c in self.children.items() if not c.empty()}
        for pe in sorted(self.members | live_children.keys()):
            child = live_children.get(pe)
            if child is None:
                out[pe.serialize()] = {}
            else:
                out[pe.serialize()] = child._emit(include_self=pe in self.members)
        return out

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> FieldSet:
        """Parse FieldsV1 (raises ValueError on a malformed key)."""
        out, _is_member = cls._read(fields)
        return out or FieldSet()

    @classmethod
    def _read(cls, fields: Mapping[str, Any]) -> tuple[FieldSet | None, bool]:
        children: FieldSet | None = None
        is_member = False
        for key, sub in fields.items():
            if key == ".":
                is_member = True
                continue
            pe = PathElement.parse(key)
            if pe is None:
                continue
            grandchildren, child_is_member = cls._read(sub if isinstance(sub, Mapping) else {})
            if child_is_member:
                children = children or FieldSet()
                children.members.add(pe)
            if grandchildren is not None:
                children = children or FieldSet()
                existing = children.children.get(pe)
                children.children[pe] = (
                    grandchildren if existing is None else existing.union(grandchildren)
                )
        if children is None:
            is_member = True
        return children, is_member
