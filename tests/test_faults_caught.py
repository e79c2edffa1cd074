"""Design rule 4: every fault of the fake is caught by a property that names its rules.

A property no fault can fail proves nothing, and a fault no property catches means a
class of server bugs would pass the suite. For each fault this runs only the properties
that claim the fault's rules and requires a non-conformant verdict (exit 1) attributed
to one of those rules.

Each fault gets its own ``csr-conformance run --fault F`` (faults would interact inside
one server), with the default budget of examples per property, ``-x`` and no shrinking:
the verdict needs one failing example, not a minimal one, and ``-x`` stops at it. Runs are
derandomized and a property's examples do not depend on which other properties run, so
this also shows that a plain whole-suite ``csr-conformance run --fault F -x`` exits 1:
with ``-x`` the order of the properties changes only the time, not the verdict.

The runs are forked from one warmed-up process (tests/forkruns.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from forkruns import ForkRuns, fork_runs, under_xdist

from conformance.plugin import DEFAULT_EXAMPLES
from conformance.properties.catalog import properties_for
from conformance.targets.fake.faults import FAULTS

_EXAMPLES = DEFAULT_EXAMPLES
"""The budget users run with (issue 14 item 4: every fault caught as users run the suite)."""


def _run_args(fault: str) -> list[str]:
    props = properties_for(FAULTS[fault].rules)
    return [
        "run",
        "--fault",
        fault,
        "--examples",
        str(_EXAMPLES),
        "-x",
        "--shrink-seconds",
        "0",
        "-k",
        " or ".join(props),
    ]


@pytest.fixture(scope="module")
def fault_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ForkRuns]:
    with fork_runs(tmp_path_factory.mktemp("fault-runs")) as runs:
        if not under_xdist():
            runs.queue(
                {
                    fault: _run_args(fault)
                    for item in request.session.items
                    if isinstance(item, pytest.Function)
                    and item.module is sys.modules[__name__]
                    and hasattr(item, "callspec")
                    and properties_for(FAULTS[fault := str(item.callspec.params["fault"])].rules)
                }
            )
        yield runs


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_is_caught(fault: str, fault_runs: ForkRuns) -> None:
    rules = FAULTS[fault].rules
    props = properties_for(rules)
    assert props, f"no property names any rule of fault {fault} ({', '.join(rules)})"
    code, output = fault_runs.wait(fault, _run_args(fault))
    assert code == 1, f"fault {fault} not caught (exit {code}):\n{output[-4000:]}"
    data = fault_runs.results(fault)
    cases = data["cases"]
    assert isinstance(cases, list)
    failed = [c for c in cases if c["outcome"] == "failed"]
    assert any(set(c["rules"]) & set(rules) for c in failed), (
        f"fault {fault} failed only properties outside its rules: {[c['name'] for c in failed]}"
    )
