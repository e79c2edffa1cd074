"""Scrubbing secrets out of anything the suite writes down.

Transcripts end up in JUnit files that CI systems publish; a bearer token or a private
key must never reach them. Redaction happens when a transcript is rendered, so the
in-memory exchange stays exact for properties that inspect it.
"""

from __future__ import annotations

import re

_PRIVATE_KEY = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.*?(?:-----END \1-----|\Z)", re.DOTALL
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+\S+")
_SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-remote-user"}
)
_KUBECONFIG_SECRET = re.compile(
    r"(?m)^(\s*(?:token|client-key-data|password|id-token|refresh-token)\s*:\s*).+$"
)

REDACTED = "<redacted>"


def redact_bytes(body: bytes) -> bytes:
    """Replace every PEM private key block in a body."""
    return _PRIVATE_KEY.sub(b"<redacted private key>", body)


def redact_text(text: str) -> str:
    """Replace bearer tokens, PEM private keys and kubeconfig secrets in free text."""
    text = redact_bytes(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _KUBECONFIG_SECRET.sub(lambda m: m.group(1) + REDACTED, text)


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers with credential-bearing values replaced."""
    return {k: (REDACTED if k.lower() in _SENSITIVE_HEADERS else v) for k, v in headers.items()}
