"""Every way a run can end early still writes a report, cleans up, and says which it was.

The target is a fake started with ``csr-conformance serve`` in its own process, holding
CSRs the run did not create (one even carries another run's label, one a look-alike
name). The run is stopped while one of its own objects exists on the server; afterwards
the foreign objects must be untouched (same resourceVersion), none of the run's objects
may remain, and the report must hold what finished and mark what did not.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pems
import pytest

from conformance.client import Client, Connection, Transcript
from conformance.runstop import EXIT_BUDGET, EXIT_INTERRUPTED, EXIT_TERMINATED

CLI = [sys.executable, "-m", "conformance.cli"]
RUN_LABEL = "csr-conformance.io/run"
LONG_PROPERTY = "test_update_histories_follow_kube_apiserver"


class Served:
    """A standalone fake and an admin client for it."""

    def __init__(self, kubeconfig: str, proc: subprocess.Popen[str]) -> None:
        self.kubeconfig = kubeconfig
        self.proc = proc
        conn = Connection.from_kubeconfig(kubeconfig, "admin")
        self.admin = Client(conn, "admin", Transcript(), timeout=10)

    def create_foreign(self, name: str, labels: dict[str, str]) -> None:
        body = {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "request": pems.request_b64("foreign"),
                "signerName": "foreign.example.com/x",
                "usages": ["digital signature"],
            },
        }
        resp = self.admin.create(body)
        assert resp.status == 201, resp.body

    def objects(self) -> dict[str, dict[str, Any]]:
        resp = self.admin.list()
        assert resp.status == 200
        return {o["metadata"]["name"]: o for o in resp.obj()["items"]}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    kubeconfig = str(tmp_path / "fake.kubeconfig")
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--kubeconfig-out", kubeconfig],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(2):  # URL, then the kubeconfig line
        proc.stdout.readline()
    try:
        yield Served(kubeconfig, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _foreign(served: Served) -> dict[str, str]:
    served.create_foreign("foreign-plain", {})
    served.create_foreign("foreign-other-run", {RUN_LABEL: "zzzzzz"})
    served.create_foreign("csrc-zzzzzz-lookalike", {"team": "a"})
    return {n: o["metadata"]["resourceVersion"] for n, o in served.objects().items()}


def _start_run(served: Served, report: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *CLI,
            "run",
            "--kubeconfig",
            served.kubeconfig,
            "--context",
            "admin",
            "--user-context",
            "user",
            "--approver-context",
            "approver",
            "--signer-context",
            "signer",
            "--report-dir",
            str(report),
            "--examples",
            "2000",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _wait_for_own_object(served: Served, foreign: dict[str, str], limit: float = 90) -> str:
    """Poll until an object of the run exists; return its name."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        resp = served.admin.list({"labelSelector": RUN_LABEL})
        for obj in resp.obj().get("items", []):
            name = obj["metadata"]["name"]
            if name not in foreign:
                return str(name)
        time.sleep(0.01)
    raise AssertionError("the run never created an object")


def _check_aftermath(served: Served, foreign: dict[str, str], report: Path) -> dict[str, Any]:
    after = served.objects()
    assert {n: after[n]["metadata"]["resourceVersion"] for n in foreign if n in after} == foreign
    data: dict[str, Any] = json.loads((report / "results.json").read_text())
    run_id = data["properties"]["run-id"]
    left = [
        n
        for n, o in after.items()
        if n.startswith(f"csrc-{run_id}-")
        or (o["metadata"].get("labels") or {}).get(RUN_LABEL) == run_id
    ]
    assert left == [], f"the run left {left}"
    assert (report / "summary.md").exists()
    root = ET.parse(report / "junit.xml").getroot()
    assert root.get("tests") == str(len(data["cases"]))
    return data


