"""Version-aware verdicts (issue 9): which release a server is judged as, and that a
rule's form for one release is judged by that release's form, never another's.

The end-to-end checks run the real CLI against a fake served at one release (``serve
--kube-version``, through a kubeconfig, as a user's cluster would be) and judge it as
that release (from its /version) and as another (``--kube-version``): the first passes,
the second must fail on the rule whose form changed between them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.oracle.changes import CHANGES
from conformance.oracle.csr.rules import RULES
from conformance.oracle.versions import (
    MATRIX,
    NEWEST,
    OLDEST,
    RELEASES,
    V1_34,
    V1_35,
    V1_37,
    KubeVersion,
    judge,
)
from conformance.targets.fake import FakeConfig, FakeServer
from conformance.targets.fake.discovery import version_info

C5_PROPERTY = "test_approved_and_denied_never_coexist"
DELETE_PROPERTY = "test_delete_options_are_judged_before_anything_is_deleted"


def test_versions_parse_from_options_and_version_documents() -> None:
    assert KubeVersion.parse("1.35") == V1_35
    assert KubeVersion.parse("v1.35.4") == V1_35
    assert KubeVersion.parse("v1.37.2+csr-conformance-fake") == V1_37
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        KubeVersion.parse("latest")
    # Distributions write minor "28+"; gitVersion is the fallback.
    assert KubeVersion.from_version_info({"major": "1", "minor": "34+"}) == V1_34
    assert KubeVersion.from_version_info({"gitVersion": "v1.36.3-eks-1"}) == KubeVersion(1, 36)
    assert KubeVersion.from_version_info({"gitVersion": "weird"}) is None


def test_a_server_is_judged_as_the_release_it_reports_or_the_one_named() -> None:
    assert judge(V1_35).judged == V1_35
    assert judge(V1_35).verified
    named = judge(V1_37, V1_34)
    assert (named.judged, named.source) == (V1_34, "option")
    assert "the server reports 1.37" in named.summary()
    unknown = judge(None)
    assert (unknown.judged, unknown.source) == (NEWEST, "default")


def test_a_newer_server_is_judged_as_the_newest_release_and_says_so() -> None:
    newer = judge(KubeVersion(1, NEWEST.minor + 3))
    assert newer.judged == NEWEST and newer.verified
    assert f"judged as {NEWEST}" in newer.summary()
    assert "newer than every release" in newer.summary()


def test_an_older_server_is_unverified() -> None:
    older = judge(KubeVersion(1, OLDEST.minor - 4))
    assert older.judged == OLDEST
    assert not older.verified
    assert "unverified for this version" in older.summary()


def test_every_release_of_the_matrix_has_pinned_binaries() -> None:
    root = Path(__file__).resolve().parents[1] / "ci" / "controlplane"
    for version, release in RELEASES.items():
        gomod = (root / f"v{version}" / "go.mod").read_text()
        assert f"k8s.io/kubernetes {release}" in gomod, (version, release)
    assert sorted(p.name for p in root.glob("v1.*")) == [f"v{v}" for v in MATRIX]


def test_every_change_names_rules_the_oracle_knows_and_a_release_inside_the_matrix() -> None:
    for change in CHANGES:
        assert set(change.rules) <= set(RULES), change.key
        assert OLDEST < change.since <= NEWEST, change.key
        assert not change.applies(OLDEST) and change.applies(NEWEST)


def test_the_fake_reports_the_release_it_behaves_as() -> None:
    for version in MATRIX:
        info = version_info(version)
        assert KubeVersion.from_version_info(info) == version
        assert info["gitVersion"].startswith(RELEASES[version])


# -- end to end: a rule's form judged by the release the server is ---------------------


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[KubeVersion, str]]:
    """A fake at the oldest and at the newest release, each behind its own kubeconfig."""
    out: dict[KubeVersion, str] = {}
    servers = []
    try:
        for version in (OLDEST, NEWEST):
            server = FakeServer(FakeConfig(kube_version=version))
            server.start()
            servers.append(server)
            path = tmp_path_factory.mktemp(f"fake-{version}") / "kubeconfig"
            server.write_kubeconfig(str(path))
            out[version] = str(path)
        yield out
    finally:
        for server in servers:
            server.stop()


def _judge(kubeconfig: str, report: Path, prop: str, *extra: str) -> tuple[int, dict[str, object]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--kubeconfig",
            kubeconfig,
            "--context",
            "admin",
            "--user-context",
            "user",
            "--approver-context",
            "approver",
            "--shrink-seconds",
            "0",
            "--report-dir",
            str(report),
            "-k",
            prop,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    data: dict[str, object] = json.loads((report / "results.json").read_text())
    return proc.returncode, data


@pytest.mark.parametrize(
    ("served", "judged_as"), [(OLDEST, NEWEST), (NEWEST, OLDEST)], ids=["old-as-new", "new-as-old"]
)
@pytest.mark.parametrize(
    ("prop", "rule"), [(C5_PROPERTY, "CSR-VAL-C5"), (DELETE_PROPERTY, "CSR-DEL-OPTS")]
)
def test_a_rules_form_is_judged_by_the_servers_release(
    served: KubeVersion,
    judged_as: KubeVersion,
    prop: str,
    rule: str,
    fakes: dict[KubeVersion, str],
    tmp_path: Path,
) -> None:
    """Rules whose form changed between releases are judged by the server's release: the
    Approved+Denied error (CSR-VAL-C5; the handwritten error before 1.37, the declarative
    union from 1.37) and DeleteOptions (CSR-DEL-OPTS; the unsafe-delete option ignored
    before 1.37, refused from 1.37). A 1.34 server passes as 1.34 and fails as 1.37, and
    the reverse."""
    code, data = _judge(fakes[served], tmp_path / "detected", prop)
    props = data["properties"]
    assert isinstance(props, dict)
    assert code == 0, props
    assert f"judged as Kubernetes {served} (the server reports {served})" in str(
        props["kubernetes.judged-as"]
    )
    code, data = _judge(fakes[served], tmp_path / "named", prop, "--kube-version", str(judged_as))
    assert code == 1
    cases = data["cases"]
    assert isinstance(cases, list)
    failed = [c for c in cases if c["outcome"] == "failed"]
    assert [c["name"] for c in failed] == [prop]
    assert rule in failed[0]["rules"]


def test_a_release_older_than_the_matrix_gets_an_unverified_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = KubeVersion(1, OLDEST.minor - 2)
    code = main(
        [
            "run",
            "--kube-version",
            str(old),
            "-k",
            C5_PROPERTY,
            "--report-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("# csr-conformance: CONFORMANT (unverified for this version)")
    assert f"{old} is older than every release the oracle knows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kube-version", "latest"], "--kube-version: not a Kubernetes version: 'latest'"),
        (
            ["--target", "controlplane", "--kube-version", "1.30"],
            "--kube-version: no control-plane binaries are pinned for Kubernetes 1.30",
        ),
    ],
)
def test_a_bad_kube_version_is_one_line_before_any_work(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", *args, "--report-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"csr-conformance: {message}")
    assert len(err.strip().splitlines()) == 1
    assert "error" in (tmp_path / "junit.xml").read_text()


def test_the_kind_workflow_runs_every_release_of_the_matrix_pinned_by_digest() -> None:
    import yaml

    path = Path(__file__).resolve().parents[1] / "ci" / "github" / "workflow.yml"
    workflow = yaml.safe_load(path.read_text())
    include = workflow["jobs"]["kind"]["strategy"]["matrix"]["include"]
    assert [KubeVersion.parse(e["kubernetes"]) for e in include] == list(MATRIX)
    for entry in include:
        image = entry["image"]
        assert image.startswith(f"kindest/node:v{entry['kubernetes']}."), image
        assert "@sha256:" in image and len(image.split("@sha256:")[1]) == 64, image


def test_a_named_release_without_binaries_is_built_once_from_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--kube-version` on the control plane picks that release's build-cache directory
    and runs ci/controlplane/build.sh for it when it is missing (a stand-in script here)."""
    from conformance.targets.controlplane import assets

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls = tmp_path / "calls"
    script = tmp_path / "build.sh"
    script.write_text(
        "set -e\n"
        f'echo "$@" >> {calls}\n'
        'mkdir -p "$2"; for b in etcd kube-apiserver; do\n'
        '  printf "#!/bin/sh\\n" > "$2/$b"; chmod +x "$2/$b"; done\n'
        'touch "$2/.stamp"\n'
    )
    monkeypatch.setattr(assets, "BUILD_SCRIPT", script)
    release = RELEASES[OLDEST]
    found = assets.find_assets(None, str(OLDEST))
    assert found == str(tmp_path / "cache" / "csr-conformance" / "assets" / release)
    assert assets.find_assets(None, str(OLDEST)) == found  # built once
    assert calls.read_text().split("\n")[0].split()[0] == release
    assert len(calls.read_text().splitlines()) == 1


def test_a_named_release_without_binaries_or_a_checkout_says_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.targets.controlplane import MissingAssets, assets

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(assets, "BUILD_SCRIPT", tmp_path / "absent.sh")
    with pytest.raises(MissingAssets, match=r"ci/controlplane/build\.sh v1\.35\.4"):
        assets.find_assets(None, "1.35")
