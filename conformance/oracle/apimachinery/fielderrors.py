"""Field errors rendered byte for byte the way kube-apiserver renders them.

A 422 body is judged on its ``details.causes`` and on the aggregated ``message``; both are
built from apimachinery's ``field.Error`` (``ErrorBody`` and ``Error``) and its
``ToAggregate``. Getting a quote or an escape wrong here would make every property that
compares messages fail against a real server, so the Go formatting rules (``%q``,
``encoding/json``) are ported rather than approximated.

Upstream: kubernetes/apimachinery ``pkg/util/validation/field/errors.go`` (``ErrorBody``,
``NotSupported``, ``TooLong``, ``ToAggregate``) and ``pkg/util/errors/errors.go``
(``aggregate.Error``).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from conformance.oracle.golang import unicode_tables as gounicode

# Go ErrorType strings (the ``reason`` of a StatusCause).
NOT_FOUND: Final = "FieldValueNotFound"
REQUIRED: Final = "FieldValueRequired"
DUPLICATE: Final = "FieldValueDuplicate"
INVALID: Final = "FieldValueInvalid"
NOT_SUPPORTED: Final = "FieldValueNotSupported"
FORBIDDEN: Final = "FieldValueForbidden"
TOO_LONG: Final = "FieldValueTooLong"
TOO_MANY: Final = "FieldValueTooMany"
TOO_FEW: Final = "FieldValueTooFew"
INTERNAL: Final = "InternalError"
TYPE_INVALID: Final = "FieldValueTypeInvalid"
TOO_SHORT: Final = "FieldValueTooShort"

_TYPE_TEXT: Final[Mapping[str, str]] = {
    NOT_FOUND: "Not found",
    REQUIRED: "Required value",
    DUPLICATE: "Duplicate value",
    INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    FORBIDDEN: "Forbidden",
    TOO_LONG: "Too long",
    TOO_MANY: "Too many",
    TOO_FEW: "Too few",
    INTERNAL: "Internal error",
    TYPE_INVALID: "Invalid value",
    TOO_SHORT: "Too short",
}

# Types whose body never shows the bad value.
_VALUELESS: Final = frozenset({REQUIRED, FORBIDDEN, TOO_LONG, TOO_SHORT, INTERNAL})


def type_text(error_type: str) -> str:
    """Go's ``ErrorType.String()``."""
    return _TYPE_TEXT.get(error_type, f"<unknown error {go_quote(error_type)}>")


# ---------------------------------------------------------------------------
# Go formatting ports
# ---------------------------------------------------------------------------

_GO_SIMPLE_ESCAPES: Final[Mapping[str, str]] = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def go_quote(s: str | bytes) -> str:
    """Go's ``strconv.Quote`` (what ``%q`` prints for a string).

    ``bytes`` input is treated as a Go string holding those bytes, so invalid UTF-8 shows
    as ``\\xNN`` escapes exactly as Go would print it. Lone surrogates in a Python ``str``
    cannot exist in a Go string; they are shown as Go shows U+FFFD.
    """
    out: list[str] = ['"']
    for ch, raw in _runes(s):
        if raw is not None:
            out.append(f"\\x{raw:02x}")
            continue
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif gounicode.is_print(ch):
            out.append(ch)
        elif ch in _GO_SIMPLE_ESCAPES:
            out.append(_GO_SIMPLE_ESCAPES[ch])
        else:
            cp = ord(ch)
            if cp < 0x20 or cp == 0x7F:
                out.append(f"\\x{cp:02x}")
            elif cp < 0x10000:
                out.append(f"\\u{cp:04x}")
            else:
                out.append(f"\\U{cp:08x}")
    out.append('"')
    return "".join(out)


def _runes(s: str | bytes) -> Iterable[tuple[str, int | None]]:
    """Yield (rune, None) for valid runes, ("", byte) for bytes Go treats as invalid."""
    if isinstance(s, str):
        for ch in s:
            if 0xD800 <= ord(ch) <= 0xDFFF:
                yield "\ufffd", None
            else:
                yield ch, None
        return
    i = 0
    n = len(s)
    while i < n:
        b = s[i]
        if b < 0x80:
            yield chr(b), None
            i += 1
            continue
        width = (
            2 if 0xC2 <= b <= 0xDF else 3 if 0xE0 <= b <= 0xEF else 4 if 0xF0 <= b <= 0xF4 else 0
        )
        if width and i + width <= n:
            try:
                ch = s[i : i + width].decode("utf-8")
            except UnicodeDecodeError:
                ch = ""
            if len(ch) == 1:
                yield ch, None
                i += width
                continue
        yield "", b
        i += 1


