"""``--shard K/N`` and ``report --merge``: a partition of the selection, and the serial verdict.

The guarantees CI relies on when it spreads the suite over its job matrix: every selected
case runs in exactly one shard, on every machine the same one; merging the shards' reports
gives what one serial run gives; a merge that cannot give that (different runs, a shard
twice, a shard missing) says so instead of judging a part as the whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clirun import run_cli

from conformance.shards import DEFAULT_WEIGHT, WEIGHTS, assign, catalogue, parse_shard
from reports import write_reports
from reports.merge import MergeError, ShardReport, merge
from reports.model import CaseResult, RunResult
from reports.summary import verdict

ROOT = Path(__file__).resolve().parents[1]


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


# -- the split -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "index", "total"), [("1/1", 1, 1), ("2/3", 2, 3), (" 4/4 ", 4, 4)]
)
def test_a_shard_is_k_of_n(text: str, index: int, total: int) -> None:
    shard = parse_shard(text)
    assert (shard.index, shard.total, str(shard)) == (index, total, f"{index}/{total}")


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "1", "-1/2", "1/2/3", "/", ""])
def test_a_shard_outside_one_to_n_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must be K/N"):
        parse_shard(text)


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
def test_every_property_is_in_exactly_one_shard_and_the_shards_are_balanced(total: int) -> None:
    names = catalogue()
    placed = assign(names, total)
    assert set(placed) == set(names)
    assert set(placed.values()) <= set(range(1, total + 1))
    assert assign(reversed(names), total) == placed  # the order given does not matter
    load = [0] * total
    for name, shard in placed.items():
        load[shard - 1] += WEIGHTS.get(name, DEFAULT_WEIGHT)
    heaviest = max(WEIGHTS.values())
    # Greedy longest-first: no shard exceeds the fair share by more than one property.
    assert max(load) <= sum(load) / total + heaviest


def test_the_weights_name_only_properties_that_exist() -> None:
    assert set(WEIGHTS) <= set(catalogue())


def _listed(*args: str) -> list[str]:
    proc = run_cli("run", "--list", *args)
    assert proc.returncode == 0, proc.stderr
    return [ln.split()[1] for ln in proc.stdout.splitlines()[:-1]]


@pytest.mark.parametrize("selection", [[], ["--rule", "CSR-WATCH-ORDER"]])
def test_the_shards_listed_add_up_to_the_unsharded_selection(selection: list[str]) -> None:
    whole = _listed(*selection)
    parts = [_listed(*selection, "--shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(n for part in parts for n in part) == sorted(whole)  # each once, no gaps
    if not selection:
        assert all(parts)


def _collected(tmp_path: Path, *args: str) -> list[str]:
    """The test ids pytest collects for the CLI's selection, without any target."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "conformance.properties",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "conformance.shards",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [ln for ln in proc.stdout.splitlines() if "::" in ln]


def test_the_run_runs_exactly_the_cases_its_shard_lists(tmp_path: Path) -> None:
    """Every collected case (parametrised ones too) in one shard, the shard `--list` says."""
    whole = _collected(tmp_path)
    assert whole
    listed = {name: k for k in (1, 2) for name in _listed("--shard", f"{k}/2")}
    seen: list[str] = []
    for k in (1, 2):
        report = tmp_path / str(k)
        ids = _collected(tmp_path, "--csr-shard", f"{k}/2", "--csr-report-dir", str(report))
        assert ids
        assert {listed[i.split("::")[-1].split("[")[0]] for i in ids} == {k}
        record = json.loads((report / "shard.json").read_text())
        assert record["shard"] == f"{k}/2"
        assert [c["nodeid"] for c in record["cases"]] == whole  # the selection, in order
        assert {c["nodeid"] for c in record["cases"] if c["shard"] == k} == set(ids)
        seen += ids
    assert sorted(seen) == sorted(whole)


# -- the merge ---------------------------------------------------------------------------

PROPS = {
    "target": "embedded fake at https://127.0.0.1:4000",
    "target.kind": "fake",
    "profile": "kube-apiserver",
    "examples": "25",
    "seed": "derandomized",
    "budget.max-time": "30m",
    "faults": "none",
    "suite.version": "0.1.0",
}
ORDER = [
    ("m.py::test_a", 1, "CSR-A"),
    ("m.py::test_b[x]", 2, "CSR-B"),
    ("m.py::test_b[y]", 2, "CSR-B"),
    ("m.py::test_c", 1, "CSR-C"),
    ("n.py::test_d", 3, "CSR-D"),
]


