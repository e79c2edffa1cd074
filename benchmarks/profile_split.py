"""Where the suite's wall time goes: a sampling profile split by concern and by property.

The suite runs under ``py-spy record --idle --threads`` (idle samples included, so the
profile covers wall time, not only CPU time). Every sample of the main thread is put in
one concern, by the deepest frame that marks one:

- **drawing**: Hypothesis drawing examples (``ConjectureData.draw``, ``strategies/``);
- **oracle+checks**: ``conformance/oracle`` (what kube-apiserver would answer) and the
  comparisons in ``conformance/checks.py`` / ``properties/expect.py``;
- **client**: serialisation, TLS, transcript (``conformance/client``, urllib3,
  ``http.client``, ``json``) while it is computing;
- **waiting on server**: the client blocked in a socket or TLS read, i.e. the server's
  time (for the embedded fake this includes the fake thread competing for the GIL);
- **hypothesis engine**: generation bookkeeping, shrinking, the example database;
- **other**: start-up (imports), pytest, fixtures, clean-up, the property bodies.

Samples of the embedded fake's thread that are not idle are counted separately (the
fake's own CPU). The run's own counters (``http.requests``, ``http.seconds`` in
``results.json``) are printed beside the profile as a cross-check of "waiting".

Usage (needs py-spy, in the ``dev`` extra)::

    python benchmarks/profile_split.py [--target fake|controlplane] [-k EXPR]
        [--examples N] [--rate HZ] [--assets DIR]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CONCERNS = (
    "drawing",
    "oracle+checks",
    "client",
    "waiting on server",
    "hypothesis engine",
    "other",
)

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")
_WAIT_FILES = ("socket.py", "ssl.py", "selectors.py")
_WAIT_FUNCS = ("recv_into", "read", "readinto", "select", "poll", "_wait_for_tstate_lock")


def _frames(stack: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for raw in stack.split(";"):
        m = _FRAME.match(raw)
        out.append((m["func"], m["file"]) if m else (raw, ""))
    return out


def classify(frames: list[tuple[str, str]]) -> str:
    """The concern of one main-thread sample (see the module docstring)."""
    concern: str | None = None
    in_client = False
    for func, path in frames:
        if func == "_find_and_load":  # importing a module: start-up, whatever it runs
            return "other"
        if path.startswith("strategies/") or func in ("ConjectureData.draw", "DataObject.draw"):
            concern = "drawing"
        elif path.startswith("conformance/oracle/") or path in (
            "conformance/checks.py",
            "conformance/properties/expect.py",
        ):
            concern = "oracle+checks"
        elif path.startswith(("conformance/client/", "urllib3/", "http/client.py")):
            concern, in_client = "client", True
        elif path.startswith("hypothesis/") and concern is None:
            concern = "hypothesis engine"
    if in_client and frames:
        func, path = frames[-1]
        if path.endswith(_WAIT_FILES) or func.endswith(_WAIT_FUNCS):
            return "waiting on server"
    return concern or "other"


def property_of(frames: list[tuple[str, str]]) -> str | None:
    """The outermost property on the stack: a ``test_*`` function defined in, or wrapped
    by, ``conformance/properties`` (Hypothesis draws ``@given`` arguments in a wrapper
    named after the test, before the test's own frame exists)."""
    for func, path in frames:
        name = func.split(".")[-1]
        if path.startswith("conformance/properties/") and name.startswith("test_"):
            return name
    return None


@dataclass
class Split:
    """Sample counts per concern, overall and per property, plus the fake thread's."""

    total: collections.Counter[str] = field(default_factory=collections.Counter)
    by_property: dict[str, collections.Counter[str]] = field(default_factory=dict)
    fake_busy: int = 0


def parse(raw: Path) -> Split:
    split = Split()
    main_tid: str | None = None
    lines = raw.read_text().splitlines()
    for line in lines:
        if "MainThread" in line.split(";", 1)[0]:
            main_tid = line.split(" ", 2)[1]
            break
    for line in lines:
        stack, _, count = line.rpartition(" ")
        head, _, rest = stack.partition(";")
        frames = _frames(rest)
        if "csrc-fake-server" in head:
            if frames and not frames[-1][1].endswith("selectors.py"):
                split.fake_busy += int(count)
            continue
        if main_tid is not None and head.split(" ", 2)[1] != main_tid:
            continue
        concern = classify(frames)
        split.total[concern] += int(count)
        prop = property_of(frames)
        if prop is not None:
            split.by_property.setdefault(prop, collections.Counter())[concern] += int(count)
    return split


def _row(name: str, counts: collections.Counter[str], width: int) -> str:
    n = sum(counts.values()) or 1
    cells = "".join(f"{100 * counts[c] / n:>12.1f}" for c in CONCERNS)
    return f"{name[:width]:<{width}}{cells}{n:>9}"


def report(split: Split, results: dict[str, object], rate: int) -> str:
    width = 58
    header = f"{'property (main thread, % of its samples)':<{width}}" + "".join(
        f"{c[:11]:>12}" for c in CONCERNS
    )
    lines = [header + f"{'samples':>9}", _row("WHOLE RUN", split.total, width)]
    for prop, counts in sorted(split.by_property.items(), key=lambda p: -sum(p[1].values())):
        lines.append(_row(prop, counts, width))
    props = results.get("properties")
    if isinstance(props, dict):
        seconds = float(results.get("seconds") or 0) or 1.0  # type: ignore[arg-type]
        http_s = float(props.get("http.seconds", 0))
        lines.append(
            f"\nrun counters: {seconds:.1f} s in properties, {props.get('http.requests')} "
            f"requests, {http_s:.1f} s in HTTP round trips ({100 * http_s / seconds:.0f} %)"
        )
    main = sum(split.total.values())
    client_side = sum(split.total[c] for c in ("drawing", "oracle+checks", "client"))
    lines.append(
        f"profile: {main / rate:.1f} s of main-thread wall time; client-side (drawing + "
        f"oracle + client) {100 * client_side / max(main, 1):.1f} %; fake thread busy "
        f"{split.fake_busy / rate:.1f} s"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", default="fake", choices=["fake", "controlplane"])
    parser.add_argument("-k", default=None, help="only properties matching EXPR")
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--assets", default=None, help="control-plane binaries")
    parser.add_argument("--keep", default=None, help="also copy the raw profile here")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("profile_split: py-spy not found (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "profile.txt"
        cmd = [sys.executable, "-m", "conformance.cli", "run", "--target", args.target]
        cmd += ["--examples", str(args.examples), "--report-dir", str(Path(tmp) / "r")]
        if args.k:
            cmd += ["-k", args.k]
        if args.assets:
            cmd += ["--assets", args.assets]
        spy = [py_spy, "record", "--idle", "--threads", "--format", "raw", "-r", str(args.rate)]
        proc = subprocess.run(
            [*spy, "-o", str(raw), "--", *cmd],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            check=False,
        )
        if not raw.exists():
            print(
                f"profile_split: no profile written: {proc.stderr.strip()[-300:]}", file=sys.stderr
            )
            return 2
        if args.keep:
            shutil.copy(raw, args.keep)
        results_path = Path(tmp) / "r" / "results.json"
        results = json.loads(results_path.read_text()) if results_path.exists() else {}
        print(f"target {args.target}, {args.examples} examples per property, -k {args.k!r}")
        print(f"suite verdict: {results.get('verdict', 'unknown')}")
        print(report(parse(raw), results, args.rate))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
