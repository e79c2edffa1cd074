"""Label and field selectors, parsed and matched the way kube-apiserver does it.

Selectors are where hand-written fakes most often cheat (client-go's fake ignores field
selectors altogether), and the suite's selector properties compare whole error messages,
so the parsers here follow apimachinery's ``labels.Parse`` (a small lexer plus a
recursive-descent parser) and ``fields.ParseSelector`` (split on unescaped commas, sort the
terms, split each at its first operator) step by step, including the order in which errors
are found. List, watch and deletecollection all go through :func:`parse_list_selectors`.

Upstream: apimachinery ``pkg/labels/selector.go``, ``pkg/fields/selector.go``,
``pkg/util/validation/validation.go`` (label key and value rules) and the CSR field-label
conversion in ``pkg/apis/certificates/v1/conversion.go``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from conformance.oracle.apimachinery.fielderrors import invalid
from conformance.oracle.csr.validation import is_label_value, is_qualified_name

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class SelectorError(ValueError):
    """A selector the server rejects with 400 BadRequest; the text is the Status message."""


# The label key and value checks are apimachinery's, shared with metadata validation.
label_key_errors = is_qualified_name
label_value_errors = is_label_value


# ---------------------------------------------------------------------------
# Label selectors
# ---------------------------------------------------------------------------

EXISTS: Final = "exists"
DOES_NOT_EXIST: Final = "!"
EQUALS: Final = "="
DOUBLE_EQUALS: Final = "=="
NOT_EQUALS: Final = "!="
IN: Final = "in"
NOT_IN: Final = "notin"
GREATER_THAN: Final = "gt"
LESS_THAN: Final = "lt"

_BINARY_OPERATORS: Final = ("in", "notin", "=", "==", "!=", "gt", "lt")


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.operator in (IN, EQUALS, DOUBLE_EQUALS):
            return present and value in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return not present or value not in self.values
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if self.operator in (GREATER_THAN, LESS_THAN):
            if not present or len(self.values) != 1:
                return False
            try:
                have, want = _go_parse_int(value), _go_parse_int(self.values[0])
            except ValueError:
                return False
            return have > want if self.operator == GREATER_THAN else have < want
        return False


def _go_parse_int(text: str) -> int:
    # strconv.ParseInt(s, 10, 64): optional sign, ASCII digits only, int64 range.
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(text)
    n = int(text)
    if not -(2**63) <= n < 2**63:
        raise ValueError(text)
    return n


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: all requirements must hold (sorted by key, as upstream)."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


# Tokens of the label-selector lexer.
_ERROR, _EOS, _CLOSE, _COMMA, _NOT, _DEQ, _EQ, _GT, _IDENT, _IN, _LT, _NEQ, _NOTIN, _OPEN = range(
    14
)
_STRING_TO_TOKEN: Final[Mapping[str, int]] = {
    ")": _CLOSE,
    ",": _COMMA,
    "!": _NOT,
    "==": _DEQ,
    "=": _EQ,
    ">": _GT,
    "in": _IN,
    "<": _LT,
    "!=": _NEQ,
    "notin": _NOTIN,
    "(": _OPEN,
}
_WHITESPACE: Final = b" \t\r\n"
_SPECIAL: Final = b"=!(),><"


def _lex(selector: str) -> list[tuple[int, str]]:
    """Scan the whole selector as Go's ``Lexer`` does (byte-wise)."""
    data = selector.encode()
    pos = 0
    items: list[tuple[int, str]] = []

    def read() -> int:
        nonlocal pos
        if pos < len(data):
            pos += 1
            return data[pos - 1]
        return 0

    while True:
        ch = read()
        while ch and ch in _WHITESPACE:
            ch = read()
        if ch == 0:
            items.append((_EOS, ""))
            return items
        pos -= 1
        if ch in _SPECIAL:
            buf = b""
            last: tuple[int, str] | None = None
            while True:
                c = read()
                if c == 0:
                    break
                if c in _SPECIAL:
                    buf += bytes([c])
                    tok = _STRING_TO_TOKEN.get(buf.decode("latin-1"))
                    if tok is not None:
                        last = (tok, buf.decode("latin-1"))
                    elif last is not None:
                        pos -= 1
                        break
                else:
                    pos -= 1
                    break
            if last is None:
                items.append((_ERROR, f"error expected: keyword found '{buf.decode('latin-1')}'"))
            else:
                items.append(last)
        else:
            buf = b""
            while True:
                c = read()
                if c == 0:
                    break
                if c in _SPECIAL or c in _WHITESPACE:
                    pos -= 1
                    break
                buf += bytes([c])
            text = buf.decode("utf-8", errors="surrogateescape")
            items.append((_STRING_TO_TOKEN.get(text, _IDENT), text))


