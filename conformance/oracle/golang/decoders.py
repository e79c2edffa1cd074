"""Ports of the two Go standard-library decoders whose quirks decide CSR verdicts.

``encoding/base64.StdEncoding.Decode`` decides whether a JSON ``[]byte`` field decodes at
all (a 400 with ``illegal base64 data at input byte N``) and whether a PEM block body is
usable. ``encoding/pem.Decode`` decides which block ``spec.request`` validation looks at:
it skips leading junk, skips malformed candidate blocks and keeps scanning, and ignores
everything after the first good block. Python's ``base64``/PEM helpers differ on all of
these points, so both are ported line by line from Go 1.26 (what kube-apiserver v1.37 is
built with).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

_B64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_MAP: Final[dict[int, int]] = {c: i for i, c in enumerate(_B64_ALPHABET)}
_PAD: Final = ord("=")
_NL: Final = (ord("\n"), ord("\r"))


class CorruptInputError(ValueError):
    """Go's ``base64.CorruptInputError``: the offset of the first bad byte."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset

    def __str__(self) -> str:
        return f"illegal base64 data at input byte {self.offset}"


def _decode_quantum(src: bytes, si: int, out: bytearray) -> int:
    """One step of Go's ``decodeQuantum`` (standard, padded, non-strict encoding)."""
    dbuf = [0, 0, 0, 0]
    dlen = 4
    j = 0
    while j < 4:
        if si == len(src):
            if j == 0:
                return si
            # A partial quantum without padding is an error for the padded encoding.
            raise CorruptInputError(si - j)
        c = src[si]
        si += 1
        v = _B64_MAP.get(c)
        if v is not None:
            dbuf[j] = v
            j += 1
            continue
        if c in _NL:
            continue
        if c != _PAD:
            raise CorruptInputError(si - 1)
        if j in (0, 1):
            raise CorruptInputError(si - 1)
        if j == 2:
            while si < len(src) and src[si] in _NL:
                si += 1
            if si == len(src):
                raise CorruptInputError(len(src))
            if src[si] != _PAD:
                raise CorruptInputError(si - 1)
            si += 1
        while si < len(src) and src[si] in _NL:
            si += 1
        trailing = si < len(src)
        dlen = j
        val = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3]
        out.extend(val.to_bytes(3, "big")[: dlen - 1])
        if trailing:
            raise CorruptInputError(si)
        return si
    val = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3]
    out.extend(val.to_bytes(3, "big")[: dlen - 1])
    return si


def b64decode(src: bytes) -> bytes:
    """``base64.StdEncoding.DecodeString`` semantics; raises :class:`CorruptInputError`.

    CR and LF are skipped anywhere; padding is mandatory; non-zero trailing bits are
    accepted (the encoding is not Strict).
    """
    out = bytearray()
    si = 0
    while si < len(src):
        si = _decode_quantum(src, si, out)
    return bytes(out)


# ---------------------------------------------------------------------------
# encoding/pem
# ---------------------------------------------------------------------------

_PEM_START: Final = b"\n-----BEGIN "
_PEM_END: Final = b"\n-----END "
_PEM_EOL: Final = b"-----"


@dataclass(frozen=True)
class PemBlock:
    """Go's ``pem.Block``."""

    type: str
    headers: dict[str, str] = field(default_factory=dict)
    bytes: bytes = b""


def _get_line(data: bytes) -> tuple[bytes, bytes, int]:
    i = data.find(b"\n")
    if i < 0:
        i = len(data)
        j = i
    else:
        j = i + 1
        if i > 0 and data[i - 1] == ord("\r"):
            i -= 1
    return data[:i].rstrip(b" \t"), data[j:], j


def _remove_spaces_and_tabs(data: bytes) -> bytes:
    return data.replace(b" ", b"").replace(b"\t", b"")


def _go_string(b: bytes) -> str:
    # A Go string holds arbitrary bytes; keep them losslessly so %q can show them.
    return b.decode("utf-8", errors="surrogateescape")


def pem_decode(data: bytes) -> tuple[PemBlock | None, bytes]:
    """``pem.Decode``: the first well-formed block and the rest, or ``(None, data)``."""
    rest = data
    end_trailer_index = 0
    while True:
        if end_trailer_index < 0 or end_trailer_index > len(rest):
            return None, data
        rest = rest[end_trailer_index:]

        end_index = rest.find(_PEM_END)
        if end_index < 0:
            return None, data
        end_trailer_index = end_index + len(_PEM_END)
        begin_index = rest[:end_index].rfind(_PEM_START[1:])
        if begin_index < 0 or (begin_index > 0 and rest[begin_index - 1] != ord("\n")):
            continue
        skip = begin_index + len(_PEM_START) - 1
        rest = rest[skip:]
        end_index -= skip
        end_trailer_index -= skip

        type_line, rest, consumed = _get_line(rest)
        end_index -= consumed
        end_trailer_index -= consumed
        if not type_line.endswith(_PEM_EOL):
            continue
        type_line = type_line[: len(type_line) - len(_PEM_EOL)]

        headers: dict[str, str] = {}
        truncated = False
        while True:
            if len(rest) == 0:
                truncated = True
                break
            line, nxt, consumed = _get_line(rest)
            key, sep, val = line.partition(b":")
            if not sep:
                break
            headers[_go_string(key.strip(b" \t\r\n\v\f"))] = _go_string(val.strip(b" \t\r\n\v\f"))
            rest = nxt
            end_index -= consumed
            end_trailer_index -= consumed
        if truncated:
            return None, data

        if headers and end_index < 0:
            continue

        end_trailer = rest[end_trailer_index:] if end_trailer_index >= 0 else b""
        if end_trailer_index < 0:
            # Go would slice with a negative index and panic; that cannot happen for a
            # well-formed scan, but stay defensive and treat it as a malformed block.
            continue
        end_trailer_len = len(type_line) + len(_PEM_EOL)
        if len(end_trailer) < end_trailer_len:
            continue
        rest_of_end_line = end_trailer[end_trailer_len:]
        end_trailer = end_trailer[:end_trailer_len]
        if not end_trailer.startswith(type_line) or not end_trailer.endswith(_PEM_EOL):
            continue
        s, _, _ = _get_line(rest_of_end_line)
        if len(s) != 0:
            continue

        body = b""
        if end_index > 0:
            try:
                body = b64decode(_remove_spaces_and_tabs(rest[:end_index]))
            except CorruptInputError:
                continue
        _, rest_after, _ = _get_line(rest[end_index + len(_PEM_END) - 1 :])
        return PemBlock(_go_string(type_line), headers, body), rest_after


def pem_decode_all(data: bytes) -> list[PemBlock]:
    """Every block ``pem.Decode`` would return when called repeatedly on the rest."""
    blocks: list[PemBlock] = []
    while True:
        block, data = pem_decode(data)
        if block is None:
            return blocks
        blocks.append(block)