def _shard(index: int, total: int = 3, outcome: str = "passed", **props: str) -> ShardReport:
    mine = [(n, r) for n, k, r in ORDER if k == index]
    cases = [
        CaseResult(
            name=n.split("::")[1],
            classname="csr-conformance.create",
            nodeid=n,
            rules=(r,),
            outcome=outcome,
            seconds=1.0,
            concern="create",
        )
        for n, r in mine
    ]
    result = RunResult(
        cases=cases,
        properties={
            **PROPS,
            "target": f"embedded fake at https://127.0.0.1:{4000 + index}",
            "shard": f"{index}/{total}",
            "run-id": f"r{index}",
            "http.requests": "10",
            "http.seconds": "1.50",
            **props,
        },
        seconds=float(index),
    )
    record = {
        "shard": f"{index}/{total}",
        "cases": [
            {"nodeid": n, "name": n.split("::")[1], "shard": k, "rules": [r], "concern": "create"}
            for n, k, r in ORDER
        ],
    }
    return ShardReport(f"shard{index}", result, record)


def test_a_merge_is_the_serial_run() -> None:
    result = merge([_shard(3), _shard(1), _shard(2)])
    assert [c.nodeid for c in result.cases] == [n for n, _, _ in ORDER]  # serial order
    assert verdict(result) == "CONFORMANT"
    assert result.properties["http.requests"] == "30"
    assert result.properties["http.seconds"] == "4.50"
    assert result.properties["run-id"] == "r1,r2,r3"
    assert result.properties["shards"] == "3 of 3 (1/3, 2/3, 3/3)"
    assert "shard" not in result.properties
    assert result.seconds == 3.0  # the slowest shard: shards run side by side
    assert "sum 6.0s" in result.properties["shards.seconds"]


def test_a_failure_in_one_shard_is_the_verdict_of_the_merge() -> None:
    result = merge([_shard(1), _shard(2, outcome="failed"), _shard(3)])
    assert verdict(result) == "NOT CONFORMANT"
    assert result.count("failed") == 2


def test_a_missing_shard_makes_the_merge_incomplete_and_names_it() -> None:
    result = merge([_shard(1), _shard(3)])
    assert verdict(result) == "INCOMPLETE (shards missing: 2/3)"
    missing = [c for c in result.cases if c.outcome == "error"]
    assert [c.nodeid for c in missing] == ["m.py::test_b[x]", "m.py::test_b[y]"]
    assert all(c.message == "not run: shard 2/3 did not report" for c in missing)
    assert missing[0].rules == ("CSR-B",)


@pytest.mark.parametrize(
    ("shards", "why"),
    [
        (lambda: [_shard(1), _shard(1)], "shard 1/3 given twice"),
        (lambda: [_shard(1), _shard(2, total=2)], "not one split"),
        (lambda: [_shard(1), _shard(2, seed="7")], "different seed"),
        (lambda: [_shard(1), _shard(2, examples="5")], "different examples"),
        (lambda: [_shard(1), _shard(2, **{"budget.max-time": "1h"})], "different budget"),
        (lambda: [_shard(1), _shard(2, **{"kubernetes.judged-as": "1.34"})], "judged-as"),
        (lambda: [_shard(1), _shard(2, target="kube-apiserver at x")], "different targets"),
        (lambda: [_shard(1), _shard(2, faults="f")], "different faults"),
        (lambda: [], "no shard reports"),
    ],
)
def test_shards_of_different_runs_are_not_merged(shards: object, why: str) -> None:
    with pytest.raises(MergeError, match=why):
        merge(shards())  # type: ignore[operator]


def test_a_report_of_an_unsharded_run_is_not_merged() -> None:
    plain = _shard(1)
    del plain.result.properties["shard"]
    with pytest.raises(MergeError, match="not a shard's report"):
        merge([plain, _shard(2)])


def _write(shard: ShardReport, path: Path) -> Path:
    path.mkdir(parents=True)
    write_reports(shard.result, str(path), step_summary=False)
    (path / "shard.json").write_text(json.dumps(shard.record))
    return path