class _LabelParser:
    def __init__(self, selector: str) -> None:
        self.items = _lex(selector)
        self.pos = 0

    def lookahead(self, values: bool) -> tuple[int, str]:
        tok, lit = self.items[self.pos]
        if values and tok in (_IN, _NOTIN):
            tok = _IDENT
        return tok, lit

    def consume(self, values: bool) -> tuple[int, str]:
        tok, lit = self.lookahead(values)
        self.pos += 1
        return tok, lit

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(True)
            if tok in (_IDENT, _NOT):
                try:
                    reqs.append(self.requirement())
                except SelectorError as e:
                    raise SelectorError(f"unable to parse requirement: {e}") from None
                t, lt = self.consume(True)
                if t == _EOS:
                    return reqs
                if t == _COMMA:
                    t2, l2 = self.lookahead(True)
                    if t2 not in (_IDENT, _NOT):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lt}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        key, op = self.key_and_operator()
        if op in (EXISTS, DOES_NOT_EXIST):
            return _new_requirement(key, op, [])
        op = self.operator()
        values = self.value_set() if op in (IN, NOT_IN) else self.exact_value()
        return _new_requirement(key, op, sorted(values))

    def key_and_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.consume(True)
        if tok == _NOT:
            op = DOES_NOT_EXIST
            tok, lit = self.consume(True)
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key_errs = label_key_errors(lit)
        if key_errs:
            raise SelectorError(_field_invalid("<nil>", lit, "; ".join(key_errs)))
        nxt, _ = self.lookahead(True)
        if nxt in (_EOS, _COMMA) and op != DOES_NOT_EXIST:
            op = EXISTS
        return lit, op

    def operator(self) -> str:
        tok, lit = self.consume(False)
        ops = {_IN: IN, _EQ: EQUALS, _DEQ: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN}
        ops |= {_NOTIN: NOT_IN, _NEQ: NOT_EQUALS}
        if tok not in ops:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return ops[tok]

    def value_set(self) -> set[str]:
        tok, lit = self.consume(True)
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(True)
        if tok in (_IDENT, _COMMA):
            values = self.identifiers()
            if self.consume(True)[0] != _CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSE:
            self.consume(True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(True)
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.lookahead(True)
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                if not values:
                    values.add("")
                tok2, _ = self.lookahead(True)
                if tok2 in (_CLOSE, _COMMA):
                    values.add("")
                    if tok2 == _CLOSE:
                        return values
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.lookahead(True)
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self.consume(True)
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def _field_invalid(path: str, value: object, detail: str) -> str:
    return invalid("", path, value, detail).error_string()


def _new_requirement(key: str, op: str, values: list[str]) -> Requirement:
    """``labels.NewRequirement``: the value checks the parser leaves to construction."""
    errs: list[str] = []
    if op in (GREATER_THAN, LESS_THAN):
        for i, v in enumerate(values):
            try:
                _go_parse_int(v)
            except ValueError:
                errs.append(
                    _field_invalid(
                        f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                )
    for i, v in enumerate(values):
        msgs = label_value_errors(v)
        if msgs:
            errs.append(_field_invalid(f"values[{i}][{key}]", v, "; ".join(msgs)))
    if errs:
        raise SelectorError(errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")
    return Requirement(key, op, tuple(values))


def parse_label_selector(selector: str) -> LabelSelector:
    """``labels.Parse``; raises :class:`SelectorError` with the upstream message."""
    reqs = _LabelParser(selector).parse()
    reqs.sort(key=lambda r: r.key.encode())
    return LabelSelector(tuple(reqs))


# ---------------------------------------------------------------------------
# Field selectors
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldTerm:
    """``field=value`` (``equal=True``) or ``field!=value``."""

    field: str
    value: str
    equal: bool

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return (have == self.value) if self.equal else (have != self.value)


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: every term must hold."""

    terms: tuple[FieldTerm, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(t.matches(fields) for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    def exact(self, field: str) -> str | None:
        """``RequiresExactMatch``: the value an ``=`` term on ``field`` demands, if any."""
        for t in self.terms:
            if t.field == field:
                return t.value if t.equal else None
        return None


def _split_terms(selector: str) -> list[str]:
    # Split on commas that are not escaped by a backslash; keep escapes for unescaping later.
    terms: list[str] = []
    start = 0
    escaped = False
    for i, ch in enumerate(selector):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def _unescape(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    in_slash = False
    for ch in value:
        if in_slash:
            if ch in "\\,=":
                out.append(ch)
            else:
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            in_slash = False
            continue
        if ch == "\\":
            in_slash = True
        elif ch in ",=":
            # Go formats the rune with %v, which prints its code point.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(selector: str) -> FieldSelector:
    """``fields.ParseSelector``: terms are handled in sorted order, as upstream sorts them."""
    terms: list[FieldTerm] = []
    for part in sorted(_split_terms(selector), key=lambda s: s.encode()):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{selector}'; can't understand '{part}'")
        lhs, op, rhs = split
        terms.append(FieldTerm(lhs, _unescape(rhs), op != "!="))
    return FieldSelector(tuple(terms))


CSR_FIELD_LABELS: Final = ("metadata.name", "spec.signerName")
"""The only field labels CertificateSigningRequest supports (its field-label conversion)."""


def check_field_labels(selector: FieldSelector, supported: tuple[str, ...]) -> None:
    """The resource's field-label conversion, applied term by term in order."""
    for t in selector.terms:
        if t.field not in supported:
            raise SelectorError(f"field label not supported: {t.field}")


def csr_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    """The selectable fields of a stored CSR (``GetAttrs``)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return {
        "metadata.name": str(meta.get("name", "")),
        "spec.signerName": str(spec.get("signerName", "")),
    }


def object_labels(obj: Mapping[str, Any]) -> dict[str, str]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


@dataclass(frozen=True)
class ListSelectors:
    """The two selectors of one list, watch or deletecollection request."""

    labels: LabelSelector = LabelSelector()
    fields: FieldSelector = FieldSelector()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return self.labels.matches(object_labels(obj)) and self.fields.matches(csr_fields(obj))

    @property
    def empty(self) -> bool:
        """No selection at all (upstream's ``pred.Empty()``: remainingItemCount is exact)."""
        return self.labels.empty and self.fields.empty


def parse_list_selectors(
    label_selector: str | None,
    field_selector: str | None,
    *,
    supported_fields: tuple[str, ...] = CSR_FIELD_LABELS,
) -> ListSelectors:
    """Parse both selectors in the order the list handler does.

    The query decoding parses the label selector before the field selector, and the
    field-label conversion runs only after both parsed, so a request with two bad selectors
    reports the label selector's error.
    """
    labels = parse_label_selector(label_selector) if label_selector else LabelSelector()
    fields = parse_field_selector(field_selector) if field_selector else FieldSelector()
    check_field_labels(fields, supported_fields)
    return ListSelectors(labels, fields)
