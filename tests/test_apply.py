"""Server-side apply and managedFields bookkeeping against a real kube-apiserver v1.37.2.

The fixtures (``tests/fixtures/apply/*.json``, written by ``capture.py`` there) record
scenarios step by step: each request and the server's full response. Every step is
replayed through ``conformance.oracle.apimachinery.apply`` with the previous response as the live
object, and the managedFields (entries, order, times, FieldsV1 bytes), the conflict
Status and the merged metadata must match what the server did.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.oracle.apimachinery import apply as ssa
from conformance.oracle.apimachinery.ssa_fieldset import FieldSet
from conformance.targets.fake import managed_fields as fake_managed_fields

FIXTURES = Path(__file__).parent / "fixtures" / "apply"
SCENARIOS = sorted(p.stem for p in FIXTURES.glob("*.json"))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def same_bytes(a: Any, b: Any) -> bool:
    """Equal including key order, as the wire bytes would be."""
    return json.dumps(a) == json.dumps(b)


def now_of(response: dict[str, Any]) -> str:
    times = [
        e["time"] for e in response.get("metadata", {}).get("managedFields", []) if "time" in e
    ]
    return max(times) if times else "2000-01-01T00:00:00Z"


def steps() -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for name in SCENARIOS:
        data = json.loads((FIXTURES / f"{name}.json").read_text())
        out.extend((name, i) for i in range(len(data["steps"])))
    return out


def _live_before(scenario: dict[str, Any], index: int) -> dict[str, Any] | None:
    live = None
    for step in scenario["steps"][:index]:
        if step["status"] < 300:
            live = step["response"]
    return live


def _meta_view(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata", {})
    return {k: meta.get(k) for k in ("labels", "annotations", "finalizers", "ownerReferences")}


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Conditions without the timestamps the approval strategy fills in later."""
    return [
        {k: v for k, v in c.items() if not k.startswith("last")}
        for c in obj.get("status", {}).get("conditions", [])
    ]


@pytest.mark.parametrize(("scenario", "index"), steps())
def test_step_matches_server(scenario: str, index: int) -> None:
    data = json.loads((FIXTURES / f"{scenario}.json").read_text())
    step = data["steps"][index]
    live = _live_before(data, index)
    response = step["response"]
    now = now_of(response) if step["status"] < 300 else "2000-01-01T00:00:00Z"
    op, endpoint, manager = step["op"], step["endpoint"], step["manager"]
    if op == "apply":
        result = ssa.apply(endpoint, live, step["body"], manager, step["force"], now)
        if step["status"] == 409:
            assert result.error is not None
            assert result.error["message"] == response["message"]
            got = sorted(json.dumps(c, sort_keys=True) for c in result.error["details"]["causes"])
            want = sorted(json.dumps(c, sort_keys=True) for c in response["details"]["causes"])
            assert got == want
            assert {k: v for k, v in result.error.items() if k != "details"} == {
                k: v for k, v in response.items() if k != "details"
            }
            return
        if step["status"] in (400, 404, 500):
            assert result.error == response
            assert result.obj is None
            return
        assert result.error is None, result.error
        assert result.obj is not None
        assert result.created == (step["status"] == 201)
        if step["status"] == 422:
            return  # the field manager was happy; validation refused the result
        assert same_bytes(result.managed_fields, response["metadata"].get("managedFields", []))
        assert result.obj["metadata"].get("managedFields", []) == result.managed_fields
        assert _meta_view(result.obj) == _meta_view(response)
        if endpoint == "approval":
            assert _conditions(result.obj) == _conditions(response)
        return
    if op == "create":
        old = None
        new = step["body"]
    elif op == "update":
        old, new = live, step["body"]
    else:
        assert op == "merge-patch"
        old, new = live, merge_patch(live, step["body"])
    got_entries = ssa.update_managed_fields(endpoint, old, new, manager, now=now)
    assert same_bytes(got_entries, response["metadata"].get("managedFields", []))


def test_fieldsv1_round_trips_every_captured_entry() -> None:
    for name in SCENARIOS:
        for step in json.loads((FIXTURES / f"{name}.json").read_text())["steps"]:
            for entry in step["response"].get("metadata", {}).get("managedFields", []):
                fields = entry["fieldsV1"]
                assert same_bytes(FieldSet.from_fields(fields).to_fields(), fields)


_names = st.text(alphabet="abcxyz-./", min_size=1, max_size=6)


def _owner(uid: str) -> dict[str, str]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": uid}


_meta: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {"name": st.just("n")},
    optional={
        "generateName": st.sampled_from(["", "gen-"]),
        "labels": st.dictionaries(_names, st.text(max_size=3), max_size=3),
        "annotations": st.dictionaries(_names, st.text(max_size=3), max_size=3),
        "finalizers": st.lists(_names, max_size=3, unique=True),
        "ownerReferences": st.lists(
            st.builds(_owner, _names),
            max_size=2,
            unique_by=lambda r: r["uid"],
        ),
    },
)


@settings(max_examples=80, deadline=None)
@given(_meta)
def test_create_agrees_with_the_fakes_create_stamp(meta: dict[str, Any]) -> None:
    obj = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": meta,
        "spec": {"request": "", "signerName": "example.com/x", "usages": ["any"]},
    }
    now = "2025-01-01T00:00:00Z"
    entry = fake_managed_fields.update_entry(obj, "creator", now)
    assert ssa.update_managed_fields("main", None, obj, "creator", now=now) == (
        [entry] if entry else []
    )


def test_restore_unchanged_times_only_when_nothing_else_changed() -> None:
    entry = {"manager": "m", "operation": "Update", "apiVersion": "certificates.k8s.io/v1"}
    old = {"metadata": {"labels": {"a": "1"}, "managedFields": [{**entry, "time": "T1"}]}}
    same = {"metadata": {"labels": {"a": "1"}, "managedFields": [{**entry, "time": "T2"}]}}
    assert ssa.restore_unchanged_times(old, same)["metadata"]["managedFields"][0]["time"] == "T1"
    moved = {"metadata": {"labels": {"a": "2"}, "managedFields": [{**entry, "time": "T2"}]}}
    assert ssa.restore_unchanged_times(old, moved)["metadata"]["managedFields"][0]["time"] == "T2"


def test_update_with_operation_apply_is_refused() -> None:
    with pytest.raises(ValueError):
        ssa.update_managed_fields("main", None, {}, "m", "Apply", now="2025-01-01T00:00:00Z")