def test_report_merge_writes_one_report_and_exits_like_the_serial_run(tmp_path: Path) -> None:
    dirs = [
        str(_write(_shard(k, outcome="failed" if k == 2 else "passed"), tmp_path / f"s{k}"))
        for k in (1, 2, 3)
    ]
    out = tmp_path / "merged"
    proc = run_cli("report", "--merge", *dirs, "--report-dir", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "NOT CONFORMANT" in proc.stdout
    data = json.loads((out / "results.json").read_text())
    assert [c["nodeid"] for c in data["cases"]] == [n for n, _, _ in ORDER]
    suites = ET.parse(out / "junit.xml").getroot()
    assert sum(int(s.get("failures") or 0) for s in suites.iter("testsuite")) == 2
    assert (out / "summary.md").exists() and (out / "report.html").exists()

    proc = run_cli("report", "--merge", dirs[0], dirs[2], "--report-dir", str(tmp_path / "m2"))
    assert proc.returncode == 2
    assert "INCOMPLETE (shards missing: 2/3)" in proc.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--merge", "{s1}", "{s1}"], "given twice"),
        (["--merge", "{s1}", "{other}"], "different seed"),
        (["--merge", "{s1}", "--report-dir", "{s1}"], "is one of the shards"),
        (["--merge", "{nothing}"], "holds no results.json"),
        (["{s1}", "--merge", "{s1}"], "not both"),
        ([], "give a REPORT_DIR"),
    ],
)
def test_report_merge_refuses_in_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    where = {
        "s1": str(_write(_shard(1), tmp_path / "s1")),
        "other": str(_write(_shard(2, seed="9"), tmp_path / "s2")),
        "nothing": str(tmp_path),
    }
    argv = [a.format(**where) for a in args]
    if "--report-dir" not in argv:
        argv += ["--report-dir", str(tmp_path / "out")] if argv else []
    proc = run_cli("report", *argv)
    assert proc.returncode == 2
    assert needle in one_line(proc)


