"""The report a person reads: verdict first, then failures, then rule coverage.

Rule coverage answers the question an implementer asks after "did it pass": which of
kube-apiserver's rules did the run actually exercise, and which are not checked by any
property yet. A rule's outcome is the worst outcome of the properties that name it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from reports.model import CaseResult, RunResult

_RANK = {"failed": 4, "error": 3, "passed": 2, "skipped": 1, "": 0}


def rule_outcomes(result: RunResult, all_rules: Mapping[str, str]) -> dict[str, str]:
    """Rule id -> passed | failed | error | skipped | not checked."""
    out = {rule: "not checked" for rule in all_rules}
    for case in result.cases:
        for rule in case.rules:
            now = out.get(rule, "not checked")
            if now == "not checked" or _RANK.get(case.outcome, 0) > _RANK.get(now, 0):
                out[rule] = case.outcome or "not run"
    return out


def verdict(result: RunResult) -> str:
    if result.setup_error is not None:
        return "COULD NOT RUN"
    if result.count("error"):
        return "INCOMPLETE (errors)"
    return "CONFORMANT" if result.conformant else "NOT CONFORMANT"


def console_lines(result: RunResult) -> list[str]:
    """A few lines for the terminal after a run."""
    lines = [
        f"csr-conformance: {verdict(result)} — {result.count('passed')} passed, "
        f"{result.count('failed')} failed, {result.count('error')} errors, "
        f"{result.count('skipped')} skipped in {result.seconds:.1f}s "
        f"against {result.properties.get('target', '?')}"
    ]
    if result.setup_error:
        lines.append(f"  error: {result.setup_error}")
    for case in result.cases:
        if case.outcome in ("failed", "error"):
            lines.append(f"  {case.outcome.upper()} {case.name}: {case.message[:200]}")
            if case.replay:
                lines.append(f"    replay: {case.replay}")
    return lines


def _case_row(case: CaseResult) -> str:
    rules = ", ".join(case.rules) or "—"
    return f"| {case.name} | {case.outcome} | {case.seconds:.2f}s | {rules} |"


def to_markdown(result: RunResult, all_rules: Mapping[str, str]) -> str:
    lines = [f"# csr-conformance: {verdict(result)}", ""]
    for key, value in result.properties.items():
        lines.append(f"- **{key}**: {value}")
    lines += [
        "",
        f"{result.count('passed')} passed, {result.count('failed')} failed, "
        f"{result.count('error')} errors, {result.count('skipped')} skipped "
        f"in {result.seconds:.1f}s.",
        "",
    ]
    if result.setup_error:
        lines += ["## Could not run", "", result.setup_error, ""]
    bad = [c for c in result.cases if c.outcome in ("failed", "error")]
    if bad:
        lines += ["## Failures", ""]
        for case in bad:
            lines += [f"### {case.name} ({case.outcome})", "", case.message, ""]
            if case.rules:
                lines.append("Rules: " + ", ".join(case.rules))
            if case.replay:
                lines += ["", f"Replay: `{case.replay}`"]
            lines.append("")
    lines += ["## Properties", "", "| property | outcome | time | rules |", "|---|---|---|---|"]
    lines += [_case_row(c) for c in result.cases]
    outcomes = rule_outcomes(result, all_rules)
    lines += ["", "## Rules", "", "| rule | outcome | summary |", "|---|---|---|"]
    for rule, outcome in outcomes.items():
        lines.append(f"| {rule} | {outcome} | {all_rules.get(rule, '')} |")
    checked = sum(1 for o in outcomes.values() if o != "not checked")
    lines += ["", f"{checked} of {len(outcomes)} rules checked by at least one property.", ""]
    return "\n".join(lines)


def to_json(result: RunResult, all_rules: Mapping[str, str]) -> str:
    return json.dumps(
        {
            "verdict": verdict(result),
            "properties": result.properties,
            "seconds": round(result.seconds, 3),
            "cases": [
                {
                    "name": c.name,
                    "outcome": c.outcome,
                    "rules": list(c.rules),
                    "seconds": round(c.seconds, 3),
                    "message": c.message,
                    "replay": c.replay,
                }
                for c in result.cases
            ],
            "rules": rule_outcomes(result, all_rules),
        },
        indent=2,
    )
