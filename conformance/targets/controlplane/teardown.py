"""Making sure no etcd or kube-apiserver outlives the run that started it.

``with`` blocks and pytest fixtures call ``stop`` on the normal paths; this module
covers the others: interpreter exit (atexit) and SIGTERM/SIGINT. The signal
handlers stop every live control plane and then hand the signal on to whatever
handler was there before, so Ctrl-C still raises KeyboardInterrupt and SIGTERM
still ends the process with the usual status.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Stoppable(Protocol):
    def stop(self) -> None: ...


_live: dict[int, Stoppable] = {}
_installed_signals: set[int] = set()
_atexit_registered = False


def register(plane: Stoppable) -> None:
    """Track ``plane`` until ``unregister``; install the exit and signal hooks once."""
    global _atexit_registered
    _live[id(plane)] = plane
    if not _atexit_registered:
        atexit.register(stop_all)
        _atexit_registered = True
    _install_signal_handlers()


def unregister(plane: Stoppable) -> None:
    _live.pop(id(plane), None)


def live_count() -> int:
    return len(_live)


def stop_all() -> None:
    """Stop every tracked plane; one failing stop must not keep the others running."""
    for plane in list(_live.values()):
        with contextlib.suppress(Exception):
            plane.stop()
    _live.clear()


def _install_signal_handlers() -> None:
    # Python only lets the main thread set handlers; elsewhere atexit is the net.
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        if sig in _installed_signals:
            continue
        previous = signal.getsignal(sig)
        if previous is signal.SIG_IGN:
            continue
        signal.signal(sig, _make_handler(previous))
        _installed_signals.add(sig)


def _make_handler(previous: _Handler) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop_all()
        if callable(previous):
            previous(signum, frame)  # default_int_handler raises KeyboardInterrupt here
            return
        # The previous disposition was the default: restore it and re-deliver, so
        # the process ends exactly as it would have without us.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    return handler
