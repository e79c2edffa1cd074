"""Unicode character classes as kube-apiserver's Go sees them.

Go's ``unicode`` tables are a fixed Unicode version (Go 1.26: 15.0.0), Python's
``unicodedata`` another (Python 3.11: 14.0.0). Where a message depends on a character's
class (``strconv.Quote`` escapes what ``unicode.IsPrint`` refuses; fieldManager must be
printable), a character assigned in between, such as CJK Extension H (U+31350..U+323AF,
Unicode 15.0), is printable to kube-apiserver and unassigned to Python. Seen on
kube-apiserver v1.37.2 (built with Go 1.26.8) quoting an annotation value in a patch error.
"""

from __future__ import annotations

from typing import Final

import unicodedata2  # type: ignore[import-not-found]  # a C extension without stubs

GO_UNICODE_VERSION: Final = "15.0.0"
"""``unicode.Version`` of the Go release kube-apiserver v1.37 is built with."""

if unicodedata2.unidata_version != GO_UNICODE_VERSION:  # pragma: no cover - install error
    raise ImportError(
        f"unicodedata2 {unicodedata2.unidata_version} installed; the oracle needs Unicode "
        f"{GO_UNICODE_VERSION} (Go's tables): pip install unicodedata2=={GO_UNICODE_VERSION}"
    )


def category(ch: str) -> str:
    """The general category of ``ch`` in Go's Unicode version."""
    return str(unicodedata2.category(ch))


def is_print(ch: str) -> bool:
    """Go's ``unicode.IsPrint``: letters, marks, numbers, punctuation, symbols and U+0020."""
    return ch == " " or category(ch)[0] in "LMNPS"
