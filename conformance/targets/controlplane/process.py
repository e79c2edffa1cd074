"""One child process of the control plane: spawned in its own process group, logging
to a file, and killed as a group.

A process group (a new session) lets ``stop`` reach anything the binary forks, and
keeps a terminal's Ctrl-C from hitting the children before our own teardown runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from conformance.targets.controlplane.errors import ControlPlaneError

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A loopback TCP port nobody listens on right now.

    Another process may grab it before the child binds; callers retry a start whose
    log says the address was in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when this thread dies.

    This covers the one case atexit and signal handlers cannot: the runner being
    SIGKILLed. The kernel ties it to the creating thread, so it is only used when
    spawning from the main thread, whose end is the end of the runner.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
    except OSError:
        return None
    prctl = libc.prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return hook


class Process:
    """A running binary whose output goes to ``log_path``."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log.write(("$ " + " ".join(self.argv) + "\n").encode())
        self._log.flush()
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
                close_fds=True,
            )
        except OSError as exc:
            self._log.close()
            # A binary for another OS or architecture fails here, not in its log.
            raise ControlPlaneError(f"cannot run {self.argv[0]}: {exc.strerror or exc}") from None
        self.pid = self.popen.pid

    def exited(self) -> int | None:
        """The exit code if the process has ended, else None."""
        return self.popen.poll()

    def tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the log, for error messages."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 64 * 1024))
                data = f.read().decode("utf-8", "replace")
        except OSError as exc:
            return f"(log {self.log_path} unreadable: {exc})"
        return "\n".join(data.splitlines()[-lines:])

    def log_contains(self, needle: str) -> bool:
        try:
            return needle in self.log_path.read_text("utf-8", "replace")
        except OSError:
            return False

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def stop(self, grace: float) -> None:
        """SIGTERM the group, wait up to ``grace`` seconds, then SIGKILL it. Idempotent."""
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait(timeout=10)
        # Anything the binary forked into its group goes too, even after it exited.
        self.signal_group(signal.SIGKILL)
        if not self._log.closed:
            self._log.close()


def stop_all(processes: Sequence[Process], grace: float) -> None:
    """Stop several processes with one shared grace period rather than one each."""
    for p in processes:
        if p.exited() is None:
            p.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in processes:
        p.stop(max(0.0, deadline - time.monotonic()))
