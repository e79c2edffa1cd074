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
    """The one-line verdict; qualified by ``verdict.scope`` (e.g. a server older than
    every release the oracle was confirmed on: "unverified for this version")."""
    if result.setup_error is not None:
        return "COULD NOT RUN"
    if result.stopped is not None:
        failed = " (failures found)" if result.count("failed") else ""
        return f"STOPPED EARLY{failed}"
    missing = result.properties.get("shards.missing")  # a merge of shards: reports/merge.py
    if missing:
        return f"INCOMPLETE (shards missing: {missing})"
    if result.count("error"):
        return "INCOMPLETE (errors)"
    scope = result.properties.get("verdict.scope")
    plain = "CONFORMANT" if result.conformant else "NOT CONFORMANT"
    return f"{plain} ({scope})" if scope else plain


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
    judged = result.properties.get("kubernetes.judged-as")
    if judged:
        lines.append(f"  {judged}")
    if result.stopped:
        lines.append(f"  stopped: {result.stopped}; unfinished properties are marked not run")
    for case in result.cases:
        if case.outcome in ("failed", "error") and not case.message.startswith("not run"):
            lines.append(f"  {case.outcome.upper()} {case.name}: {case.message[:300]}")
            if case.replay:
                lines.append(f"    replay: {case.replay}")
    not_run = [c for c in result.cases if c.message.startswith("not run")]
    if not_run:
        lines.append(f"  NOT RUN {len(not_run)} properties: {not_run[0].message}")
    for reason, names in skip_reasons(result).items():
        lines.append(f"  SKIPPED {len(names)}: {reason}")
    return lines


def skip_reasons(result: RunResult) -> dict[str, list[str]]:
    """Skip reason -> the properties skipped for it (so 20 skips read as one line)."""
    out: dict[str, list[str]] = {}
    for case in result.cases:
        if case.outcome == "skipped":
            out.setdefault(case.message or "no reason given", []).append(case.name)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _case_row(case: CaseResult) -> str:
    rules = ", ".join(case.rules) or "—"
    note = _cell(case.message[:200]) if case.outcome in ("skipped", "error") else ""
    return (
        f"| {case.concern or '—'} | {case.name} | {case.outcome} | {case.seconds:.2f}s "
        f"| {rules} | {note} |"
    )


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
    if result.stopped:
        lines += [
            "## Stopped early",
            "",
            f"{result.stopped}. Properties that did not finish are marked `not run`.",
            "",
        ]
    bad = [
        c
        for c in result.cases
        if c.outcome in ("failed", "error") and not c.message.startswith("not run")
    ]
    if bad:
        lines += ["## Failures", ""]
        for case in bad:
            lines += [f"### {case.name} ({case.outcome})", "", case.message, ""]
            if case.rules:
                lines.append("Rules: " + ", ".join(case.rules))
            if case.replay:
                lines += ["", f"Replay: `{case.replay}`"]
            lines.append("")
    skips = skip_reasons(result)
    not_run = [c for c in result.cases if c.message.startswith("not run")]
    if skips or not_run:
        lines += ["## Not checked, and why", ""]
        for reason, names in skips.items():
            lines.append(f"- skipped: {reason} — {', '.join(names)}")
        for case in not_run:
            lines.append(f"- {case.name}: {case.message}")
        lines.append("")
    lines += [
        "## Properties",
        "",
        "| concern | property | outcome | time | rules | note |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_case_row(c) for c in result.cases]
    outcomes = rule_outcomes(result, all_rules)
    checkers = rule_checkers(result)
    lines += ["", "## Rules", "", "| rule | outcome | checked by | summary |", "|---|---|---|---|"]
    for rule, outcome in outcomes.items():
        by = ", ".join(checkers.get(rule, [])) or "—"
        lines.append(f"| {rule} | {outcome} | {by} | {_cell(all_rules.get(rule, ''))} |")
    checked = sum(1 for o in outcomes.values() if o != "not checked")
    lines += ["", f"{checked} of {len(outcomes)} rules checked by at least one property."]
    unchecked = [r for r, o in outcomes.items() if o == "not checked"]
    if unchecked:
        lines.append("Not checked by any property in this run: " + ", ".join(unchecked) + ".")
    lines.append("")
    return "\n".join(lines)


def rule_checkers(result: RunResult) -> dict[str, list[str]]:
    """Rule id -> the properties of this run that name it."""
    out: dict[str, list[str]] = {}
    for case in result.cases:
        for rule in case.rules:
            names = out.setdefault(rule, [])
            base = case.name.split("[")[0]
            if base not in names:
                names.append(base)
    return out


def to_json(result: RunResult, all_rules: Mapping[str, str]) -> str:
    return json.dumps(
        {
            "verdict": verdict(result),
            "properties": result.properties,
            "seconds": round(result.seconds, 3),
            "setup_error": result.setup_error,
            "stopped": result.stopped,
            "stop_code": result.stop_code,
            "cases": [
                {
                    "name": c.name,
                    "nodeid": c.nodeid,
                    "classname": c.classname,
                    "concern": c.concern,
                    "outcome": c.outcome,
                    "rules": list(c.rules),
                    "doc": c.doc,
                    "seconds": round(c.seconds, 3),
                    "message": c.message,
                    "replay": c.replay,
                    "reproduce": c.reproduce,
                    "watch_history": c.watch_history,
                    "details": c.details,
                    "transcript": c.transcript,
                }
                for c in result.cases
            ],
            "rules": rule_outcomes(result, all_rules),
        },
        indent=2,
    )


def from_json(text: str) -> RunResult:
    """A RunResult back from results.json, to render the reports again."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ValueError("not a csr-conformance results.json (no cases)")
    cases = [
        CaseResult(
            name=str(c.get("name", "")),
            classname=str(c.get("classname", "")),
            nodeid=str(c.get("nodeid", "")),
            rules=tuple(c.get("rules") or ()),
            doc=str(c.get("doc", "")),
            outcome=str(c.get("outcome", "")),
            seconds=float(c.get("seconds") or 0.0),
            message=str(c.get("message", "")),
            details=str(c.get("details", "")),
            transcript=str(c.get("transcript", "")),
            replay=str(c.get("replay", "")),
            concern=str(c.get("concern", "")),
            reproduce=c.get("reproduce"),
            watch_history=c.get("watch_history") or None,  # absent before the timeline
        )
        for c in data["cases"]
    ]
    return RunResult(
        cases=cases,
        properties={str(k): str(v) for k, v in (data.get("properties") or {}).items()},
        seconds=float(data.get("seconds") or 0.0),
        setup_error=data.get("setup_error"),
        stopped=data.get("stopped"),
        stop_code=data.get("stop_code"),
    )
