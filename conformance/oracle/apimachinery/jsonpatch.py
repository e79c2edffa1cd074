"""JSON patch and JSON merge patch exactly as kube-apiserver applies them.

kube-apiserver v1.37 uses ``gopkg.in/evanphx/json-patch.v4`` (v4.13.0) for both. That
library is not a textbook RFC 6902/7386 implementation, and its quirks decide verdicts:

- documents are decoded lazily: a value nobody looks into stays as its original bytes
  and is written back compacted, while every object the patch walks through is
  re-encoded with sorted keys (this is visible in the 422 text of a failed decode);
- ``replace`` of a missing object member adds it; ``test`` of a missing member against
  ``null`` (or no value) passes; ``null`` and ``{}`` compare equal;
- array indices go through Go's ``strconv.Atoi`` (``+1`` and ``01`` are accepted) and
  negative indices count from the end;
- a path without a leading ``/`` still works, its first segment is ignored;
- a merge patch of ``null`` or a scalar is refused (``Invalid JSON Patch``), while an
  array patch replaces the whole document.

The functions return the patched bytes or a :class:`PatchError`; only the caller knows
how kube-apiserver reports each error (most JSON patch failures become a generic 422
whose text does not include the library's message).

Upstream: ``gopkg.in/evanphx/json-patch.v4@v4.13.0`` ``patch.go`` and ``merge.go``;
apiserver ``endpoints/handlers/patch.go`` (``applyJSPatch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Union

from conformance.oracle.apimachinery.fielderrors import go_json_string
from conformance.oracle.golang.jsonencode import (
    RawScanError,
    compact,
    raw_kind,
    split_array,
    split_object,
)

MAX_JSON_PATCH_OPERATIONS: Final = 10000

RAW: Final = 0
DOC: Final = 1
ARY: Final = 2


class GoPanic(Exception):
    """The Go code would panic here (e.g. writing into a nil map); the server answers 500."""


@dataclass(frozen=True)
class PatchError:
    """A failure while applying a patch. ``message`` is the library's error text."""

    message: str
    kind: str = "apply"  # apply | bad-patch | bad-doc | too-many | panic


# A Go *lazyNode is either nil (Python None) or a node.
Node = Union["LazyNode", None]


@dataclass
class LazyNode:
    """json-patch v4's ``lazyNode``: raw bytes until someone needs its structure."""

    raw: bytes | None
    which: int = RAW
    doc: dict[str, Node] | None = None
    ary: list[Node] | None = None
    _doc_nil: bool = field(default=False, repr=False)

    # -- conversions -------------------------------------------------------------

    def into_doc(self) -> dict[str, Node] | None:
        """Returns the map (``None`` for a Go nil map); raises ValueError if not an object."""
        if self.which == DOC:
            return self.doc
        if self.raw is None:
            raise ValueError("invalid state detected")
        kind = raw_kind(self.raw)
        if kind == "null":
            self.doc = None
        elif kind == "object":
            self.doc = _decode_doc(self.raw)
        else:
            raise ValueError(
                f"json: cannot unmarshal {kind} into Go value of type jsonpatch.partialDoc"
            )
        self.which = DOC
        return self.doc

    def into_ary(self) -> list[Node] | None:
        if self.which == ARY:
            return self.ary
        if self.raw is None:
            raise ValueError("invalid state detected")
        kind = raw_kind(self.raw)
        if kind == "null":
            self.ary = None
        elif kind == "array":
            self.ary = _decode_ary(self.raw)
        else:
            raise ValueError(
                f"json: cannot unmarshal {kind} into Go value of type jsonpatch.partialArray"
            )
        self.which = ARY
        return self.ary

    def try_doc(self) -> bool:
        if self.raw is None:
            return False
        try:
            kind = raw_kind(self.raw)
            if kind == "null":
                self.doc = None
            elif kind == "object":
                self.doc = _decode_doc(self.raw)
            else:
                return False
        except RawScanError:
            return False
        self.which = DOC
        return True

    def try_ary(self) -> bool:
        if self.raw is None:
            return False
        kind = raw_kind(self.raw)
        if kind == "null":
            self.ary = None
        elif kind == "array":
            self.ary = _decode_ary(self.raw)
        else:
            return False
        self.which = ARY
        return True

    def compacted(self) -> bytes | None:
        """``lazyNode.compact`` (no HTML escaping; the raw bytes if they do not compact)."""
        if self.raw is None:
            return None
        return compact(self.raw, escape_html=False)

    def equal(self, o: LazyNode) -> bool:
        """``lazyNode.equal``, quirks included."""
        if self.which == RAW and not self.try_doc() and not self.try_ary():
            # neither an object nor an array: compare the compacted bytes
            if o.which != RAW:
                return False
            return self.compacted() == o.compacted()
        if self.which == DOC:
            if o.which == RAW and not o.try_doc():
                return False
            if o.which != DOC:
                return False
            mine = self.doc or {}
            theirs = o.doc or {}
            if len(mine) != len(theirs):
                return False
            for k, v in mine.items():
                if k not in theirs:
                    return False
                ov = theirs[k]
                if (v is None) != (ov is None):
                    return False
                if v is None or ov is None:
                    continue
                if not v.equal(ov):
                    return False
            return True
        if o.which != ARY and not o.try_ary():
            return False
        mine_a = self.ary or []
        theirs_a = o.ary or []
        if len(mine_a) != len(theirs_a):
            return False
        for a, b in zip(mine_a, theirs_a, strict=True):
            if a is None or b is None:
                # Go would dereference a nil node here and panic.
                raise GoPanic("nil pointer dereference in lazyNode.equal")
            if not a.equal(b):
                return False
        return True


