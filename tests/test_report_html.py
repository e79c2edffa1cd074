"""report.html: self-contained, and it renders in a real browser.

The browser check takes a screenshot with headless Chromium (Debian's ``chromium``
package; `.ci/run` installs it) and fails on a blank or broken page: the verdict banner
must be drawn in its colour and the page must carry enough distinct colours to be the
report rather than an error page. Where Chromium is absent the check is skipped, with
that reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reports import write_reports
from reports.model import CaseResult, RunResult


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
