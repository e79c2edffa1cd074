"""Go's JSON scanner at the end of input, as kube-apiserver v1.37.2 words it.

``scanner.eof`` steps the state with a space before giving up, so a body cut inside an
escape, a literal or a number is "invalid character ' ' in ..." and only a body cut
between tokens (or inside a plain string) is "unexpected end of JSON input". Found by
``test_put_bodies_are_decoded_like_create_bodies`` against the real server.
"""

from __future__ import annotations

import pytest

from conformance.spec.goscan import syntax_error

CUT_BODIES = [
    (b'{"a": "\\u00', "invalid character ' ' in \\u hexadecimal character escape"),
    (b'{"a": "\\', "invalid character ' ' in string escape code"),
    (b'{"a": tr', "invalid character ' ' in literal true (expecting 'u')"),
    (b'{"a": -', "invalid character ' ' in numeric literal"),
    (b'{"a": 1.', "invalid character ' ' after decimal point in numeric literal"),
    (b'{"a": 1e+', "invalid character ' ' in exponent of numeric literal"),
    (b'{"a": "ab', "unexpected end of JSON input"),
    (b'{"a": 1', "unexpected end of JSON input"),
    (b'{"a"', "unexpected end of JSON input"),
    (b"12", None),
]


@pytest.mark.parametrize(("body", "message"), CUT_BODIES)
def test_cut_bodies_get_gos_message(body: bytes, message: str | None) -> None:
    assert syntax_error(body) == message
