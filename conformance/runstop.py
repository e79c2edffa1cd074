"""Why a run stopped early, and the exit code that says so.

A CI job that sends SIGTERM, a person who presses Ctrl-C and the run's own time budget
all need the same thing: the run stops where it is, deletes what it created, writes the
report with what finished, and exits with a code that says which of them happened. The
signals are turned into :class:`RunStopped`, a ``KeyboardInterrupt`` so that pytest and
Hypothesis unwind exactly as they do for Ctrl-C (no property catches it, pytest still
calls ``pytest_sessionfinish``). While the run cleans up and writes its report, further
signals are remembered but do not interrupt the clean-up (:func:`shielded`).
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

EXIT_OK = 0
EXIT_NONCONFORMANT = 1
EXIT_CANNOT_RUN = 2
EXIT_BUDGET = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention
EXIT_TERMINATED = 143  # 128 + SIGTERM


class RunStopped(KeyboardInterrupt):
    """The run was stopped before it finished; ``reason`` is one line, ``code`` the exit code."""

    def __init__(self, reason: str, code: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class _State:
    stopped: RunStopped | None = None
    shield: int = 0
    installed: bool = False
    deadline: float | None = None
    budget_text: str = ""


_STATE = _State()


def stopped() -> RunStopped | None:
    """The first stop of this process's run, if any."""
    return _STATE.stopped


def _stop(stop: RunStopped) -> None:
    if _STATE.stopped is None:
        _STATE.stopped = stop
        if _STATE.shield == 0:
            raise stop


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGTERM:
        _stop(RunStopped("terminated (SIGTERM)", EXIT_TERMINATED))
    elif signum == signal.SIGINT:
        _stop(RunStopped("interrupted (SIGINT)", EXIT_INTERRUPTED))
    elif signum == signal.SIGALRM:
        _stop(RunStopped(f"time budget spent (--max-time {_STATE.budget_text})", EXIT_BUDGET))


def install(max_seconds: float | None = None, budget_text: str = "") -> None:
    """Turn SIGTERM, SIGINT and (with ``max_seconds``) the run's deadline into RunStopped.

    Idempotent: the CLI installs first (so a signal during target start-up counts), and
    the pytest plugin installs again when pytest is run directly. The first deadline set
    wins, so the budget covers the whole run, start-up included.
    """
    if not _STATE.installed:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
            signal.signal(sig, _on_signal)
        _STATE.installed = True
    if max_seconds is not None and _STATE.deadline is None:
        _STATE.deadline = time.monotonic() + max_seconds
        _STATE.budget_text = budget_text or f"{max_seconds:g}s"
        signal.setitimer(signal.ITIMER_REAL, max_seconds)


def remaining() -> float | None:
    """Seconds left of the run's budget, or None without one."""
    if _STATE.deadline is None:
        return None
    return max(0.0, _STATE.deadline - time.monotonic())


def disarm() -> None:
    """Cancel the deadline: the run has finished, its clean-up must not be cut short."""
    if _STATE.installed:
        signal.setitimer(signal.ITIMER_REAL, 0)


def uninstall() -> None:
    """Restore default signal handling and cancel the deadline (end of the run)."""
    if _STATE.installed:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _STATE.installed = False
    _STATE.deadline = None


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Clean-up and report writing run to the end; a signal meanwhile is only remembered."""
    _STATE.shield += 1
    try:
        yield
    finally:
        _STATE.shield -= 1


def reset() -> None:
    """Forget a previous run's stop (for in-process reuse, e.g. tests)."""
    uninstall()
    _STATE.stopped = None
    _STATE.shield = 0


_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``30m``, ``1h30m``, ``1.5h``; ValueError otherwise."""
    import re

    s = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", s)
    if not parts or "".join(n + u for n, u in parts) != s:
        raise ValueError(f"not a duration: {text!r} (examples: 90s, 30m, 1h)")
    return sum(float(n) * _UNITS[u] for n, u in parts)
