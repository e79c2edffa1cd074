"""Decoding a JSON request body the way kube-apiserver's JSON serializer decodes a CSR.

Two passes, as upstream does them:

1. ``SimpleMetaFactory.Interpret`` reads ``apiVersion``/``kind`` with Go's standard
   ``encoding/json`` (case-*insensitive* keys, syntax checked first). A failure here is a
   400 ``the object provided is unrecognized (must be of type CertificateSigningRequest):
   couldn't get version/kind; json parse error: … (<summary>)``.
2. The typed decode into ``certificates/v1.CertificateSigningRequest`` with
   ``sigs.k8s.io/json`` (case-*sensitive*, first type error wins and decoding goes on,
   strict mode collecting ``unknown field``/``duplicate field`` in document order). A
   failure here is a 400 ``<Kind> in version "<v>" cannot be handled as a
   CertificateSigningRequest: <err>``.

The result is the v1 wire dict as Go would re-encode the decoded struct (unknown fields
gone, ``[]byte`` as standard base64, nil pointers/slices/maps absent, ``null`` into a
plain string or number ignored, duplicate keys merged as Go merges them).

Exactness: type-mismatch, base64 (R5), int32 range (X3), strict-field and apiVersion texts
are reproduced exactly. JSON *syntax* error texts (Go's scanner) and timestamp parse
errors are not; :class:`DecodeResult` then has ``exact=False`` and an exact
``message_prefix``.

Upstream: apimachinery ``runtime/serializer/json/json.go`` and ``meta.go``,
``sigs.k8s.io/json`` ``internal/golang/encoding/json`` (decode.go, kubernetes_patch.go),
apiserver ``endpoints/handlers/create.go`` and ``rest.go`` (``transformDecodeError``,
``summarizeData``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from conformance.oracle.apimachinery.status import GROUP, KIND, VERSION
from conformance.oracle.golang.decoders import CorruptInputError, b64decode
from conformance.oracle.golang.jsonscan import syntax_error

# ---------------------------------------------------------------------------
# JSON parsing that keeps what Go can see: key order, duplicate keys, number literals
# ---------------------------------------------------------------------------


class _Obj(list[tuple[str, Any]]):
    """A JSON object as its ordered (key, value) pairs, duplicates kept."""


@dataclass(frozen=True)
class _Num:
    literal: str


class JSONSyntaxError(ValueError):
    """The body is not one well-formed JSON value (Go's scanner would refuse it).

    ``exact`` is True when the text is Go's own (only for input that ends too early).
    """

    def __init__(self, message: str, exact: bool = False) -> None:
        super().__init__(message)
        self.exact = exact


def _reject_constant(name: str) -> Any:
    raise JSONSyntaxError(f"invalid character {name[0]!r} looking for beginning of value")


def _fix_surrogates(s: str) -> str:
    # Go replaces an unpaired \\uD800-style escape with U+FFFD.
    if any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in s)
    return s


def _normalize(value: Any) -> Any:
    if isinstance(value, str):
        return _fix_surrogates(value)
    if isinstance(value, _Obj):
        return _Obj((_fix_surrogates(k), _normalize(v)) for k, v in value)
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    return value


def parse_json(body: bytes) -> Any:
    """Parse with Go's acceptance rules; objects become :class:`_Obj`, numbers ``_Num``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Go tolerates invalid UTF-8 inside strings (it becomes U+FFFD).
        text = body.decode("utf-8", errors="replace")
    if text.strip(" \t\r\n") == "":
        raise JSONSyntaxError("unexpected end of JSON input", exact=True)
    if text.startswith("\ufeff"):
        raise JSONSyntaxError("invalid character 'ï' looking for beginning of value")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_Obj,
            parse_int=_Num,
            parse_float=_Num,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        go_message = syntax_error(body)
        if go_message is not None:
            raise JSONSyntaxError(go_message, exact=True) from exc
        raise JSONSyntaxError(str(exc)) from exc
    return _normalize(value)


def _kind_of(value: Any) -> str:
    """The ``Value`` word Go puts in an UnmarshalTypeError."""
    if isinstance(value, _Obj):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, _Num):
        return "number"
    return "null"


