"""kubectl's read side, unchanged, against the fake and against kube-apiserver.

``kubectl get csr`` (the server's columns), ``--chunk-size`` paging, label selectors with
set operators, field selectors, ``get -w`` / ``--output-watch-events`` / ``--watch-only``
while another process creates, approves and deletes, and ``delete -l``. The same script
runs against a fresh fake and, when control-plane binaries exist, a fresh kube-apiserver;
the outputs must agree line by line once ages are blanked.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pems
import pytest
from test_kubectl import ASSETS, KUBECTL, WHY_NO_ASSETS, Kubectl

from conformance.identities import SCOPED_SIGNER
from conformance.targets.controlplane import ControlPlane
from conformance.targets.fake import FakeConfig, FakeServer

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="no kubectl found")

NAMES = [f"watch-{i}" for i in range(7)]
_AGE = re.compile(r"\b\d+(s|m|h|d)\d*(s|m)?\b")


def manifest(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "request": pems.request_b64(name),
            "signerName": SCOPED_SIGNER,
            "usages": ["client auth"],
        },
    }


def _blank_ages(text: str) -> str:
    # Ages differ between runs and so do the column widths kubectl pads them to.
    return "\n".join(" ".join(_AGE.sub("<age>", line).split()) for line in text.splitlines())


def _watch(kubectl: Kubectl, *args: str) -> subprocess.Popen[str]:
    assert KUBECTL is not None
    return subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kubectl.kubeconfig), "get", "csr", "-w", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    time.sleep(1.5)
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out


def run_read_script(kubectl: Kubectl) -> dict[str, str]:
    """Every step's output (ages blanked), keyed by a short description."""
    out: dict[str, str] = {}

    def step(key: str, *args: str) -> None:
        code, text = kubectl.run(*args)
        out[key] = f"exit {code}\n{_blank_ages(text)}"

    for i, name in enumerate(NAMES):
        doc = manifest(name, {"tier": "a" if i % 2 else "b", "pick": "yes" if i < 3 else "no"})
        if name in ("watch-5", "watch-6"):
            doc["spec"]["signerName"] = "example.com/other"
        code, text = kubectl.run("create", "-f", kubectl.file(f"{name}.yaml", doc))
        assert code == 0, text
    step("get", "get", "csr")
    step("chunked", "get", "csr", "--chunk-size=2")
    step("in", "get", "csr", "-l", "tier in (a,b),pick=yes")
    step("notin", "get", "csr", "-l", "tier notin (a)")
    step("field", "get", "csr", "--field-selector", "spec.signerName=example.com/other")
    step("field-not", "get", "csr", "--field-selector", "spec.signerName!=example.com/other")

    watchers = {
        "watch": _watch(kubectl, "-l", "pick=yes"),
        "watch-events": _watch(kubectl, "-l", "pick=yes", "--output-watch-events"),
        "watch-only": _watch(kubectl, "-l", "pick=yes", "--watch-only"),
    }
    time.sleep(2.0)
    code, text = kubectl.run(
        "create", "-f", kubectl.file("late.yaml", manifest("watch-late", {"pick": "yes"}))
    )
    assert code == 0, text
    code, text = kubectl.run("certificate", "approve", "watch-0")
    assert code == 0, text
    code, text = kubectl.run("delete", "csr", "watch-1")
    assert code == 0, text
    for key, proc in watchers.items():
        out[key] = _blank_ages(_stop(proc))
    step("delete-selected", "delete", "csr", "-l", "tier=a")
    step("after-delete", "get", "csr")
    return out


@pytest.fixture(scope="module")
def fake_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    assert KUBECTL is not None
    work = tmp_path_factory.mktemp("kubectl-read-fake")
    with FakeServer(FakeConfig()) as server:
        server.write_kubeconfig(str(work / "kubeconfig"))
        return run_read_script(Kubectl(KUBECTL, work / "kubeconfig", work))


