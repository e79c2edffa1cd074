"""The report writers: JUnit that CI readers accept, summaries that say what was checked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from reports import write_reports
from reports.model import CaseResult, RunResult
from reports.summary import rule_outcomes, verdict


def _result() -> RunResult:
    return RunResult(
        cases=[
            CaseResult(
                "test_a",
                "conformance.properties.test_create",
                "a",
                ("CSR-VAL-U1",),
                outcome="passed",
                seconds=0.5,
                concern="validation",
            ),
            CaseResult(
                "test_b",
                "conformance.properties.test_create",
                "b",
                ("CSR-VAL-U1", "CSR-VAL-U2"),
                outcome="failed",
                message="AssertionError: HTTP 400, expected 422",
                details="Falsifying example: test_b(bad=...)\x00\x1b[31m",
                transcript=">>> POST /apis/...\n>>> authorization: <redacted>",
                replay="csr-conformance run -k test_b",
                concern="validation",
            ),
            CaseResult(
                "test_c",
                "conformance.properties.test_read",
                "c",
                ("CSR-READ-LIST",),
                outcome="skipped",
                message="no context configured for the 'approver' identity",
                concern="reads",
            ),
            CaseResult(
                "test_d",
                "conformance.properties.test_read",
                "d",
                (),
                outcome="error",
                message="TargetError: cannot connect",
                concern="reads",
            ),
        ],
        properties={"target": "fake", "profile": "kube-apiserver"},
        seconds=3.25,
    )


def test_junit_shape(tmp_path: Path) -> None:
    write_reports(_result(), str(tmp_path))
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    # one testsuite per concern, in the fixed concern order
    assert list(suites) == ["csr-conformance.validation", "csr-conformance.reads"]
    reads = suites["csr-conformance.reads"]
    assert (
        reads.get("tests"),
        reads.get("failures"),
        reads.get("errors"),
        reads.get("skipped"),
    ) == ("2", "0", "1", "1")
    for suite in suites.values():
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["target"] == "fake"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert all(c.get("classname") and c.get("time") for c in cases.values())
    failure = cases["test_b"].find("failure")
    assert failure is not None and failure.get("message", "").startswith("AssertionError")
    body = failure.text or ""
    assert "Replay: csr-conformance run -k test_b" in body
    assert "HTTP transcript" in body and "<redacted>" in body
    assert "\x00" not in body  # control characters never reach the XML
    assert cases["test_c"].find("skipped") is not None
    assert cases["test_d"].find("error") is not None
    assert cases["test_a"].find("failure") is None


def test_rule_coverage_takes_the_worst_outcome() -> None:
    outcomes = rule_outcomes(
        _result(), {"CSR-VAL-U1": "", "CSR-VAL-U2": "", "CSR-READ-LIST": "", "CSR-VAL-X1": ""}
    )
    assert outcomes == {
        "CSR-VAL-U1": "failed",
        "CSR-VAL-U2": "failed",
        "CSR-READ-LIST": "skipped",
        "CSR-VAL-X1": "not checked",
    }


def test_summary_and_json(tmp_path: Path) -> None:
    write_reports(_result(), str(tmp_path))
    md = (tmp_path / "summary.md").read_text()
    assert md.startswith("# csr-conformance: INCOMPLETE")
    assert "test_b (failed)" in md and "csr-conformance run -k test_b" in md
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["verdict"] == verdict(_result())
    assert {c["name"] for c in data["cases"]} == {"test_a", "test_b", "test_c", "test_d"}


def test_verdicts() -> None:
    ok = RunResult(cases=[CaseResult("a", "c", "a", outcome="passed")])
    assert verdict(ok) == "CONFORMANT"
    bad = RunResult(cases=[CaseResult("a", "c", "a", outcome="failed")])
    assert verdict(bad) == "NOT CONFORMANT"
    assert verdict(RunResult(cases=[], setup_error="x")) == "COULD NOT RUN"


def test_skip_reasons_reach_summary_and_console(tmp_path: Path) -> None:
    from reports.summary import console_lines

    write_reports(_result(), str(tmp_path))
    md = (tmp_path / "summary.md").read_text()
    assert "no context configured for the 'approver' identity" in md
    assert "## Not checked, and why" in md
    assert any("no context configured" in line for line in console_lines(_result()))


def test_results_json_round_trips_for_report_rerendering(tmp_path: Path) -> None:
    from reports.summary import from_json

    write_reports(_result(), str(tmp_path))
    again = from_json((tmp_path / "results.json").read_text())
    assert [(c.name, c.outcome, c.rules, c.concern) for c in again.cases] == [
        (c.name, c.outcome, c.rules, c.concern) for c in _result().cases
    ]
    assert again.cases[1].transcript == _result().cases[1].transcript


def test_stopped_run_says_so(tmp_path: Path) -> None:
    result = _result()
    result.stopped, result.stop_code = "terminated (SIGTERM)", 143
    write_reports(result, str(tmp_path))
    assert verdict(result).startswith("STOPPED EARLY")
    assert "terminated (SIGTERM)" in (tmp_path / "summary.md").read_text()
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["stop_code"] == 143


def test_concerns_and_per_case_rules() -> None:
    from reports.concerns import concern_of

    assert concern_of("conformance.properties.test_create", "t", ("CSR-VAL-R1",)) == "validation"
    assert concern_of("conformance.properties.test_read", "t", ("CSR-READ-GET",)) == "reads"
    assert concern_of("conformance.properties.test_identity", "t", ("CSR-CREATE-201",)) == (
        "identity"
    )
    assert concern_of("conformance.properties.test_x", "t", ("CSR-ADM-SIGN",)) == (
        "authorization"
    )
