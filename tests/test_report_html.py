"""report.html: self-contained, and it renders in a real browser.

The browser check takes a screenshot with headless Chromium (Debian's ``chromium``
package; `.ci/run` installs it) and fails on a blank or broken page: the verdict banner
must be drawn in its colour and the page must carry enough distinct colours to be the
report rather than an error page. Where Chromium is absent the check is skipped, with
that reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clirun import run_cli

from reports import write_reports
from reports.model import CaseResult, RunResult
from reports.summary import from_json

_WATCH_HISTORY = {
    "writes": [
        {"rv": 11, "name": "w0", "op": "create"},
        {"rv": 12, "name": "w<1>", "op": "create"},
        {"rv": 13, "name": "w0", "op": "update"},
        {"rv": 14, "name": "w0", "op": "delete"},
    ],
    "watchers": [
        {
            "label": "watcher 0 (resourceVersion=10)",
            "start": "10",
            "events": [
                {"type": "ADDED", "name": "w0", "rv": 11},
                {"type": "ADDED", "name": "w0", "rv": 11},
                {"type": "ADDED", "name": "w<1>", "rv": 12},
                {"type": "DELETED", "name": "w0", "rv": 14},
            ],
        },
        {
            "label": "watcher 1 (resourceVersion=unset)",
            "start": "",
            "events": [{"type": "BOOKMARK", "name": "", "rv": 12}],
        },
    ],
    "lists": [10, 14],
    "broken": [
        {
            "guarantee": "unique",
            "watcher": "watcher 0 (resourceVersion=10)",
            "message": "ADDED w0@11 was delivered twice",
            "event": 1,
            "rv": None,
        },
        {
            "guarantee": "reliable",
            "watcher": "watcher 0 (resourceVersion=10)",
            "message": "missing MODIFIED w0@13",
            "event": None,
            "rv": 13,
        },
    ],
}


def _failing_run() -> RunResult:
    return RunResult(
        cases=[
            CaseResult(
                "test_delete_answers_with_a_success_status_then_404s",
                "csr-conformance.reads",
                "test_delete.py::test_delete_answers_with_a_success_status_then_404s",
                ("CSR-DEL-STATUS", "CSR-DEL-404"),
                outcome="failed",
                concern="reads",
                message="CSR-DEL-STATUS: kube-apiserver: DELETE returns a Success Status; "
                'this server: kind: got "CertificateSigningRequest", expected "Status"',
                transcript=">>> DELETE /apis/certificates.k8s.io/v1/certificatesigningrequests/x"
                '\n>>> Authorization: <redacted>\n<<< 200\n<<< {"kind":"Certif<script>"}',
                replay="/venv/bin/python -m conformance.cli replay r test_delete.py::test_x",
            ),
            CaseResult(
                "test_watch_histories_keep_every_guarantee",
                "csr-conformance.watch",
                "test_watch.py::test_watch_histories_keep_every_guarantee",
                ("CSR-WATCH-ORDER",),
                outcome="failed",
                concern="watch",
                message="CSR-WATCH-ORDER: watch guarantee 'unique' broken by watcher 0",
                watch_history=_WATCH_HISTORY,
            ),
            CaseResult(
                "test_dry_run_delete_keeps_the_object",
                "csr-conformance.reads",
                "n2",
                ("CSR-DEL-DRYRUN",),
                outcome="passed",
                concern="reads",
            ),
            CaseResult(
                "test_only_permitted_identities_approve",
                "csr-conformance.authorization",
                "n3",
                ("CSR-ADM-APPROVE",),
                outcome="skipped",
                concern="authorization",
                message="not checked: needs a context for the 'user' or 'approver' identity",
            ),
        ],
        properties={"target": "embedded fake", "profile": "kube-apiserver"},
        seconds=4.2,
    )


def test_report_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    write_reports(_failing_run(), str(tmp_path), step_summary=False)
    page = (tmp_path / "report.html").read_text()
    assert "csr-conformance: NOT CONFORMANT" in page
    assert "test_delete_answers_with_a_success_status_then_404s" in page
    assert "&lt;redacted&gt;" in page and "Certif&lt;script&gt;" in page  # escaped, not live
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched
    assert "Rules × outcome by concern" in page
    assert "needs a context for the &#x27;user&#x27; or &#x27;approver&#x27; identity" in page
    (svg,) = _timelines(page)  # the watch failure's picture, names escaped
    assert "w&lt;1&gt;" in page and "✗ reliable (missing)" in "".join(svg.itertext())


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    image = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    write_reports(_failing_run(), str(tmp_path), step_summary=False)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,1400",
            f"--screenshot={shot}",
            (tmp_path / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.exists() and shot.stat().st_size > 0, "Chromium wrote no screenshot"
    img = image.open(shot).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, f"a blank page: {len(colours)} colours"
    banner = img.crop((0, 0, img.width, 120)).getcolors(maxcolors=1 << 20) or []
    red = sum(n for n, (r, g, b) in banner if r > 180 and g < 80 and b < 90)
    assert red > 10_000, "the NOT CONFORMANT banner was not drawn"


def _timelines(page: str) -> list[ET.Element]:
    """Every timeline picture of a page, parsed: a browser draws only well-formed SVG."""
    found = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="timeline".*?</svg>', page)
    return [ET.fromstring(svg) for svg in found]


def test_a_watch_fault_run_draws_where_the_guarantee_broke(tmp_path: Path) -> None:
    """A failing watch property records its history in results.json, and report.html
    draws it: a writes lane, a lane per watcher, the broken guarantee named at its event."""
    report = tmp_path / "r"
    proc = run_cli(
        "run",
        *("--fault", "watch-duplicates-event"),
        *("-k", "test_watch_histories_keep_every_guarantee"),
        *("--examples", "5", "--shrink-seconds", "5", "--report-dir", str(report)),
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr + proc.stdout[-2000:]
    (case,) = json.loads((report / "results.json").read_text())["cases"]
    history = case["watch_history"]
    assert history["writes"] and history["watchers"]
    (broken,) = history["broken"]
    assert broken["guarantee"] == "unique"
    events = history["watchers"][0]["events"]
    twice = events[broken["event"]]
    assert twice in events[: broken["event"]]  # the flagged event is the repeat

    page = (report / "report.html").read_text()
    assert "<script" not in page.lower()
    (svg,) = _timelines(page)
    text = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "writes" in text and "watcher 0" in text
    assert "✗ unique" in text
    assert str(twice["rv"]) in text  # the resourceVersion axis


def test_a_report_without_watch_histories_still_renders(tmp_path: Path) -> None:
    """results.json written before the timeline existed reads back and renders."""
    write_reports(_failing_run(), str(tmp_path), step_summary=False)
    data = json.loads((tmp_path / "results.json").read_text())
    for case in data["cases"]:
        del case["watch_history"]
    result = from_json(json.dumps(data))
    assert all(c.watch_history is None for c in result.cases)
    write_reports(result, str(tmp_path), step_summary=False)
    assert not _timelines((tmp_path / "report.html").read_text())
