"""The two ways a control-plane target can fail before any property runs."""

from __future__ import annotations


class MissingAssets(Exception):
    """The binaries are not where we looked; the message says where and how to get them.

    Callers turn this into a skip (tests) or a one-line CLI error, so the message is a
    single line that stands on its own.
    """


class ControlPlaneError(Exception):
    """A process failed to start or the API never became ready.

    The message starts with one line saying what went wrong, followed by the tail of
    the failing process's log, since that tail is almost always the actual cause.
    """
