"""Exact replay: a failure's printed command re-sends that example and fails the same way.

The report stores Hypothesis's reproduction blob for every failure; `replay` runs exactly
that example (no search, no shrinking) against the same kind of target, prints the
transcript and the verdict, writes its own report elsewhere, and leaves the report it
came from untouched. Also here: `--last-failed` and `report DIR`.
"""

from __future__ import annotations

import json
import re
import resource
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from clirun import run_cli

FAULTS = ["delete-returns-object", "approve-without-verb"]
SELECTION = "test_delete_answers or test_only_permitted_identities_approve or test_dry_run_delete"


@pytest.fixture(scope="module")
def failed_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    report = tmp_path_factory.mktemp("failed") / "r"
    fault_args = [a for f in FAULTS for a in ("--fault", f)]
    proc = run_cli(
        "run", *fault_args, "-k", SELECTION, "--examples", "5", "--report-dir", str(report)
    )
    assert proc.returncode == 1, proc.stderr + proc.stdout[-2000:]
    return report


def _results(report: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report / "results.json").read_text())
    return data


def _stable(message: str) -> str:
    """The part of a failure message that names the rule and the kind of wrong answer."""
    head, _, server = message.partition("this server: ")
    return head + server.split(":")[0]


def test_every_failure_replays_with_its_printed_command(failed_report: Path) -> None:
    before = (failed_report / "results.json").read_bytes()
    failed = [c for c in _results(failed_report)["cases"] if c["outcome"] == "failed"]
    assert len(failed) == 2
    for case in failed:
        assert case["reproduce"] and case["reproduce"]["blob"]
        command = shlex.split(case["replay"])
        assert command[:3] == [sys.executable, "-m", "conformance.cli"]  # works as printed
        assert "replay" in command
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert proc.returncode == 1, proc.stderr + proc.stdout[-2000:]
        # "in seconds": bounded by the work it does (CPU time), not by how busy the box is
        took = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        assert took < 10, f"replay took {took:.1f} CPU seconds"
        assert f"== {case['nodeid']}" in proc.stdout
        assert ">>> " in proc.stdout and "<<< " in proc.stdout  # the transcript
        verdict = re.search(r"^-- FAILS AGAIN: (.*)$", proc.stdout, re.M)
        assert verdict is not None, proc.stdout[-2000:]
        assert _stable(verdict.group(1)) == _stable(case["message"])
        assert "Authorization: <redacted>" in proc.stdout
    # the report it came from is untouched
    assert (failed_report / "results.json").read_bytes() == before


def _csr_requests(transcript: str) -> list[str]:
    """The CSR requests of a transcript, in order, with the run's random labels left out."""
    lines = [ln for ln in transcript.splitlines() if ln.startswith(">>> ")]
    return [
        re.sub(r"\b[0-9a-f]{6}\b", "RUN", re.sub(r"example=[0-9a-f]{6}-\d+", "example=X", ln))
        for ln in lines
        if "/certificatesigningrequests" in ln
    ]


def test_a_stateful_failure_replays_the_same_steps(tmp_path: Path) -> None:
    """A RuleBasedStateMachine failure replays its stored example, not a fresh search.

    Hypothesis takes ``@reproduce_failure`` for a state machine from the machine class,
    so the replay must reach the class the property runs; the proof is that the replay
    sends the same CSR requests, step for step, and fails on the same one.
    """
    report = tmp_path / "r"
    proc = run_cli(
        "run",
        "--fault",
        "approve-without-verb",
        "-k",
        "test_update_histories_follow_kube_apiserver",
        "--examples",
        "5",
        "--report-dir",
        str(report),
    )
    assert proc.returncode == 1, proc.stderr + proc.stdout[-2000:]
    (case,) = [c for c in _results(report)["cases"] if c["outcome"] == "failed"]
    assert case["reproduce"] and case["reproduce"]["blob"]
    assert "Failing test case: <state machine>" in case["details"]
    command = shlex.split(case["replay"])
    assert command[:4] == [sys.executable, "-m", "conformance.cli", "replay"], command
    again = tmp_path / "again"
    proc = subprocess.run(
        [*command, "--report-dir", str(again)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1, proc.stderr + proc.stdout[-2000:]
    verdict = re.search(r"^-- FAILS AGAIN: (.*)$", proc.stdout, re.M)
    assert verdict is not None, proc.stdout[-2000:]
    assert _stable(verdict.group(1)) == _stable(case["message"])
    (replayed,) = _results(again)["cases"]
    sent, resent = _csr_requests(case["transcript"]), _csr_requests(replayed["transcript"])
    assert sent and resent == sent, "\n".join(resent)


# The wrapper is called directly here, outside a Hypothesis test, where reject() warns.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_a_spent_shrink_budget_fails_a_known_failure_again_without_resending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the shrink budget is spent, new examples are rejected, but one that already
    failed gets its failure again (without reaching the server): Hypothesis re-runs known
    failures while shrinking, and a reject there was reported as FlakyFailure, which left
    the failure without a blob and so without an exact replay."""
    from hypothesis.errors import UnsatisfiedAssumption

    from conformance.properties import support

    monkeypatch.setattr(support, "_is_final_replay", lambda: False)
    support.bind_shrink_budget(support.ShrinkBudget(per_failure=0.0, total=0.0))
    sent: list[int] = []
    try:
        support.set_current_test("t")

        @support.checks("CSR-DEL-STATUS")
        def prop(x: int) -> None:
            sent.append(x)
            raise AssertionError(f"server broke on {x}")

        with pytest.raises(AssertionError, match="on 1") as first:
            prop(1)
        with pytest.raises(AssertionError, match="on 1") as again:
            prop(1)
        assert again.value is first.value and sent == [1]
        with pytest.raises(UnsatisfiedAssumption):
            prop(2)
        assert sent == [1]
    finally:
        support.bind_shrink_budget(None)
        support.set_current_test("")


def test_last_failed_reruns_only_the_failures(failed_report: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "run",
        *[a for f in FAULTS for a in ("--fault", f)],
        "--examples",
        "3",
        "--last-failed",
        str(failed_report),
        "--report-dir",
        str(tmp_path / "again"),
    )
    assert proc.returncode == 1, proc.stderr
    names = {c["name"] for c in _results(tmp_path / "again")["cases"]}
    assert names == {
        "test_delete_answers_with_a_success_status_then_404s",
        "test_only_permitted_identities_approve",
    }


def test_report_renders_again_from_results_json(failed_report: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "results.json").write_bytes((failed_report / "results.json").read_bytes())
    proc = run_cli("report", str(copy))
    assert proc.returncode == 0, proc.stderr
    summary = (copy / "summary.md").read_text()
    assert summary.startswith("# csr-conformance: NOT CONFORMANT")
    assert (copy / "junit.xml").exists()


def test_replay_refuses_a_directory_without_a_report(tmp_path: Path) -> None:
    proc = run_cli("replay", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no results.json" in proc.stderr