def _decode_doc(raw: bytes) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for key, value in split_object(raw):
        out[key] = None if value is None else LazyNode(value)
    return out


def _decode_ary(raw: bytes) -> list[Node]:
    return [None if v is None else LazyNode(v) for v in split_array(raw)]


def marshal_node(node: Node) -> bytes:
    """``json.Marshal`` of a node: raw bytes compacted (HTML-escaped), maps sorted."""
    if node is None:
        return b"null"
    if node.which == RAW:
        if node.raw is None:
            return b"null"
        return compact(node.raw, escape_html=True)
    if node.which == DOC:
        return marshal_doc(node.doc)
    return marshal_ary(node.ary)


def marshal_doc(doc: dict[str, Node] | None) -> bytes:
    if doc is None:
        return b"null"
    parts = [
        go_json_string(k).encode("utf-8", errors="surrogatepass") + b":" + marshal_node(doc[k])
        for k in sorted(doc)
    ]
    return b"{" + b",".join(parts) + b"}"


def marshal_ary(ary: list[Node] | None) -> bytes:
    if ary is None:
        return b"null"
    return b"[" + b",".join(marshal_node(n) for n in ary) + b"]"


# ---------------------------------------------------------------------------
# containers (partialDoc / partialArray)
# ---------------------------------------------------------------------------


class _Fail(Exception):
    pass


