"""Design rule 4: every fault of the fake is caught by a property that names its rules.

A property no fault can fail proves nothing, and a fault no property catches means a
class of server bugs would pass the suite. For each fault this runs only the properties
that claim the fault's rules, with a small budget, and requires a non-conformant verdict
attributed to one of those rules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.properties.catalog import properties_for
from conformance.targets.fake.faults import FAULTS


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_is_caught(fault: str, tmp_path: Path) -> None:
    rules = FAULTS[fault].rules
    props = properties_for(rules)
    assert props, f"no property names any rule of fault {fault} ({', '.join(rules)})"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--fault",
            fault,
            "--examples",
            "30",
            "--report-dir",
            str(tmp_path),
            "-k",
            " or ".join(props),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 1, (
        f"fault {fault} not caught (exit {proc.returncode}):\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    )
    data = json.loads((tmp_path / "results.json").read_text())
    failed = [c for c in data["cases"] if c["outcome"] == "failed"]
    assert any(set(c["rules"]) & set(rules) for c in failed), (
        f"fault {fault} failed only properties outside its rules: {[c['name'] for c in failed]}"
    )
