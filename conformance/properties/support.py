"""The glue every property uses: rule ids, per-example transcripts, the session.

``@checks(*rule_ids)`` goes *inside* ``@given``, so it wraps each example: the shared
transcript starts empty for every example, and when the example fails its transcript is
kept for the report. Hypothesis replays the minimal failing example last, so the kept
transcript belongs to the example the report shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from conformance.session import Session

F = TypeVar("F", bound=Callable[..., Any])

_SESSION: Session | None = None
_FAILED_TRANSCRIPT: dict[str, str] = {}
_CURRENT_TEST: list[str] = [""]


def bind_session(session: Session | None) -> None:
    """Installed by the pytest plugin for the run's duration."""
    global _SESSION
    _SESSION = session


def current_session() -> Session:
    if _SESSION is None:
        raise RuntimeError("no csr-conformance session: run through `csr-conformance run`")
    return _SESSION


def set_current_test(nodeid: str) -> None:
    _CURRENT_TEST[0] = nodeid


def rules_of(fn: object) -> tuple[str, ...]:
    """The rule ids of a test function, looking through Hypothesis's wrapper."""
    inner = getattr(getattr(fn, "hypothesis", None), "inner_test", None)
    for candidate in (fn, inner):
        rules = getattr(candidate, "_csr_rules", None)
        if rules:
            return tuple(rules)
    return ()


def pop_failed_transcript(nodeid: str) -> str | None:
    return _FAILED_TRANSCRIPT.pop(nodeid, None)


def checks(*rule_ids: str) -> Callable[[F], F]:
    """Declare the rules a property checks and give each example its own transcript."""
    from conformance.spec.rules import RULES

    unknown = [r for r in rule_ids if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule ids {unknown}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            session = _SESSION
            if session is not None:
                session.transcript.begin_example()
            try:
                return fn(*args, **kwargs)
            except BaseException:
                if session is not None:
                    _FAILED_TRANSCRIPT[_CURRENT_TEST[0]] = session.transcript.render()
                raise

        wrapper._csr_rules = rule_ids  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