def go_atoi(s: str) -> int:
    """``strconv.Atoi``: optional sign, ASCII digits only, int64 range."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not body.isascii() or not body.isdigit():
        raise _Fail(f'strconv.Atoi: parsing "{s}": invalid syntax')
    n = int(s)
    if not -(1 << 63) <= n < (1 << 63):
        raise _Fail(f'strconv.Atoi: parsing "{s}": value out of range')
    return n


class _DocBox:
    """A partialDoc container (``m`` None is a Go nil map)."""

    def __init__(self, m: dict[str, Node] | None) -> None:
        self.m = m

    def get(self, key: str) -> Node:
        return None if self.m is None else self.m.get(key)

    def set(self, key: str, val: Node) -> None:
        if self.m is None:
            raise GoPanic("assignment to entry in nil map")
        self.m[key] = val

    add = set

    def remove(self, key: str) -> None:
        if self.m is None or key not in self.m:
            raise _Fail(f"Unable to remove nonexistent key: {key}: missing value")
        del self.m[key]


class _AryBox:
    """A partialArray container, shared with the node that holds it."""

    def __init__(self, owner: LazyNode | None, items: list[Node] | None) -> None:
        self.owner = owner
        self.items: list[Node] = items if items is not None else []

    def _store(self, items: list[Node]) -> None:
        self.items = items
        if self.owner is not None:
            self.owner.ary = items

    def get(self, key: str) -> Node:
        idx = go_atoi(key)
        n = len(self.items)
        if idx < 0:
            if idx < -n:
                raise _Fail(f"Unable to access invalid index: {idx}: invalid index referenced")
            idx += n
        if idx >= n:
            raise _Fail(f"Unable to access invalid index: {idx}: invalid index referenced")
        return self.items[idx]

    def set(self, key: str, val: Node) -> None:
        idx = go_atoi(key)
        n = len(self.items)
        if idx < 0:
            if idx < -n:
                raise _Fail(f"Unable to access invalid index: {idx}: invalid index referenced")
            idx += n
        self.items[idx] = val

    def add(self, key: str, val: Node) -> None:
        if key == "-":
            self._store([*self.items, val])
            return
        try:
            idx = go_atoi(key)
        except _Fail as exc:
            raise _Fail(f"value was not a proper array index: '{key}': {exc}") from None
        size = len(self.items) + 1
        if idx >= size:
            raise _Fail(f"Unable to access invalid index: {idx}: invalid index referenced")
        if idx < 0:
            if idx < -size:
                raise _Fail(f"Unable to access invalid index: {idx}: invalid index referenced")
            idx += size
        self._store([*self.items[:idx], val, *self.items[idx:]])

    def remove(self, key: str) -> None:
        idx = go_atoi(key)
        n = len(self.items)
        if idx >= n:
            raise _Fail(f"Unable to access invalid index: {idx}: invalid index referenced")
        if idx < 0:
            if idx < -n:
                raise _Fail(f"Unable to access invalid index: {idx}: invalid index referenced")
            idx += n
        self._store([*self.items[:idx], *self.items[idx + 1 :]])


_Container = _DocBox | _AryBox


def _decode_pointer_key(k: str) -> str:
    return k.replace("~1", "/").replace("~0", "~")


def _is_array_raw(raw: bytes) -> bool:
    for c in raw:
        if c in b" \n\t":
            continue
        return c == 0x5B
    return False


def _find_object(root: _Container, path: str) -> tuple[_Container | None, str]:
    split = path.split("/")
    if len(split) < 2:
        return None, ""
    parts = split[1:-1]
    key = split[-1]
    doc: _Container = root
    for part in parts:
        try:
            nxt = doc.get(_decode_pointer_key(part))
        except _Fail:
            return None, ""
        if nxt is None or nxt.raw is None:
            return None, ""
        try:
            if _is_array_raw(nxt.raw):
                doc = _AryBox(nxt, nxt.into_ary())
            else:
                doc = _DocBox(nxt.into_doc())
        except (ValueError, RawScanError):
            return None, ""
    return doc, _decode_pointer_key(key)


# ---------------------------------------------------------------------------
# JSON patch
# ---------------------------------------------------------------------------

Operation = dict[str, bytes | None] | None
"""One decoded operation: member name → raw value (``None`` for JSON null); ``None`` for
a ``null`` array element (a nil Go map)."""


def decode_patch(body: bytes) -> list[Operation] | PatchError:
    """``jsonpatch.DecodePatch``: a JSON array of objects (``null`` is an empty patch)."""
    kind = raw_kind(body)
    if kind == "null":
        return []
    if kind != "array":
        return PatchError(
            f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Patch", "bad-patch"
        )
    ops: list[Operation] = []
    first_error: str | None = None
    for raw in split_array(body):
        if raw is None:
            ops.append(None)
            continue
        ekind = raw_kind(raw)
        if ekind != "object":
            if first_error is None:
                first_error = (
                    f"json: cannot unmarshal {ekind} into Go value of type jsonpatch.Operation"
                )
            ops.append({})
            continue
        op: dict[str, bytes | None] = {}
        for key, value in split_object(raw):
            op[key] = value
        ops.append(op)
    if first_error is not None:
        return PatchError(first_error, "bad-patch")
    return ops


def _op_string(op: Operation, key: str) -> str | None:
    """The member as a Go string; ``None`` when missing, null or not a string."""
    if op is None:
        return None
    raw = op.get(key)
    if raw is None or raw_kind(raw) != "string":
        return None
    from conformance.oracle.golang.jsonencode import unquote_key

    return unquote_key(raw)


def _op_value(op: Operation) -> Node:
    """``Operation.value()``: nil when the member is absent, else a node (raw may be nil)."""
    if op is None or "value" not in op:
        return None
    return LazyNode(op["value"])


def _deep_copy(src: Node) -> Node:
    if src is None:
        return None
    return LazyNode(marshal_node(src))


def apply_json_patch(doc: bytes, ops: list[Operation]) -> bytes | PatchError:
    """``Patch.Apply``: the patched document bytes, or the first failure."""
    if len(doc) == 0:
        return doc
    root_node = LazyNode(doc)
    root: _Container
    try:
        if doc[:1] == b"[":
            root = _AryBox(root_node, root_node.into_ary())
        else:
            root = _DocBox(root_node.into_doc())
    except (ValueError, RawScanError) as exc:
        return PatchError(str(exc), "bad-doc")
    try:
        for op in ops:
            kind = _op_string(op, "op") if op is not None and "op" in op else None
            if op is not None and "op" in op and op["op"] is not None and kind is None:
                kind = "unknown"
            if kind is None:
                kind = "unknown"
            if kind == "add":
                _add(root, op)
            elif kind == "remove":
                _remove(root, op)
            elif kind == "replace":
                root = _replace(root, op)
            elif kind == "move":
                _move(root, op)
            elif kind == "test":
                _test(root, op)
            elif kind == "copy":
                _copy(root, op)
            else:
                raise _Fail(f"Unexpected kind: {kind}")
    except _Fail as exc:
        return PatchError(str(exc))
    except GoPanic as exc:
        return PatchError(str(exc), "panic")
    if isinstance(root, _DocBox):
        return marshal_doc(root.m)
    return marshal_ary(root.items)


def _path(op: Operation, what: str) -> str:
    if op is None or op.get(what) is None:
        raise _Fail(f"{what} missing")
    value = _op_string(op, what)
    if value is None:
        raise _Fail(f"{what} is not a string")
    return value


def _add(root: _Container, op: Operation) -> None:
    path = _path(op, "path")
    con, key = _find_object(root, path)
    if con is None:
        raise _Fail(f'add operation does not apply: doc is missing path: "{path}": missing value')
    con.add(key, _op_value(op))


def _remove(root: _Container, op: Operation) -> None:
    path = _path(op, "path")
    con, key = _find_object(root, path)
    if con is None:
        raise _Fail(
            f'remove operation does not apply: doc is missing path: "{path}": missing value'
        )
    con.remove(key)


def _replace(root: _Container, op: Operation) -> _Container:
    path = _path(op, "path")
    if path == "":
        val = _op_value(op)
        if val is None:
            raise GoPanic("nil pointer dereference in replace")
        if val.which == RAW and not val.try_doc() and not val.try_ary():
            raise _Fail("replace operation value must be object or array")
        if val.which == ARY:
            return _AryBox(val, val.ary)
        return _DocBox(val.doc)
    con, key = _find_object(root, path)
    if con is None:
        raise _Fail(f"replace operation does not apply: doc is missing path: {path}: missing value")
    con.get(key)  # arrays check the index; objects accept a missing member
    con.set(key, _op_value(op))
    return root


def _move(root: _Container, op: Operation) -> None:
    frm = _path(op, "from")
    con, key = _find_object(root, frm)
    if con is None:
        raise _Fail(
            f"move operation does not apply: doc is missing from path: {frm}: missing value"
        )
    val = con.get(key)
    con.remove(key)
    path = _path(op, "path")
    con, key = _find_object(root, path)
    if con is None:
        raise _Fail(f"move operation does not apply: doc is missing destination path: {path}")
    con.add(key, val)


def _test(root: _Container, op: Operation) -> None:
    path = _path(op, "path")
    if path == "":
        self_node = LazyNode(None)
        if isinstance(root, _DocBox):
            self_node.doc = root.m
            self_node.which = DOC
        else:
            self_node.ary = root.items
            self_node.which = ARY
        other = _op_value(op)
        if other is None:
            raise GoPanic("nil pointer dereference in test")
        if self_node.equal(other):
            return
        raise _Fail(f"testing value {path} failed: test failed")
    con, key = _find_object(root, path)
    if con is None:
        raise _Fail(f"test operation does not apply: is missing path: {path}: missing value")
    val = con.get(key)
    expected = _op_value(op)
    if val is None:
        if expected is None or expected.raw is None:
            return
        raise _Fail(f"testing value {path} failed: test failed")
    if expected is None:
        raise _Fail(f"testing value {path} failed: test failed")
    if val.equal(expected):
        return
    raise _Fail(f"testing value {path} failed: test failed")


def _copy(root: _Container, op: Operation) -> None:
    frm = _path(op, "from")
    con, key = _find_object(root, frm)
    if con is None:
        raise _Fail(
            f"copy operation does not apply: doc is missing from path: {frm}: missing value"
        )
    val = con.get(key)
    path = _path(op, "path")
    con, key = _find_object(root, path)
    if con is None:
        raise _Fail(f"copy operation does not apply: doc is missing destination path: {path}")
    con.add(key, _deep_copy(val))


# ---------------------------------------------------------------------------
# JSON merge patch
# ---------------------------------------------------------------------------

BAD_JSON_PATCH: Final = "Invalid JSON Patch"
BAD_JSON_DOC: Final = "Invalid JSON Document"


def _prune_nulls(n: LazyNode) -> None:
    try:
        sub = n.into_doc()
    except (ValueError, RawScanError):
        try:
            ary = n.into_ary()
        except (ValueError, RawScanError):
            return
        _prune_ary_nulls(n, ary)
        return
    if sub is not None:
        _prune_doc_nulls(sub)


def _prune_doc_nulls(doc: dict[str, Node]) -> None:
    for k in list(doc):
        v = doc[k]
        if v is None:
            del doc[k]
        else:
            _prune_nulls(v)


def _prune_ary_nulls(owner: LazyNode | None, ary: list[Node] | None) -> list[Node]:
    out: list[Node] = []
    for v in ary or []:
        if v is not None:
            _prune_nulls(v)
        out.append(v)
    if owner is not None:
        owner.ary = out
    return out


def _merge(cur: LazyNode, patch: LazyNode) -> LazyNode:
    try:
        cur_doc = cur.into_doc()
    except (ValueError, RawScanError):
        _prune_nulls(patch)
        return patch
    try:
        patch_doc = patch.into_doc()
    except (ValueError, RawScanError):
        return patch
    if cur_doc is None:
        if patch_doc:
            raise GoPanic("assignment to entry in nil map")
        return cur
    _merge_docs(cur_doc, patch_doc or {})
    return cur


def _merge_docs(doc: dict[str, Node], patch: dict[str, Node]) -> None:
    for k, v in patch.items():
        if v is None:
            doc.pop(k, None)
            continue
        cur = doc.get(k)
        if cur is None:
            _prune_nulls(v)
            doc[k] = v
        else:
            doc[k] = _merge(cur, v)


def apply_merge_patch(doc: bytes, patch: bytes) -> bytes | PatchError:
    """``jsonpatch.MergePatch(doc, patch)`` (RFC 7386 with the library's edge cases)."""
    try:
        doc_map = _decode_doc(doc)
    except RawScanError:
        return PatchError(BAD_JSON_DOC, "bad-doc")
    kind = raw_kind(patch)
    try:
        if kind == "object":
            _merge_docs(doc_map, _decode_doc(patch))
            return marshal_doc(doc_map)
        if kind == "array":
            ary = _decode_ary(patch)
            return marshal_ary(_prune_ary_nulls(None, ary))
    except GoPanic as exc:
        return PatchError(str(exc), "panic")
    return PatchError(BAD_JSON_PATCH, "bad-patch")
