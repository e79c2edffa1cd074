"""kine as the control plane's storage: how it is started, found and compacted.

The start-up tests need kine built (``bash ci/kine/build.sh``) next to the control-plane
assets and skip with that command where it is not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.etcd_grpc import compaction_request, fields, range_request
from conformance.targets import TargetSpec, open_target
from conformance.targets.controlplane import ControlPlaneError, MissingAssets, find_assets
from conformance.targets.controlplane.kine import (
    KINE_VERSION,
    check_version,
    find_kine,
    kine_argv,
)

ROOT = Path(__file__).parents[1]


def test_the_pinned_version_is_the_one_ci_kine_builds() -> None:
    go_mod = (ROOT / "ci" / "kine" / "go.mod").read_text()
    assert re.search(
        rf"^\tgithub\.com/k3s-io/kine {re.escape(KINE_VERSION)}( //.*)?$", go_mod, re.M
    )


def test_kine_listens_on_loopback_only_without_metrics(tmp_path: Path) -> None:
    argv = kine_argv(Path("/bin/kine"), "kine-sqlite", 4242, tmp_path)
    assert "--listen-address=127.0.0.1:4242" in argv
    assert "--metrics-bind-address=0" in argv
    (endpoint,) = [a for a in argv if a.startswith("--endpoint=")]
    assert endpoint.startswith(f"--endpoint=sqlite://{tmp_path}/state.db?_journal_mode=WAL&")
    assert "--endpoint=memory://" in kine_argv(Path("/bin/kine"), "kine-memory", 1, tmp_path)


def test_a_missing_kine_names_the_build_command(tmp_path: Path) -> None:
    os.environ.pop("CSR_CONFORMANCE_KINE_ASSETS", None)
    with pytest.raises(MissingAssets, match=r"build it with `bash ci/kine/build.sh v0.1.2`"):
        find_kine("v0.1.2", tmp_path / "assets")
    with pytest.raises(ValueError, match="must look like"):
        check_version("latest")


def test_bad_storage_options_are_one_line_and_exit_2() -> None:
    for args, needle in (
        (["--storage", "kine-sqlite"], "apply only to --target controlplane"),
        (["--target", "controlplane", "--kine-version", "v0.16.5"], "applies only with"),
        (
            ["--target", "controlplane", "--storage", "kine-sqlite", "--kine-version", "x"],
            "must look like",
        ),
        (["--target", "controlplane", "--storage", "mysql"], "invalid choice"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(lines) == 1 and needle in lines[0], (args, proc.stderr)


def test_grpc_messages_encode_as_etcd_expects() -> None:
    assert fields(range_request(b"/k")) == {1: b"/k", 3: 1}
    assert fields(compaction_request(300)) == {1: 300, 2: 1}
    header = b"\x08\x07\x18\xac\x02"  # cluster_id 7, revision 300
    assert fields(b"\x0a" + bytes([len(header)]) + header) == {1: header}
    assert fields(header)[3] == 300


def _kine_or_skip(version: str = KINE_VERSION) -> str:
    try:
        assets = find_assets(None)
        find_kine(version, assets)
    except MissingAssets as e:
        pytest.skip(str(e))
    return assets


@pytest.mark.parametrize("storage", ["kine-sqlite", "kine-memory"])
def test_the_control_plane_runs_on_kine_and_compacts_it(storage: str) -> None:
    from conformance.compaction import compactor

    _kine_or_skip()
    spec = TargetSpec(kind="controlplane", watch_cache=False, storage=storage)
    with open_target(spec) as env:
        assert f"on {storage} (kine {KINE_VERSION}), watch cache off" in env.description
        assert env.compaction is not None and env.compaction.startswith("etcd-grpc:")
        compact = compactor(env.compaction, lambda: None)  # type: ignore[arg-type,return-value]
        assert compact is not None
        compact()
        compact()  # nothing written since: still fine


def test_kine_dying_at_start_up_is_one_clear_line(tmp_path: Path) -> None:
    """A kine that exits (here: refused by a file where its database directory
    should be) stops the start with one line naming kine and its exit."""
    from conformance.targets.controlplane import ControlPlane

    assets = _kine_or_skip()
    plane = ControlPlane(assets, controller_manager=False, storage="kine-sqlite")
    plane.kine_binary = tmp_path / "kine"
    plane.kine_binary.write_text("#!/bin/sh\necho 'kine: cannot open database' >&2\nexit 3\n")
    plane.kine_binary.chmod(0o755)
    with pytest.raises(ControlPlaneError) as info:
        plane.start(timeout=30)
    first = str(info.value).splitlines()[0]
    assert first.startswith("kine exited with code 3 during start-up"), first
