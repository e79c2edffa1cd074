"""Go parser behaviour the oracle reproduces: the JSON scanner at the end of input,
go-yaml on surrogate escapes and Go's Unicode tables, as kube-apiserver v1.37.2 shows them.

Go's ``scanner.eof`` steps the state with a space before giving up, so a body cut inside an
escape, a literal or a number is "invalid character ' ' in ..." and only a body cut
between tokens (or inside a plain string) is "unexpected end of JSON input". Found by
``test_put_bodies_are_decoded_like_create_bodies`` against the real server.
"""

from __future__ import annotations

import pytest

from conformance.oracle.golang.jsonscan import syntax_error

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


def test_apply_with_surrogate_escapes_is_refused_like_go_yaml() -> None:
    """go-yaml refuses ``\\ud83d\\ude00`` (how JSON encoders escape U+1F600) in an apply
    body: 400 before anything else (seen on kube-apiserver v1.37.2 by the focused update
    properties, which send apply bodies as ASCII JSON)."""
    from conformance.oracle.csr.update import decide_update

    body = b'{"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", '
    body += b'"metadata": {"name": "x", "annotations": {"a": "\\ud83d\\ude00"}}}'
    decision = decide_update(
        "main",
        "PATCH",
        "x",
        body,
        "application/apply-patch+yaml",
        {"fieldManager": ["m"]},
        None,
        lambda verb, resource, name: True,
        stored=None,
        now="2026-01-01T00:00:00Z",
    )
    assert decision.code == 400
    assert decision.body["message"] == (
        "error decoding patch: error converting YAML to JSON: yaml: "
        "found invalid Unicode character escape code"
    )


def test_quoting_follows_gos_unicode_version() -> None:
    """A character of Unicode 15.0 (Go 1.26's tables), unassigned in Python 3.11's, is
    printable to kube-apiserver's strconv.Quote (seen on v1.37.2 in a patch error)."""
    from conformance.oracle.apimachinery.fielderrors import go_quote

    assert go_quote("a\U00031350") == '"a\U00031350"'
    assert go_quote("\U000e0080") == '"\\U000e0080"'
