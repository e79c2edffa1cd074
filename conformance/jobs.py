"""``run --jobs N``: N shards of the same command side by side, merged into one report.

Why subprocesses and not pytest-xdist: the plugin opens the target in
``pytest_sessionstart``, and Hypothesis, the run's Session, its budget (runstop) and its
signal handling are per process. N processes of the CLI, each ``--shard k/N`` with its
own target (the embedded fake) or the same cluster (``--kubeconfig``), keep every one of
those exactly as in a serial run: each shard has its own run label and objects, its own
deadline and clean-up, and the merge (reports/merge.py) gives the serial verdict. The
same code path is what CI does across machines, so the two cannot drift apart.

Each shard writes its report to ``REPORT_DIR/shards/k`` (kept: its replay commands point
there) and its console output to ``console.txt`` beside it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import types
from collections.abc import Callable, Sequence

SHARDS_DIR = "shards"


def shard_command(argv: Sequence[str], index: int, total: int, report_dir: str) -> list[str]:
    """The child's command line: the parent's ``run`` options, then the overrides (argparse
    keeps the last value of an option, so these win over anything given earlier)."""
    return [
        sys.executable,
        "-m",
        "conformance.cli",
        *argv,
        "--jobs",
        "1",
        "--shard",
        f"{index}/{total}",
        "--report-dir",
        report_dir,
        "--progress",
        "never",
    ]


def run_jobs(
    argv: Sequence[str],
    total: int,
    report_dir: str,
    merge: Callable[[Sequence[str], str], int],
) -> int:
    """Start ``total`` shards, wait for all of them, merge their reports into
    ``report_dir``. SIGTERM and SIGINT are passed on to every shard, which stops, cleans
    up and writes its report as a serial run does; the merge then reports what finished,
    and the exit code is the signal's (143, 130), as a serial run's."""
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["PYTHONWARNINGS"] = "ignore"
    dirs = [os.path.join(report_dir, SHARDS_DIR, str(k)) for k in range(1, total + 1)]
    procs: list[subprocess.Popen[bytes]] = []
    stopped_by: list[int] = []

    def forward(signum: int, frame: types.FrameType | None) -> None:
        stopped_by.append(signum)
        for p in procs:
            with contextlib.suppress(OSError):
                p.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for k, d in enumerate(dirs, start=1):
            os.makedirs(d, exist_ok=True)
            for stale in ("results.json", "shard.json"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(d, stale))
            with open(os.path.join(d, "console.txt"), "wb") as out:
                procs.append(
                    subprocess.Popen(
                        shard_command(argv, k, total, d),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=env,
                    )
                )
        codes = [p.wait() for p in procs]
    except BaseException:
        for p in procs:  # a crash of this process must not leave shards running
            with contextlib.suppress(OSError):
                p.terminate()
        for p in procs:
            p.wait()
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    reported = [d for d in dirs if os.path.exists(os.path.join(d, "results.json"))]
    for k, (d, code) in enumerate(zip(dirs, codes, strict=True), start=1):
        if d not in reported:
            print(
                f"csr-conformance: shard {k}/{total} wrote no report (exit {code}): "
                f"{_last_line(os.path.join(d, 'console.txt'))}",
                file=sys.stderr,
            )
    if not reported:
        return max(codes)
    code = merge(reported, report_dir)
    if stopped_by:
        from conformance.runstop import EXIT_INTERRUPTED, EXIT_TERMINATED

        return EXIT_INTERRUPTED if stopped_by[0] == signal.SIGINT else EXIT_TERMINATED
    return code


def _last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return "no output"
    return lines[-1][:300] if lines else "no output"
