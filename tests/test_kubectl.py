"""kubectl, unchanged, against the fake, and the same script against kube-apiserver.

One script of everyday CSR commands (create with server-side validation, explain,
patch of every type and subresource, label, annotate, client-side and server-side
apply, certificate approve/deny) runs against a fresh fake; after every step the object
is read back with ``kubectl get csr NAME -o yaml`` and summarised. The test on the fake
checks the summaries against what kube-apiserver does; when control-plane binaries are
present the script also runs against a real kube-apiserver v1.37.2, and both runs must
produce the same outcomes step by step (kubectl's output, exit status, and the
summaries including managedFields without their times).

kubectl is looked up in ``$KUBEBUILDER_ASSETS``, the build cache
(``~/.cache/csr-conformance/assets/v1.37.2``), then ``PATH``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pems
import pytest
import yaml
from binaries import ASSETS, WHY_NO_ASSETS

from conformance.identities import SCOPED_SIGNER
from conformance.targets.controlplane import ControlPlane
from conformance.targets.controlplane.assets import default_assets_dir
from conformance.targets.fake import FakeConfig, FakeServer


def _find_kubectl() -> str | None:
    dirs = [os.environ.get("KUBEBUILDER_ASSETS", ""), str(default_assets_dir())]
    for d in dirs:
        candidate = Path(d, "kubectl") if d else None
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("kubectl")


KUBECTL = _find_kubectl()
pytestmark = pytest.mark.skipif(
    KUBECTL is None,
    reason="no kubectl in $KUBEBUILDER_ASSETS, ~/.cache/csr-conformance/assets/v1.37.2 or PATH",
)


# ---------------------------------------------------------------------------
# the script
# ---------------------------------------------------------------------------


REQUESTS = {n: pems.request_b64(n) for n in ("kc-main", "kc-csa", "kc-ssa", "kc-other")}
OTHER_SIGNER = "other.example.com/unscoped"
CERT = pems.cert_b64("kubectl-test", serial=7)


def manifest(name: str, labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    body_spec: dict[str, Any] = {
        "request": REQUESTS[name],
        "signerName": SCOPED_SIGNER,
        "usages": ["client auth"],
    }
    body_spec.update(spec)
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "labels": labels},
        "spec": body_spec,
    }


@dataclass(frozen=True)
class Step:
    """One kubectl command and what came of it."""

    args: tuple[str, ...]
    code: int
    output: str
    summary: dict[str, Any] | None


class Kubectl:
    def __init__(self, binary: str, kubeconfig: Path, workdir: Path) -> None:
        self.binary, self.kubeconfig, self.workdir = binary, kubeconfig, workdir

    def run(self, *args: str) -> tuple[int, str]:
        """Exit status and output, with this run's directory written as ``<dir>``."""
        proc = subprocess.run(
            [self.binary, "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "KUBECACHEDIR": str(self.workdir / "cache")},
        )
        return proc.returncode, (proc.stdout + proc.stderr).strip().replace(
            str(self.workdir), "<dir>"
        )

    def file(self, name: str, doc: dict[str, Any]) -> str:
        path = self.workdir / name
        path.write_text(yaml.safe_dump(doc))
        return str(path)


def summarise(obj: dict[str, Any]) -> dict[str, Any]:
    """What a step is judged by: everything but server-chosen values and times."""
    meta = obj.get("metadata", {})
    status = obj.get("status", {})
    return {
        "labels": meta.get("labels"),
        "annotations": {
            k: v
            for k, v in (meta.get("annotations") or {}).items()
            if k != "kubectl.kubernetes.io/last-applied-configuration"
        },
        "last-applied": "kubectl.kubernetes.io/last-applied-configuration"
        in (meta.get("annotations") or {}),
        # Entries are ordered by time, then manager; times are the servers' own, so
        # the order is compared without them.
        "managedFields": sorted(
            ({k: v for k, v in e.items() if k != "time"} for e in meta.get("managedFields") or []),
            key=lambda e: json.dumps(e, sort_keys=True),
        ),
        "spec": {k: v for k, v in obj.get("spec", {}).items() if k != "request"},
        "conditions": [
            {k: v for k, v in c.items() if not k.startswith("last")}
            for c in status.get("conditions") or []
        ],
        "certificate": status.get("certificate") == CERT,
    }


def run_script(kubectl: Kubectl) -> list[Step]:
    steps: list[Step] = []

    def step(*args: str, read: str | None = None) -> Step:
        code, output = kubectl.run(*args)
        summary = None
        if read is not None:
            rc, text = kubectl.run("get", "csr", read, "-o", "yaml", "--show-managed-fields")
            summary = summarise(yaml.safe_load(text)) if rc == 0 else {"error": text}
        shown = tuple(a.replace(str(kubectl.workdir), "<dir>") for a in args)
        s = Step(shown, code, output, summary)
        steps.append(s)
        return s

    bad = manifest("kc-main", {"app": "kc"})
    bad["spec"]["bogus"] = 1
    step("create", "-f", kubectl.file("bad.yaml", bad))
    step(
        "create",
        "-f",
        kubectl.file("main.yaml", manifest("kc-main", {"app": "kc"})),
        read="kc-main",
    )
    step("explain", "csr.spec.usages")
    step(
        "patch",
        "csr",
        "kc-main",
        "--type",
        "merge",
        "-p",
        '{"metadata":{"labels":{"m":"1"}}}',
        read="kc-main",
    )
    step(
        "patch",
        "csr",
        "kc-main",
        "--type",
        "json",
        "-p",
        '[{"op":"add","path":"/metadata/annotations","value":{"j":"1"}}]',
        read="kc-main",
    )
    step(
        "patch",
        "csr",
        "kc-main",
        "--type",
        "strategic",
        "-p",
        '{"metadata":{"labels":{"s":"1"}},"spec":{"usages":["server auth"]}}',
        read="kc-main",
    )
    step(
        "patch",
        "csr",
        "kc-main",
        "--type",
        "merge",
        "-p",
        '{"spec":{"usages":["any"]}}',
        read="kc-main",
    )
    step(
        "patch",
        "csr",
        "kc-main",
        "--subresource=approval",
        "--type",
        "json",
        "-p",
        '[{"op":"add","path":"/status/conditions","value":[{"type":"Review","status":"True"}]}]',
        read="kc-main",
    )
    step(
        "patch",
        "csr",
        "kc-main",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        '{"status":{"conditions":[{"type":"Review","status":"True"},'
        '{"type":"Failed","status":"True","reason":"Broke"}]}}',
        read="kc-main",
    )
    step(
        "patch",
        "csr",
        "kc-main",
        "--subresource=status",
        "--type",
        "strategic",
        "-p",
        '{"status":{"conditions":[{"type":"Approved","status":"True"}]}}',
        read="kc-main",
    )
    step("label", "csr", "kc-main", "l=1", read="kc-main")
    step("annotate", "csr", "kc-main", "an=1", read="kc-main")
    step("certificate", "approve", "kc-main", read="kc-main")
    step("certificate", "deny", "kc-main", read="kc-main")
    step(
        "patch",
        "csr",
        "kc-main",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        f'{{"status":{{"certificate":"{CERT}"}}}}',
        read="kc-main",
    )
    step(
        "patch",
        "csr",
        "kc-main",
        "--subresource=status",
        "--type",
        "json",
        "-p",
        '[{"op":"remove","path":"/status/certificate"}]',
        read="kc-main",
    )

    step("apply", "-f", kubectl.file("csa.yaml", manifest("kc-csa", {"v": "1"})), read="kc-csa")
    step(
        "apply",
        "-f",
        kubectl.file("csa.yaml", manifest("kc-csa", {"v": "2", "w": "3"})),
        read="kc-csa",
    )
    step("certificate", "deny", "kc-csa", read="kc-csa")
    step("certificate", "approve", "kc-csa", read="kc-csa")

    ssa = kubectl.file("ssa.yaml", manifest("kc-ssa", {"v": "1"}))
    step("apply", "--server-side", "-f", ssa, read="kc-ssa")
    step("label", "csr", "kc-ssa", "v=2", "--overwrite", read="kc-ssa")
    ssa3 = kubectl.file("ssa3.yaml", manifest("kc-ssa", {"v": "3"}))
    step("apply", "--server-side", "-f", ssa3, read="kc-ssa")
    step("apply", "--server-side", "--force-conflicts", "-f", ssa3, read="kc-ssa")
    step(
        "apply",
        "--server-side",
        "-f",
        kubectl.file("ssa2.yaml", manifest("kc-ssa", {"only": "this"})),
        read="kc-ssa",
    )
    other = manifest("kc-other", {"v": "1"}, signerName=OTHER_SIGNER)
    step("create", "-f", kubectl.file("other.yaml", other), read="kc-other")
    step("--context", "user", "certificate", "approve", "kc-other", read="kc-other")
    step("--context", "approver", "certificate", "approve", "kc-other", read="kc-other")
    step("--context", "approver", "certificate", "deny", "kc-ssa", read="kc-ssa")
    step("get", "csr")
    return steps


def normalised(steps: list[Step]) -> list[tuple[Any, ...]]:
    """Step outcomes without what differs between two servers by chance (ages)."""
    out = []
    for s in steps:
        text = s.output
        if s.args[:2] == ("get", "csr"):
            text = "\n".join(
                " ".join(line.split()[:1] + line.split()[2:]) for line in text.splitlines()
            )
        if s.args[0] == "explain":
            text = "FIELD: usages <[]string>" if "FIELD: usages <[]string>" in text else text
        out.append((s.args, s.code, text, s.summary))
    return out


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_steps(tmp_path_factory: pytest.TempPathFactory) -> list[Step]:
    assert KUBECTL is not None
    work = tmp_path_factory.mktemp("kubectl-fake")
    with FakeServer(FakeConfig()) as server:
        server.write_kubeconfig(str(work / "kubeconfig"))
        return run_script(Kubectl(KUBECTL, work / "kubeconfig", work))


@pytest.fixture(scope="module")
def plane_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if ASSETS is None:
        pytest.skip(f"no control-plane assets: {WHY_NO_ASSETS}")
    work = tmp_path_factory.mktemp("kubectl-plane")
    with ControlPlane(ASSETS, controller_manager=False) as plane:
        plane.write_kubeconfig(str(work / "kubeconfig"))
        yield work / "kubeconfig"


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


EXPECTED_FAILURES = {
    0: 'unknown field "spec.bogus"',  # create with server-side validation
    9: 'updates may not add a condition of type "Approved"',  # /status cannot approve
    13: "is already Approved",  # kubectl refuses to deny
    15: "updates may not modify existing certificate content",  # no clearing either
    19: "is already Denied",
    22: 'conflict with "kubectl-label"',  # apply conflicts with the label's manager
    26: 'User "csrc-user" cannot update resource "certificatesigningrequests/approval"',
    27: 'user not permitted to approve requests with signerName "other.example.com/unscoped"',
}


def test_kubectl_script_against_the_fake(fake_steps: list[Step]) -> None:
    failed = {i: s.output for i, s in enumerate(fake_steps) if s.code != 0}
    assert set(failed) == set(EXPECTED_FAILURES), failed
    for i, text in EXPECTED_FAILURES.items():
        assert text in failed[i], (fake_steps[i].args, failed[i])
    assert "FIELD: usages <[]string>" in fake_steps[2].output
    assert fake_steps[6].output.endswith("patched (no change)")  # spec patch dropped

    def summary(i: int) -> dict[str, Any]:
        s = fake_steps[i].summary
        assert s is not None
        return s

    assert summary(1)["spec"]["username"] == "csrc-admin"
    main = summary(15)
    assert main["labels"] == {"app": "kc", "m": "1", "s": "1", "l": "1"}
    assert main["annotations"] == {"j": "1", "an": "1"}
    assert main["spec"]["usages"] == ["client auth"]  # spec patches are silently dropped
    assert [(c["type"], c.get("reason")) for c in main["conditions"]] == [
        ("Review", None),
        ("Failed", "Broke"),
        ("Approved", "KubectlApprove"),
    ]
    assert main["certificate"] is True  # set once through /status, never cleared
    managers = {
        (e["manager"], e["operation"], e.get("subresource", "")) for e in main["managedFields"]
    }
    assert {
        ("kubectl-create", "Update", ""),
        ("kubectl-patch", "Update", ""),
        ("kubectl-patch", "Update", "approval"),
        ("kubectl", "Update", "approval"),
        ("kubectl-patch", "Update", "status"),
        ("kubectl-label", "Update", ""),
        ("kubectl-annotate", "Update", ""),
    } == managers

    assert summary(17)["labels"] == {"v": "2", "w": "3"} and summary(17)["last-applied"]
    assert [c["type"] for c in summary(19)["conditions"]] == ["Denied"]
    assert summary(23)["labels"] == {"v": "3"}  # --force-conflicts took the label over
    final = summary(24)
    assert final["labels"] == {"only": "this"}
    assert [(e["manager"], e["operation"]) for e in final["managedFields"]] == [
        ("kubectl", "Apply")
    ]
    assert summary(27)["conditions"] == []  # neither the user nor the approver got through
    assert [c["type"] for c in summary(28)["conditions"]] == ["Denied"]  # scoped: allowed


@pytest.mark.skipif(ASSETS is None, reason=f"no control-plane assets: {WHY_NO_ASSETS}")
def test_fake_and_kube_apiserver_agree_on_the_script(
    fake_steps: list[Step], plane_kubeconfig: Path, tmp_path: Path
) -> None:
    assert KUBECTL is not None
    real = run_script(Kubectl(KUBECTL, plane_kubeconfig, tmp_path))
    fake_n, real_n = normalised(fake_steps), normalised(real)
    mismatches = [
        f"{f[0]}:\n  fake: {f[1:]}\n  real: {r[1:]}"
        for f, r in zip(fake_n, real_n, strict=True)
        if f != r
    ]
    assert not mismatches, "\n".join(mismatches)
