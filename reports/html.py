"""One self-contained ``report.html``: readable offline, mailable, attachable to a CI run.

Everything is inline (styles, no scripts, no fonts or images fetched), so the file shows
the same on an air-gapped laptop as in a browser tab of a CI artifact. It answers, top
to bottom, what a person asks: the verdict; what failed, with the one-line message, the
command that replays it and the HTTP transcript; what was not checked and why; and the
rules × outcome matrix grouped by concern, so a server author sees at a glance which
areas of kube-apiserver's behaviour hold and which do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from reports.concerns import CONCERNS, concern_of
from reports.model import CaseResult, RunResult
from reports.summary import rule_checkers, rule_outcomes, skip_reasons, verdict
from reports.timeline import legend, to_svg

_COLOURS = {
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "error": "#bc4c00",
    "skipped": "#6e7781",
    "not checked": "#d0d7de",
    "not run": "#d0d7de",
}

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0;font-size:26px}
h2{margin:28px 0 10px;font-size:19px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.banner{padding:18px 24px;color:#fff;border-radius:8px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:14px 0;
background:#fff;padding:12px 16px;border-radius:8px;border:1px solid #d0d7de}
.meta dt{font-weight:600}.meta dd{margin:0;word-break:break-all}
.counts span{display:inline-block;margin-right:14px;font-weight:600}
.case{background:#fff;border:1px solid #d0d7de;border-left:6px solid #cf222e;
border-radius:6px;padding:10px 14px;margin:10px 0}
.case.error{border-left-color:#bc4c00}
.msg{font-weight:600;margin:4px 0}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;
overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.matrix{display:flex;flex-wrap:wrap;gap:4px}
.rule{display:inline-block;padding:3px 6px;border-radius:4px;color:#fff;font:12px
ui-monospace,monospace}
.rule.pale{color:#1f2328}
.legend .pill{margin-right:6px}
.tlwrap{overflow-x:auto;background:#fff;border:1px solid #d0d7de;border-radius:6px;
padding:6px}
svg.timeline{display:block;max-width:100%;height:auto}
.tl-legend{font-size:12px;color:#57606a}.tl-legend svg{vertical-align:middle}
"""


def _pill(outcome: str) -> str:
    colour = _COLOURS.get(outcome, "#6e7781")
    text_colour = "#1f2328" if outcome in ("not checked", "not run") else "#fff"
    return (
        f'<span class="pill" style="background:{colour};color:{text_colour}">'
        f"{escape(outcome or 'not run')}</span>"
    )


def _failure(case: CaseResult) -> str:
    parts = [
        f'<div class="case {escape(case.outcome)}">',
        f"<div>{_pill(case.outcome)} <strong>{escape(case.name)}</strong> "
        f"<small>({escape(case.concern or '—')})</small></div>",
        f'<p class="msg">{escape(case.message)}</p>',
    ]
    if case.rules:
        parts.append(f"<div>Rules: <code>{escape(', '.join(case.rules))}</code></div>")
    if case.replay:
        parts.append(f"<div>Replay: <code>{escape(case.replay)}</code></div>")
    if case.watch_history:
        parts.append(_timeline(case.watch_history))
    if case.transcript:
        parts.append(
            "<details open><summary>HTTP transcript of the failing example</summary>"
            f"<pre>{escape(case.transcript)}</pre></details>"
        )
    if case.details:
        parts.append(
            f"<details><summary>Example and traceback</summary><pre>{escape(case.details)}"
            "</pre></details>"
        )
    parts.append("</div>")
    return "\n".join(parts)


def _timeline(record: dict[str, Any]) -> str:
    """A watch failure's writes and events as a picture, with the broken guarantees."""
    svg = to_svg(record)
    if not svg:
        return ""
    broken = [b for b in record.get("broken") or [] if isinstance(b, dict)]
    items = "".join(
        f"<li><strong>{escape(str(b.get('guarantee', '')))}</strong> "
        f"({escape(str(b.get('watcher', '')))}): {escape(str(b.get('message', '')))}</li>"
        for b in broken
    )
    return (
        '<details open class="watch-timeline"><summary>Watch timeline: writes and the '
        "events each watcher received, and where a guarantee broke</summary>"
        f'<div class="tlwrap">{svg}</div>{legend()}<ul>{items}</ul></details>'
    )