_JSON_SHORT: Final[Mapping[str, str]] = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def go_json_string(s: str) -> str:
    """A string as Go's ``encoding/json`` writes it (HTML-safe escaping, as Marshal does)."""
    out: list[str] = ['"']
    for ch in s:
        cp = ord(ch)
        if ch in _JSON_SHORT:
            out.append(_JSON_SHORT[ch])
        elif cp < 0x20 or ch in "<>&" or cp in (0x2028, 0x2029):
            out.append(f"\\u{cp:04x}")
        elif 0xD800 <= cp <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(value: object) -> str:
    """Go's ``json.Marshal`` for the value shapes a CSR bad value can take.

    ``bytes`` marshal as standard base64 (Go's ``[]byte``), ``None`` as ``null``, mappings
    with keys sorted (Go sorts map keys), sequences as arrays.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, bytes | bytearray):
        return go_json_string(base64.b64encode(bytes(value)).decode("ascii"))
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{go_json_string(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TypeError(f"no Go JSON rendering for {type(value).__name__}")


def _go_float(value: float) -> str:
    # %v of a float64 is strconv.FormatFloat(f, 'g', -1, 64) with Go's exponent style.
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    text = repr(value)
    if "e" in text or "E" in text:
        mant, exp = text.lower().split("e")
        sign = "-" if exp.startswith("-") else "+"
        digits = exp.lstrip("+-").rjust(2, "0")
        if mant.endswith(".0"):
            mant = mant[:-2]
        return f"{mant}e{sign}{digits}"
    if text.endswith(".0"):
        text = text[:-2]
    return text


class _Omit:
    """Go's ``field.OmitValueType``: the body shows only the type text."""

    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()


@dataclass(frozen=True)
class RawJSON:
    """A bad value whose Go ``json.Marshal`` text was computed by the caller.

    Needed for Go structs (field order is declaration order, not sorted) and for named
    string types (``KeyUsage``, ``RequestConditionType``), which ``ErrorBody`` prints through
    ``json.Marshal`` rather than ``%q``.
    """

    text: str


def named_string(value: str) -> RawJSON:
    """A Go named string type (e.g. ``KeyUsage``): rendered with JSON quoting, not ``%q``."""
    return RawJSON(go_json_string(value))


def render_value(value: object) -> str:
    """How ``ErrorBody`` prints a bad value of the given Go-equivalent Python type.

    Go prints ``int``/``bool``/``float`` with ``%v``, ``string`` with ``%q`` and anything
    else through ``json.Marshal``. Note Go's simple-type switch lists only int64, int32,
    float64, float32 and bool: a plain Go ``int`` goes through json.Marshal, which prints
    the same digits, so Python ``int`` needs no distinction.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, RawJSON):
        return value.text
    return go_json(value)


# ---------------------------------------------------------------------------
# FieldError
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One field-level validation error, tagged with the rule that produced it.

    ``bad_value`` uses Python stand-ins for Go types: ``str`` for a Go string, ``bytes`` for
    ``[]byte``, ``int`` for integers, ``None`` for a nil pointer/slice, ``OMIT`` for Go's
    omitValue. ``has_value=False`` is equivalent to ``bad_value=OMIT``.

    ``detail_exact`` is False when the detail is our best rendering of a text we cannot
    reproduce (Go x509 parse errors): the fake may serve it, but properties should compare
    only ``field`` and ``reason`` (and the message up to the detail).
    """

    rule: str
    type: str
    field: str
    detail: str = ""
    bad_value: object = None
    has_value: bool = True
    detail_exact: bool = True

    def body_prefix(self) -> str:
        """The body up to, not including, the detail (exact even when the detail is not)."""
        if self.type in _VALUELESS or self.type not in _TYPE_TEXT:
            return type_text(self.type)
        if not self.has_value or self.bad_value is OMIT:
            return type_text(self.type)
        return f"{type_text(self.type)}: {render_value(self.bad_value)}"

    def body(self) -> str:
        """Go's ``ErrorBody()``: the cause message."""
        s = self.body_prefix()
        if self.detail:
            s += f": {self.detail}"
        return s

    def error_string(self) -> str:
        """Go's ``Error()``: ``<field>: <body>``."""
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict[str, str]:
        """The ``details.causes`` entry, with Go's omitempty applied (empty keys absent)."""
        out: dict[str, str] = {}
        if self.type:
            out["reason"] = self.type
        msg = self.body()
        if msg:
            out["message"] = msg
        if self.field:
            out["field"] = self.field
        return out

    def matches_cause(self, cause: Mapping[str, object]) -> bool:
        """Whether a cause from a server response agrees with this error.

        With an inexact detail only the reason, field and the message prefix are compared.
        """
        want = self.cause()
        if cause.get("reason", "") != want.get("reason", ""):
            return False
        if cause.get("field", "") != want.get("field", ""):
            return False
        got = cause.get("message", "")
        if self.detail_exact:
            return got == want.get("message", "")
        return isinstance(got, str) and got.startswith(self.body_prefix())


