"""Wall time of the whole suite against the fake and the real kube-apiserver, side by side.

Machines here are noisy, so the figure that matters is the ratio of the two runs made
back to back in one process tree, with the same example budget and seed. Usage:

    python benchmarks/suite_wall_time.py [--examples N] [--rounds R]

Prints one line per run and the median ratio controlplane/fake. Needs the control-plane
binaries (bash ci/controlplane/build.sh).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def run(target: str, examples: int) -> float:
    with tempfile.TemporaryDirectory() as report:
        start = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "run",
                "--target",
                target,
                "--examples",
                str(examples),
                "--report-dir",
                report,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{target} run failed (exit {proc.returncode}): {proc.stdout[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    ratios = []
    for i in range(args.rounds):
        fake = run("fake", args.examples)
        real = run("controlplane", args.examples)
        ratios.append(real / fake)
        print(f"round {i + 1}: fake {fake:.1f}s, controlplane {real:.1f}s, ratio {real / fake:.2f}")
    print(
        f"median ratio controlplane/fake: {statistics.median(ratios):.2f} "
        f"({args.examples} examples per property)"
    )


if __name__ == "__main__":
    main()
