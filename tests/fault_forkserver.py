"""Run one ``csr-conformance run --fault F`` per fault, each in a forked child of one
warmed-up process, a few at a time.

The fault self-check (tests/test_faults_caught.py) needs one suite run per fault, and
one fault per run: faults would interact inside one server. A fresh interpreter per run
spent most of its time importing Hypothesis, aiohttp, the kubernetes package and the
suite (about 3 s of CPU each, before any request). Here one process pays for the imports
and the key pool once, then forks a child per fault; each child is a complete, isolated
``csr-conformance run`` (its own fake server with that one fault, its own report
directory) that calls ``conformance.cli.main`` and exits with its exit code. This process
starts no threads, so forking it is safe.

Usage: ``python tests/fault_forkserver.py OUT_DIR JOBS``, then one JSON line per run on
stdin: ``{"name": NAME, "args": [...]}`` (the arguments after ``csr-conformance``; NAME
names the run, e.g. the fault, or a fault and the property run against it). Runs
start in the order given, at most JOBS at once; the server exits once stdin is closed and
every run has finished. For each, ``OUT_DIR/NAME/`` receives ``output.txt`` (the child's
stdout and stderr), the report, and last ``exit`` holding the exit code (written
atomically: its presence means the run is over).
"""

from __future__ import annotations

import json
import os
import selectors
import sys
import time
import traceback
from pathlib import Path
from typing import Any


def _warm_up() -> None:
    """Import the libraries and modules a run imports, and load the key pool, before any
    fork. Not the property modules: a ``@settings`` applied at import takes its defaults
    from the settings profile loaded at that moment, and the run loads its profile (no
    deadline, its example budget) only when pytest starts, so they must be imported
    afterwards, as in a fresh process."""
    import aiohttp.web
    import hypothesis.stateful
    import kubernetes.config

    import conformance.cli
    import conformance.oracle.csr.create
    import conformance.oracle.csr.update
    import conformance.plugin
    import strategies.csr
    import strategies.updates
    from conformance.targets.fake import server
    from strategies.keys import key_pool

    del aiohttp, conformance, hypothesis, kubernetes, strategies, server
    key_pool()


def _write_exit(out: Path, code: int) -> None:
    tmp = out / f"exit.{os.getpid()}.tmp"
    tmp.write_text(str(code))
    tmp.replace(out / "exit")


def _child(args: list[str], out: Path) -> None:
    """Runs in the forked child; never returns."""
    code = 3
    try:
        fd = os.open(out / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        from conformance.cli import main

        code = int(main(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        _write_exit(out, code)
        os._exit(code)


class Server:
    """Pending runs, running children, and the reaping of finished ones."""

    def __init__(self, out_dir: Path, jobs: int) -> None:
        self.out_dir = out_dir
        self.jobs = jobs
        self.pending: list[dict[str, Any]] = []
        self.running: dict[int, Path] = {}

    def reap(self) -> None:
        while self.running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            out = self.running.pop(pid)
            if not (out / "exit").exists():  # died before writing it (a signal)
                _write_exit(out, os.waitstatus_to_exitcode(status))

    def start_pending(self) -> None:
        while self.pending and len(self.running) < self.jobs:
            item = self.pending.pop(0)
            out = self.out_dir / str(item["name"])
            out.mkdir(parents=True, exist_ok=True)
            args = [*item["args"], "--report-dir", str(out)]
            pid = os.fork()
            if pid == 0:
                _child(args, out)
            self.running[pid] = out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: fault_forkserver.py OUT_DIR JOBS", file=sys.stderr)
        return 2
    _warm_up()
    server = Server(Path(argv[0]), max(1, int(argv[1])))
    stdin = sys.stdin.fileno()
    selector = selectors.DefaultSelector()
    selector.register(stdin, selectors.EVENT_READ)
    open_input, buffer = True, b""
    while open_input or server.pending or server.running:
        server.reap()
        server.start_pending()
        if not open_input:
            time.sleep(0.05)
        elif selector.select(timeout=0.05):
            chunk = os.read(stdin, 65536)
            if not chunk:
                open_input = False
                selector.unregister(stdin)
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            server.pending.extend(json.loads(line) for line in lines if line.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
