"""Suite runs forked from one warmed-up process (tests/fault_forkserver.py), for the
self-checks that need one ``csr-conformance run`` per fault (or per fault and property).

A fresh interpreter per run spends most of its time importing; the fork server pays
for that once. In a plain pytest run a module queues all its runs when its first test
starts, and they run a few at a time (``CSR_FAULT_JOBS``, default: the number of CPUs, at
least 2) while each test waits for its own. Under pytest-xdist a worker does not know
which tests it will get, so each test queues its own run and the workers are the
parallelism.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

_FORKSERVER = Path(__file__).with_name("fault_forkserver.py")
RUN_TIMEOUT = 600.0


def jobs() -> int:
    """How many runs at once: $CSR_FAULT_JOBS, else the CPUs (at least 2)."""
    configured = os.environ.get("CSR_FAULT_JOBS")
    if configured:
        return max(1, int(configured))
    return max(2, os.cpu_count() or 2)


def under_xdist() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


@dataclass
class ForkRuns:
    """The fork server running the suite runs, and where each writes."""

    out: Path
    proc: subprocess.Popen[str]
    queued: set[str]

    def queue(self, runs: dict[str, list[str]]) -> None:
        """Queue each named run (its ``csr-conformance`` arguments) not queued yet."""
        assert self.proc.stdin is not None
        for name, args in runs.items():
            if name not in self.queued:
                self.queued.add(name)
                self.proc.stdin.write(json.dumps({"name": name, "args": args}) + "\n")
        self.proc.stdin.flush()

    def wait(self, name: str, args: list[str]) -> tuple[int, str]:
        """The exit code and output of the run ``name`` (queued now if it is not)."""
        self.queue({name: args})
        done = self.out / name / "exit"
        deadline = time.monotonic() + RUN_TIMEOUT * 2
        while not done.exists():
            if self.proc.poll() is not None and not done.exists():
                _, err = self.proc.communicate()
                pytest.fail(f"fork server exited {self.proc.returncode}: {err[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"run {name} did not finish")
            time.sleep(0.1)
        output = (self.out / name / "output.txt").read_text(errors="replace")
        return int(done.read_text()), output

    def results(self, name: str) -> dict[str, object]:
        """The run's results.json."""
        data: dict[str, object] = json.loads((self.out / name / "results.json").read_text())
        return data


@contextmanager
def fork_runs(out: Path) -> Iterator[ForkRuns]:
    """A fork server writing under ``out``, stopped (with its children) on exit."""
    proc = subprocess.Popen(
        [sys.executable, str(_FORKSERVER), str(out), "1" if under_xdist() else str(jobs())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        start_new_session=True,  # its own process group: teardown stops the children too
    )
    try:
        yield ForkRuns(out, proc, set())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
