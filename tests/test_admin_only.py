"""No vacuous passes: with only an admin context, identity-dependent properties skip.

A property that loops over the identities it was given sends nothing when it was given
none, and would pass without checking anything. Run against a cluster with only the
admin context, each property that needs another identity must be reported as skipped,
with a reason that names the identity, in the JUnit file, summary.md and results.json.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from clirun import run_cli

from conformance.targets.fake import FakeConfig, FakeServer

# Every property that cannot check what it names without a non-admin identity.
IDENTITY_DEPENDENT = {
    "test_only_permitted_identities_approve": "'user' or 'approver'",
    "test_only_permitted_identities_sign": "'user' or 'signer'",
    "test_requestor_fields_come_from_the_authenticated_user[user]": "'user'",
    "test_requestor_fields_come_from_the_authenticated_user[approver]": "'approver'",
    "test_requestor_fields_come_from_the_authenticated_user[signer]": "'signer'",
}


def test_identity_dependent_properties_skip_with_their_reason(tmp_path: Path) -> None:
    report = tmp_path / "r"
    with FakeServer(FakeConfig(tls=False)) as server:
        cfg = str(tmp_path / "kubeconfig")
        server.write_kubeconfig(cfg)
        proc = run_cli(
            "run",
            "--kubeconfig",
            cfg,
            "--context",
            "admin",
            "--examples",
            "2",
            "--report-dir",
            str(report),
            "-k",
            "test_only_permitted or test_requestor_fields",
            timeout=300,
        )
    assert proc.returncode == 0, proc.stderr + proc.stdout[-2000:]
    data = json.loads((report / "results.json").read_text())
    cases = {c["name"]: c for c in data["cases"]}
    for name, identity in IDENTITY_DEPENDENT.items():
        case = cases[name]
        assert case["outcome"] == "skipped", (name, case["outcome"])
        assert identity in case["message"], (name, case["message"])
    # the admin case still runs and passes: skipping is only for what cannot be checked
    assert cases["test_requestor_fields_come_from_the_authenticated_user[admin]"]["outcome"] == (
        "passed"
    )
    summary = (report / "summary.md").read_text()
    assert "## Not checked, and why" in summary
    assert "test_only_permitted_identities_approve" in summary.split("## Properties")[0]
    skipped = [
        tc.find("skipped")
        for tc in ET.parse(report / "junit.xml").getroot().iter("testcase")
        if tc.get("name") in IDENTITY_DEPENDENT
    ]
    assert len(skipped) == len(IDENTITY_DEPENDENT)
    assert all(s is not None and s.get("message") for s in skipped)
    assert "SKIPPED" in proc.stdout  # the console says what was not checked, and why
