"""The report writers: JUnit that CI readers accept, summaries that say what was checked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clirun import run_cli

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
    assert concern_of("conformance.properties.test_x", "t", ("CSR-ADM-SIGN",)) == ("authorization")


# -- JUnit that every reader accepts -----------------------------------------------------

XSD = Path(__file__).resolve().parent.parent / "reports" / "xsd" / "junit.xsd"


def _cli_run(report: Path, *args: str) -> int:
    proc = run_cli("run", "--report-dir", str(report), *args, timeout=300)
    return proc.returncode


def _check_junit(report: Path) -> dict[str, int]:
    """Valid against the project's JUnit XSD, and junitparser reads what results.json says."""
    import xmlschema
    from junitparser import Error, Failure, JUnitXml, Skipped

    xmlschema.XMLSchema(str(XSD)).validate(str(report / "junit.xml"))
    xml = JUnitXml.fromfile(str(report / "junit.xml"))
    seen: dict[str, int] = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    names = []
    for suite in xml:
        assert suite.name.startswith("csr-conformance.")
        props = {p.name: p.value for p in suite.properties()}
        assert {"target", "profile", "seed", "suite.version", "budget.max-time"} <= set(props)
        for case in suite:
            names.append(case.name)
            assert case.classname == suite.name
            kinds = {type(r) for r in case.result}
            if Failure in kinds:
                seen["failed"] += 1
            elif Error in kinds:
                seen["error"] += 1
            elif Skipped in kinds:
                seen["skipped"] += 1
            else:
                seen["passed"] += 1
    data = json.loads((report / "results.json").read_text())
    assert sorted(names) == sorted(c["name"] for c in data["cases"])
    for outcome, count in seen.items():
        assert count == sum(c["outcome"] == outcome for c in data["cases"]), outcome
    return seen


def test_junit_of_a_passing_run_validates(tmp_path: Path) -> None:
    assert _cli_run(tmp_path, "-k", "test_dry_run_delete or test_discovery", "--examples", "2") == 0
    seen = _check_junit(tmp_path)
    assert seen["passed"] >= 2 and seen["failed"] == 0


def test_junit_of_a_failing_run_validates(tmp_path: Path) -> None:
    code = _cli_run(
        tmp_path, "--fault", "delete-returns-object", "-k", "test_delete", "--examples", "2"
    )
    assert code == 1
    seen = _check_junit(tmp_path)
    assert seen["failed"] >= 1


def test_junit_of_a_could_not_run_run_validates(tmp_path: Path) -> None:
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "
        '"https://127.0.0.1:1"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n'
        "  context: {cluster: c, user: u}\ncurrent-context: x\n"
    )
    assert _cli_run(tmp_path / "r", "--kubeconfig", str(cfg)) == 2
    import xmlschema
    from junitparser import Error, JUnitXml

    xmlschema.XMLSchema(str(XSD)).validate(str(tmp_path / "r" / "junit.xml"))
    cases = [c for s in JUnitXml.fromfile(str(tmp_path / "r" / "junit.xml")) for c in s]
    assert len(cases) == 1 and isinstance(cases[0].result[0], Error)
    assert "cannot connect" in (cases[0].result[0].message or "")


def test_the_schema_is_a_real_check(tmp_path: Path) -> None:
    import xmlschema

    bad = tmp_path / "bad.xml"
    bad.write_text('<testsuites><testsuite name="x"><testcase name="a"/></testsuite></testsuites>')
    assert not xmlschema.XMLSchema(str(XSD)).is_valid(str(bad))  # no counts, no classname


def test_github_step_summary_is_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "step-summary.md"
    page.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(page))
    write_reports(_result(), str(tmp_path))
    text = page.read_text()
    assert text.startswith("earlier step\n") and "# csr-conformance: INCOMPLETE" in text
    write_reports(_result(), str(tmp_path), step_summary=False)
    assert page.read_text() == text
