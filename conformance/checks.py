"""Small named checks the properties compose, each failing with a message that says why.

In the manner of schemathesis's checks: a check takes what the server sent (and what
the oracle predicted) and raises ``AssertionError`` naming the difference by JSON path,
so a JUnit failure line is readable without the transcript.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.client import Response

# Fields the server chooses, compared separately (or not at all) from the oracle's object.
SERVER_CHOSEN = ("metadata.resourceVersion", "metadata.managedFields")


def diff(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Human-readable differences between two JSON values, by path."""
    where = path or "(root)"
    if isinstance(actual, dict) and isinstance(expected, dict):
        out: list[str] = []
        for key in sorted(set(actual) | set(expected), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual:
                out.append(f"{sub}: missing, expected {_short(expected[key])}")
            elif key not in expected:
                out.append(f"{sub}: unexpected {_short(actual[key])}")
            else:
                out += diff(actual[key], expected[key], sub)
        return out
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return [
                f"{where}: {len(actual)} items, expected {len(expected)}: "
                f"{_short(actual)} vs {_short(expected)}"
            ]
        out = []
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            out += diff(a, e, f"{path}[{i}]")
        return out
    if actual != expected or type(actual) is not type(expected):
        return [f"{where}: got {_short(actual)}, expected {_short(expected)}"]
    return []


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def without(obj: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A deep copy of ``obj`` without the dotted paths given."""
    out: dict[str, Any] = json.loads(json.dumps(obj))
    for dotted in paths:
        node: Any = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return out


def status_code(resp: Response, *expected: int) -> None:
    """The HTTP status is one of ``expected``."""
    if resp.status not in expected:
        want = " or ".join(str(c) for c in expected)
        body = resp.body[:300].decode("utf-8", "replace")
        raise AssertionError(f"HTTP {resp.status}, expected {want}: {body}")


def is_status_object(resp: Response) -> dict[str, Any]:
    """CSR-ERR-STATUS: an error body is a v1 Status whose code matches the HTTP status."""
    body = resp.obj()
    problems = []
    if body.get("kind") != "Status" or body.get("apiVersion") != "v1":
        problems.append(f"kind/apiVersion {body.get('kind')!r}/{body.get('apiVersion')!r}")
    if body.get("status") != "Failure":
        problems.append(f"status {body.get('status')!r}")
    if body.get("code") != resp.status:
        problems.append(f"code {body.get('code')!r} for HTTP {resp.status}")
    if not isinstance(body.get("message"), str):
        problems.append("no message")
    if problems:
        raise AssertionError("error body is not a proper Status: " + "; ".join(problems))
    return body


def status_matches(
    resp: Response, expected: Mapping[str, Any], *, exact_message: bool, message_prefix: str = ""
) -> None:
    """The Status the server sent equals the oracle's; messages only where the oracle is exact.

    Where the oracle cannot reproduce a message (Go's own parser errors), it still knows
    how the message starts; that prefix must match.
    """
    body = is_status_object(resp)
    if not exact_message and message_prefix:
        message = str(body.get("message", ""))
        if not message.startswith(message_prefix):
            raise AssertionError(
                f"HTTP {resp.status} message {message[:200]!r} does not start with "
                f"{message_prefix!r}"
            )
    if resp.status != expected.get("code"):
        raise AssertionError(
            f"HTTP {resp.status} {body.get('reason')!r}, expected {expected.get('code')} "
            f"{expected.get('reason')!r}: {body.get('message')!r}"
        )
    want = dict(expected)
    got = dict(body)
    if not exact_message:
        got.pop("message", None)
        want.pop("message", None)
        for holder in (got, want):
            details = holder.get("details")
            if isinstance(details, dict) and isinstance(details.get("causes"), list):
                holder["details"] = dict(details)
                holder["details"]["causes"] = [
                    {k: v for k, v in c.items() if k != "message"} if isinstance(c, dict) else c
                    for c in details["causes"]
                ]
    problems = diff(got, want)
    if problems:
        raise AssertionError(
            f"HTTP {resp.status} Status differs from kube-apiserver's:\n  " + "\n  ".join(problems)
        )


def same_object(actual: Mapping[str, Any], expected: Mapping[str, Any], what: str) -> None:
    """Two objects agree on every field but those the server chooses."""
    problems = diff(without(actual, SERVER_CHOSEN), without(expected, SERVER_CHOSEN))
    if problems:
        raise AssertionError(f"{what} differs:\n  " + "\n  ".join(problems))


def rejected_without_persisting(resp: Response) -> None:
    """Portable profile: a request that must fail got a 4xx with a Status body."""
    if not 400 <= resp.status < 500:
        body = resp.body[:300].decode("utf-8", "replace")
        raise AssertionError(f"invalid request accepted: HTTP {resp.status}: {body}")
    is_status_object(resp)