def _matrix(result: RunResult, all_rules: Mapping[str, str]) -> str:
    outcomes = rule_outcomes(result, all_rules)
    checkers = rule_checkers(result)
    by_concern: dict[str, list[str]] = {}
    for rule in outcomes:
        by_concern.setdefault(concern_of("", "", (rule,)), []).append(rule)
    rows = []
    order = [c for c in CONCERNS if c in by_concern] + sorted(set(by_concern) - set(CONCERNS))
    for concern in order:
        cells = []
        for rule in by_concern[concern]:
            outcome = outcomes[rule]
            colour = _COLOURS.get(outcome, "#6e7781")
            pale = " pale" if outcome in ("not checked", "not run") else ""
            title = f"{rule}: {outcome} — {all_rules.get(rule, '')}"
            if checkers.get(rule):
                title += " — checked by " + ", ".join(checkers[rule])
            cells.append(
                f'<span class="rule{pale}" style="background:{colour}" '
                f'title="{escape(title)}">{escape(rule)}</span>'
            )
        rows.append(
            f'<tr><th>{escape(concern)}</th><td><div class="matrix">{"".join(cells)}'
            "</div></td></tr>"
        )
    legend = " ".join(_pill(o) for o in ("passed", "failed", "error", "skipped", "not checked"))
    return (
        f'<p class="legend">{legend}</p>'
        f"<table><tr><th>concern</th><th>rules (hover for the rule and its properties)</th>"
        f"</tr>{''.join(rows)}</table>"
    )


def to_html(result: RunResult, all_rules: Mapping[str, str]) -> str:
    v = verdict(result)
    colour = "#1a7f37" if v == "CONFORMANT" else "#cf222e" if "NOT CONFORMANT" in v else "#bc4c00"
    meta = "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(str(val))}</dd>" for k, val in result.properties.items()
    )
    counts = " ".join(
        f"<span>{result.count(o)} {o}</span>" for o in ("passed", "failed", "error", "skipped")
    )
    body = [
        f'<div class="banner" style="background:{colour}"><h1>csr-conformance: {escape(v)}</h1>'
        f'<div class="counts">{counts}<span>in {result.seconds:.1f}s</span></div></div>',
        f'<dl class="meta">{meta}</dl>',
    ]
    if result.setup_error:
        body.append(f"<h2>Could not run</h2><p class='msg'>{escape(result.setup_error)}</p>")
    if result.stopped:
        body.append(
            f"<h2>Stopped early</h2><p class='msg'>{escape(result.stopped)}; properties that "
            "did not finish are marked not run.</p>"
        )
    bad = [
        c
        for c in result.cases
        if c.outcome in ("failed", "error") and not c.message.startswith("not run")
    ]
    if bad:
        body.append(f"<h2>Failures ({len(bad)})</h2>")
        body += [_failure(c) for c in bad]
    skips = skip_reasons(result)
    not_run = [c for c in result.cases if c.message.startswith("not run")]
    if skips or not_run:
        items = [
            f"<li>skipped: {escape(reason)} — <code>{escape(', '.join(names))}</code></li>"
            for reason, names in skips.items()
        ]
        items += [f"<li><code>{escape(c.name)}</code>: {escape(c.message)}</li>" for c in not_run]
        body.append(f"<h2>Not checked, and why</h2><ul>{''.join(items)}</ul>")
    body.append("<h2>Rules × outcome by concern</h2>")
    body.append(_matrix(result, all_rules))
    rows = "".join(
        f"<tr><td>{escape(c.concern or '—')}</td><td><code>{escape(c.name)}</code></td>"
        f"<td>{_pill(c.outcome)}</td><td>{c.seconds:.2f}s</td>"
        f"<td><code>{escape(', '.join(c.rules))}</code></td></tr>"
        for c in sorted(result.cases, key=lambda c: (c.concern, c.name))
    )
    body.append(
        "<h2>Properties</h2><table><tr><th>concern</th><th>property</th><th>outcome</th>"
        f"<th>time</th><th>rules</th></tr>{rows}</table>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>csr-conformance: {escape(v)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
