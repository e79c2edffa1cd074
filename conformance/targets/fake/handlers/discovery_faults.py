"""Faults of discovery, beside the discovery handlers rather than inside them.

With no fault active every function gives the correct answer.
"""

from __future__ import annotations

from conformance.targets.fake.faults import ActiveFaults


def hides_approval(faults: ActiveFaults) -> bool:
    """``discovery-without-approval``: the ``/approval`` subresource is left out of the
    resource lists, as a server that does not serve it would."""
    return faults.on("discovery-without-approval")
