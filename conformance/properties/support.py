"""The glue every property uses: rule ids, per-example transcripts, the session, budgets.

``@checks(*rule_ids)`` goes *inside* ``@given``, so it wraps each example: the shared
transcript starts empty for every example, and when the example fails its transcript is
kept for the report. Hypothesis replays the minimal failing example last, so the kept
transcript belongs to the example the report shows. The rule ids also become the
registered ``csr_rules`` pytest marker, so ``-m``, reports and tools read them from the
item like any other marker.

The same wrapper owns the run's shrinking budget (:class:`ShrinkBudget`): once a failure
has been shrinking for its share of time, every further shrink attempt is rejected
without touching the server, so Hypothesis settles on the smallest failing example found
so far and replays it for the report. That bounds a run against a server that fails
everything without reaching into Hypothesis's internals.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from hypothesis.errors import StopTest, UnsatisfiedAssumption

from conformance.session import Session

F = TypeVar("F", bound=Callable[..., Any])

_SESSION: Session | None = None
_FAILED_TRANSCRIPT: dict[str, str] = {}
_CURRENT_TEST: list[str] = [""]


@dataclass
class ShrinkBudget:
    """Time spent shrinking failures: at most ``per_failure`` each, ``total`` for the run."""

    per_failure: float
    total: float
    spent: float = 0.0
    _first_failure: float | None = None
    _last: float = 0.0

    def start_test(self) -> None:
        """A new property begins: book the previous one's shrinking time."""
        if self._first_failure is not None:
            self.spent += self._last - self._first_failure
        self._first_failure = None

    def failed(self) -> None:
        now = time.monotonic()
        if self._first_failure is None:
            self._first_failure = now
        self._last = now

    def exhausted(self) -> bool:
        """True once the current failure may not shrink any further."""
        if self._first_failure is None:
            return False
        now = time.monotonic()
        self._last = now
        elapsed = now - self._first_failure
        return elapsed >= self.per_failure or self.spent + elapsed >= self.total

    @property
    def shrinking(self) -> bool:
        return self._first_failure is not None


_BUDGET: list[ShrinkBudget | None] = [None]
_CUT_SHORT: set[str] = set()
# The failures of the current property, by the example's arguments: once the budget is
# spent, Hypothesis may still run an example it already saw fail (the shrinker re-checks
# its target, and resolves some candidates to a known sequence). Rejecting that one made
# Hypothesis report FlakyFailure and lose the blob; it gets the same failure instead.
_KNOWN_FAILURES: dict[str, BaseException] = {}


def bind_session(session: Session | None) -> None:
    """Installed by the pytest plugin for the run's duration."""
    global _SESSION
    _SESSION = session


def bind_shrink_budget(budget: ShrinkBudget | None) -> None:
    _BUDGET[0] = budget


def shrinking_cut_short(nodeid: str) -> bool:
    """Whether the budget stopped shrinking this property's failure early."""
    return nodeid in _CUT_SHORT


def current_session() -> Session:
    if _SESSION is None:
        raise RuntimeError("no csr-conformance session: run through `csr-conformance run`")
    return _SESSION


def set_current_test(nodeid: str) -> None:
    _CURRENT_TEST[0] = nodeid
    _KNOWN_FAILURES.clear()
    budget = _BUDGET[0]
    if budget is not None:
        budget.start_test()


def need_any_role(session: Session, *roles: str) -> None:
    """Skip, with the reason, a property that cannot exercise its rules without ``roles``.

    A property that loops over the identities it was given would otherwise send nothing
    and pass when none was given: a vacuous pass that a report must never show.
    """
    if not any(session.has_role(r) for r in roles):
        names = " or ".join(repr(r) for r in roles)
        pytest.skip(f"not checked: needs a context for the {names} identity, none was given")


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


# StopTest is Hypothesis ending an example that ran out of choices (an overrun while the
# body draws): control flow, not a failure. Counting it started the shrink clock, and once
# that ran out every later example was rejected before drawing, which Hypothesis reports
# as FlakyStrategyDefinition (at once with --shrink-seconds 0).
_NOT_FAILURES: tuple[type[BaseException], ...] = (
    pytest.skip.Exception,
    UnsatisfiedAssumption,
    StopTest,
)


def _is_final_replay() -> bool:
    """True while Hypothesis replays the example it will report (that one always runs)."""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:  # outside a Hypothesis context: nothing to skip
        return True


def _example_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The drawn arguments as text, to know an example seen before ("" if unprintable)."""
    try:
        return repr((args, sorted(kwargs.items())))
    except Exception:
        return ""


def checks(*rule_ids: str) -> Callable[[F], F]:
    """Declare the rules a property checks and give each example its own transcript."""
    from conformance.oracle.csr.rules import RULES

    unknown = [r for r in rule_ids if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule ids {unknown}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            budget = _BUDGET[0]
            key = _example_key(args, kwargs) if budget is not None else ""
            if budget is not None and budget.exhausted() and not _is_final_replay():
                from hypothesis import reject

                _CUT_SHORT.add(_CURRENT_TEST[0])
                known = _KNOWN_FAILURES.get(key) if key else None
                if known is not None:
                    raise known  # already seen failing: not sent again, not flaky
                reject()
            session = _SESSION
            if session is not None:
                session.transcript.begin_example()
            try:
                return fn(*args, **kwargs)
            except KeyboardInterrupt:
                raise
            except BaseException as e:
                if session is not None:
                    _FAILED_TRANSCRIPT[_CURRENT_TEST[0]] = session.transcript.render()
                if budget is not None and not isinstance(e, _NOT_FAILURES):
                    budget.failed()
                    if key:
                        _KNOWN_FAILURES[key] = e
                raise

        wrapper._csr_rules = rule_ids  # type: ignore[attr-defined]
        marked: F = pytest.mark.csr_rules(*rule_ids)(wrapper)
        return marked

    return decorate
