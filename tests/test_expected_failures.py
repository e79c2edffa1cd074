"""Triaged findings: an expected failure keeps the run green and names its finding; a
finding that no longer reproduces fails the run ("expected failure passed"), as pytest's
strict xfail does; a different failure of the same property is never masked.

The runs use the embedded fake with a fault standing in for a subject's bug, and a
findings file (``--expected-failures``) standing in for the built-in kine findings,
which go through the same code path (``conformance.plugin._expected_failure``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.targets.controlplane.findings import (
    FINDINGS,
    Finding,
    expected_failure,
    load_findings,
)
from conformance.targets.controlplane.kine import STORAGES

PROPERTY = "test_delete_answers_with_a_success_status_then_404s"
FAULT = "delete-returns-object"
"""A fault this property catches on its first example (its rule CSR-DEL-STATUS)."""


def run(
    tmp_path: Path, findings: list[dict[str, Any]], *extra: str
) -> tuple[int, str, dict[str, Any]]:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(findings))
    report = tmp_path / "report"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--examples",
            "3",
            "--shrink-seconds",
            "0",
            "--progress",
            "never",
            "--expected-failures",
            str(path),
            "--report-dir",
            str(report),
            "-k",
            PROPERTY,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    results = json.loads((report / "results.json").read_text())
    (case,) = [c for c in results["cases"] if c["name"] == PROPERTY]
    assert ET.parse(report / "junit.xml").getroot() is not None
    return proc.returncode, proc.stderr, case


def finding(message: str = "delete response differs") -> dict[str, Any]:
    return {
        "id": "T-1",
        "title": "delete answers with the object",
        "test": PROPERTY,
        "message": message,
    }


def test_a_triaged_failure_is_expected_and_names_its_finding(tmp_path: Path) -> None:
    code, stderr, case = run(tmp_path, [finding()], "--fault", FAULT)
    assert code == 0, stderr
    assert case["outcome"] == "skipped"
    assert case["message"].startswith("expected failure T-1 (delete answers with the object): ")
    assert "delete response differs" in case["message"]


def test_a_finding_that_no_longer_reproduces_fails_the_run(tmp_path: Path) -> None:
    code, stderr, case = run(tmp_path, [finding()])
    assert code == 1, stderr
    assert case["outcome"] == "failed"
    assert case["message"].startswith("expected failure passed: finding T-1 ")


def test_a_race_that_does_not_show_is_reported_without_failing_the_run(tmp_path: Path) -> None:
    code, stderr, case = run(tmp_path, [{**finding(), "strict": False}])
    assert code == 0, stderr
    assert case["outcome"] == "passed"
    assert case["message"].startswith("expected failure passed: finding T-1 ")
    assert "race" in case["message"]


def test_a_different_failure_of_the_same_property_is_not_masked(tmp_path: Path) -> None:
    code, stderr, case = run(tmp_path, [finding("some other symptom")], "--fault", FAULT)
    assert code == 1, stderr
    assert case["outcome"] == "failed"
    assert "expected failure" not in case["message"]


def test_a_malformed_findings_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "T-1"}]')
    proc = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--expected-failures", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "needs string fields" in lines[0], proc.stderr


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({}, "needs string fields"),
        ({"id": "a", "title": "b", "test": "c", "message": "("}, "bad message pattern"),
        ({"id": "a", "title": "b", "test": "c", "message": "", "watch_cache": "x"}, "watch_cache"),
    ],
)
def test_load_findings_refuses_malformed_rows(
    tmp_path: Path, row: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps([row]))
    with pytest.raises(ValueError, match=problem):
        load_findings(str(path))


def test_a_finding_applies_only_to_its_subjects() -> None:
    f = Finding(
        id="K-1",
        title="t",
        test="test_p",
        message="m",
        storages=frozenset({"kine-sqlite"}),
        kine_versions=frozenset({"v0.16.5"}),
        watch_cache=False,
    )
    found = (f,)
    assert expected_failure("test_p[x]", "kine-sqlite", "v0.16.5", False, found) is f
    assert expected_failure("test_p", "etcd", "v0.16.5", False, found) is None
    assert expected_failure("test_p", "kine-sqlite", "v0.17.5", False, found) is None
    assert expected_failure("test_p", "kine-sqlite", "v0.16.5", True, found) is None
    assert expected_failure("test_q", "kine-sqlite", "v0.16.5", False, found) is None


def test_built_in_findings_are_well_formed() -> None:
    """Every built-in finding names a property that exists, kine storages only, a
    compilable message, and is listed in the README's kine table."""
    from conformance.properties.catalog import property_rules

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    names = set(property_rules())
    keys = [(f.id, f.test) for f in FINDINGS]
    assert len(keys) == len(set(keys))
    for f in FINDINGS:
        assert f.test in names, f.id
        assert f.storages is not None and f.storages <= set(STORAGES) - {"etcd"}, f.id
        assert f.message and f.upstream is not None, f.id
        assert f"| {f.id} |" in readme, f"{f.id} missing from the README's kine table"
