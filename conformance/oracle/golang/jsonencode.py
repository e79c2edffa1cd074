"""Go ``encoding/json`` behaviour the patch oracles need byte for byte.

Two things decide the exact text of a failed patch: how kube-apiserver serialises the
stored CSR before a JSON or merge patch touches it (Go struct field order, ``omitempty``
rules, ``metav1.Time`` as RFC 3339 or ``null``), and how json-patch v4 re-serialises
the result (maps with sorted keys, untouched values kept as their raw bytes, compacted
with HTML escaping). This module holds both halves: a struct-order encoder for the v1
CSR and a raw-value scanner that splits a JSON document one level at a time without
re-encoding what it does not touch.

It also renders values the way ``fmt``'s ``%v`` prints an unstructured map, which is
what a failed strategic merge patch shows as its bad value.

Upstream: Go ``encoding/json`` (encode.go ``compact``/``appendString``, decode.go),
apimachinery ``runtime/serializer/json``, ``apis/meta/v1/time.go``; field order from
``k8s.io/api/certificates/v1/types.go`` and ``apis/meta/v1/types.go``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from conformance.oracle.apimachinery.fielderrors import go_json_string
from conformance.oracle.apimachinery.status import API_VERSION, KIND

_WS: Final = b" \t\r\n"


class RawScanError(ValueError):
    """The bytes are not one valid JSON value (callers validate first; this is a guard)."""


# ---------------------------------------------------------------------------
# scanning raw JSON without decoding it
# ---------------------------------------------------------------------------


def skip_ws(data: bytes, i: int) -> int:
    while i < len(data) and data[i] in _WS:
        i += 1
    return i


def _scan_string(data: bytes, i: int) -> int:
    """``data[i]`` is the opening quote; return the index after the closing one."""
    i += 1
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x5C:  # backslash
            i += 2
            continue
        if c == 0x22:
            return i + 1
        i += 1
    raise RawScanError("unterminated string")


def scan_value(data: bytes, i: int) -> int:
    """Return the end index of the JSON value starting at ``data[i]`` (no leading space)."""
    if i >= len(data):
        raise RawScanError("unexpected end")
    c = data[i]
    if c == 0x22:
        return _scan_string(data, i)
    if c in b"{[":
        depth = 0
        n = len(data)
        while i < n:
            c = data[i]
            if c == 0x22:
                i = _scan_string(data, i)
                continue
            if c in b"{[":
                depth += 1
            elif c in b"}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise RawScanError("unterminated container")
    j = i
    while j < len(data) and data[j] not in b",}] \t\r\n:":
        j += 1
    if j == i:
        raise RawScanError(f"unexpected byte {c!r}")
    return j


def raw_kind(raw: bytes | None) -> str:
    """``object``, ``array``, ``string``, ``number``, ``bool`` or ``null``."""
    if raw is None:
        return "null"
    i = skip_ws(raw, 0)
    if i >= len(raw):
        return "null"
    c = raw[i]
    if c == 0x7B:
        return "object"
    if c == 0x5B:
        return "array"
    if c == 0x22:
        return "string"
    if c in b"tf":
        return "bool"
    if c == 0x6E:
        return "null"
    return "number"


def unquote_key(raw: bytes) -> str:
    """A JSON string literal's value as Go decodes it (bad UTF-8 and lone surrogates
    become U+FFFD)."""
    text = raw.decode("utf-8", errors="replace")
    value = json.loads(text)
    if not isinstance(value, str):
        raise RawScanError("not a string")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        value = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    return value


def split_object(raw: bytes) -> list[tuple[str, bytes | None]]:
    """The members of a JSON object as (key, raw value); ``None`` for a ``null`` value.

    Duplicate keys are all returned in order; the caller keeps the last, as a Go map does.
    """
    i = skip_ws(raw, 0)
    if i >= len(raw) or raw[i] != 0x7B:
        raise RawScanError("not an object")
    i = skip_ws(raw, i + 1)
    out: list[tuple[str, bytes | None]] = []
    if i < len(raw) and raw[i] == 0x7D:
        return out
    while True:
        end = _scan_string(raw, i)
        key = unquote_key(raw[i:end])
        i = skip_ws(raw, end)
        if raw[i] != 0x3A:
            raise RawScanError("missing colon")
        i = skip_ws(raw, i + 1)
        vend = scan_value(raw, i)
        value = raw[i:vend]
        out.append((key, None if value == b"null" else value))
        i = skip_ws(raw, vend)
        if raw[i] == 0x2C:
            i = skip_ws(raw, i + 1)
            continue
        if raw[i] == 0x7D:
            return out
        raise RawScanError("bad object")


def split_array(raw: bytes) -> list[bytes | None]:
    """The elements of a JSON array as raw values; ``None`` for ``null`` elements."""
    i = skip_ws(raw, 0)
    if i >= len(raw) or raw[i] != 0x5B:
        raise RawScanError("not an array")
    i = skip_ws(raw, i + 1)
    out: list[bytes | None] = []
    if i < len(raw) and raw[i] == 0x5D:
        return out
    while True:
        vend = scan_value(raw, i)
        value = raw[i:vend]
        out.append(None if value == b"null" else value)
        i = skip_ws(raw, vend)
        if raw[i] == 0x2C:
            i = skip_ws(raw, i + 1)
            continue
        if raw[i] == 0x5D:
            return out
        raise RawScanError("bad array")


def compact(raw: bytes, *, escape_html: bool) -> bytes:
    """Go's ``json.Compact`` (``escape_html``: as ``json.Marshal`` does for raw messages)."""
    out = bytearray()
    i = 0
    n = len(raw)
    in_string = False
    while i < n:
        c = raw[i]
        if in_string:
            if c == 0x5C:
                out += raw[i : i + 2]
                i += 2
                continue
            if c == 0x22:
                in_string = False
            elif escape_html and c in b"<>&":
                out += b"\\u00" + f"{c:02x}".encode()
                i += 1
                continue
            elif escape_html and c == 0xE2 and raw[i + 1 : i + 3] in (b"\x80\xa8", b"\x80\xa9"):
                out += b"\\u202" + (b"8" if raw[i + 2] == 0xA8 else b"9")
                i += 3
                continue
            out.append(c)
            i += 1
            continue
        if c in _WS:
            i += 1
            continue
        if c == 0x22:
            in_string = True
        out.append(c)
        i += 1
    return bytes(out)


