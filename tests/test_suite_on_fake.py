"""The fake is conformant: the whole suite passes against it and writes a proper report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from clirun import run_cli


def test_whole_suite_passes_against_the_fake(tmp_path: Path) -> None:
    proc = run_cli("run", "--report-dir", str(tmp_path), timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    root = ET.parse(tmp_path / "junit.xml").getroot()  # totals; one testsuite per concern
    assert root.find("testsuite") is not None
    assert int(root.get("tests", "0")) >= 12
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert (tmp_path / "summary.md").read_text().startswith("# csr-conformance: CONFORMANT")
