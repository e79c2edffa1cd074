"""What one draw of each central strategy costs, in CPU time and in Hypothesis choices.

CPU time of the drawing thread (``time.thread_time``), so other load on the machine
changes the figures little. Choices are what Hypothesis records per draw; each costs
tens of microseconds of engine bookkeeping whatever it yields, which is why strategies
draw a DNS label as one string rather than character by character.

Usage: ``python benchmarks/draw_cost.py [--examples N] [NAME ...]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from strategies import csr, keys, names, pem, updates, usages


def _strategies() -> dict[str, Callable[[], st.SearchStrategy[Any]]]:
    return {
        "valid_csr": csr.valid_csr,
        "invalid_csr": csr.invalid_csr,
        "edits": updates.edits,
        "csr_pems": pem.csr_pems,
        "subjects": pem.subjects,
        "labels": names.labels,
        "custom_signer_names": names.custom_signer_names,
        "usage_lists": usages.usage_lists,
    }


def measure(strategy: st.SearchStrategy[Any], examples: int) -> tuple[float, float]:
    """Mean CPU milliseconds and mean choices per draw over ``examples`` draws."""
    seconds: list[float] = []
    choices: list[int] = []

    @settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        record = data.conjecture_data
        before = len(record.choices)
        t0 = time.thread_time()
        data.draw(strategy)
        seconds.append(time.thread_time() - t0)
        choices.append(len(record.choices) - before)

    run()
    return 1000 * statistics.mean(seconds), statistics.mean(choices)


def main(argv: list[str] | None = None) -> int:
    table = _strategies()
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(table)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in table]
    if unknown:
        print(f"draw_cost: unknown strategy {unknown[0]!r}", file=sys.stderr)
        return 2
    keys.key_pool()
    print(f"{'strategy':<22}{'CPU ms/draw':>12}{'choices':>10}")
    for name in args.names or table:
        ms, n = measure(table[name](), args.examples)
        print(f"{name:<22}{ms:>12.2f}{n:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