# ---------------------------------------------------------------------------
# schema of certificates/v1.CertificateSigningRequest
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _T:
    """A Go type as far as decoding cares."""

    kind: str  # string|int|uint8|bool|bytes|time|raw|slice|map|struct
    name: str  # reflect.Type.String()
    elem: _T | None = None
    fields: tuple[tuple[str, _T, bool], ...] = ()  # (json name, type, is pointer)
    bits: int = 0

    def field(self, name: str) -> tuple[_T, bool] | None:
        for n, t, ptr in self.fields:
            if n == name:
                return t, ptr
        return None

    @property
    def struct_name(self) -> str:
        return self.name.split(".", 1)[-1]


def _s(name: str = "string") -> _T:
    return _T("string", name)


_STRING = _s()
_INT32 = _T("int", "int32", bits=32)
_INT64 = _T("int", "int64", bits=64)
_UINT8 = _T("uint8", "uint8", bits=8)
_BOOL = _T("bool", "bool")
_BYTES = _T("bytes", "[]uint8", elem=_UINT8)
_TIME = _T("time", "v1.Time")
_FIELDS_V1 = _T("raw", "v1.FieldsV1")
_STRINGS = _T("slice", "[]string", elem=_STRING)
_STRING_MAP = _T("map", "map[string]string", elem=_STRING)

_OWNER_REF = _T(
    "struct",
    "v1.OwnerReference",
    fields=(
        ("apiVersion", _STRING, False),
        ("kind", _STRING, False),
        ("name", _STRING, False),
        ("uid", _s("types.UID"), False),
        ("controller", _BOOL, True),
        ("blockOwnerDeletion", _BOOL, True),
    ),
)
_MANAGED_FIELDS_ENTRY = _T(
    "struct",
    "v1.ManagedFieldsEntry",
    fields=(
        ("manager", _STRING, False),
        ("operation", _s("v1.ManagedFieldsOperationType"), False),
        ("apiVersion", _STRING, False),
        ("time", _TIME, True),
        ("fieldsType", _STRING, False),
        ("fieldsV1", _FIELDS_V1, True),
        ("subresource", _STRING, False),
    ),
)
_OBJECT_META = _T(
    "struct",
    "v1.ObjectMeta",
    fields=(
        ("name", _STRING, False),
        ("generateName", _STRING, False),
        ("namespace", _STRING, False),
        ("selfLink", _STRING, False),
        ("uid", _s("types.UID"), False),
        ("resourceVersion", _STRING, False),
        ("generation", _INT64, False),
        ("creationTimestamp", _TIME, False),
        ("deletionTimestamp", _TIME, True),
        ("deletionGracePeriodSeconds", _INT64, True),
        ("labels", _STRING_MAP, False),
        ("annotations", _STRING_MAP, False),
        ("ownerReferences", _T("slice", "[]v1.OwnerReference", elem=_OWNER_REF), False),
        ("finalizers", _STRINGS, False),
        (
            "managedFields",
            _T("slice", "[]v1.ManagedFieldsEntry", elem=_MANAGED_FIELDS_ENTRY),
            False,
        ),
    ),
)
_KEY_USAGE = _s("v1.KeyUsage")
_SPEC = _T(
    "struct",
    "v1.CertificateSigningRequestSpec",
    fields=(
        ("request", _BYTES, False),
        ("signerName", _STRING, False),
        ("expirationSeconds", _INT32, True),
        ("usages", _T("slice", "[]v1.KeyUsage", elem=_KEY_USAGE), False),
        ("username", _STRING, False),
        ("uid", _STRING, False),
        ("groups", _STRINGS, False),
        (
            "extra",
            _T(
                "map",
                "map[string]v1.ExtraValue",
                elem=_T("slice", "v1.ExtraValue", elem=_STRING),
            ),
            False,
        ),
    ),
)
_CONDITION = _T(
    "struct",
    "v1.CertificateSigningRequestCondition",
    fields=(
        ("type", _s("v1.RequestConditionType"), False),
        ("status", _s("v1.ConditionStatus"), False),
        ("reason", _STRING, False),
        ("message", _STRING, False),
        ("lastUpdateTime", _TIME, False),
        ("lastTransitionTime", _TIME, False),
    ),
)
_STATUS = _T(
    "struct",
    "v1.CertificateSigningRequestStatus",
    fields=(
        (
            "conditions",
            _T("slice", "[]v1.CertificateSigningRequestCondition", elem=_CONDITION),
            False,
        ),
        ("certificate", _BYTES, False),
    ),
)
CSR_TYPE: Final = _T(
    "struct",
    "v1.CertificateSigningRequest",
    fields=(
        ("apiVersion", _STRING, False),
        ("kind", _STRING, False),
        ("metadata", _OBJECT_META, False),
        ("spec", _SPEC, False),
        ("status", _STATUS, False),
    ),
)

