"""Turning a run into JUnit XML, a Markdown summary and a JSON record."""

from __future__ import annotations

import os

from reports import html, junit, summary
from reports.model import CaseResult, RunResult

__all__ = ["CaseResult", "RunResult", "all_rules", "write_reports"]


def all_rules() -> dict[str, str]:
    """Rule id -> summary, from the oracle's registry."""
    from conformance.oracle.csr.rules import RULES

    return {rid: r.summary for rid, r in RULES.items()}


def write_reports(result: RunResult, report_dir: str, *, step_summary: bool = True) -> None:
    """junit.xml for CI, summary.md and report.html for people, results.json for tools.

    On GitHub Actions (``$GITHUB_STEP_SUMMARY`` set) the summary is also appended to the
    job's summary page, where people look first; ``step_summary=False`` when re-rendering
    an old report, so the page does not show it twice.
    """
    rules = all_rules()
    markdown = summary.to_markdown(result, rules)
    junit.write(result, os.path.join(report_dir, "junit.xml"))
    with open(os.path.join(report_dir, "summary.md"), "w", encoding="utf-8") as f:
        f.write(markdown)
    with open(os.path.join(report_dir, "results.json"), "w", encoding="utf-8") as f:
        f.write(summary.to_json(result, rules))
    with open(os.path.join(report_dir, "report.html"), "w", encoding="utf-8") as f:
        f.write(html.to_html(result, rules))
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary and target:
        try:
            with open(target, "a", encoding="utf-8") as f:
                f.write(markdown + "\n")
        except OSError:  # the job summary is a convenience; the report is already written
            pass
