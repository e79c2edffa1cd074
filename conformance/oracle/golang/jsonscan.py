"""Go's ``encoding/json`` syntax check, for its error messages.

kube-apiserver quotes Go's scanner error inside 400 bodies ("invalid character 'n'
looking for beginning of object key string"). Python's parser finds the same errors but
words them differently, so this walks the bytes the way Go's ``checkValid`` does and
returns Go's message for the first error, or None for valid JSON. Upstream: golang/go
``src/encoding/json/scanner.go`` (stateBeginValue, stateBeginStringOrEmpty, ...).
"""

from __future__ import annotations

from typing import Final

_WS: Final = b" \t\r\n"
_HEX: Final = b"0123456789abcdefABCDEF"


def _quote_char(c: int) -> str:
    """Go's ``quoteChar``: the offending byte as Go prints it."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    if c >= 0x80:  # Go quotes string(rune(c)): the Latin-1 character of the byte
        ch = chr(c)
        return f"'{ch}'" if ch.isprintable() else f"'\\u{c:04x}'"
    if c == ord("\\"):
        return "'\\\\'"
    if chr(c).isprintable():
        return f"'{chr(c)}'"
    escapes = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
    return "'" + escapes.get(c, f"\\x{c:02x}") + "'"


class _Err(Exception):
    pass


def _fail(c: int, context: str) -> _Err:
    return _Err(f"invalid character {_quote_char(c)} {context}")


class _Scanner:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.i = 0

    def peek(self) -> int | None:
        return self.data[self.i] if self.i < len(self.data) else None

    def ws(self) -> None:
        while self.i < len(self.data) and self.data[self.i] in _WS:
            self.i += 1

    def need(self) -> int:
        c = self.peek()
        if c is None:
            raise _Err("unexpected end of JSON input")
        return c

    def need_in_token(self) -> int:
        """``need`` inside a token: at the end of input Go's ``scanner.eof`` feeds the
        state a space, so a cut-off escape, literal or number is reported as an invalid
        ' ' in that token (seen on kube-apiserver v1.37.2), not as the end of input."""
        c = self.peek()
        return ord(" ") if c is None else c

    def value(self) -> None:
        self.ws()
        c = self.need()
        if c == ord("{"):
            self.i += 1
            self.obj()
        elif c == ord("["):
            self.i += 1
            self.arr()
        elif c == ord('"'):
            self.i += 1
            self.string()
        elif c == ord("-") or ord("0") <= c <= ord("9"):
            self.number()
        elif c in b"tfn":
            word = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}[c]
            self.literal(word)
        else:
            raise _fail(c, "looking for beginning of value")

    def literal(self, word: bytes) -> None:
        for k, expected in enumerate(word):
            c = self.need_in_token()
            if c != expected:
                raise _fail(c, f"in literal {word.decode()} (expecting {_quote_char(expected)})")
            self.i += 1
            del k

    def obj(self) -> None:
        self.ws()
        c = self.need()
        if c == ord("}"):
            self.i += 1
            return
        while True:
            if c != ord('"'):
                raise _fail(c, "looking for beginning of object key string")
            self.i += 1
            self.string()
            self.ws()
            c = self.need()
            if c != ord(":"):
                raise _fail(c, "after object key")
            self.i += 1
            self.value()
            self.ws()
            c = self.need()
            if c == ord(","):
                self.i += 1
                self.ws()
                c = self.need()
                continue
            if c == ord("}"):
                self.i += 1
                return
            raise _fail(c, "after object key:value pair")

    def arr(self) -> None:
        self.ws()
        c = self.need()
        if c == ord("]"):
            self.i += 1
            return
        while True:
            self.value()
            self.ws()
            c = self.need()
            if c == ord(","):
                self.i += 1
                continue
            if c == ord("]"):
                self.i += 1
                return
            raise _fail(c, "after array element")

    def string(self) -> None:
        while True:
            c = self.need()
            self.i += 1
            if c == ord('"'):
                return
            if c == ord("\\"):
                e = self.need_in_token()
                self.i += 1
                if e == ord("u"):
                    for _ in range(4):
                        h = self.need_in_token()
                        if h not in _HEX:
                            raise _fail(h, "in \\u hexadecimal character escape")
                        self.i += 1
                elif e not in b'bfnrt\\/"':
                    raise _fail(e, "in string escape code")
            elif c < 0x20:
                raise _fail(c, "in string literal")

    def number(self) -> None:
        if self.peek() == ord("-"):
            self.i += 1
            c = self.need_in_token()
            if not ord("0") <= c <= ord("9"):
                raise _fail(c, "in numeric literal")
        if self.peek() == ord("0"):
            self.i += 1
        else:
            self._digits()
        if self.peek() == ord("."):
            self.i += 1
            c = self.need_in_token()
            if not ord("0") <= c <= ord("9"):
                raise _fail(c, "after decimal point in numeric literal")
            self._digits()
        if self.peek() in (ord("e"), ord("E")):
            self.i += 1
            if self.peek() in (ord("+"), ord("-")):
                self.i += 1
            c = self.need_in_token()
            if not ord("0") <= c <= ord("9"):
                raise _fail(c, "in exponent of numeric literal")
            self._digits()

    def _digits(self) -> None:
        while (c := self.peek()) is not None and ord("0") <= c <= ord("9"):
            self.i += 1


def syntax_error(data: bytes) -> str | None:
    """Go's ``json.Valid``-style check: the first error message, or None."""
    scanner = _Scanner(data)
    try:
        scanner.value()
        scanner.ws()
        c = scanner.peek()
        if c is not None:
            raise _fail(c, "after top-level value")
    except _Err as e:
        return str(e)
    return None