# ---------------------------------------------------------------------------
# the typed decoder
# ---------------------------------------------------------------------------


class _Abort(Exception):
    """An error Go returns at once (from an Unmarshaler), ending decoding."""

    def __init__(self, message: str, exact: bool) -> None:
        super().__init__(message)
        self.message = message
        self.exact = exact


@dataclass
class _State:
    strict: bool
    saved_error: str | None = None
    saved_exact: bool = True
    strict_errors: list[str] = field(default_factory=list)
    field_stack: list[str] = field(default_factory=list)
    struct: str = ""
    strict_stack: list[str] = field(default_factory=list)

    def save(self, message: str, exact: bool = True) -> None:
        if self.saved_error is None:
            self.saved_error = message
            self.saved_exact = exact

    def type_error(self, value: Any, t: _T) -> None:
        word = _kind_of(value)
        if isinstance(value, _Num) and t.kind in ("int", "uint8"):
            word = f"number {value.literal}"
        if self.struct or self.field_stack:
            self.save(
                f"json: cannot unmarshal {word} into Go struct field "
                f"{self.struct}.{'.'.join(self.field_stack)} of type {t.name}"
            )
        else:
            self.save(f"json: cannot unmarshal {word} into Go value of type {t.name}")

    def strict_error(self, kind: str, name: str) -> None:
        if not self.strict or len(self.strict_errors) >= 100:
            return
        path = "".join(self.strict_stack) + "." + name if self.strict_stack else name
        text = f"{kind} {_go_strconv_quote(path)}"
        if text not in self.strict_errors:
            self.strict_errors.append(text)

    def push_key(self, key: str) -> None:
        if self.strict_stack:
            self.strict_stack.extend([".", key])
        else:
            self.strict_stack.append(key)


def _go_strconv_quote(s: str) -> str:
    from conformance.oracle.apimachinery.fielderrors import go_quote

    return go_quote(s)


