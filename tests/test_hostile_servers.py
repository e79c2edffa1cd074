"""Servers that misbehave below the API level each get a verdict in bounded time.

Bound: with ``--timeout 2`` every hostile server below is judged within
:data:`BOUND_SECONDS`: exit 2 (could not run), exactly one line on stderr, no
traceback anywhere, and a JUnit ``<error>`` saying why. A server that answers every
request wrongly (but speaks HTTP and JSON) is *not conformant*: exit 1, a complete
report, within the run's shrinking budget.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clirun import CLI, kubeconfig

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from hostile.servers import http_server, raw_server, wrong_certificate_server

BOUND_SECONDS = 60.0


def _run(cfg: str, report: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [*CLI, "run", "--kubeconfig", cfg, "--timeout", "2", "--report-dir", str(report), *extra],
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS * 3,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return proc, time.monotonic() - started


def _assert_could_not_run(
    proc: subprocess.CompletedProcess[str], took: float, report: Path, needle: str
) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr, proc.stdout[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    # a reset can land in the TLS handshake or after it: either wording is right
    assert any(n in lines[0] for n in needle.split("|")), lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert took < BOUND_SECONDS, f"took {took:.0f}s"
    errors = list(ET.parse(report / "junit.xml").getroot().iter("error"))
    assert errors, "no <error> in junit.xml"
    message = errors[0].get("message") or ""
    assert any(n in message for n in needle.split("|")), message


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("silent", "did not answer in time"),
        ("reset", "broke the HTTP exchange|cannot connect"),
    ],
)
def test_transport_failures(tmp_path: Path, mode: str, needle: str) -> None:
    with raw_server(mode) as url:
        proc, took = _run(kubeconfig(tmp_path, url), tmp_path / "r")
    _assert_could_not_run(proc, took, tmp_path / "r", needle)


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("html200", "not answering like a Kubernetes API server"),
        ("err500", "not answering like a Kubernetes API server"),
        ("hang-csr", "did not answer in time"),
        ("watch-forever", "did not answer in time"),
    ],
)
def test_protocol_failures(tmp_path: Path, mode: str, needle: str) -> None:
    with http_server(mode) as url:
        proc, took = _run(kubeconfig(tmp_path, url), tmp_path / "r")
    _assert_could_not_run(proc, took, tmp_path / "r", needle)


def test_wrong_tls_certificate(tmp_path: Path) -> None:
    with wrong_certificate_server() as (url, other_ca):
        proc, took = _run(kubeconfig(tmp_path, url, ca_pem=other_ca), tmp_path / "r")
    _assert_could_not_run(proc, took, tmp_path / "r", "TLS handshake")


def test_a_server_that_answers_everything_wrongly_gets_a_bounded_verdict(
    tmp_path: Path,
) -> None:
    """Every property fails; shrinking stops at its budget; the report is complete."""
    report = tmp_path / "r"
    with http_server("wrong-answers") as url:
        proc, took = _run(
            kubeconfig(tmp_path, url),
            report,
            "--examples",
            "5",
            "--shrink-seconds",
            "2",
            "--shrink-budget",
            "10",
        )
    assert proc.returncode == 1, (proc.stderr, proc.stdout[-3000:])
    assert "Traceback" not in proc.stderr
    assert took < 150, f"took {took:.0f}s"
    import json

    data = json.loads((report / "results.json").read_text())
    outcomes = {c["outcome"] for c in data["cases"]}
    assert outcomes <= {"failed", "skipped", "error", "passed"} and "" not in outcomes
    failed = [c for c in data["cases"] if c["outcome"] == "failed"]
    assert len(failed) >= len(data["cases"]) // 2
    assert all(c["message"].startswith("CSR-") for c in failed)
