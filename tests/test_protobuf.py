"""The hand-written protobuf codec against bodies a real kube-apiserver v1.37.2 sent.

Fixtures come from ``tests/fixtures/protobuf/capture.py``: each holds the JSON and the
protobuf body of the same response. Decoding the protobuf must give the server's JSON
exactly, and encoding the JSON must give the server's bytes exactly (Go's marshaller is
deterministic: fields in number order, map keys sorted). The capture script also checked
live that a PUT built with ``encode`` is accepted and acts like the JSON PUT.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from binaries import ASSETS, needs_assets
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.targets.controlplane import ControlPlane
from conformance.wire import protobuf as pb

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from livecapture import CSRS, Live, csr_body

FIXTURES = Path(__file__).parent / "fixtures" / "protobuf"
PAIRS = sorted(
    p.stem
    for p in FIXTURES.glob("*.json")
    if "protobuf" in json.loads(p.read_text()) and "json" in json.loads(p.read_text())
)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("name", PAIRS)
def test_decode_matches_server_json(name: str) -> None:
    case = load(name)
    assert pb.decode(base64.b64decode(case["protobuf"])) == case["json"]


@pytest.mark.parametrize("name", PAIRS)
def test_encode_matches_server_bytes(name: str) -> None:
    case = load(name)
    assert pb.encode(case["json"]) == base64.b64decode(case["protobuf"])


def test_fixtures_cover_every_field_kind() -> None:
    rich = load("rich")["json"]
    meta, spec, status = rich["metadata"], rich["spec"], rich["status"]
    assert {"generateName", "annotations", "finalizers", "ownerReferences", "managedFields"} <= set(
        meta
    )
    assert {"expirationSeconds", "extra", "uid", "groups"} <= set(spec)
    assert status["certificate"] and len(status["conditions"]) == 2
    deleting = load("deleting")["json"]["metadata"]
    assert "deletionTimestamp" in deleting and deleting["deletionGracePeriodSeconds"] == 0
    assert load("list-page")["json"]["metadata"].get("continue")
    assert load("list-remaining")["json"]["metadata"].get("remainingItemCount", 0) >= 1
    assert load("list-empty")["json"]["items"] == []
    assert load("status-invalid")["json"]["details"]["causes"]


def test_kubectl_approve_body_round_trips() -> None:
    """The PUT body ``kubectl certificate approve`` sent (decoded while capturing)."""
    case = load("kubectl-approve")
    assert case["content_type"] == pb.MEDIA_TYPE
    conditions = case["json"]["status"]["conditions"]
    assert conditions[0]["reason"] == "KubectlApprove"
    assert conditions[0]["lastTransitionTime"] is None


def test_put_body_is_what_encode_makes() -> None:
    case = load("put-approval")
    assert pb.encode(case["sent_json"]) == base64.b64decode(case["sent_protobuf"])
    response = pb.decode(base64.b64decode(case["response_protobuf"]))
    assert response == case["response_json"]
    assert response["status"]["conditions"][0]["reason"] == "ViaPut"


def test_watch_frames_decode_to_the_json_stream() -> None:
    case = load("watch")
    assert case["content_type"] == pb.WATCH_MEDIA_TYPE
    events = pb.decode_watch_events(base64.b64decode(case["protobuf"]))
    assert [{"type": t, "object": o} for t, o in events] == case["json_lines"]
    frames = b"".join(pb.encode_watch_event(e["type"], e["object"]) for e in case["json_lines"])
    assert frames == base64.b64decode(case["protobuf"])


def test_go_normalize_renders_like_go() -> None:
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "n", "labels": {}, "generation": 0, "unknown": 1},
        "spec": {"usages": [], "signerName": "example.com/x"},
        "status": {"conditions": [{"type": "Approved", "status": "True", "reason": ""}]},
    }
    assert pb.go_normalize(body) == {
        "kind": "CertificateSigningRequest",
        "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"name": "n"},
        "spec": {"request": None, "signerName": "example.com/x"},
        "status": {
            "conditions": [
                {
                    "type": "Approved",
                    "status": "True",
                    "lastUpdateTime": None,
                    "lastTransitionTime": None,
                }
            ]
        },
    }


def test_times_keep_whole_seconds_and_negative_ints_round_trip() -> None:
    obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "code": -1,
        "details": {"retryAfterSeconds": -5, "causes": [{"field": "f"}]},
    }
    assert pb.decode(pb.encode(obj)) == obj
    csr = {
        "kind": "CertificateSigningRequest",
        "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"creationTimestamp": "2024-02-29T23:59:59.75+01:00"},
        "spec": {"request": "", "signerName": ""},
        "status": {},
    }
    out = pb.go_normalize(csr)
    assert out["metadata"]["creationTimestamp"] == "2024-02-29T22:59:59Z"
    assert out["spec"]["request"] == ""


def test_bad_input_is_a_protobuf_error() -> None:
    with pytest.raises(pb.ProtobufError):
        pb.decode(b"not protobuf")
    with pytest.raises(pb.ProtobufError):
        pb.decode(pb.MAGIC + b"\x0a\xff")
    with pytest.raises(pb.ProtobufError):
        pb.encode({"kind": "Pod"})
    with pytest.raises(pb.ProtobufError):
        pb.encode({"kind": "CertificateSigningRequest", "spec": {"expirationSeconds": 1 << 40}})


_text = st.text(max_size=8)
_csrs = st.fixed_dictionaries(
    {
        "kind": st.just("CertificateSigningRequest"),
        "apiVersion": st.just("certificates.k8s.io/v1"),
        "metadata": st.fixed_dictionaries(
            {},
            optional={
                "name": _text,
                "labels": st.dictionaries(_text, _text, max_size=3),
                "finalizers": st.lists(_text, max_size=3),
                "generation": st.integers(-(2**63), 2**63 - 1),
            },
        ),
        "spec": st.fixed_dictionaries(
            {"signerName": _text},
            optional={
                "request": st.binary(max_size=20).map(lambda b: base64.b64encode(b).decode()),
                "usages": st.lists(_text, max_size=3),
                "expirationSeconds": st.integers(-(2**31), 2**31 - 1),
                "extra": st.dictionaries(
                    _text, st.lists(_text, min_size=1, max_size=2), max_size=2
                ),
            },
        ),
        "status": st.just({}),
    }
)


@settings(max_examples=60, deadline=None)
@given(_csrs)
def test_round_trip_is_stable(obj: dict[str, Any]) -> None:
    once = pb.go_normalize(obj)
    assert pb.go_normalize(once) == once
    assert pb.encode(once) == pb.encode(obj)


# -- live, when the control-plane binaries are present ----------------------------------------


@needs_assets
def test_live_protobuf_put_round_trip(tmp_path: Path) -> None:
    """A PUT encoded by ``encode`` is accepted, and every GET decodes to the JSON GET."""
    assets = ASSETS
    assert assets is not None
    with ControlPlane(assets, controller_manager=False) as cp:
        ca = tmp_path / "ca.pem"
        ca.write_bytes(cp.ca_pem)
        live = Live(cp.url, {r: u.token for r, u in cp.users.items()}, str(ca))
        assert live.call("POST", CSRS, csr_body("pb-live")).status == 201
        current = live.call("GET", f"{CSRS}/pb-live").json()
        current["metadata"]["labels"] = {"via": "protobuf"}
        current["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "R"}]}
        put = live.call(
            "PUT",
            f"{CSRS}/pb-live/approval",
            pb.encode(current),
            content_type=pb.MEDIA_TYPE,
            accept=pb.MEDIA_TYPE,
        )
        assert put.status == 200, put.body
        as_json = live.call("GET", f"{CSRS}/pb-live").json()
        assert pb.decode(put.body) == as_json
        assert as_json["metadata"]["labels"] == {"via": "protobuf"}
        assert as_json["status"]["conditions"][0]["reason"] == "R"
        as_pb = live.call("GET", f"{CSRS}?limit=10", accept=pb.MEDIA_TYPE)
        assert pb.decode(as_pb.body) == live.call("GET", f"{CSRS}?limit=10").json()
        assert pb.encode(as_json) == live.call("GET", f"{CSRS}/pb-live", accept=pb.MEDIA_TYPE).body