_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _parse_time(st: _State, value: Any) -> str | None:
    """metav1.Time.UnmarshalJSON; returns the RFC3339 UTC text Go would re-marshal.

    Its errors end decoding at once and win over any saved type error.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        st.saved_error = None
        st.type_error(value, _STRING)
        raise _Abort(st.saved_error or "", True)
    bad = _Abort(
        f'parsing time {_go_strconv_quote(value)} as "2006-01-02T15:04:05Z07:00": cannot parse',
        False,
    )
    if _RFC3339.fullmatch(value) is None:
        raise bad
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad from exc
    utc = parsed.astimezone(_dt.UTC).replace(microsecond=0)
    if utc == _dt.datetime(1, 1, 1, tzinfo=_dt.UTC):
        return None
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_plain(value: Any) -> Any:
    """A raw JSON value (FieldsV1) back to plain Python data."""
    if isinstance(value, _Obj):
        return {k: _to_plain(v) for k, v in value}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    if isinstance(value, _Num):
        return json.loads(value.literal)
    return value


def _decode(st: _State, value: Any, t: _T, current: Any) -> Any:
    """Decode ``value`` into a Go value of type ``t`` that currently holds ``current``.

    Returns the new value in wire form (``None`` meaning zero/absent).
    """
    if t.kind == "time":
        return _parse_time(st, value)
    if t.kind == "raw":
        return None if value is None else _to_plain(value)
    if value is None:
        if t.kind in ("slice", "map", "bytes"):
            return None
        return current
    if t.kind == "struct":
        if not isinstance(value, _Obj):
            st.type_error(value, t)
            return current
        return _decode_struct(st, value, t, current if isinstance(current, dict) else None)
    if t.kind == "map":
        if not isinstance(value, _Obj):
            st.type_error(value, t)
            return current
        return _decode_map(st, value, t, current if isinstance(current, dict) else None)
    if t.kind in ("slice", "bytes"):
        if isinstance(value, list) and not isinstance(value, _Obj):
            return _decode_slice(st, value, t)
        if t.kind == "bytes" and isinstance(value, str):
            try:
                raw = b64decode(value.encode("utf-8"))
            except CorruptInputError as exc:
                st.save(str(exc))
                return current
            return base64.b64encode(raw).decode("ascii")
        st.type_error(value, t)
        return current
    if t.kind == "string":
        if isinstance(value, str):
            return value
        st.type_error(value, t)
        return current
    if t.kind == "bool":
        if isinstance(value, bool):
            return value
        st.type_error(value, t)
        return current
    if t.kind in ("int", "uint8"):
        if not isinstance(value, _Num):
            st.type_error(value, t)
            return current
        n = _parse_go_int(value.literal, t)
        if n is None:
            st.type_error(value, t)
            return current
        return n
    raise AssertionError(t.kind)


def _parse_go_int(literal: str, t: _T) -> int | None:
    body = literal[1:] if literal.startswith("-") else literal
    if not body.isdigit():
        return None
    n = int(literal)
    if t.kind == "uint8":
        return n if 0 <= n <= 255 and not literal.startswith("-") else None
    limit = 1 << (t.bits - 1)
    return n if -limit <= n < limit else None


def _decode_slice(st: _State, value: list[Any], t: _T) -> Any:
    assert t.elem is not None
    base = len(st.strict_stack)
    out: list[Any] = []
    for i, item in enumerate(value):
        st.strict_stack.extend(["[", str(i), "]"])
        zero: Any = {} if t.elem.kind == "struct" else None
        decoded = _decode(st, item, t.elem, zero)
        del st.strict_stack[base:]
        out.append(_zero_fill(decoded, t.elem))
    if t.kind == "bytes":
        return base64.b64encode(bytes(v or 0 for v in out)).decode("ascii")
    return out


def _zero_fill(value: Any, t: _T) -> Any:
    """Slice elements are never absent: give Go's zero value its wire form."""
    if value is not None:
        return value
    return {"string": "", "int": 0, "uint8": 0, "bool": False, "struct": {}}.get(t.kind)


def _decode_map(st: _State, value: _Obj, t: _T, current: dict[str, Any] | None) -> Any:
    assert t.elem is not None
    out: dict[str, Any] = dict(current) if current is not None else {}
    seen: set[str] = set()
    base = len(st.strict_stack)
    for key, item in value:
        if key in seen:
            st.strict_error("duplicate field", key)
        seen.add(key)
        st.push_key(key)
        decoded = _decode(st, item, t.elem, None)
        del st.strict_stack[base:]
        out[key] = _zero_fill(decoded, t.elem) if t.elem.kind != "slice" else decoded
    return out


