"""Why a request could not be judged, as opposed to a server that answered wrongly.

A conformance verdict needs an answer from the server. When there is none (refused
connection, TLS failure, timeout, a kubeconfig that cannot be loaded) the run reports an
*error*, not a *failure*: the JUnit report must not blame the server's semantics for a
cable that is unplugged. Each exception carries one line fit for a terminal.
"""

from __future__ import annotations


class TargetError(Exception):
    """The target could not be reached or did not answer in time."""


class KubeconfigError(TargetError):
    """The kubeconfig (or the context named in it) cannot be used."""


class NotJSON(AssertionError):
    """The server answered with a body that is not JSON where JSON is required.

    An AssertionError on purpose: garbage on the wire is the server's fault and is a
    conformance failure of the property that received it.
    """
