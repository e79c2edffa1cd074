"""The CLI's contract: exit codes, one clear line on stderr, JUnit even when it cannot run."""

from __future__ import annotations

import os
import resource
import shlex
import socket
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clirun import CLI, kubeconfig, run_cli


def assert_cannot_run(proc: subprocess.CompletedProcess[str], report: Path, needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr  # one clear line, no traceback
    assert "Traceback" not in proc.stderr
    assert needle in lines[0], lines[0]
    suite = ET.parse(report / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a hung API server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def loop() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield sock.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    sock.close()


@pytest.fixture
def garbage_server() -> Iterator[int]:
    """Answers every request with HTTP 200 and text that is not JSON."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def loop() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn = sock.accept()[0]
            except OSError:
                continue
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\n<html>hi</ht"
            )
            conn.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield sock.getsockname()[1]
    stop.set()
    t.join()
    sock.close()


def test_unreachable_server(tmp_path: Path) -> None:
    cfg = kubeconfig(tmp_path, "https://127.0.0.1:1")
    proc = run_cli("run", "--kubeconfig", cfg, "--report-dir", str(tmp_path / "r"))
    assert_cannot_run(proc, tmp_path / "r", "cannot connect")


def test_missing_kubeconfig(tmp_path: Path) -> None:
    proc = run_cli(
        "run", "--kubeconfig", str(tmp_path / "nope"), "--report-dir", str(tmp_path / "r")
    )
    assert_cannot_run(proc, tmp_path / "r", "kubeconfig")


def test_bad_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("this: [is not a kubeconfig")
    proc = run_cli("run", "--kubeconfig", str(path), "--report-dir", str(tmp_path / "r"))
    assert_cannot_run(proc, tmp_path / "r", "kubeconfig")


def test_unknown_context(tmp_path: Path) -> None:
    cfg = kubeconfig(tmp_path, "https://127.0.0.1:1")
    proc = run_cli(
        "run", "--kubeconfig", cfg, "--context", "nope", "--report-dir", str(tmp_path / "r")
    )
    assert_cannot_run(proc, tmp_path / "r", "nope")


def test_hanging_server_times_out(tmp_path: Path, silent_server: int) -> None:
    cfg = kubeconfig(tmp_path, f"http://127.0.0.1:{silent_server}")
    proc = run_cli(
        "run", "--kubeconfig", cfg, "--timeout", "2", "--report-dir", str(tmp_path / "r")
    )
    assert_cannot_run(proc, tmp_path / "r", "did not answer in time")


def test_garbage_server(tmp_path: Path, garbage_server: int) -> None:
    cfg = kubeconfig(tmp_path, f"http://127.0.0.1:{garbage_server}")
    proc = run_cli("run", "--kubeconfig", cfg, "--report-dir", str(tmp_path / "r"))
    assert_cannot_run(proc, tmp_path / "r", "not answering like a Kubernetes API server")


def test_unknown_fault(tmp_path: Path) -> None:
    proc = run_cli("run", "--fault", "no-such-fault", "--report-dir", str(tmp_path / "r"))
    assert_cannot_run(proc, tmp_path / "r", "unknown fault")


def test_rejected_credentials(tmp_path: Path) -> None:
    from conformance.targets.fake import FakeConfig, FakeServer

    with FakeServer(FakeConfig(tls=False)) as server:
        cfg = kubeconfig(tmp_path, server.url, token="wrong-token")
        proc = run_cli("run", "--kubeconfig", cfg, "--report-dir", str(tmp_path / "r"))
    assert_cannot_run(proc, tmp_path / "r", "401")


def test_faults_lists_every_fault() -> None:
    from conformance.targets.fake.faults import FAULTS

    proc = run_cli("faults")
    assert proc.returncode == 0
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    assert listed == set(FAULTS)
    assert len(FAULTS) >= 8


def test_rules_lists_the_oracle_rules() -> None:
    proc = run_cli("rules")
    assert proc.returncode == 0
    assert "CSR-VAL-U1" in proc.stdout


def test_no_property_matches(tmp_path: Path) -> None:
    proc = run_cli("run", "-k", "nothing_matches_this", "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert "no property matched" in proc.stderr


# -- bad input is refused before any work ---------------------------------------------


def _cpu_seconds(
    fn: Callable[[], subprocess.CompletedProcess[str]],
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """CPU seconds (user + system) the child process spent, and its result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, proc


def _refused_fast(
    args: list[str], needle: str, report: Path | None = None
) -> subprocess.CompletedProcess[str]:
    took, proc = _cpu_seconds(lambda: run_cli(*args, timeout=60))
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert needle in lines[0], lines[0]
    # The bound is on the work done (CPU seconds of the CLI process), so a machine busy
    # with other jobs cannot make it flaky; wall time is bounded by run_cli's timeout.
    assert took < 3.0, f"refusing {args} took {took:.1f} CPU seconds"
    if report is not None:
        suite = ET.parse(report / "junit.xml").getroot().find("testsuite")
        assert suite is not None and suite.get("errors") == "1"
    return proc


def test_report_dir_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a-file"
    path.write_text("x")
    _refused_fast(["run", "--report-dir", str(path)], "is not a directory")


def test_report_dir_that_is_not_writable(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes anywhere: make the path impossible instead
        (tmp_path / "f").write_text("x")
        _refused_fast(["run", "--report-dir", str(tmp_path / "f" / "r")], "not writable")
        return
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        _refused_fast(["run", "--report-dir", str(ro / "r")], "not writable")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--timeout", "-1"], "--timeout"),
        (["--timeout", "0"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--examples", "0"], "--examples"),
        (["--examples", "-3"], "--examples"),
        (["--max-time", "0"], "--max-time"),
        (["--max-time", "soon"], "--max-time"),
        (["--shrink-seconds", "-1"], "--shrink-seconds"),
        (["--rule", "CSR-NO-SUCH-RULE"], "unknown rule id"),
    ],
)
def test_bad_numbers_and_names_are_refused(tmp_path: Path, args: list[str], needle: str) -> None:
    report = tmp_path / "r"
    _refused_fast(["run", *args, "--report-dir", str(report)], needle, report)


def test_serve_port_out_of_range() -> None:
    _refused_fast(["serve", "--port", "70000"], "--port")


@pytest.mark.parametrize(
    "flag", ["--context", "--user-context", "--approver-context", "--signer-context"]
)
def test_unknown_context_for_any_role(tmp_path: Path, flag: str) -> None:
    cfg = kubeconfig(tmp_path, "https://127.0.0.1:1")
    report = tmp_path / "r"
    _refused_fast(
        ["run", "--kubeconfig", cfg, flag, "no-such-context", "--report-dir", str(report)],
        "no-such-context",
        report,
    )


def test_closed_stdout_pipe_is_not_a_traceback() -> None:
    proc = subprocess.run(
        f"{shlex.join(CLI)} rules | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) <= 1


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("csr-conformance ")


def test_list_prints_properties_without_running(tmp_path: Path) -> None:
    proc = run_cli("run", "--list", "--rule", "CSR-DEL-COLL", "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    assert "test_deletecollection_deletes_exactly_the_selected_objects" in proc.stdout
    assert "CSR-DEL-COLL" in proc.stdout and "reads" in proc.stdout
    assert not (tmp_path / "r" / "junit.xml").exists()


def test_rules_show_which_property_checks_each_rule() -> None:
    proc = run_cli("rules")
    assert proc.returncode == 0
    assert "checked by: test_deletecollection_deletes_exactly_the_selected_objects" in proc.stdout
    assert "rules checked by at least one property" in proc.stdout


def test_selection_from_files_and_by_rule(tmp_path: Path) -> None:
    import json

    keywords = tmp_path / "k.txt"
    keywords.write_text("# properties to run\ntest_dry_run_delete\ntest_get_of_a_missing\n")
    skips = tmp_path / "skip.txt"
    skips.write_text("CSR-DEL-DRYRUN\n")
    proc = run_cli(
        "run",
        "-k",
        f"@{keywords}",
        "--skip",
        f"@{skips}",
        "--examples",
        "1",
        "--report-dir",
        str(tmp_path / "r"),
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert [c["name"] for c in data["cases"]] == ["test_get_of_a_missing_name_is_404"]
    proc = run_cli(
        "run", "--rule", "CSR-DEL-DRYRUN", "--examples", "1", "--report-dir", str(tmp_path / "r2")
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "r2" / "results.json").read_text())
    assert {c["name"] for c in data["cases"]} == {"test_dry_run_delete_keeps_the_object"}
