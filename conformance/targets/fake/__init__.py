"""The embedded fake API server: a real HTTP(S) server that answers like kube-apiserver
v1.37 for CertificateSigningRequests, with named faults for the suite's self-check.

Public API (used by the CLI and the pytest plugin): :class:`FakeConfig`,
:class:`FakeServer`, :func:`serve_forever`, :data:`FAULTS` and :class:`Fault`.
"""

from conformance.targets.fake.config import FakeConfig
from conformance.targets.fake.faults import FAULTS, Fault
from conformance.targets.fake.server import FakeServer, serve_forever

__all__ = ["FAULTS", "FakeConfig", "FakeServer", "Fault", "serve_forever"]
