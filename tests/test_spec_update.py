"""Tests of the update oracle: strategies, validation, admission, patches, the pipeline.

Expected strings were read off kube-apiserver v1.37.2 (a ControlPlane from the built
binaries); the module docstrings in ``conformance/oracle`` name the upstream files. The
last test replays a generated corpus against a real server when the binaries exist.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from functools import cache
from typing import Any

import pems
import pytest

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.apimachinery import status as st
from conformance.oracle.apimachinery.jsonpatch import (
    apply_json_patch,
    apply_merge_patch,
    decode_patch,
)
from conformance.oracle.apimachinery.patch import (
    check_patch_content_type,
    strict_json_patch,
    validate_patch_options,
)
from conformance.oracle.apimachinery.smp import SMPError, strategic_merge
from conformance.oracle.csr.create import UserInfo
from conformance.oracle.csr.rules import RULES, rule
from conformance.oracle.csr.update import (
    Method,
    UpdateDecision,
    decide_update,
    manager_or_user_agent,
    parse_uint64,
)
from conformance.oracle.csr.update_admission import admission_update, rbac_forbidden
from conformance.oracle.csr.update_strategy import (
    Endpoint,
    condition_diff,
    prepare_update,
    transition_errors,
    validate_update,
)
from conformance.oracle.golang.jsonencode import encode_csr, go_format_v

NOW = "2025-06-01T12:00:00Z"
EARLIER = "2025-01-01T00:00:00Z"
ADMIN = UserInfo("csrc-admin", "uid-csrc-admin", ["system:masters", "system:authenticated"])
USER = UserInfo("csrc-user", "uid-csrc-user", ["csrc-users", "system:authenticated"])
MERGE = "application/merge-patch+json"
JSONP = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


@cache
def request_b64() -> str:
    return pems.request_b64("t")


@cache
def cert_b64() -> str:
    return pems.cert_b64("c")


def stored_csr(
    name: str = "x", *, conditions: list[dict[str, Any]] | None = None, **meta: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": {
            "name": name,
            "uid": "uid-1",
            "resourceVersion": "10",
            "creationTimestamp": EARLIER,
            **meta,
        },
        "spec": {
            "request": request_b64(),
            "signerName": "example.com/signer",
            "usages": ["client auth"],
            "username": "csrc-admin",
            "groups": ["system:masters", "system:authenticated"],
        },
        "status": {},
    }
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    return obj


def approved(reason: str = "R") -> dict[str, Any]:
    return {
        "type": "Approved",
        "status": "True",
        "reason": reason,
        "lastUpdateTime": EARLIER,
        "lastTransitionTime": EARLIER,
    }


def allow_all(verb: str, resource: str, name: str) -> bool:
    return True


def rbac(*grants: tuple[str, str, str]) -> Any:
    """An authorizer from (verb, resource, name) grants; ``*`` matches any name."""

    def allow(verb: str, resource: str, name: str) -> bool:
        return any(v == verb and r == resource and n in ("*", name) for v, r, n in grants)

    return allow


def put(
    endpoint: str,
    obj: dict[str, Any],
    stored: dict[str, Any] | None,
    query: dict[str, list[str]] | None = None,
    authorizer: Any = allow_all,
    user: UserInfo = ADMIN,
) -> UpdateDecision:
    body = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", **obj}
    name = str(obj.get("metadata", {}).get("name") or "x")
    return decide_update(
        endpoint,  # type: ignore[arg-type]
        "PUT",
        name if stored is None else stored["metadata"]["name"],
        json.dumps(body).encode(),
        "application/json",
        query or {},
        user,
        authorizer,
        stored=stored,
        now=NOW,
        user_agent="csr-conformance/0.1.0",
    )


def patch(
    endpoint: str,
    content_type: str,
    body: bytes | dict[str, Any] | list[Any],
    stored: dict[str, Any] | None,
    query: dict[str, list[str]] | None = None,
    authorizer: Any = allow_all,
    name: str = "x",
) -> UpdateDecision:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return decide_update(
        endpoint,  # type: ignore[arg-type]
        "PATCH",
        name,
        raw,
        content_type,
        query or {},
        ADMIN,
        authorizer,
        stored=stored,
        now=NOW,
        user_agent="csr-conformance/0.1.0",
        uid="uid-new",
    )


# ---------------------------------------------------------------------------
# rule ids
# ---------------------------------------------------------------------------


def test_update_rule_ids_exist_with_sections() -> None:
    for rid in (
        "CSR-IMM-SPEC",
        "CSR-IMM-META",
        "CSR-SUB-MAIN-STATUS",
        "CSR-SUB-APPROVAL",
        "CSR-SUB-STATUS-AD",
        "CSR-SUB-STATUS-CERT",
        "CSR-SUB-META",
        "CSR-SUB-TIME",
        "CSR-SUB-NOOP",
        "CSR-CONC-RV",
        "CSR-CONC-UNCOND",
        "CSR-CONC-UID",
        "CSR-UPD-404",
        "CSR-UPD-NAME",
        "CSR-PATCH-JSON",
        "CSR-PATCH-MERGE",
        "CSR-PATCH-SMP",
        "CSR-PATCH-APPLY",
        "CSR-PATCH-415",
        "CSR-PATCH-OPTS",
        "CSR-ADM-APPROVE",
        "CSR-ADM-SIGN",
        "CSR-AUTHZ-RBAC",
    ):
        assert rule(rid).section.startswith("§"), rid
    # the create-time ids are untouched
    assert RULES["CSR-VAL-C6"].section == "§4.6 C6"


# ---------------------------------------------------------------------------
# strategies (§5)
# ---------------------------------------------------------------------------


def test_main_strategy_keeps_spec_and_status_takes_metadata() -> None:
    old = stored_csr(conditions=[approved()], generation=3)
    new = copy.deepcopy(old)
    new["spec"]["usages"] = ["server auth"]
    new["status"] = {"conditions": [], "certificate": cert_b64()}
    new["metadata"].update(labels={"a": "b"}, generation=9, namespace="ns")
    new["metadata"].pop("uid")
    new["metadata"]["creationTimestamp"] = NOW
    out = prepare_update("main", new, old, NOW)
    assert out["spec"] == old["spec"]  # CSR-IMM-SPEC
    assert out["status"] == old["status"]  # CSR-SUB-MAIN-STATUS
    assert out["metadata"]["labels"] == {"a": "b"}  # CSR-SUB-META
    assert out["metadata"]["generation"] == 3  # CSR-IMM-META
    assert out["metadata"]["uid"] == "uid-1"
    assert out["metadata"]["creationTimestamp"] == EARLIER
    assert "namespace" not in out["metadata"]


def test_approval_strategy_replaces_conditions_keeps_certificate_fills_times() -> None:
    old = stored_csr(conditions=[{**approved(), "lastTransitionTime": "2024-01-01T00:00:00Z"}])
    old["status"]["certificate"] = cert_b64()
    new = copy.deepcopy(old)
    new["status"] = {
        "conditions": [
            {"type": "Approved", "status": "True", "reason": "Again"},
            {"type": "Custom", "status": "False", "lastUpdateTime": "2020-02-02T00:00:00Z"},
        ],
        "certificate": "",
    }
    out = prepare_update("approval", new, old, NOW)
    conds = out["status"]["conditions"]
    assert [c["type"] for c in conds] == ["Approved", "Custom"]  # CSR-SUB-APPROVAL
    assert out["status"]["certificate"] == cert_b64()
    # CSR-SUB-TIME: zero times become now; lastTransitionTime carried over by (type, status)
    assert conds[0]["lastUpdateTime"] == NOW
    assert conds[0]["lastTransitionTime"] == "2024-01-01T00:00:00Z"
    assert conds[1]["lastUpdateTime"] == "2020-02-02T00:00:00Z"
    assert conds[1]["lastTransitionTime"] == NOW


def test_status_strategy_reverts_approved_edits_and_takes_certificate() -> None:
    old = stored_csr(conditions=[approved("Old")])
    new = copy.deepcopy(old)
    new["status"] = {
        "conditions": [approved("Edited"), {"type": "Failed", "status": "True"}],
        "certificate": cert_b64(),
    }
    out = prepare_update("status", new, old, NOW)
    assert out["status"]["conditions"][0]["reason"] == "Old"  # CSR-SUB-STATUS-AD (revert)
    assert out["status"]["conditions"][1]["lastTransitionTime"] == NOW
    assert out["status"]["certificate"] == cert_b64()
    assert validate_update("status", out, old) == []


def test_status_strategy_rejects_adding_and_removing_approval() -> None:
    old = stored_csr(conditions=[approved()])
    removed = prepare_update("status", {**old, "status": {"conditions": []}}, old, NOW)
    errs = validate_update("status", removed, old)
    assert [e.error_string() for e in errs] == [
        'status.conditions: Forbidden: updates may not remove a condition of type "Approved"'
    ]
    plain = stored_csr()
    added = prepare_update("status", {**plain, "status": {"conditions": [approved()]}}, plain, NOW)
    assert [e.error_string() for e in validate_update("status", added, plain)] == [
        'status.conditions: Forbidden: updates may not add a condition of type "Approved"'
    ]


def test_certificate_rules_k3_k4() -> None:
    old = stored_csr()
    old["status"]["certificate"] = cert_b64()
    cleared = prepare_update("status", {**old, "status": {}}, old, NOW)
    assert [e.error_string() for e in validate_update("status", cleared, old)] == [
        "status.certificate: Forbidden: updates may not modify existing certificate content"
    ]
    plain = stored_csr()
    direct = {**plain, "status": {"certificate": cert_b64()}}
    assert [e.error_string() for e in transition_errors("approval", direct, plain)] == [
        "status.certificate: Forbidden: updates may not set certificate content"
    ]


def test_c7_modify_message_carries_a_unified_diff() -> None:
    old = [approved("A")]
    new = [approved("B")]
    diff = condition_diff(old, new)
    # byte for byte what go-difflib prints for json.MarshalIndent of the internal type
    assert diff == (
        "@@ -2,7 +2,7 @@\n"
        "  {\n"
        '   "Type": "Approved",\n'
        '   "Status": "True",\n'
        '-  "Reason": "A",\n'
        '+  "Reason": "B",\n'
        '   "Message": "",\n'
        '   "LastUpdateTime": "2025-01-01T00:00:00Z",\n'
        '   "LastTransitionTime": "2025-01-01T00:00:00Z"\n'
    )
    errs = transition_errors("main", stored_csr(conditions=new), stored_csr(conditions=old))
    assert errs[0].detail == f'updates may not modify a condition of type "Approved"\n{diff}'


# ---------------------------------------------------------------------------
# validation (§4.6–4.8, M5)
# ---------------------------------------------------------------------------


def test_finalizers_while_deleting_message() -> None:
    old = stored_csr(
        finalizers=["example.com/f1"], deletionTimestamp=NOW, deletionGracePeriodSeconds=0
    )
    new = copy.deepcopy(old)
    new["metadata"]["finalizers"] = ["example.com/f1", "example.com/f2", "a.b/c"]
    errs = validate_update("main", prepare_update("main", new, old, NOW), old)
    assert [e.error_string() for e in errs] == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
        'deleted, found new finalizers []string{"a.b/c", "example.com/f2"}'
    ]


def test_immutable_metadata_messages() -> None:
    old = stored_csr()
    new = copy.deepcopy(old)
    new["metadata"].update(uid="abc", deletionGracePeriodSeconds=5)
    errs = validate_update("main", prepare_update("main", new, old, NOW), old)
    assert [e.error_string() for e in errs] == [
        'metadata.uid: Invalid value: "abc": field is immutable',
        "metadata.deletionGracePeriodSeconds: Invalid value: 5: field is immutable",
    ]


def test_compatibility_tolerances_come_from_the_old_object() -> None:
    old = stored_csr(
        conditions=[
            {"type": "Custom", "status": "True", "lastUpdateTime": EARLIER},
            {"type": "Custom", "status": "True", "lastUpdateTime": EARLIER},
        ]
    )
    old["spec"]["signerName"] = "kubernetes.io/legacy-unknown"
    old["spec"]["usages"] = ["client auth", "client auth", "bogus"]
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"a": "b"}
    assert validate_update("main", prepare_update("main", new, old, NOW), old) == []


def test_declarative_union_error_replaces_mutual_exclusion() -> None:
    old = stored_csr(conditions=[approved()])
    new = {**old, "status": {"conditions": [approved(), {"type": "Denied", "status": "True"}]}}
    errs = validate_update("approval", prepare_update("approval", new, old, NOW), old)
    assert [e.error_string() for e in errs] == [
        'status.conditions: Invalid value: "{conditions[{\\"type\\": \\"Approved\\"}], '
        'conditions[{\\"type\\": \\"Denied\\"}]}": must specify at most one of: '
        '`conditions[{"type": "Approved"}]`, `conditions[{"type": "Denied"}]`'
    ]


def test_label_errors_are_reported_once_on_update() -> None:
    old = stored_csr()
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"bad key!": "v"}
    errs = validate_update("main", prepare_update("main", new, old, NOW), old)
    assert len(errs) == len({e.error_string() for e in errs}) == 1


# ---------------------------------------------------------------------------
# admission and RBAC (§6)
# ---------------------------------------------------------------------------


def test_rbac_forbidden_text() -> None:
    body = rbac_forbidden("csrc-user", "update", "approval", "x")
    assert body["message"] == (
        'certificatesigningrequests.certificates.k8s.io "x" is forbidden: User "csrc-user" '
        'cannot update resource "certificatesigningrequests/approval" in API group '
        '"certificates.k8s.io" at the cluster scope'
    )
    assert body["details"] == {"name": "x", "group": st.GROUP, "kind": st.RESOURCE}


def test_approve_checks_old_signer_exact_then_domain_wildcard() -> None:
    old = stored_csr()
    new = copy.deepcopy(old)
    exact = rbac(("approve", "signers", "example.com/signer"))
    wildcard = rbac(("approve", "signers", "example.com/*"))
    other = rbac(("approve", "signers", "other.com/*"))
    assert admission_update("approval", new, old, ADMIN, exact) is None
    assert admission_update("approval", new, old, ADMIN, wildcard) is None
    denied = admission_update("approval", new, old, ADMIN, other)
    assert denied is not None and denied["message"] == (
        'certificatesigningrequests.certificates.k8s.io "x" is forbidden: user not permitted '
        'to approve requests with signerName "example.com/signer"'
    )


def test_sign_check_only_when_certificate_or_conditions_change() -> None:
    old = stored_csr()
    deny = rbac()
    labels_only = {**old, "metadata": {**old["metadata"], "labels": {"a": "b"}}}
    assert admission_update("status", labels_only, old, ADMIN, deny) is None
    # a present but empty certificate is a change (nil vs empty bytes) — seen on v1.37.2
    empty_cert = {**old, "status": {"certificate": ""}}
    denied = admission_update("status", empty_cert, old, ADMIN, deny)
    assert denied is not None
    assert denied["message"].endswith(
        'user not permitted to sign requests with signerName "example.com/signer"'
    )


def test_unprocessable_beats_forbidden() -> None:
    old = stored_csr(conditions=[approved()])
    obj = {**old, "status": {"conditions": [{"type": "Denied", "status": "True"}]}}
    grants = rbac(("update", "certificatesigningrequests/approval", "*"))
    decision = put("approval", obj, old, authorizer=grants)
    assert decision.code == 422
    assert {e.rule for e in decision.errors} >= {"CSR-VAL-C6"}
    fine = {**old, "status": {"conditions": [approved("Again")]}}
    assert put("approval", fine, old, authorizer=grants).code == 403


# ---------------------------------------------------------------------------
# the pipeline: PUT
# ---------------------------------------------------------------------------


def test_put_rbac_then_404_then_name() -> None:
    obj = stored_csr()
    denied = put("main", obj, None, authorizer=rbac(), user=USER)
    assert denied.code == 403 and denied.rules[0] == "CSR-AUTHZ-RBAC"
    missing = put("main", obj, None)
    assert missing.code == 404 and missing.body == st.not_found("x")
    renamed = copy.deepcopy(obj)
    renamed["metadata"]["name"] = "other"
    d = decide_update(
        "main",
        "PUT",
        "x",
        json.dumps(renamed).encode(),
        "application/json",
        {},
        ADMIN,
        allow_all,
        stored=obj,
        now=NOW,
    )
    assert (
        d.body["message"] == "the name of the object (other) does not match the name on the URL (x)"
    )
    renamed["metadata"]["name"] = ""
    d = decide_update(
        "main",
        "PUT",
        "x",
        json.dumps(renamed).encode(),
        "application/json",
        {},
        ADMIN,
        allow_all,
        stored=obj,
        now=NOW,
    )
    assert d.body["message"] == (
        "the name of the object (x based on URL) was undeterminable: name must be provided"
    )


def test_put_resource_version_rules() -> None:
    old = stored_csr()
    for rv, code in (("1", 409), ("", 200), ("0", 200), ("010", 200), ("abc", 500), ("-1", 500)):
        obj = copy.deepcopy(old)
        obj["metadata"]["resourceVersion"] = rv
        obj["metadata"]["labels"] = {"n": "1"}
        d = put("main", obj, old)
        assert d.code == code, rv
    stale = put("main", {**old, "metadata": {**old["metadata"], "resourceVersion": "1"}}, old)
    assert stale.body["message"] == (
        'Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "x": '
        "the object has been modified; please apply your changes to the latest version and "
        "try again"
    )
    assert parse_uint64("abc") == 'strconv.ParseUint: parsing "abc": invalid syntax'


def test_put_uid_precondition() -> None:
    old = stored_csr()
    obj = {**old, "metadata": {**old["metadata"], "uid": "wrong"}}
    d = put("main", obj, old)
    assert d.code == 409 and d.rules[0] == "CSR-CONC-UID"
    assert d.body["message"] == (
        'Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "x": '
        "StorageError: invalid object, Code: 4, Key: /registry/certificatesigningrequests/x, "
        "ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: "
        "wrong, UID in object meta: uid-1"
    )
    dry = put("main", obj, old, {"dryRun": ["All"]})
    assert "Key: /certificatesigningrequests/x," in dry.body["message"]


def test_put_noop_and_write_and_dry_run() -> None:
    old = stored_csr()
    same = put("main", copy.deepcopy(old), old)
    assert same.noop and not same.persist and same.body["metadata"]["resourceVersion"] == "10"
    spec_only = copy.deepcopy(old)
    spec_only["spec"]["usages"] = ["server auth"]
    d = put("main", spec_only, old)
    assert d.noop and "CSR-SUB-NOOP" in d.rules  # spec edits are dropped silently
    labelled = copy.deepcopy(old)
    labelled["metadata"]["labels"] = {"a": "b"}
    d = put("main", labelled, old)
    assert d.persist and not d.noop and d.storage_sets_resource_version
    assert d.object is not None and d.object["metadata"]["labels"] == {"a": "b"}
    assert "resourceVersion" not in d.body["metadata"]
    dry = put("main", labelled, old, {"dryRun": ["All"]})
    assert dry.code == 200 and not dry.persist and dry.body["metadata"]["resourceVersion"] == "10"


def test_put_empty_certificate_is_a_write() -> None:
    old = stored_csr()
    d = put("status", {**old, "status": {"certificate": ""}}, old)
    assert d.persist and d.object is not None and d.object["status"]["certificate"] == ""
    assert "certificate" not in d.body["status"]


def test_removing_the_last_finalizer_of_a_deleting_object_deletes_it() -> None:
    old = stored_csr(
        finalizers=["example.com/f1"], deletionTimestamp=NOW, deletionGracePeriodSeconds=0
    )
    obj = copy.deepcopy(old)
    obj["metadata"]["finalizers"] = []
    d = put("main", obj, old)
    assert d.code == 200 and d.deletes and d.persist


def test_put_options_and_decode() -> None:
    old = stored_csr()
    bad = put("main", old, old, {"fieldValidation": ["nope"]})
    assert bad.code == 422 and bad.body["details"]["kind"] == "UpdateOptions"
    unknown = copy.deepcopy(old)
    unknown["spec"]["foo"] = 1
    warn = put("main", unknown, old)
    assert warn.code == 200 and warn.warnings == ['299 - "unknown field \\"spec.foo\\""']
    strict = put("main", unknown, old, {"fieldValidation": ["Strict"]})
    assert strict.code == 400
    assert strict.body["message"].endswith('strict decoding error: unknown field "spec.foo"')


# ---------------------------------------------------------------------------
# the pipeline: PATCH (§10)
# ---------------------------------------------------------------------------


def test_patch_content_types() -> None:
    short = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "415: Unsupported Media Type",
        "reason": "UnsupportedMediaType",
        "details": {},
        "code": 415,
    }
    for ct in ("Application/Merge-Patch+Json", "", "application/json", "text/plain"):
        assert check_patch_content_type(ct) == (None, short), ct
    assert check_patch_content_type("application/merge-patch+json; charset=utf-8")[0] == MERGE
    _, long = check_patch_content_type("application/merge-patch+json ;x=y")
    assert long is not None and long["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )


def test_patch_options() -> None:
    errs = validate_patch_options({"force": ["false"]}, MERGE)
    assert [e.error_string() for e in errs] == [
        "force: Forbidden: may not be specified for non-apply patch"
    ]
    d = patch("main", APPLY, b"{}", stored_csr(), {"dryRun": ["x"], "fieldValidation": ["y"]})
    assert d.code == 422 and d.body["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: [fieldManager: Required value: is required '
        'for apply patch, dryRun: Unsupported value: ["x"]: supported values: "All", '
        'fieldValidation: Unsupported value: "y": supported values: "", "Ignore", "Strict", '
        '"Warn"]'
    )


def test_patch_body_checks_come_before_the_lookup() -> None:
    assert patch("main", MERGE, b"{bad", None).body["message"] == "invalid JSON patch"
    assert patch("main", MERGE, {}, None).code == 404
    assert patch("status", APPLY, b"kind: x\n", None, {"fieldManager": ["m"]}).code == 404


def test_merge_patch_replaces_lists_and_reports_like_the_server() -> None:
    old = stored_csr(conditions=[approved(), {"type": "Failed", "status": "True"}])
    d = patch("approval", MERGE, {"status": {"conditions": [approved()]}}, old)
    assert d.code == 422  # Failed dropped by the wholesale replacement → C6
    assert [e.rule for e in d.errors] == ["CSR-VAL-C6"]
    assert patch("main", MERGE, b"null", old).body["message"] == "Invalid JSON Patch"
    assert patch("main", MERGE, b"[1]", old).body["message"] == (
        "error decoding patch: json: cannot unmarshal array into Go value of type "
        "map[string]interface {}"
    )
    ignore = patch("main", MERGE, b"[1]", old, {"fieldValidation": ["Ignore"]})
    assert ignore.body["message"] == (
        ' "" is invalid: patch: Invalid value: "[1]": couldn\'t get version/kind; json parse '
        "error: json: cannot unmarshal array into Go value of type struct { APIVersion string "
        '"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
    )


def test_merge_patch_result_text_sorts_only_what_it_touched() -> None:
    old = {
        "metadata": {
            "name": "p6",
            "uid": "u",
            "resourceVersion": "279",
            "creationTimestamp": "2026-11-24T06:47:31Z",
        },
        "spec": {"request": "UkVR", "signerName": "example.com/probe", "usages": ["client auth"]},
        "status": {},
    }
    d = patch("main", MERGE, {"metadata": {"labels": {"a": 1}}}, old, name="p6")
    patched = (
        '{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest",'
        '"metadata":{"creationTimestamp":"2026-11-24T06:47:31Z","labels":{"a":1},"name":"p6",'
        '"resourceVersion":"279","uid":"u"},"spec":{"request":"UkVR","signerName":'
        '"example.com/probe","usages":["client auth"]},"status":{}}'
    )
    assert d.exact and d.body["message"] == (
        f' "" is invalid: patch: Invalid value: {fe.go_quote(patched)}: json: cannot unmarshal '
        "number into Go struct field ObjectMeta.metadata.labels of type string"
    )
    warn = patch("main", MERGE, {"spec": {"foo": 1}, "x": 2}, old, name="p6")
    assert warn.warnings == [
        '299 - "unknown field \\"spec.foo\\""',
        '299 - "unknown field \\"x\\""',
    ]


def test_merge_patch_keeps_untouched_bytes_and_sorts_touched_maps() -> None:
    doc = b'{"z":{"y":1.50,"x":2},"a":{"k":[1,2]}}'
    out = apply_merge_patch(doc, b'{"a":{"k":null,"n":{"q":null,"p":"<"}},"b":[{"c":null}]}')
    # "z" is never looked into and keeps its bytes; "a" is re-encoded with sorted keys;
    # nulls are pruned from new values, objects inside arrays included (checked against
    # gopkg.in/evanphx/json-patch.v4 itself)
    assert out == b'{"a":{"n":{"p":"\\u003c"}},"b":[{}],"z":{"y":1.50,"x":2}}'


def test_json_patch_v4_quirks() -> None:
    doc = b'{"a":{"b":1},"l":[1,2,3]}'

    def run(ops: list[dict[str, Any]]) -> Any:
        decoded = decode_patch(json.dumps(ops).encode())
        assert isinstance(decoded, list)
        result = apply_json_patch(doc, decoded)
        return result if not isinstance(result, bytes) else json.loads(result)

    assert run([{"op": "replace", "path": "/a/c", "value": 2}]) == {
        "a": {"b": 1, "c": 2},
        "l": [1, 2, 3],
    }
    assert run([{"op": "test", "path": "/a/zz", "value": None}]) == json.loads(doc)
    assert run([{"op": "add", "path": "x/q", "value": 1}])["q"] == 1  # first segment ignored
    assert run([{"op": "remove", "path": "/l/-1"}])["l"] == [1, 2]
    assert run([{"op": "add", "path": "/l/+0", "value": 0}])["l"] == [0, 1, 2, 3]
    assert run([{"op": "test", "path": "/a", "value": None}]) != json.loads(doc)  # {b:1} ≠ null
    assert not isinstance(run([{"op": "remove", "path": "/zz"}]), dict)


def test_json_patch_failures() -> None:
    old = stored_csr()
    failed = patch("main", JSONP, [{"op": "remove", "path": "/metadata/labels/x"}], old)
    assert failed.body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }
    too_many = patch(
        "main", JSONP, [{"op": "test", "path": "/metadata/name", "value": "x"}] * 10001, old
    )
    assert too_many.code == 413 and too_many.body["message"] == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001"
    )
    assert patch("main", JSONP, {}, old).body["message"] == (
        "error decoding patch: json: cannot unmarshal object into Go value of type "
        "[]handlers.jsonPatchOp"
    )
    assert patch("main", JSONP, {}, old, {"fieldValidation": ["Ignore"]}).body["message"] == (
        "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
    )
    assert strict_json_patch(b'[{"op":"add","path":"/a","value":1,"Op":2}]') == (
        None,
        ['unknown field "[0].Op"'],
    )


def test_strategic_merge_patch_for_csr() -> None:
    original = json.loads(
        encode_csr(stored_csr(finalizers=["a/1", "a/2"], conditions=[approved()]))
    )
    merged = strategic_merge(
        copy.deepcopy(original),
        {
            "metadata": {"finalizers": ["a/3"], "$deleteFromPrimitiveList/finalizers": ["a/1"]},
            "status": {"conditions": [{"type": "Failed", "status": "True"}]},
        },
    )
    # patch items first, then server-only ones (checked against the Go library)
    assert merged["metadata"]["finalizers"] == ["a/3", "a/2"]
    assert merged["status"]["conditions"] == [{"type": "Failed", "status": "True"}]
    refs = [{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u1"}]
    with_refs = strategic_merge(copy.deepcopy(original), {"metadata": {"ownerReferences": refs}})
    dropped = strategic_merge(
        with_refs, {"metadata": {"ownerReferences": [{"uid": "u1", "$patch": "delete"}]}}
    )
    assert (
        "ownerReferences" not in dropped["metadata"] or dropped["metadata"]["ownerReferences"] == []
    )
    directive = {"metadata": {"labels": {"$patch": "replace", "z": "1"}}}
    # a map carrying a directive is dropped when the object has no such map yet
    assert (
        "labels"
        not in strategic_merge(copy.deepcopy(original), copy.deepcopy(directive))["metadata"]
    )
    labelled = copy.deepcopy(original)
    labelled["metadata"]["labels"] = {"a": "1"}
    assert strategic_merge(labelled, directive)["metadata"]["labels"] == {"z": "1"}
    with pytest.raises(SMPError) as bad:
        strategic_merge(copy.deepcopy(original), {"metadata": {"$retainKeys": "x"}})
    assert bad.value.code == 400 and bad.value.message == "invalid patch format of retainKeys"
    with pytest.raises(SMPError) as unknown:
        strategic_merge(copy.deepcopy(original), {"metadata": {"$setElementOrder/nope": []}})
    assert unknown.value.code == 500
    assert (
        unknown.value.message
        == 'unable to find api field in struct ObjectMeta for the json field "nope"'
    )


def test_smp_through_the_pipeline() -> None:
    old = stored_csr(finalizers=["example.com/f1"])
    d = patch("main", SMP, {"metadata": {"finalizers": ["example.com/f2"]}}, old)
    # the patch's items first, then the server-only ones (seen on kube-apiserver v1.37.2)
    assert d.code == 200 and d.body["metadata"]["finalizers"] == [
        "example.com/f2",
        "example.com/f1",
    ]
    assert "CSR-PATCH-SMP" in d.rules
    strict = patch("main", SMP, {"spec": {"foo": "bar"}}, old, {"fieldValidation": ["Strict"]})
    assert strict.code == 422 and strict.body["message"] == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[foo:bar]]": strict decoding error: '
        'unknown field "spec.foo"'
    )
    assert go_format_v({"b": [1, 2.5, None], "a": True}) == "map[a:true b:[1 2.5 <nil>]]"


def test_apply_hook_creates_on_the_main_resource() -> None:
    cfg = (
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\n"
        f"metadata:\n  name: new\nspec:\n  request: {request_b64()}\n"
        "  signerName: example.com/x\n  usages: [client auth]\n"
    ).encode()
    d = patch("main", APPLY, cfg, None, {"fieldManager": ["m"]}, name="new")
    assert d.code == 201 and d.body["metadata"]["uid"] == "uid-new" and d.persist
    assert d.body["spec"]["username"] == "csrc-admin"
    uid_cfg = cfg.replace(b"name: new\n", b"name: new\n  uid: abc\n")
    conflict = patch("main", APPLY, uid_cfg, None, {"fieldManager": ["m"]}, name="new")
    assert conflict.code == 409 and conflict.body["message"].endswith(
        "uid mismatch: the provided object specified uid abc, and no existing object was found"
    )


def test_manager_name_from_user_agent() -> None:
    assert manager_or_user_agent("", "kubectl/v1.37 (linux)") == "kubectl"
    assert manager_or_user_agent("mine", "kubectl/v1.37") == "mine"
    assert manager_or_user_agent("", "a\x00b") == "ab"


# ---------------------------------------------------------------------------
# differential check against a real kube-apiserver (skipped without binaries)
# ---------------------------------------------------------------------------

LIVE_REQUESTS = 150


@pytest.fixture(scope="module")
def live_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from conformance.targets.controlplane import ControlPlane, MissingAssets, find_assets

    try:
        assets = find_assets(None)
    except MissingAssets as e:
        pytest.skip(f"no control-plane binaries: {e}")
    path = str(tmp_path_factory.mktemp("upd") / "kubeconfig")
    with ControlPlane(assets, controller_manager=False) as plane:
        plane.write_kubeconfig(path)
        yield path


def _live_request(
    rnd: random.Random, stored: dict[str, Any]
) -> tuple[Endpoint, Method, bytes, str]:
    endpoints: list[Endpoint] = ["main", "approval", "status"]
    endpoint = rnd.choice(endpoints)
    conds = rnd.choice(
        [
            [],
            [{"type": "Approved", "status": "True"}],
            [{"type": "Failed", "status": "True"}],
            [{"type": "Denied", "status": "True"}],
            [{"type": "X", "status": "Maybe"}],
        ]
    )
    if rnd.random() < 0.4:
        obj = copy.deepcopy(stored)
        obj["metadata"].pop("managedFields", None)
        obj["metadata"]["labels"] = {"k": rnd.choice(["1", "2"])}
        obj["status"] = {"conditions": conds}
        if rnd.random() < 0.3:
            obj["status"]["certificate"] = rnd.choice([cert_b64(), ""])
        if rnd.random() < 0.2:
            obj["metadata"]["resourceVersion"] = "1"
        return endpoint, "PUT", json.dumps(obj).encode(), "application/json"
    kind = rnd.choice([MERGE, JSONP, SMP])
    if kind == JSONP:
        ops = [
            {"op": "add", "path": "/metadata/labels", "value": {"j": "1"}},
            {"op": "replace", "path": "/status/conditions", "value": conds},
        ]
        return endpoint, "PATCH", json.dumps(rnd.sample(ops, rnd.randint(1, 2))).encode(), kind
    body = {
        "metadata": {"finalizers": rnd.choice([["a.b/c"], None])},
        "status": {"conditions": conds},
    }
    return endpoint, "PATCH", json.dumps(body).encode(), kind


def _decide_live(
    endpoint: Any, method: Any, name: str, raw: bytes, ct: str, stored: Any, now: str
) -> Any:
    return decide_update(
        endpoint,
        method,
        name,
        raw,
        ct,
        {},
        ADMIN,
        allow_all,
        stored=stored,
        now=now,
        user_agent="csr-conformance/0.1.0",
    )


def test_decide_update_matches_kube_apiserver(live_kubeconfig: str) -> None:
    import datetime

    from conformance.client import Client, Connection, Transcript

    client = Client(Connection.from_kubeconfig(live_kubeconfig, "admin"), "admin", Transcript())
    path = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    rnd = random.Random(7)
    mismatches: list[str] = []
    for i in range(LIVE_REQUESTS):
        name = f"upd-diff-{i % 5}"
        got = client.request("GET", f"{path}/{name}")
        if got.status == 404:
            body = {
                "metadata": {"name": name},
                "spec": {
                    "request": request_b64(),
                    "signerName": "example.com/diff",
                    "usages": ["client auth"],
                },
            }
            assert client.create(body).status == 201
            got = client.request("GET", f"{path}/{name}")
        stored = got.obj()
        endpoint, method, raw, ct = _live_request(rnd, stored)
        before = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = f"{path}/{name}" + ("" if endpoint == "main" else f"/{endpoint}")
        resp = client.request(method, url, data=raw, content_type=ct)
        after = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        # The server's clock second is one of the two around the request: a write that restamps
        # managedFields in a new second is not a no-op, so judge by whichever second it used.
        candidates = [
            _decide_live(endpoint, method, name, raw, ct, stored, t) for t in (before, after)
        ]
        d = candidates[0]
        if after != before and resp.status == 200:
            same_rv = (
                resp.obj()["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
            )
            d = next((c for c in candidates if c.noop == same_rv), d)
        if resp.status != d.code:
            mismatches.append(
                f"{i}: {method} {endpoint} real {resp.status} oracle {d.code}: {resp.body[:300]!r}"
            )
        elif resp.status >= 400 and d.exact and resp.obj() != d.body:
            mismatches.append(f"{i}: body {resp.obj()} != {d.body}")
        elif resp.status == 200:
            same_rv = (
                resp.obj()["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
            )
            if same_rv != d.noop:
                mismatches.append(f"{i}: noop real {same_rv} oracle {d.noop}")
    assert not mismatches, "\n".join(mismatches)