# ---------------------------------------------------------------------------
# encoding Python values the way Go's encoder writes them
# ---------------------------------------------------------------------------


def marshal(value: Any, *, sort_keys: bool = True) -> str:
    """``json.Marshal`` of decoded JSON data (maps sorted as Go sorts map keys)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float_json(value)
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, Mapping):
        keys = sorted(value) if sort_keys else list(value)
        return (
            "{"
            + ",".join(
                f"{go_json_string(str(k))}:{marshal(value[k], sort_keys=sort_keys)}" for k in keys
            )
            + "}"
        )
    if isinstance(value, Sequence):
        return "[" + ",".join(marshal(v, sort_keys=sort_keys) for v in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")


def _shortest(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``abs(f)`` and the decimal point position."""
    d = Decimal(repr(abs(f)))
    sign, digits, exponent = d.as_tuple()
    del sign
    text = "".join(str(x) for x in digits).lstrip("0") or "0"
    assert isinstance(exponent, int)
    dp = (
        len("".join(str(x) for x in digits))
        + exponent
        - (len("".join(str(x) for x in digits)) - len(text))
    )
    text = text.rstrip("0") or "0"
    return text, dp


def _format_float(f: float, *, threshold: int, json_exponent: bool) -> str:
    if math.isinf(f) or math.isnan(f):
        raise ValueError("unsupported float")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 and not json_exponent else "0"
    digits, dp = _shortest(f)
    sign = "-" if f < 0 else ""
    exp = dp - 1
    if exp < -4 or exp >= threshold:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        esign = "-" if exp < 0 else "+"
        body = str(abs(exp))
        if len(body) < 2 and not (json_exponent and exp < 0):
            body = "0" + body
        return f"{sign}{mant}e{esign}{body}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return f"{sign}{digits}{'0' * (dp - len(digits))}"
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _go_float_json(f: float) -> str:
    """encoding/json's float64: positional unless |f| < 1e-6 or >= 1e21 (then e-7, e+21)."""
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        return _format_float(f, threshold=-100, json_exponent=True)
    return _format_float(f, threshold=10**6, json_exponent=True)


