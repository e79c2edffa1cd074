"""kube-apiserver's protobuf encoding (``application/vnd.kubernetes.protobuf``), by hand.

Why: ``kubectl certificate approve/deny`` and every client-go typed client send and
accept protobuf, so a fake that only spoke JSON would fail them. The format is small
enough to write out: a 4-byte magic ``k8s\\x00``, then a ``runtime.Unknown`` message whose
``typeMeta`` holds apiVersion and kind and whose ``raw`` holds the object's own message,
with field numbers from the published ``generated.proto`` files. Field numbers, Go's
presence rules and the JSON rendering all come from ``conformance.wire.schema``.

Two functions map between the JSON wire dict and the bytes: ``decode`` yields exactly the
JSON kube-apiserver would send for the same object (Go ``omitempty`` habits included),
and ``encode`` yields the bytes Go's generated marshaller writes, so ``encode`` of a GET's
JSON equals the same GET in protobuf byte for byte. ``go_normalize`` is their round trip:
what a JSON body looks like once the server has decoded it into its Go type (unknown
fields gone, zero values dropped or rendered as Go renders them).

Time keeps whole seconds only (``metav1.Time`` drops nanoseconds in both JSON and
protobuf). Upstream: apimachinery ``runtime/serializer/protobuf/protobuf.go``,
``runtime/types_proto.go``, ``apis/meta/v1/time_proto.go``, ``micro_time_proto.go``,
``fieldsv1.go``, and the ``generated.pb.go`` marshallers of api and apimachinery v0.37.2.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from conformance.wire import gojson
from conformance.wire.schema import MESSAGES, TOP_LEVEL_KINDS, Field, Message

MEDIA_TYPE: Final = "application/vnd.kubernetes.protobuf"
WATCH_MEDIA_TYPE: Final = "application/vnd.kubernetes.protobuf;stream=watch"
MAGIC: Final = b"k8s\x00"

_VARINT: Final = 0
_I64: Final = 1
_LEN: Final = 2
_I32: Final = 5


class ProtobufError(ValueError):
    """The bytes are not a kube-apiserver protobuf document we understand."""


# -- primitive encoding ------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # negative ints travel as 64-bit two's complement
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint((number << 3) | wire_type)


def _len_field(number: int, payload: bytes) -> bytes:
    return _tag(number, _LEN) + _varint(len(payload)) + payload


def _varint_field(number: int, value: int) -> bytes:
    return _tag(number, _VARINT) + _varint(value)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("unexpected end of data inside a varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint too long")


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field; varints as unsigned ints."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number <= 0:
            raise ProtobufError(f"illegal field number {number}")
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
            yield number, wire_type, value
        elif wire_type == _LEN:
            length, pos = _read_varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("length-delimited field runs past the end of data")
            yield number, wire_type, data[pos : pos + length]
            pos += length
        elif wire_type == _I64:
            if pos + 8 > len(data):
                raise ProtobufError("fixed64 field runs past the end of data")
            yield number, wire_type, data[pos : pos + 8]
            pos += 8
        elif wire_type == _I32:
            if pos + 4 > len(data):
                raise ProtobufError("fixed32 field runs past the end of data")
            yield number, wire_type, data[pos : pos + 4]
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire_type} for field {number}")


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:  # Go truncates to int32
        value &= 0xFFFFFFFF
        if value >= 1 << 31:
            value -= 1 << 32
    return value


# -- time --------------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """Seconds since the epoch for an RFC 3339 time (fractions are dropped, as Go does)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ProtobufError(f"not an RFC 3339 time: {text!r}") from exc
    if moment.tzinfo is None:
        raise ProtobufError(f"time without a zone: {text!r}")
    return int(moment.timestamp() // 1)


def format_time(seconds: int) -> str:
    """``metav1.Time`` in JSON: RFC 3339, UTC, whole seconds."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(seconds: int, nanos: int) -> str:
    """``metav1.MicroTime`` in JSON: RFC 3339 with exactly six fractional digits."""
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos // 1000:06d}Z"


def encode_micro_time(text: str | None) -> bytes:
    """The Timestamp message a ``metav1.MicroTime`` becomes (empty when zero or null)."""
    if text is None:
        return b""
    seconds = parse_time(text)
    frac = ""
    if "." in text:
        frac = text.split(".", 1)[1].rstrip("Zz").split("+")[0].split("-")[0]
    nanos = int((frac + "000000000")[:9]) // 1000 * 1000 if frac else 0
    return _varint_field(1, seconds) + _varint_field(2, nanos)


def _encode_time(text: object) -> bytes:
    """The Timestamp message of a ``metav1.Time``: empty when zero, else seconds and a
    zero nanos field (Go writes both)."""
    if text is None or text == "":
        return b""
    if not isinstance(text, str):
        raise ProtobufError(f"time must be a string, got {type(text).__name__}")
    seconds = parse_time(text)
    if seconds == _GO_ZERO_TIME:
        return b""
    return _varint_field(1, seconds) + _varint_field(2, 0)


_GO_ZERO_TIME: Final = -62135596800
"""``time.Time{}.Unix()``: year 1, which Go treats as unset."""


def _decode_time(data: bytes) -> int | None:
    """Seconds, or None for a zero time."""
    if not data:
        return None
    seconds = 0
    for number, wire_type, value in _fields(data):
        if number == 1 and wire_type == _VARINT:
            assert isinstance(value, int)
            seconds = _signed(value, 64)
    if seconds == _GO_ZERO_TIME:
        return None
    return seconds


# -- encoding ----------------------------------------------------------------------------


def _as_mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProtobufError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _as_list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProtobufError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _as_str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ProtobufError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def _as_int(value: object, where: str, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtobufError(f"{where}: expected an integer, got {type(value).__name__}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ProtobufError(f"{where}: expected an integer, got {value}")
        value = int(value)
    limit = 1 << (bits - 1)
    if not -limit <= value < limit:
        raise ProtobufError(f"{where}: {value} does not fit in int{bits}")
    return value


def _b64(value: object, where: str) -> bytes:
    text = _as_str(value, where)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ProtobufError(f"{where}: not base64: {exc}") from exc


def _encode_scalar(f: Field, value: object, where: str) -> bytes:
    """One occurrence of a non-message field."""
    if f.kind == "string":
        return _len_field(f.number, _as_str(value, where).encode("utf-8"))
    if f.kind in ("int32", "int64"):
        return _varint_field(f.number, _as_int(value, where, 32 if f.kind == "int32" else 64))
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise ProtobufError(f"{where}: expected a boolean")
        return _varint_field(f.number, int(value))
    if f.kind == "bytes":
        return _len_field(f.number, _b64(value, where))
    raise ProtobufError(f"{where}: cannot encode kind {f.kind}")


def _zero(f: Field) -> object:
    return {"string": "", "int32": 0, "int64": 0, "bool": False}.get(f.kind)


def _encode_field(f: Field, obj: Mapping[str, Any], where: str) -> bytes:
    path = f"{where}.{f.name}"
    present = f.name in obj and obj[f.name] is not None
    value = obj.get(f.name)
    if f.kind == "string_map":
        out = b""
        entries = _as_mapping(value, path)
        for key in sorted(entries, key=lambda k: k.encode("utf-8")):
            entry = _len_field(1, key.encode("utf-8")) + _len_field(
                2, _as_str(entries[key], f"{path}[{key}]").encode("utf-8")
            )
            out += _len_field(f.number, entry)
        return out
    if f.kind == "extra_map":
        out = b""
        entries = _as_mapping(value, path)
        for key in sorted(entries, key=lambda k: k.encode("utf-8")):
            packed = b"".join(
                _len_field(1, _as_str(v, f"{path}[{key}]").encode("utf-8"))
                for v in _as_list(entries[key], f"{path}[{key}]")
            )
            out += _len_field(f.number, _len_field(1, key.encode("utf-8")) + _len_field(2, packed))
        return out
    if f.repeated:
        items = _as_list(value, path)
        if f.kind == "message":
            sub = MESSAGES[f.ref]
            return b"".join(
                _len_field(f.number, _encode_message(sub, _as_mapping(v, path), path))
                for v in items
            )
        return b"".join(_encode_scalar(f, v, f"{path}[{i}]") for i, v in enumerate(items))
    if f.kind == "time":
        if f.pointer and not present:
            return b""
        return _len_field(f.number, _encode_time(value))
    if f.kind == "fieldsv1":
        if not present:
            return b""
        raw = gojson.dumps(value).encode("utf-8")
        return _len_field(f.number, _len_field(1, raw))
    if f.kind in ("raw", "object"):
        raise ProtobufError(f"{path}: {f.kind} fields have no protobuf form here")
    if f.kind == "message":
        if f.pointer and not present:
            return b""
        sub = MESSAGES[f.ref]
        return _len_field(f.number, _encode_message(sub, _as_mapping(value, path), path))
    if f.kind == "bytes":
        return _encode_scalar(f, value, path) if present else b""
    if f.pointer:
        return _encode_scalar(f, value, path) if present else b""
    return _encode_scalar(f, value if present else _zero(f), path)


def _encode_message(msg: Message, obj: Mapping[str, Any], where: str = "") -> bytes:
    return b"".join(_encode_field(f, obj, where) for f in msg.proto_fields)


def encode_message(message: str, obj: Mapping[str, Any]) -> bytes:
    """One message without the envelope (for example a list item, or a nested type)."""
    return _encode_message(MESSAGES[message], obj)


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _len_field(1, api_version.encode()) + _len_field(2, kind.encode())
    unknown = (
        _len_field(1, type_meta) + _len_field(2, raw) + _len_field(3, b"") + _len_field(4, b"")
    )
    return MAGIC + unknown


def encode(obj: Mapping[str, Any]) -> bytes:
    """The protobuf body for a top-level JSON document (CSR, CSR list, Status,
    DeleteOptions), chosen by its ``kind``."""
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in TOP_LEVEL_KINDS:
        raise ProtobufError(f"cannot encode kind {kind!r} as protobuf")
    default_version, message = TOP_LEVEL_KINDS[kind]
    api_version = obj.get("apiVersion") or default_version
    if not isinstance(api_version, str):
        raise ProtobufError("apiVersion must be a string")
    return _envelope(api_version, kind, _encode_message(MESSAGES[message], obj))


# -- decoding ----------------------------------------------------------------------------


def _collect(msg: Message, data: bytes) -> dict[int, list[int | bytes]]:
    seen: dict[int, list[int | bytes]] = {}
    known = {f.number: f for f in msg.proto_fields}
    for number, wire_type, value in _fields(data):
        f = known.get(number)
        if f is None:
            continue  # unknown fields are skipped, as Go's unmarshaller does
        expected = _VARINT if f.kind in ("int32", "int64", "bool") and not f.repeated else _LEN
        if wire_type != expected:
            raise ProtobufError(f"{msg.name}.{f.name}: wrong wire type {wire_type}")
        seen.setdefault(number, []).append(value)
    return seen


def _text(raw: int | bytes, where: str) -> str:
    assert isinstance(raw, bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # Go strings may hold any bytes; encoding/json then writes U+FFFD.
        return raw.decode("utf-8", errors="replace")


def _decode_map_entry(data: bytes) -> tuple[str, bytes]:
    key = ""
    value = b""
    for number, _wire_type, raw in _fields(data):
        if number == 1:
            key = _text(raw, "map key")
        elif number == 2:
            assert isinstance(raw, bytes)
            value = raw
    return key, value


def _decode_fieldsv1(data: bytes) -> Any:
    raw = b""
    for number, _wire_type, value in _fields(data):
        if number == 1:
            assert isinstance(value, bytes)
            raw = value
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ProtobufError(f"fieldsV1 is not JSON: {exc}") from exc


def _render(f: Field, values: list[int | bytes] | None) -> tuple[bool, Any]:
    """(include?, JSON value) for one field, following Go's JSON tags."""
    if f.kind == "string_map":
        strings: dict[str, str] = {}
        for entry in values or []:
            assert isinstance(entry, bytes)
            key, value = _decode_map_entry(entry)
            strings[key] = _text(value, f.name)
        return bool(strings) or not f.omitempty, strings
    if f.kind == "extra_map":
        extra: dict[str, list[str] | None] = {}
        for entry in values or []:
            assert isinstance(entry, bytes)
            key, value = _decode_map_entry(entry)
            items = [_text(v, f.name) for n, _w, v in _fields(value) if n == 1]
            extra[key] = items or None
        return bool(extra) or not f.omitempty, extra
    if f.repeated:
        items_out: list[Any] = []
        for raw in values or []:
            if f.kind == "message":
                assert isinstance(raw, bytes)
                items_out.append(_decode_message(MESSAGES[f.ref], raw))
            else:
                items_out.append(_render_scalar(f, raw))
        return bool(items_out) or not f.omitempty, items_out
    last = values[-1] if values else None
    if f.kind == "time":
        if last is None:
            return (not f.pointer and not f.omitzero), None
        assert isinstance(last, bytes)
        seconds = _decode_time(last)
        if seconds is None:
            return not f.omitzero, None
        return True, format_time(seconds)
    if f.kind == "fieldsv1":
        if last is None:
            return False, None
        assert isinstance(last, bytes)
        return True, _decode_fieldsv1(last)
    if f.kind == "raw":
        if last is None:
            return not f.omitempty, None
        assert isinstance(last, bytes)
        return True, _decode_fieldsv1(last)
    if f.kind == "message":
        if last is None:
            return (not f.pointer), _decode_message(MESSAGES[f.ref], b"")
        assert isinstance(last, bytes)
        return True, _decode_message(MESSAGES[f.ref], last)
    if f.kind == "bytes":
        if last is None:
            return not f.omitempty, None
        assert isinstance(last, bytes)
        return (bool(last) or not f.omitempty), base64.b64encode(last).decode("ascii")
    if last is None:
        if f.pointer:
            return False, None
        zero = _zero(f)
        return not f.omitempty, zero
    value = _render_scalar(f, last)
    if f.pointer:
        return True, value
    return (value != _zero(f) or not f.omitempty), value


def _render_scalar(f: Field, raw: int | bytes) -> Any:
    if f.kind == "string":
        return _text(raw, f.name)
    if f.kind == "bytes":
        assert isinstance(raw, bytes)
        return base64.b64encode(raw).decode("ascii")
    assert isinstance(raw, int)
    if f.kind == "bool":
        return raw != 0
    return _signed(raw, 32 if f.kind == "int32" else 64)


def _decode_message(msg: Message, data: bytes) -> dict[str, Any]:
    seen = _collect(msg, data)
    out: dict[str, Any] = {}
    for f in msg.fields:
        if not f.number:
            continue
        include, value = _render(f, seen.get(f.number))
        if include:
            out[f.name] = value
    return out


def decode_message(message: str, data: bytes) -> dict[str, Any]:
    """One message without the envelope, rendered as Go's JSON would show it."""
    return _decode_message(MESSAGES[message], data)


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of every field of one message, in order."""
    return _fields(data)


def varint_field(number: int, value: int) -> bytes:
    """One varint field (ints, bools, enums) of a message being built."""
    return _varint_field(number, value)


def len_field(number: int, payload: bytes) -> bytes:
    """One length-delimited field (bytes, strings, messages) of a message being built."""
    return _len_field(number, payload)


def unwrap(data: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw message) from an enveloped body."""
    if not data.startswith(MAGIC):
        raise ProtobufError("missing the k8s\\x00 prefix")
    api_version = kind = ""
    raw = b""
    for number, wire_type, value in _fields(data[len(MAGIC) :]):
        if wire_type != _LEN:
            continue
        assert isinstance(value, bytes)
        if number == 1:
            for n, _w, v in _fields(value):
                if n == 1:
                    api_version = _text(v, "apiVersion")
                elif n == 2:
                    kind = _text(v, "kind")
        elif number == 2:
            raw = value
    return api_version, kind, raw


def decode(data: bytes) -> dict[str, Any]:
    """The JSON dict for an enveloped protobuf body (CSR, CSR list, Status,
    DeleteOptions), exactly as kube-apiserver's JSON for the same object."""
    api_version, kind, raw = unwrap(data)
    if kind not in TOP_LEVEL_KINDS:
        raise ProtobufError(f"cannot decode kind {kind!r}")
    _version, message = TOP_LEVEL_KINDS[kind]
    body = _decode_message(MESSAGES[message], raw)
    out: dict[str, Any] = {}
    if kind:
        out["kind"] = kind
    if api_version:
        out["apiVersion"] = api_version
    out.update(body)
    return out


def go_normalize(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` as the server shows it after decoding it into its Go type.

    Unknown fields disappear, empty strings, lists and maps under ``omitempty`` go,
    non-pointer structs appear even when empty, zero times become ``null`` (or vanish
    for ``creationTimestamp``), and times lose sub-second precision.
    """
    return decode(encode(obj))


# -- watch streams -----------------------------------------------------------------------


def encode_watch_event(event_type: str, obj: Mapping[str, Any]) -> bytes:
    """One frame of a ``;stream=watch`` protobuf response: a 4-byte big-endian length,
    then a bare ``WatchEvent`` message (no envelope) whose ``object.raw`` holds the
    enveloped object."""
    event = _len_field(1, event_type.encode()) + _len_field(2, _len_field(1, encode(obj)))
    return struct.pack(">I", len(event)) + event


def decode_watch_events(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(type, object) for every complete frame in a protobuf watch stream."""
    events: list[tuple[str, dict[str, Any]]] = []
    pos = 0
    while pos + 4 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        frame = data[pos + 4 : pos + 4 + length]
        if len(frame) < length:
            break
        pos += 4 + length
        event_type = ""
        obj: dict[str, Any] = {}
        for number, _w, value in _fields(frame):
            assert isinstance(value, bytes)
            if number == 1:
                event_type = _text(value, "type")
            elif number == 2:
                for n, _w2, inner in _fields(value):
                    if n == 1:
                        assert isinstance(inner, bytes)
                        obj = decode(inner)
        events.append((event_type, obj))
    return events