def _decode_struct(
    st: _State, value: _Obj, t: _T, current: dict[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = dict(current) if current is not None else {}
    seen: set[str] = set()
    base_strict = len(st.strict_stack)
    saved_struct, saved_fields = st.struct, len(st.field_stack)
    for key, item in value:
        found = t.field(key)
        if found is None:
            st.strict_error("unknown field", key)
            continue
        ftype, _is_ptr = found
        if key in seen:
            st.strict_error("duplicate field", key)
        seen.add(key)
        st.struct = t.struct_name
        st.field_stack.append(key)
        st.push_key(key)
        decoded = _decode(st, item, ftype, out.get(key))
        st.struct = saved_struct
        del st.field_stack[saved_fields:]
        del st.strict_stack[base_strict:]
        if decoded is None:
            out.pop(key, None)
        else:
            out[key] = decoded
    return out


# ---------------------------------------------------------------------------
# Interpret (apiVersion/kind) and the public entry point
# ---------------------------------------------------------------------------

_FIND_KIND_TYPE: Final = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)


@dataclass(frozen=True)
class GVK:
    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _interpret(doc: Any) -> GVK:
    """``SimpleMetaFactory.Interpret`` on an already syntax-checked document."""
    if doc is None:
        return GVK("", "", "")
    if not isinstance(doc, _Obj):
        raise _Abort(
            f"json: cannot unmarshal {_kind_of(doc)} into Go value of type {_FIND_KIND_TYPE}",
            True,
        )
    api_version = ""
    kind = ""
    first_error: str | None = None
    for key, value in doc:
        target = key.lower()
        if target not in ("apiversion", "kind"):
            continue
        name = "apiVersion" if target == "apiversion" else "kind"
        if value is None:
            continue
        if not isinstance(value, str):
            if first_error is None:
                first_error = (
                    f"json: cannot unmarshal {_kind_of(value)} into Go struct field "
                    f".{name} of type string"
                )
            continue
        if name == "apiVersion":
            api_version = value
        else:
            kind = value
    if first_error is not None:
        raise _Abort(first_error, True)
    if api_version in ("", "/"):
        return GVK("", "", kind)
    slashes = api_version.count("/")
    if slashes == 0:
        return GVK("", api_version, kind)
    if slashes == 1:
        g, v = api_version.split("/")
        return GVK(g, v, kind)
    raise _Abort(f"unexpected GroupVersion string: {api_version}", True)


def summarize_data(body: bytes, max_length: int = 30) -> str:
    """apiserver ``summarizeData``: the body start, or its hex when not an object."""
    if len(body) == 0:
        return "<empty>"
    if body[:1] == b"{":
        if len(body) > max_length:
            return body[:max_length].decode("utf-8", errors="replace") + " ..."
        return body.decode("utf-8", errors="replace")
    if len(body) > max_length:
        return body[:max_length].hex() + " ..."
    return body.hex()


UNRECOGNIZED_PREFIX: Final = f"the object provided is unrecognized (must be of type {KIND}): "
INTERPRET_PREFIX: Final = "couldn't get version/kind; json parse error: "


def cannot_handle_prefix(kind: str, version: str) -> str:
    """The start of every typed-decode 400 (``transformDecodeError`` with a known kind)."""
    return f"{kind} in version {_go_strconv_quote(version)} cannot be handled as a {KIND}: "


@dataclass(frozen=True)
class DecodeResult:
    """What decoding a create/update body produced.

    On success ``obj`` is the decoded v1 object and ``strict_errors`` the unknown/duplicate
    field texts (collected only in strict mode). On failure ``error`` is the full 400
    message, exact when ``exact`` is True; otherwise ``message_prefix`` is exact.
    ``rule`` names the rule that decided a failure.
    """

    obj: dict[str, Any] | None
    gvk: GVK | None
    strict_errors: tuple[str, ...] = ()
    error: str | None = None
    exact: bool = True
    message_prefix: str = ""
    rule: str = "CSR-CREATE-DECODE"
    raw_error: str | None = None
    """The decoder's own error text, before the create/update handler wraps it (what a
    PATCH reports as the detail of its ``patch`` field error)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def strict_message(self) -> str:
        """The 400 text for fieldValidation=Strict when there are strict errors."""
        assert self.gvk is not None
        return cannot_handle_prefix(self.gvk.kind, self.gvk.version) + (
            "strict decoding error: " + ", ".join(self.strict_errors)
        )


# Kinds the legacy scheme has for the certificates group (CSR lives in v1 and v1beta1).
_CSR_VERSIONS: Final = frozenset({"v1", "v1beta1"})
_CERT_VERSIONS: Final = frozenset({"v1", "v1beta1", "v1alpha1"})


def decode_body(body: bytes, *, strict: bool) -> DecodeResult:
    """Decode a CSR body as the create/update handlers do.

    ``strict`` is whether the strict serializer is used (fieldValidation Warn or Strict).
    """
    try:
        doc = parse_json(body)
    except JSONSyntaxError as exc:
        prefix = UNRECOGNIZED_PREFIX + INTERPRET_PREFIX
        return DecodeResult(
            None,
            None,
            error=f"{prefix}{exc} ({summarize_data(body)})",
            exact=exc.exact,
            message_prefix=prefix,
            raw_error=f"{INTERPRET_PREFIX}{exc}",
        )
    try:
        gvk = _interpret(doc)
    except _Abort as exc:
        inner = exc.message
        if not inner.startswith("unexpected GroupVersion"):
            inner = INTERPRET_PREFIX + inner
        msg = f"{UNRECOGNIZED_PREFIX}{inner} ({summarize_data(body)})"
        return DecodeResult(
            None, None, error=msg, exact=exc.exact, message_prefix=msg, raw_error=inner
        )

    gvk = GVK(
        gvk.group if gvk.group or gvk.version else GROUP,
        gvk.version or VERSION,
        gvk.kind or KIND,
    )
    if gvk.group != GROUP or gvk.kind != KIND or gvk.version not in _CSR_VERSIONS:
        prefix = cannot_handle_prefix(gvk.kind, gvk.version)
        detail = (
            f"no kind {_go_strconv_quote(gvk.kind)} is registered for version "
            f"{_go_strconv_quote(gvk.api_version)} in scheme "
            '"pkg/runtime/scheme.go:111"'
        )
        # Exact only where the scheme certainly lacks the kind; other group/versions may
        # hold it, and then the error is a conversion failure instead.
        exact = gvk.group == GROUP and gvk.version not in _CERT_VERSIONS
        return DecodeResult(
            None,
            gvk,
            error=prefix + detail,
            exact=exact,
            message_prefix=prefix,
            raw_error=detail,
        )

    st = _State(strict=strict)
    try:
        obj = _decode(st, doc, CSR_TYPE, {}) if doc is not None else {}
    except _Abort as exc:
        prefix = cannot_handle_prefix(gvk.kind, gvk.version)
        return DecodeResult(
            None,
            gvk,
            error=prefix + exc.message,
            exact=exc.exact,
            message_prefix=prefix,
            raw_error=exc.message,
        )
    if st.saved_error is not None:
        prefix = cannot_handle_prefix(gvk.kind, gvk.version)
        rule = _rule_for(st.saved_error)
        return DecodeResult(
            None,
            gvk,
            error=prefix + st.saved_error,
            exact=st.saved_exact,
            message_prefix=prefix,
            rule=rule,
            raw_error=st.saved_error,
        )
    result: dict[str, Any] = obj if isinstance(obj, dict) else {}
    result.pop("apiVersion", None)
    result.pop("kind", None)
    return DecodeResult(result, gvk, tuple(st.strict_errors))


def _rule_for(error: str) -> str:
    if error.startswith("illegal base64"):
        return "CSR-VAL-R5"
    if "spec.expirationSeconds of type int32" in error and "number" in error:
        return "CSR-VAL-X3"
    return "CSR-CREATE-DECODE"
