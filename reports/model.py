"""The outcome of a run, independent of pytest, so reports can be written and tested alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("passed", "failed", "error", "skipped")


@dataclass
class CaseResult:
    """One property (one JUnit testcase)."""

    name: str
    classname: str
    nodeid: str
    rules: tuple[str, ...] = ()
    doc: str = ""
    outcome: str = ""  # one of OUTCOMES once known
    seconds: float = 0.0
    message: str = ""
    details: str = ""  # the minimal example and traceback, as pytest/Hypothesis rendered them
    transcript: str = ""  # redacted HTTP exchanges of the failing example
    replay: str = ""  # one command that replays this failure
    concern: str = ""  # the JUnit testsuite it belongs to (reports.concerns.CONCERNS)
    reproduce: dict[str, str] | None = None  # Hypothesis version and blob of the failure
    watch_history: dict[str, Any] | None = None
    """A watch failure's writes, events and broken guarantees, as
    ``conformance.history.to_record`` gives them; report.html draws it as a timeline."""


@dataclass
class RunResult:
    cases: list[CaseResult]
    properties: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    setup_error: str | None = None
    stopped: str | None = None  # why the run stopped early (signal, budget, crash)
    stop_code: int | None = None  # the exit code that stop means

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.cases if c.outcome == outcome)

    @property
    def conformant(self) -> bool:
        return self.setup_error is None and not any(
            c.outcome in ("failed", "error") for c in self.cases
        )
