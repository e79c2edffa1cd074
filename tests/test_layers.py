"""The layer contract in pyproject.toml holds, and it is enforced: the same check fails
as soon as a lower layer imports a higher one (here the oracle importing the plugin).
The fake's handlers name no fault: every deliberate bug sits in a ``*_faults.py`` hook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
needs_lint = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )


@needs_lint
def test_the_layers_hold() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


@needs_lint
def test_a_lower_layer_importing_a_higher_one_fails_the_lint(tmp_path: Path) -> None:
    for name in ("conformance", "strategies", "reports"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    status = tmp_path / "conformance" / "oracle" / "apimachinery" / "status.py"
    status.write_text(status.read_text() + "\nimport conformance.plugin  # noqa: E402,F401\n")
    proc = _lint(tmp_path)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "conformance.oracle is not allowed to import conformance.plugin" in proc.stdout


def _handler_files() -> list[Path]:
    """The fake's correct path: its handlers and the app that dispatches to them."""
    fake = ROOT / "conformance" / "targets" / "fake"
    handlers = [p for p in (fake / "handlers").glob("*.py") if not p.name.endswith("_faults.py")]
    return sorted([*handlers, fake / "app.py"])


def test_no_handler_names_a_fault() -> None:
    """Faults hook in beside the handlers (repair, then restore), never as a branch inside."""
    from conformance.targets.fake.faults import FAULTS

    named = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _handler_files()
        for name in FAULTS
        if f'"{name}"' in path.read_text() or f"'{name}'" in path.read_text()
    ]
    assert not named, "handlers name faults:\n" + "\n".join(named)