# -- the v1 CertificateSigningRequest in struct order ----------------------------


def _s(value: object) -> str:
    return value if isinstance(value, str) else ""


def _put(parts: list[str], key: str, text: str) -> None:
    parts.append(f'"{key}":{text}')


def _time(value: object) -> str:
    return go_json_string(value) if isinstance(value, str) and value else "null"


def _obj(parts: list[str]) -> str:
    return "{" + ",".join(parts) + "}"


def _owner_reference(ref: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key in ("apiVersion", "kind", "name", "uid"):
        _put(parts, key, go_json_string(_s(ref.get(key))))
    for key in ("controller", "blockOwnerDeletion"):
        v = ref.get(key)
        if isinstance(v, bool):
            _put(parts, key, "true" if v else "false")
    return _obj(parts)


def _managed_fields_entry(entry: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key in ("manager", "operation", "apiVersion"):
        if _s(entry.get(key)):
            _put(parts, key, go_json_string(_s(entry.get(key))))
    if isinstance(entry.get("time"), str) and entry.get("time"):
        _put(parts, "time", _time(entry.get("time")))
    if _s(entry.get("fieldsType")):
        _put(parts, "fieldsType", go_json_string(_s(entry.get("fieldsType"))))
    fields_v1 = entry.get("fieldsV1")
    if fields_v1 is not None:
        _put(parts, "fieldsV1", marshal(fields_v1, sort_keys=False))
    if _s(entry.get("subresource")):
        _put(parts, "subresource", go_json_string(_s(entry.get("subresource"))))
    return _obj(parts)


def _string_map(value: object) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return None
    return (
        "{"
        + ",".join(
            f"{go_json_string(str(k))}:{go_json_string(_s(value[k]))}" for k in sorted(value)
        )
        + "}"
    )


def encode_object_meta(meta: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key in ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion"):
        if _s(meta.get(key)):
            _put(parts, key, go_json_string(_s(meta.get(key))))
    generation = meta.get("generation")
    if isinstance(generation, int) and not isinstance(generation, bool) and generation != 0:
        _put(parts, "generation", str(generation))
    _put(parts, "creationTimestamp", _time(meta.get("creationTimestamp")))
    if isinstance(meta.get("deletionTimestamp"), str) and meta.get("deletionTimestamp"):
        _put(parts, "deletionTimestamp", _time(meta.get("deletionTimestamp")))
    grace = meta.get("deletionGracePeriodSeconds")
    if isinstance(grace, int) and not isinstance(grace, bool):
        _put(parts, "deletionGracePeriodSeconds", str(grace))
    for key in ("labels", "annotations"):
        text = _string_map(meta.get(key))
        if text is not None:
            _put(parts, key, text)
    refs = meta.get("ownerReferences")
    if isinstance(refs, list) and refs:
        _put(
            parts,
            "ownerReferences",
            "["
            + ",".join(_owner_reference(r if isinstance(r, Mapping) else {}) for r in refs)
            + "]",
        )
    fins = meta.get("finalizers")
    if isinstance(fins, list) and fins:
        _put(parts, "finalizers", "[" + ",".join(go_json_string(_s(f)) for f in fins) + "]")
    managed = meta.get("managedFields")
    if isinstance(managed, list) and managed:
        _put(
            parts,
            "managedFields",
            "["
            + ",".join(_managed_fields_entry(e if isinstance(e, Mapping) else {}) for e in managed)
            + "]",
        )
    return _obj(parts)


def _encode_spec(spec: Mapping[str, Any]) -> str:
    parts: list[str] = []
    request = spec.get("request")
    _put(parts, "request", go_json_string(request) if isinstance(request, str) else "null")
    _put(parts, "signerName", go_json_string(_s(spec.get("signerName"))))
    exp = spec.get("expirationSeconds")
    if isinstance(exp, int) and not isinstance(exp, bool):
        _put(parts, "expirationSeconds", str(exp))
    usages = spec.get("usages")
    if isinstance(usages, list) and usages:
        _put(parts, "usages", "[" + ",".join(go_json_string(_s(u)) for u in usages) + "]")
    for key in ("username", "uid"):
        if _s(spec.get(key)):
            _put(parts, key, go_json_string(_s(spec.get(key))))
    groups = spec.get("groups")
    if isinstance(groups, list) and groups:
        _put(parts, "groups", "[" + ",".join(go_json_string(_s(g)) for g in groups) + "]")
    extra = spec.get("extra")
    if isinstance(extra, Mapping) and extra:
        items = []
        for k in sorted(extra):
            v = extra[k]
            text = "null" if v is None else "[" + ",".join(go_json_string(_s(x)) for x in v) + "]"
            items.append(f"{go_json_string(str(k))}:{text}")
        _put(parts, "extra", "{" + ",".join(items) + "}")
    return _obj(parts)


def _encode_condition(cond: Mapping[str, Any]) -> str:
    parts: list[str] = []
    _put(parts, "type", go_json_string(_s(cond.get("type"))))
    _put(parts, "status", go_json_string(_s(cond.get("status"))))
    for key in ("reason", "message"):
        if _s(cond.get(key)):
            _put(parts, key, go_json_string(_s(cond.get(key))))
    _put(parts, "lastUpdateTime", _time(cond.get("lastUpdateTime")))
    _put(parts, "lastTransitionTime", _time(cond.get("lastTransitionTime")))
    return _obj(parts)


def _encode_status(status: Mapping[str, Any]) -> str:
    parts: list[str] = []
    conds = status.get("conditions")
    if isinstance(conds, list) and conds:
        _put(
            parts,
            "conditions",
            "["
            + ",".join(_encode_condition(c if isinstance(c, Mapping) else {}) for c in conds)
            + "]",
        )
    if _s(status.get("certificate")):
        _put(parts, "certificate", go_json_string(_s(status.get("certificate"))))
    return _obj(parts)


def _map(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    v = obj.get(key)
    return v if isinstance(v, Mapping) else {}


def encode_csr(obj: Mapping[str, Any]) -> bytes:
    """The bytes the JSON codec writes for a stored CSR (``runtime.Encode`` to v1)."""
    parts: list[str] = []
    _put(parts, "kind", go_json_string(KIND))
    _put(parts, "apiVersion", go_json_string(API_VERSION))
    _put(parts, "metadata", encode_object_meta(_map(obj, "metadata")))
    _put(parts, "spec", _encode_spec(_map(obj, "spec")))
    _put(parts, "status", _encode_status(_map(obj, "status")))
    return _obj(parts).encode("utf-8", errors="surrogatepass")


def to_unstructured(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``runtime.DefaultUnstructuredConverter.ToUnstructured`` of a stored CSR.

    Same members as the JSON encoding (omitempty applies alike); ``metav1.Time`` zero
    values become ``None``.
    """
    value = json.loads(encode_csr(obj))
    assert isinstance(value, dict)
    return value


# ---------------------------------------------------------------------------
# fmt %v of unstructured data
# ---------------------------------------------------------------------------


def go_format_v(value: Any) -> str:
    """``fmt.Sprintf("%+v", v)`` for maps, slices and scalars of unstructured JSON data."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float_v(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "map[" + " ".join(f"{k}:{go_format_v(v)}" for k, v in items) + "]"
    if isinstance(value, Sequence):
        return "[" + " ".join(go_format_v(v) for v in value) + "]"
    return str(value)


def _go_float_v(f: float) -> str:
    """``%v`` of a float64: shortest digits, exponent form when exp < -4 or >= 21."""
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if math.isnan(f):
        return "NaN"
    return _format_float(f, threshold=21, json_exponent=False)
