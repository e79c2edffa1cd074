"""Design rule 4: every fault of the fake is caught by a property that names its rules.

A property no fault can fail proves nothing, and a fault no property catches means a
class of server bugs would pass the suite. For each fault this runs only the properties
that claim the fault's rules and requires a non-conformant verdict (exit 1) attributed
to one of those rules.

Each fault gets its own ``csr-conformance run --fault F`` (faults would interact inside
one server), with the default budget of examples per property, ``-x`` and no shrinking:
the verdict needs one failing example, not a minimal one, and ``-x`` stops at it. Runs are
derandomized and a property's examples do not depend on which other properties run, so
this also shows that a plain whole-suite ``csr-conformance run --fault F -x`` exits 1:
with ``-x`` the order of the properties changes only the time, not the verdict.

The runs are forked from one warmed-up process (tests/fault_forkserver.py). In a plain
pytest run every selected fault is queued when the first of these tests starts and runs a
few at a time (``CSR_FAULT_JOBS``, default: the number of CPUs, at least 2); each test
waits for its own. Under pytest-xdist a worker does not know which tests it will get, so
each test queues its own fault when it starts and the workers are the parallelism.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.plugin import DEFAULT_EXAMPLES
from conformance.properties.catalog import properties_for
from conformance.targets.fake.faults import FAULTS

_FORKSERVER = Path(__file__).with_name("fault_forkserver.py")
_RUN_TIMEOUT = 600.0
_EXAMPLES = DEFAULT_EXAMPLES
"""The budget users run with (issue 14 item 4: every fault caught as users run the suite)."""


def _jobs() -> int:
    configured = os.environ.get("CSR_FAULT_JOBS")
    if configured:
        return max(1, int(configured))
    return max(2, os.cpu_count() or 2)


def _run_args(fault: str) -> list[str]:
    props = properties_for(FAULTS[fault].rules)
    return [
        "run",
        "--fault",
        fault,
        "--examples",
        str(_EXAMPLES),
        "-x",
        "--shrink-seconds",
        "0",
        "-k",
        " or ".join(props),
    ]


@dataclass
class FaultRuns:
    """The fork server running the faults, and where it writes."""

    out: Path
    proc: subprocess.Popen[str]
    queued: set[str]

    def queue(self, faults: list[str]) -> None:
        assert self.proc.stdin is not None
        for fault in faults:
            if fault not in self.queued:
                self.queued.add(fault)
                self.proc.stdin.write(json.dumps({"fault": fault, "args": _run_args(fault)}))
                self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def wait(self, fault: str) -> tuple[int, str]:
        """The exit code and output of the run for ``fault`` (queued now if it is not)."""
        self.queue([fault])
        done = self.out / fault / "exit"
        deadline = time.monotonic() + _RUN_TIMEOUT * 2
        while not done.exists():
            if self.proc.poll() is not None and not done.exists():
                _, err = self.proc.communicate()
                pytest.fail(f"fault fork server exited {self.proc.returncode}: {err[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"run for fault {fault} did not finish")
            time.sleep(0.1)
        output = (self.out / fault / "output.txt").read_text(errors="replace")
        return int(done.read_text()), output


@pytest.fixture(scope="module")
def fault_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultRuns]:
    xdist_worker = "PYTEST_XDIST_WORKER" in os.environ
    out = tmp_path_factory.mktemp("fault-runs")
    proc = subprocess.Popen(
        [sys.executable, str(_FORKSERVER), str(out), "1" if xdist_worker else str(_jobs())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        start_new_session=True,  # its own process group: teardown stops the children too
    )
    runs = FaultRuns(out, proc, set())
    if not xdist_worker:
        runs.queue(
            [
                str(item.callspec.params["fault"])
                for item in request.session.items
                if isinstance(item, pytest.Function)
                and item.module is sys.modules[__name__]
                and hasattr(item, "callspec")
                and properties_for(FAULTS[str(item.callspec.params["fault"])].rules)
            ]
        )
    try:
        yield runs
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_is_caught(fault: str, fault_runs: FaultRuns) -> None:
    rules = FAULTS[fault].rules
    props = properties_for(rules)
    assert props, f"no property names any rule of fault {fault} ({', '.join(rules)})"
    code, output = fault_runs.wait(fault)
    assert code == 1, f"fault {fault} not caught (exit {code}):\n{output[-4000:]}"
    data = json.loads((fault_runs.out / fault / "results.json").read_text())
    failed = [c for c in data["cases"] if c["outcome"] == "failed"]
    assert any(set(c["rules"]) & set(rules) for c in failed), (
        f"fault {fault} failed only properties outside its rules: {[c['name'] for c in failed]}"
    )
