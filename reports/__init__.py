"""Turning a run into JUnit XML, a Markdown summary and a JSON record."""

from __future__ import annotations

import os

from reports import junit, summary
from reports.model import CaseResult, RunResult

__all__ = ["CaseResult", "RunResult", "all_rules", "write_reports"]


def all_rules() -> dict[str, str]:
    """Rule id -> summary, from the oracle's registry."""
    from conformance.spec.rules import RULES

    return {rid: r.summary for rid, r in RULES.items()}


def write_reports(result: RunResult, report_dir: str) -> None:
    """junit.xml for CI, summary.md for people, results.json for tools."""
    rules = all_rules()
    junit.write(result, os.path.join(report_dir, "junit.xml"))
    with open(os.path.join(report_dir, "summary.md"), "w", encoding="utf-8") as f:
        f.write(summary.to_markdown(result, rules))
    with open(os.path.join(report_dir, "results.json"), "w", encoding="utf-8") as f:
        f.write(summary.to_json(result, rules))