@pytest.fixture(scope="module")
def plane_outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if ASSETS is None or KUBECTL is None:
        pytest.skip(f"no control-plane assets: {WHY_NO_ASSETS}")
    work = tmp_path_factory.mktemp("kubectl-read-plane")
    with ControlPlane(ASSETS, controller_manager=False) as plane:
        plane.write_kubeconfig(str(work / "kubeconfig"))
        yield run_read_script(Kubectl(KUBECTL, Path(work / "kubeconfig"), work))


def test_kubectl_reads_and_watches_the_fake(fake_outputs: dict[str, str]) -> None:
    header = "NAME        AGE     SIGNERNAME"
    assert fake_outputs["get"].startswith("exit 0\nNAME"), fake_outputs["get"]
    assert header.split()[:3] == fake_outputs["get"].splitlines()[1].split()[:3]
    assert fake_outputs["chunked"] == fake_outputs["get"]
    listed = fake_outputs["get"].splitlines()[2:]
    assert [line.split()[0] for line in listed] == NAMES
    assert [line.split()[0] for line in fake_outputs["in"].splitlines()[2:]] == NAMES[:3]
    assert [line.split()[0] for line in fake_outputs["field"].splitlines()[2:]] == NAMES[5:]
    notin = [line.split()[0] for line in fake_outputs["notin"].splitlines()[2:]]
    assert notin == [n for i, n in enumerate(NAMES) if i % 2 == 0]
    # get -w: the selected objects, then the late create, the approval and the delete.
    watched = fake_outputs["watch"].splitlines()
    assert [line.split()[0] for line in watched[1:4]] == NAMES[:3], watched
    assert any("watch-late" in line for line in watched[4:]), watched
    assert any("watch-0" in line and "Approved" in line for line in watched[4:]), watched
    events = fake_outputs["watch-events"].splitlines()
    assert events[0].split()[:2] == ["EVENT", "NAME"], events
    kinds = [line.split()[0] for line in events[1:]]
    assert kinds[:3] == ["ADDED"] * 3 and "MODIFIED" in kinds and "DELETED" in kinds, events
    only = fake_outputs["watch-only"].splitlines()
    assert not any(line.split()[0] == "watch-2" for line in only[1:]), only
    assert "deleted" in fake_outputs["delete-selected"], fake_outputs["delete-selected"]
    remaining = [line.split()[0] for line in fake_outputs["after-delete"].splitlines()[2:]]
    assert remaining == ["watch-0", "watch-2", "watch-4", "watch-6", "watch-late"], remaining


def test_fake_and_kube_apiserver_agree_on_reads_and_watches(
    fake_outputs: dict[str, str], plane_outputs: dict[str, str]
) -> None:
    for key in fake_outputs:
        assert fake_outputs[key] == plane_outputs[key], (
            f"step {key!r} differs:\n--- fake\n{fake_outputs[key]}\n--- kube-apiserver\n"
            f"{plane_outputs[key]}"
        )


def test_kubectl_auth_can_i_gets_the_fakes_own_decisions(tmp_path: Path) -> None:
    """``kubectl auth can-i`` (a protobuf SelfSubjectAccessReview) answers what the fake's
    authorizer decides for each identity."""
    assert KUBECTL is not None
    asks = [
        ("create", "csr"),
        ("update", "csr", "--subresource=approval"),
        ("update", "csr", "--subresource=status"),
        ("delete", "csr"),
    ]
    want = {
        "admin": ["yes"] * 4,
        "user": ["yes", "no", "no", "yes"],
        "approver": ["yes", "yes", "no", "no"],
        "signer": ["yes", "no", "yes", "no"],
    }
    with FakeServer(FakeConfig()) as server:
        server.write_kubeconfig(str(tmp_path / "kubeconfig"))
        base = [KUBECTL, "--kubeconfig", str(tmp_path / "kubeconfig")]
        for role, answers in want.items():
            got = []
            for ask in asks:
                proc = subprocess.run(
                    [*base, "--context", role, "auth", "can-i", *ask],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                got.append(proc.stdout.strip())
            assert got == answers, (role, got)
