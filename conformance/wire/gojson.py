"""JSON text as Go writes it, for the few places where exact bytes matter.

``managedFields[].fieldsV1`` travels as raw JSON inside protobuf, and the
last-applied annotation is JSON inside a string, so their bytes must match what the
server's Go encoder produced: compact, ``<``, ``>`` and ``&`` escaped as ``\\u003c``-style
sequences, U+2028/U+2029 escaped, and (for ``sort_keys``) object keys in byte order, the
way ``encoding/json`` writes a Go map.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_ESCAPE_RE: Final = re.compile("[<>&\u2028\u2029]")


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON with Go's HTML-safe escaping (no trailing newline)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)