# Constructors mirroring apimachinery's field package. Each takes the rule id first.


def required(rule: str, field: str, detail: str = "") -> FieldError:
    return FieldError(rule, REQUIRED, field, detail, "")


def forbidden(rule: str, field: str, detail: str) -> FieldError:
    return FieldError(rule, FORBIDDEN, field, detail, "")


def invalid(
    rule: str, field: str, value: object, detail: str, *, detail_exact: bool = True
) -> FieldError:
    return FieldError(rule, INVALID, field, detail, value, detail_exact=detail_exact)


def duplicate(rule: str, field: str, value: object) -> FieldError:
    return FieldError(rule, DUPLICATE, field, "", value)


def not_supported(rule: str, field: str, value: object, valid: Sequence[str]) -> FieldError:
    """``NotSupported``: every supported value is quoted with %q, in the order given."""
    detail = ""
    if valid:
        detail = "supported values: " + ", ".join(go_quote(v) for v in valid)
    return FieldError(rule, NOT_SUPPORTED, field, detail, value)


def too_long(rule: str, field: str, max_length: int) -> FieldError:
    """``TooLong``: the value is never shown; bytes are counted."""
    if max_length >= 0:
        unit = "byte" if max_length == 1 else "bytes"
        msg = f"may not be more than {max_length} {unit}"
    else:
        msg = "value is too long"
    return FieldError(rule, TOO_LONG, field, msg, "<value omitted>")


def too_many(rule: str, field: str, actual: int, maximum: int) -> FieldError:
    if maximum >= 0:
        unit = "item" if maximum == 1 else "items"
        msg = f"must have at most {maximum} {unit}"
    else:
        msg = "has too many items"
    value: object = actual if actual >= 0 else OMIT
    return FieldError(rule, TOO_MANY, field, msg, value)


def internal(rule: str, field: str, detail: str) -> FieldError:
    return FieldError(rule, INTERNAL, field, detail, None)


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------


def aggregate(errors: Sequence[FieldError | str]) -> str:
    """``ErrorList.ToAggregate().Error()``.

    Identical error strings are kept once (first occurrence wins, order preserved); one
    remaining error prints bare, several print as ``[e1, e2]``. An empty list gives ``""``
    (Go returns a nil aggregate; callers then omit the ``: …`` suffix).
    """
    seen: set[str] = set()
    msgs: list[str] = []
    for e in errors:
        text = e if isinstance(e, str) else e.error_string()
        if text in seen:
            continue
        seen.add(text)
        msgs.append(text)
    if not msgs:
        return ""
    if len(msgs) == 1:
        return msgs[0]
    return "[" + ", ".join(msgs) + "]"


def all_exact(errors: Iterable[FieldError]) -> bool:
    """True when every error's text is reproduced exactly (so whole messages can be compared)."""
    return all(e.detail_exact for e in errors)
