"""Running the CLI as a user would, for the tests of its contract.

The CLI is judged from outside (exit code, one line on stderr, the report it writes),
so its tests start it as a separate process, with a one-user kubeconfig when a test
points it at a server of its own. Import it as ``clirun`` (``tests/`` is on ``sys.path``
under pytest).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Final

CLI: Final = [sys.executable, "-m", "conformance.cli"]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``csr-conformance ARGS``, its output captured as text."""
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def kubeconfig(tmp_path: Path, server: str, token: str = "t", *, ca_pem: str | None = None) -> str:
    """A kubeconfig with one context for ``server`` and a bearer ``token``; it trusts
    ``ca_pem`` when given, else skips TLS verification."""
    if ca_pem is None:
        tls = "insecure-skip-tls-verify: true"
    else:
        tls = f"certificate-authority-data: {base64.b64encode(ca_pem.encode()).decode()}"
    path = tmp_path / "kubeconfig"
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "{server}", {tls}}}
users:
- name: u
  user: {{token: "{token}"}}
contexts:
- name: ctx
  context: {{cluster: c, user: u}}
current-context: ctx
"""
    )
    return str(path)