# -- the CLI ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0/2", "3/2", "x"])
def test_a_bad_shard_is_refused_before_any_work(tmp_path: Path, value: str) -> None:
    proc = run_cli("run", "--shard", value, "--report-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "--shard" in one_line(proc) and value in one_line(proc)
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"


def test_shards_of_a_real_run_merge_into_the_serial_report(tmp_path: Path) -> None:
    """Against the embedded fake: two shards and one serial run of the same selection."""
    select = ["-k", "test_delete or test_get or test_resource_version", "--examples", "2"]
    for k in (1, 2):
        proc = run_cli("run", *select, "--shard", f"{k}/2", "--report-dir", str(tmp_path / f"{k}"))
        assert proc.returncode == 0, proc.stderr
        shard = json.loads((tmp_path / f"{k}" / "results.json").read_text())
        assert shard["properties"]["shard"] == f"{k}/2"
    proc = run_cli("run", *select, "--report-dir", str(tmp_path / "serial"))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(
        "report",
        "--merge",
        str(tmp_path / "1"),
        str(tmp_path / "2"),
        "--report-dir",
        str(tmp_path / "merged"),
    )
    assert proc.returncode == 0, proc.stderr
    serial = json.loads((tmp_path / "serial" / "results.json").read_text())
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert [(c["nodeid"], c["outcome"], c["rules"], c["concern"]) for c in merged["cases"]] == [
        (c["nodeid"], c["outcome"], c["rules"], c["concern"]) for c in serial["cases"]
    ]
    assert merged["rules"] == serial["rules"]
    assert merged["verdict"] == serial["verdict"] == "CONFORMANT"
    for key in ("target.kind", "examples", "seed", "server.version", "kubernetes.judged-as"):
        assert merged["properties"][key] == serial["properties"][key]


# -- the workflow ---------------------------------------------------------------------------


def test_the_workflow_shards_one_release_and_merges_every_shard() -> None:
    """The shard jobs' `--shard K/N` covers 1..N of its matrix, uploads what the merge
    reads, and the merge job downloads exactly those artifacts and merges them."""
    import re
    import shlex

    import yaml

    from conformance.cli import _parser

    workflow = yaml.safe_load((ROOT / "ci" / "github" / "workflow.yml").read_text())
    jobs = workflow["jobs"]
    kind, shard_job, merge_job = jobs["kind"], jobs["kind-shard"], jobs["kind-merge"]
    shards = shard_job["strategy"]["matrix"]["shard"]
    runs = [s["run"] for s in shard_job["steps"] if "ci/kind/run.sh" in s.get("run", "")]
    assert len(runs) == 1
    found = re.search(r"--shard \$\{\{ matrix\.shard \}\}/(\d+)\b", runs[0])
    assert found is not None, runs[0]
    total = int(found.group(1))
    assert shards == list(range(1, total + 1))
    assert f"/{total})" in shard_job["name"]
    # The shard job tests the newest release of the kind matrix, pinned the same way.
    assert shard_job["env"]["KIND_NODE_IMAGE"] == kind["strategy"]["matrix"]["include"][-1]["image"]

    upload = next(s for s in shard_job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"
    paths = upload["with"]["path"].splitlines()
    for name in ("results.json", "shard.json"):
        assert "${{ env.REPORT_DIR }}/" + name in paths
    artifact = upload["with"]["name"]
    assert artifact == "csr-conformance-shard-${{ matrix.shard }}"

    assert merge_job["needs"] == "kind-shard"
    assert "always()" in merge_job["if"]  # a failed shard still gets its verdict merged
    download = next(s for s in merge_job["steps"] if "download-artifact" in s.get("uses", ""))
    pattern = download["with"]["pattern"]
    assert artifact.replace("${{ matrix.shard }}", "*") == pattern
    merge_run = next(s["run"] for s in merge_job["steps"] if "--merge" in s.get("run", ""))
    argv = shlex.split(merge_run)
    assert argv[0] == "csr-conformance"
    args = _parser().parse_args(argv[1:])
    assert args.command == "report" and args.source is None
    assert args.merge == [f"{download['with']['path']}/{pattern}"]
    assert args.report_dir == "$REPORT_DIR"


# -- run --jobs N ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--jobs", "0"], "--jobs: must be at least 1"),
        (["--jobs", "x"], "--jobs: must be a whole number or auto"),
        (["--jobs", "2", "--shard", "1/2"], "--jobs and --shard cannot be combined"),
        (["--jobs", "2", "--target", "controlplane"], "shard control-plane runs"),
    ],
)
def test_jobs_that_cannot_run_are_refused_before_any_work(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    proc = run_cli("run", *args, "--report-dir", str(tmp_path))
    assert proc.returncode == 2
    assert needle in one_line(proc)
    assert not (tmp_path / "shards").exists()


def test_jobs_run_shards_side_by_side_into_one_report_with_the_serial_verdict(
    tmp_path: Path,
) -> None:
    """Two shards against their own fakes, one injected fault: exit 1, one report that
    lists every selected case once in serial order, and the failure replays from it."""
    select = ["-k", "test_delete or test_get", "--examples", "3", "--shrink-seconds", "0"]
    fault = ["--fault", "delete-returns-object"]
    out = tmp_path / "report"
    proc = run_cli("run", *select, *fault, "--jobs", "2", "--report-dir", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT CONFORMANT" in proc.stdout
    merged = json.loads((out / "results.json").read_text())
    assert merged["properties"]["shards"] == "2 of 2 (1/2, 2/2)"
    assert merged["properties"]["faults"] == "delete-returns-object"
    order = json.loads((out / "shards" / "1" / "shard.json").read_text())["cases"]
    assert [c["nodeid"] for c in merged["cases"]] == [c["nodeid"] for c in order]
    assert {c["shard"] for c in order} == {1, 2}
    failed = [c for c in merged["cases"] if c["outcome"] == "failed"]
    assert failed and all("CSR-DEL" in " ".join(c["rules"]) for c in failed)
    assert str(out / "shards") in failed[0]["replay"]  # its shard's report, kept
    replay = run_cli(
        "replay", str(out), failed[0]["nodeid"], "--report-dir", str(tmp_path / "replay")
    )
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "FAILS AGAIN" in replay.stdout


def test_a_shard_that_could_not_start_is_merged_as_could_not_run() -> None:
    broken = ShardReport(
        "shard2",
        RunResult(
            cases=[
                CaseResult(
                    name="target",
                    classname="csr-conformance.setup",
                    nodeid="setup",
                    outcome="error",
                    message="cannot reach the server",
                    concern="setup",
                )
            ],
            properties={**PROPS, "shard": "2/3"},
            setup_error="cannot reach the server",
        ),
    )
    result = merge([_shard(1), broken, _shard(3)])
    assert verdict(result) == "COULD NOT RUN"
    assert result.setup_error == "shard 2/3: cannot reach the server"
    assert result.cases[0].nodeid == "setup"
    not_run = [c.nodeid for c in result.cases if c.message.startswith("not run: shard 2/3")]
    assert not_run == ["m.py::test_b[x]", "m.py::test_b[y]"]
