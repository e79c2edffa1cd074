"""A fixed sequence of requests sent to both the fake and a real kube-apiserver.

Each step is sent in order to a fresh server, so names can be fixed and later steps can
rely on what earlier steps created. Bodies are JSON values or raw bytes; the strings
``@pem:NAME`` inside them are replaced with base64 PEM requests made once per run (see
``materials``). Later issues append update, patch and watch steps here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

API = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


@dataclass(frozen=True)
class Step:
    id: str
    method: str
    path: str
    body: Any = None
    query: tuple[tuple[str, str], ...] = ()
    role: str = "admin"
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    yaml_error: bool = False
    """The answer quotes a YAML parser's error: compared up to that quote, since the fake's
    parser (PyYAML) words its errors differently from go-yaml."""


def csr(
    name: str | None = None,
    *,
    pem: str = "@pem:ec",
    signer: str = "example.com/diff",
    usages: tuple[str, ...] = ("client auth",),
    **extra: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name} if name is not None else {}
    meta.update(extra.pop("metadata", {}))
    spec: dict[str, Any] = {"request": pem, "signerName": signer, "usages": list(usages)}
    spec.update(extra.pop("spec", {}))
    obj: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": meta,
        "spec": spec,
    }
    obj.update(extra)
    return obj


STEPS: list[Step] = [
    # discovery
    Step("discovery-group", "GET", "/apis/certificates.k8s.io"),
    Step("discovery-v1", "GET", "/apis/certificates.k8s.io/v1"),
    # valid creates
    Step("create-ec", "POST", API, csr("diff-ec")),
    Step(
        "create-rsa-labels",
        "POST",
        API,
        csr(
            "diff-rsa",
            pem="@pem:rsa",
            usages=("digital signature", "key encipherment", "server auth"),
            metadata={"labels": {"app": "x"}, "annotations": {"a": "b"}},
            spec={"expirationSeconds": 3600},
        ),
    ),
    Step(
        "create-ed25519-junk",
        "POST",
        API,
        csr(
            "diff-ed",
            pem="@pem:ed25519",
            signer="kubernetes.io/kubelet-serving",
            metadata={
                "namespace": "ignored",
                "uid": "client-uid",
                "creationTimestamp": "2001-01-01T00:00:00Z",
            },
            spec={
                "username": "mallory",
                "groups": ["system:masters"],
                "uid": "u",
                "extra": {"k": ["v"]},
            },
            status={"conditions": [{"type": "Approved", "status": "True"}], "certificate": "Zm9v"},
        ),
    ),
    Step(
        "create-generate-name",
        "POST",
        API,
        csr(None, metadata={"generateName": "diff-gen-" + "x" * 60}),
    ),
    Step("create-tolerated-junk", "POST", API, csr("diff-junk", pem="@pem:junk")),
    Step("create-as-user", "POST", API, csr("diff-user"), role="user"),
    Step("create-dry-run", "POST", API, csr("diff-dry"), query=(("dryRun", "All"),)),
    Step("create-unknown-field-warn", "POST", API, csr("diff-warn", spec={"foo": 1})),
    Step(
        "create-unknown-field-strict",
        "POST",
        API,
        csr("diff-strict", spec={"foo": 1}),
        query=(("fieldValidation", "Strict"),),
    ),
    # invalid creates
    Step("create-duplicate", "POST", API, csr("diff-ec")),
    Step("create-bad-signature", "POST", API, csr("diff-badsig", pem="@pem:badsig")),
    Step("create-not-pem", "POST", API, csr("diff-notpem", pem="@b64:hello world")),
    Step("create-wrong-block", "POST", API, csr("diff-block", pem="@pem:certificate")),
    Step("create-no-usages", "POST", API, csr("diff-nousage", usages=())),
    Step(
        "create-bad-usages",
        "POST",
        API,
        csr("diff-badusage", usages=("client auth", "Client Auth", "client auth")),
    ),
    Step(
        "create-legacy-signer",
        "POST",
        API,
        csr("diff-legacy", signer="kubernetes.io/legacy-unknown"),
    ),
    Step("create-bad-signer", "POST", API, csr("diff-badsigner", signer="Example.com/a/b")),
    Step("create-short-expiry", "POST", API, csr("diff-short", spec={"expirationSeconds": 599})),
    Step("create-no-name", "POST", API, csr(None)),
    Step("create-slash-name", "POST", API, csr("a/b")),
    Step("create-dot-name", "POST", API, csr("..")),
    Step("create-bad-label", "POST", API, csr("diff-badlabel", metadata={"labels": {"-x": "y"}})),
    Step(
        "create-many-errors",
        "POST",
        API,
        csr(
            "diff-many",
            pem="@b64:",
            signer="nope",
            usages=("x", "x"),
            spec={"expirationSeconds": -5},
        ),
    ),
    Step(
        "create-masters",
        "POST",
        API,
        csr("diff-masters", pem="@pem:masters", signer="kubernetes.io/kube-apiserver-client"),
    ),
    Step("create-masters-other-signer", "POST", API, csr("diff-masters-ok", pem="@pem:masters")),
    Step("create-rv-set", "POST", API, csr("diff-rv", metadata={"resourceVersion": "12"})),
    Step("create-rv-garbage", "POST", API, csr("diff-rvg", metadata={"resourceVersion": "abc"})),
    Step("create-bad-options", "POST", API, csr("diff-opts"), query=(("dryRun", "all"),)),
    Step("create-not-json", "POST", API, b"{nope"),
    Step("create-trailing-comma", "POST", API, b'{"metadata": {"name": "x"},}'),
    Step("create-truncated", "POST", API, b'{"metadata": {"name": "x"'),
    Step("create-bad-escape", "POST", API, b'{"metadata": {"name": "a\\q"}}'),
    Step("create-bad-number", "POST", API, b'{"spec": {"expirationSeconds": 1.e5}}'),
    Step("create-two-values", "POST", API, b"{} {}"),
    Step(
        "create-wrong-version",
        "POST",
        API,
        csr("diff-ver", apiVersion="certificates.k8s.io/v1beta1"),
    ),
    Step("create-bad-base64", "POST", API, csr("diff-b64", pem="!!!")),
    Step("create-expiry-overflow", "POST", API, csr("diff-ovf", spec={"expirationSeconds": 2**31})),
    # reads
    Step("get", "GET", f"{API}/diff-ec"),
    Step("get-status", "GET", f"{API}/diff-ec/status"),
    Step("get-approval", "GET", f"{API}/diff-ec/approval"),
    Step("get-missing", "GET", f"{API}/diff-missing"),
    Step(
        "list-by-signer", "GET", API, query=(("fieldSelector", "spec.signerName=example.com/diff"),)
    ),
    Step("list-by-name", "GET", API, query=(("fieldSelector", "metadata.name=diff-rsa"),)),
    Step(
        "list-not-name",
        "GET",
        API,
        query=(("fieldSelector", "metadata.name!=diff-rsa,spec.signerName=example.com/diff"),),
    ),
    Step("list-by-label", "GET", API, query=(("labelSelector", "app=x"),)),
    Step("list-bad-field", "GET", API, query=(("fieldSelector", "spec.username=x"),)),
    Step("list-bad-selector", "GET", API, query=(("fieldSelector", "metadata.name"),)),
    Step("list-empty", "GET", API, query=(("labelSelector", "app=none"),)),
    # updates through every endpoint and patch type
    Step(
        "put-main-spec-and-label",
        "PUT",
        f"{API}/diff-rsa",
        csr(
            "diff-rsa",
            pem="@pem:ec",
            signer="example.com/changed",
            metadata={"labels": {"app": "x", "new": "y"}},
        ),
    ),
    Step(
        "merge-approval",
        "PATCH",
        f"{API}/diff-rsa/approval",
        {"status": {"conditions": [{"type": "Approved", "status": "True", "reason": "R"}]}},
        content_type="application/merge-patch+json",
    ),
    Step(
        "json-patch-status-cert",
        "PATCH",
        f"{API}/diff-rsa/status",
        [{"op": "add", "path": "/status/certificate", "value": "@pem:certificate"}],
        content_type="application/json-patch+json",
    ),
    Step(
        "json-patch-status-replace-cert",
        "PATCH",
        f"{API}/diff-rsa/status",
        [{"op": "replace", "path": "/status/certificate", "value": "@pem:certificate2"}],
        content_type="application/json-patch+json",
    ),
    Step(
        "smp-approval-deny",
        "PATCH",
        f"{API}/diff-rsa/approval",
        {"status": {"conditions": [{"type": "Denied", "status": "True"}]}},
        content_type="application/strategic-merge-patch+json",
    ),
    Step(
        "status-add-approved",
        "PATCH",
        f"{API}/diff-ed/status",
        {"status": {"conditions": [{"type": "Approved", "status": "True"}]}},
        content_type="application/merge-patch+json",
    ),
    Step(
        "status-failed",
        "PATCH",
        f"{API}/diff-ed/status",
        {"status": {"conditions": [{"type": "Failed", "status": "True", "message": "no"}]}},
        content_type="application/merge-patch+json",
    ),
    Step(
        "approval-drop-failed",
        "PATCH",
        f"{API}/diff-ed/approval",
        {"status": {"conditions": [{"type": "Approved", "status": "True"}]}},
        content_type="application/merge-patch+json",
    ),
    Step(
        "json-patch-failed-test",
        "PATCH",
        f"{API}/diff-ed",
        [{"op": "test", "path": "/metadata/name", "value": "nope"}],
        content_type="application/json-patch+json",
    ),
    Step("patch-415", "PATCH", f"{API}/diff-ed", {}, content_type="text/plain"),
    Step(
        "patch-force-non-apply",
        "PATCH",
        f"{API}/diff-ed",
        {},
        query=(("force", "true"),),
        content_type="application/merge-patch+json",
    ),
    Step(
        "apply-labels",
        "PATCH",
        f"{API}/diff-ed",
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": "diff-ed", "labels": {"applied": "yes"}},
        },
        query=(("fieldManager", "diff"),),
        content_type="application/apply-patch+yaml",
    ),
    Step(
        "apply-conflict",
        "PATCH",
        f"{API}/diff-ed",
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": "diff-ed", "labels": {"applied": "no"}},
        },
        query=(("fieldManager", "other"),),
        content_type="application/apply-patch+yaml",
    ),
    Step(
        "apply-create",
        "PATCH",
        f"{API}/diff-applied",
        csr("diff-applied"),
        query=(("fieldManager", "diff"),),
        content_type="application/apply-patch+yaml",
    ),
    Step(
        "put-stale-rv", "PUT", f"{API}/diff-ed", csr("diff-ed", metadata={"resourceVersion": "1"})
    ),
    Step("put-missing", "PUT", f"{API}/diff-nothere", csr("diff-nothere")),
    Step("put-name-mismatch", "PUT", f"{API}/diff-ed", csr("diff-other")),
    Step(
        "approval-as-user",
        "PATCH",
        f"{API}/diff-ed/approval",
        {"metadata": {"labels": {"u": "1"}}},
        role="user",
        content_type="application/merge-patch+json",
    ),
    Step(
        "approval-as-approver-other-signer",
        "PATCH",
        f"{API}/diff-ed/approval",
        {"metadata": {"labels": {"u": "1"}}},
        role="approver",
        content_type="application/merge-patch+json",
    ),
    Step("get-after-updates", "GET", f"{API}/diff-ed"),
    # list options, pagination, selectors and watch starts (issue 8)
    Step("list-limit-1", "GET", API, query=(("limit", "1"),)),
    Step("list-limit-1-selected", "GET", API, query=(("limit", "1"), ("labelSelector", "a!=b"))),
    Step("list-set-selector", "GET", API, query=(("labelSelector", "x notin (y),!z"),)),
    Step("list-bad-selector", "GET", API, query=(("labelSelector", "x in (y"),)),
    Step("list-rvm-without-rv", "GET", API, query=(("resourceVersionMatch", "Exact"),)),
    Step(
        "list-exact-zero",
        "GET",
        API,
        query=(("resourceVersion", "0"), ("resourceVersionMatch", "Exact")),
    ),
    Step(
        "list-rvm-bogus",
        "GET",
        API,
        query=(("resourceVersion", "5"), ("resourceVersionMatch", "Bogus")),
    ),
    Step("list-send-initial", "GET", API, query=(("sendInitialEvents", "true"),)),
    Step("list-bad-rv", "GET", API, query=(("resourceVersion", "abc"),)),
    Step("list-bad-limit", "GET", API, query=(("limit", "x"),)),
    Step("list-garbage-continue", "GET", API, query=(("continue", "garbage"),)),
    Step("list-empty-continue-token", "GET", API, query=(("continue", "e30"),)),
    Step("list-rv-zero-limit", "GET", API, query=(("resourceVersion", "0"), ("limit", "1"))),
    Step(
        "watch-one-by-name",
        "GET",
        API,
        query=(
            ("watch", "true"),
            ("fieldSelector", "metadata.name=diff-ed"),
            ("timeoutSeconds", "1"),
        ),
    ),
    Step(
        "watch-legacy-path",
        "GET",
        "/apis/certificates.k8s.io/v1/watch/certificatesigningrequests/diff-ed",
        query=(("timeoutSeconds", "1"),),
    ),
    Step(
        "watch-initial-events",
        "GET",
        API,
        query=(
            ("watch", "1"),
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "NotOlderThan"),
            ("allowWatchBookmarks", "true"),
            ("fieldSelector", "metadata.name=diff-ed"),
            ("timeoutSeconds", "1"),
        ),
    ),
    Step("watch-bad-rv", "GET", API, query=(("watch", "true"), ("resourceVersion", "abc"))),
    Step(
        "watch-rvm-without-initial",
        "GET",
        API,
        query=(("watch", "true"), ("resourceVersionMatch", "NotOlderThan")),
    ),
    Step(
        "watch-initial-without-rvm",
        "GET",
        API,
        query=(("watch", "true"), ("sendInitialEvents", "true")),
    ),
    Step(
        "watch-initial-exact",
        "GET",
        API,
        query=(
            ("watch", "true"),
            ("sendInitialEvents", "true"),
            ("resourceVersionMatch", "Exact"),
            ("resourceVersion", "5"),
        ),
    ),
    # deletes
    Step(
        "delete-precondition-uid",
        "DELETE",
        f"{API}/diff-ec",
        {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "nope"}},
    ),
    Step("delete-dry-run", "DELETE", f"{API}/diff-ec", query=(("dryRun", "All"),)),
    Step("delete", "DELETE", f"{API}/diff-ec"),
    Step("delete-again", "DELETE", f"{API}/diff-ec"),
    Step(
        "delete-bad-policy",
        "DELETE",
        f"{API}/diff-rsa",
        {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Sometimes"},
    ),
    Step(
        "deletecollection-by-signer",
        "DELETE",
        API,
        query=(("fieldSelector", "spec.signerName=example.com/diff"),),
    ),
    Step(
        "list-after-deletecollection",
        "GET",
        API,
        query=(("fieldSelector", "spec.signerName=example.com/diff"),),
    ),
    # Behaviours that changed between the releases of the matrix (conformance.oracle.changes);
    # each step answers differently on at least one of them.
    Step(
        "create-ownerref-empty",
        "POST",
        API,
        csr(
            "diff-o1",
            metadata={"ownerReferences": [{"apiVersion": "", "kind": "", "name": "", "uid": ""}]},
        ),
    ),
    Step(
        "create-ownerref-bad-version",
        "POST",
        API,
        csr(
            "diff-o2",
            metadata={
                "ownerReferences": [{"apiVersion": "a/b/c", "kind": "K", "name": "n", "uid": "u"}]
            },
        ),
    ),
    Step(
        "create-label-too-long",
        "POST",
        API,
        csr("diff-l1", metadata={"labels": {"x" * 64: "y" * 64}}),
    ),
    # One bad label a step: Go walks the label map in random order.
    Step(
        "create-label-two-slashes", "POST", API, csr("diff-l2", metadata={"labels": {"a/b/c": "v"}})
    ),
    Step("create-v1", "POST", API, csr("diff-v1", signer="example.com/versions")),
    Step("create-v2", "POST", API, csr("diff-v2", signer="example.com/versions")),
    Step("create-v4", "POST", API, csr("diff-v4", signer="example.com/versions")),
    Step("create-v5", "POST", API, csr("diff-v5", signer="example.com/versions")),
    Step(
        "patch-not-json-missing",
        "PATCH",
        f"{API}/diff-missing",
        b"{",
        content_type="application/merge-patch+json",
    ),
    Step(
        "patch-not-json-merge",
        "PATCH",
        f"{API}/diff-v1",
        b"{",
        content_type="application/merge-patch+json",
    ),
    Step(
        "patch-not-json-merge-ignore",
        "PATCH",
        f"{API}/diff-v1",
        b"{",
        query=(("fieldValidation", "Ignore"),),
        content_type="application/merge-patch+json",
    ),
    Step(
        "patch-not-json-json",
        "PATCH",
        f"{API}/diff-v1",
        b"[{",
        content_type="application/json-patch+json",
    ),
    Step(
        "patch-not-json-json-ignore",
        "PATCH",
        f"{API}/diff-v1",
        b"nope",
        query=(("fieldValidation", "Ignore"),),
        content_type="application/json-patch+json",
    ),
    Step(
        "patch-not-json-smp",
        "PATCH",
        f"{API}/diff-v1",
        b"{",
        content_type="application/strategic-merge-patch+json",
    ),
    Step(
        "apply-not-yaml-missing",
        "PATCH",
        f"{API}/diff-v9",
        b"a: [",
        query=(("fieldManager", "m"),),
        content_type="application/apply-patch+yaml",
        yaml_error=True,
    ),
    Step(
        "apply-not-yaml-status-missing",
        "PATCH",
        f"{API}/diff-v9/status",
        b"a: [",
        query=(("fieldManager", "m"),),
        content_type="application/apply-patch+yaml",
        yaml_error=True,
    ),
    Step(
        "apply-yaml-list",
        "PATCH",
        f"{API}/diff-v1",
        b"- a\n",
        query=(("fieldManager", "m"),),
        content_type="application/apply-patch+yaml",
    ),
    Step(
        "apply-json-array",
        "PATCH",
        f"{API}/diff-v1",
        b'["a"]',
        query=(("fieldManager", "m"),),
        content_type="application/apply-patch+yaml",
    ),
    Step(
        "apply-create-deletion-timestamp",
        "PATCH",
        f"{API}/diff-v3",
        csr(
            "diff-v3",
            signer="example.com/versions",
            metadata={"deletionTimestamp": "2020-01-01T00:00:00Z", "deletionGracePeriodSeconds": 5},
        ),
        query=(("fieldManager", "m"),),
        content_type="application/apply-patch+yaml",
    ),
    Step(
        "merge-bad-label-key",
        "PATCH",
        f"{API}/diff-v1",
        {"metadata": {"labels": {"a/b/c": "x"}}},
        content_type="application/merge-patch+json",
    ),
    Step(
        "approval-approved-and-denied",
        "PATCH",
        f"{API}/diff-v1/approval",
        {
            "status": {
                "conditions": [
                    {"type": "Approved", "status": "True"},
                    {"type": "Denied", "status": "True"},
                    {"type": "Denied", "status": "True"},
                ]
            }
        },
        content_type="application/merge-patch+json",
    ),
    Step(
        "delete-options-undecodable",
        "DELETE",
        f"{API}/diff-v1",
        b'{"gracePeriodSeconds":"x"}',
    ),
    Step(
        "delete-unsafe-as-user",
        "DELETE",
        f"{API}/diff-v2",
        {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "ignoreStoreReadErrorWithClusterBreakingPotential": True,
        },
        role="user",
    ),
    Step(
        "delete-unsafe",
        "DELETE",
        f"{API}/diff-v4",
        {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "ignoreStoreReadErrorWithClusterBreakingPotential": True,
        },
    ),
    Step(
        "delete-unsafe-missing",
        "DELETE",
        f"{API}/diff-missing",
        {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "ignoreStoreReadErrorWithClusterBreakingPotential": True,
        },
    ),
    Step(
        "delete-unsafe-with-grace",
        "DELETE",
        f"{API}/diff-v5",
        {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "ignoreStoreReadErrorWithClusterBreakingPotential": True,
            "gracePeriodSeconds": 0,
        },
    ),
    Step(
        "deletecollection-unsafe",
        "DELETE",
        API,
        {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "ignoreStoreReadErrorWithClusterBreakingPotential": True,
        },
        query=(("labelSelector", "matches=nothing"),),
    ),
    Step(
        "list-versions-after",
        "GET",
        API,
        query=(("fieldSelector", "spec.signerName=example.com/versions"),),
    ),
]