@pytest.mark.parametrize(
    ("signum", "code", "reason"),
    [
        (signal.SIGTERM, EXIT_TERMINATED, "terminated (SIGTERM)"),
        (signal.SIGINT, EXIT_INTERRUPTED, "interrupted (SIGINT)"),
    ],
)
def test_a_signal_mid_run_reports_cleans_up_and_exits_with_its_code(
    served: Served, tmp_path: Path, signum: int, code: int, reason: str
) -> None:
    foreign = _foreign(served)
    report = tmp_path / "r"
    run = _start_run(served, report, "-k", f"test_discovery_lists or {LONG_PROPERTY}")
    try:
        _wait_for_own_object(served, foreign)
        run.send_signal(signum)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == code, err
    assert "Traceback" not in err
    assert reason in err
    data = _check_aftermath(served, foreign, report)
    assert data["stopped"] == reason and data["stop_code"] == code
    outcomes = {c["name"]: (c["outcome"], c["message"]) for c in data["cases"]}
    # what finished before the signal is kept ...
    assert outcomes["test_discovery_lists_the_group_and_three_resources"][0] == "passed"
    # ... and what was running is marked, not lost
    assert outcomes[LONG_PROPERTY] == ("error", f"not finished: {reason} while it ran")


def test_max_time_stops_the_run_with_a_complete_report(served: Served, tmp_path: Path) -> None:
    foreign = _foreign(served)
    report = tmp_path / "r"
    started = time.monotonic()
    run = _start_run(
        served,
        report,
        "-k",
        f"{LONG_PROPERTY} or test_get_returns_the_created_object",
        "--max-time",
        "30s",
    )
    _, err = run.communicate(timeout=90)
    took = time.monotonic() - started
    assert run.returncode == EXIT_BUDGET, err
    assert took < 240, f"a 30 s budget took {took:.0f}s"  # a hang detector, not a speed test
    budget = "time budget spent (--max-time 30s)"
    assert budget in err
    data = _check_aftermath(served, foreign, report)
    outcomes = {c["name"]: (c["outcome"], c["message"]) for c in data["cases"]}
    assert set(outcomes) == {"test_get_returns_the_created_object_on_every_endpoint", LONG_PROPERTY}
    # the one that was running is marked so; what finished keeps its outcome; the rest
    # did not run (which of the two was running depends on the machine's speed)
    cut = [n for n, (o, m) in outcomes.items() if m == f"not finished: {budget} while it ran"]
    assert len(cut) == 1
    for name, (outcome, message) in outcomes.items():
        assert outcome in ("passed", "error"), (name, outcome)
        assert outcome == "passed" or budget in message, (name, message)


def test_a_crash_of_the_runner_still_reports_and_cleans_up(served: Served, tmp_path: Path) -> None:
    """A plugin raising inside pytest's hooks is an internal error: exit 2, one line."""
    foreign = _foreign(served)
    report = tmp_path / "r"
    env = {
        "PYTEST_PLUGINS": "crash_plugin",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent / "fixtures"), os.environ.get("PYTHONPATH", "")]
        ),
        "CSRC_CRASH_AFTER": "test_get_returns_the_created_object",
    }
    run = subprocess.run(
        [
            *CLI,
            "run",
            "--kubeconfig",
            served.kubeconfig,
            "--context",
            "admin",
            "--report-dir",
            str(report),
            "--examples",
            "3",
            "-k",
            f"test_discovery_lists or test_get_returns_the_created_object or {LONG_PROPERTY}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **env},
    )
    assert run.returncode == 2, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in run.stderr + run.stdout, run.stderr
    assert "the test runner crashed: RuntimeError: simulated crash" in lines[0]
    data = _check_aftermath(served, foreign, report)
    outcomes = {c["name"]: (c["outcome"], c["message"]) for c in data["cases"]}
    assert outcomes["test_discovery_lists_the_group_and_three_resources"][0] == "passed"
    assert outcomes[LONG_PROPERTY][0] == "error"
    assert outcomes[LONG_PROPERTY][1].startswith("not run: the test runner crashed")
