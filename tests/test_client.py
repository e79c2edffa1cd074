"""The client's promises: secrets never reach a transcript, garbage is a failure, timeouts trip."""

from __future__ import annotations

import pytest

from conformance.client import Breaker, Exchange, NotJSON, Response, TargetError, Transcript
from conformance.client.redact import redact_text

KEY = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIAbc\n-----END EC PRIVATE KEY-----\n"


def test_transcript_redacts_tokens_and_keys() -> None:
    t = Transcript()
    t.record(
        Exchange(
            identity="admin",
            method="POST",
            path="/x",
            query=[("a", "b")],
            request_headers={
                "Authorization": "Bearer s3cr3t-token",
                "Content-Type": "application/json",
            },
            request_body=b'{"key": "' + KEY.replace(b"\n", b"\\n") + b'"}',
            status=201,
            response_headers={"warning": '299 - "unknown field"'},
            response_body=KEY,
        )
    )
    text = t.render()
    assert "s3cr3t-token" not in text
    assert "MHcCAQEEIAbc" not in text
    assert "<redacted" in text
    assert "299" in text


def test_redact_text_covers_kubeconfig_secrets() -> None:
    text = (
        "users:\n- user:\n    token: abc.def\n    client-key-data: QUJD\nAuthorization: Bearer zzz"
    )
    out = redact_text(text)
    assert "abc.def" not in out and "QUJD" not in out and "zzz" not in out


def test_transcript_starts_empty_per_example_and_is_bounded() -> None:
    t = Transcript(limit=3)
    for i in range(5):
        t.record(Exchange("a", "GET", f"/{i}", [], {}, None, status=200))
    assert [e.path for e in t.exchanges()] == ["/2", "/3", "/4"]
    assert "2 earlier exchanges dropped" in t.render()
    t.begin_example()
    assert t.exchanges() == []


def test_garbage_body_is_a_conformance_failure() -> None:
    resp = Response(status=200, headers={"content-type": "text/html"}, body=b"<html>")
    with pytest.raises(NotJSON):
        resp.json()
    assert issubclass(NotJSON, AssertionError)
    with pytest.raises(NotJSON):
        Response(status=200, headers={}, body=b"[1]").obj()


def test_breaker_fails_fast_after_the_first_outage() -> None:
    b = Breaker()
    b.check()
    b.trip("cannot connect to https://127.0.0.1:1")
    b.trip("second reason is ignored")
    with pytest.raises(TargetError, match="cannot connect"):
        b.check()
