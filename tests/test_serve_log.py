"""``csr-conformance serve --log-requests`` prints one line per request on stderr."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import urllib3
import yaml


def test_serve_logs_method_path_user_status_and_time(tmp_path: object) -> None:
    kubeconfig = f"{tmp_path}/kubeconfig"
    serve = ["serve", "--http", "--log-requests", "--kubeconfig-out", kubeconfig]
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        deadline = time.monotonic() + 30
        while not os.path.exists(kubeconfig) and time.monotonic() < deadline:
            time.sleep(0.1)
        with open(kubeconfig) as f:
            users = yaml.safe_load(f)["users"]
        token = next(u["user"]["token"] for u in users if u["name"] == "user")
        pool = urllib3.PoolManager()
        r = pool.request("GET", f"{url}/version", headers={"Authorization": f"Bearer {token}"})
        assert r.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    lines = [line for line in err.splitlines() if line.startswith("GET /version ")]
    assert lines, err
    assert " user=csrc-user status=200 " in lines[0] + " ", lines[0]
    assert lines[0].endswith("s"), lines[0]
