"""How PUT and PATCH requests are read: decoding, options, field validation, dry run.

The update state machine sends well-formed writes with no query, so these request-level
rules never reach it. Each property here sends one write that is wrong (or special) in
exactly the way its rule decides, through the endpoints and encodings the rule covers,
and the oracle (``decide_update``) judges the answer; where the rule is about storage
(dry run), the object read back afterwards is checked too.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.identities import ADMIN
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import CONTENT_TYPES, create, send, stored
from conformance.properties.writes import without_managed_fields as sendable
from strategies.csr import valid_csr
from strategies.focused import ENCODINGS, metadata_changes
from strategies.updates import encode_write

_ENDPOINTS = st.sampled_from(["main", "status", "approval"])
_CSRS = valid_csr(junk=False)


def _with_metadata(obj: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    out["metadata"] = {**obj["metadata"], **change}
    return out


# -- CSR-UPD-DECODE ----------------------------------------------------------------------

_DECODE_PROBLEMS = (
    "api-version",
    "syntax",
    "type-error",
    "kind",
    "media-type",
)


def _undecodable(problem: str, obj: dict[str, Any], variant: int) -> tuple[bytes, str]:
    """A PUT body (and Content-Type) broken in one way create bodies are refused for."""
    body = sendable(obj)
    if problem == "api-version":
        body["apiVersion"] = (
            "certificates.k8s.io/v1beta1",
            "example.com/v1",
            "v1",
        )[variant % 3]
    elif problem == "kind":
        body["kind"] = ("ConfigMap", "CertificateSigningRequestList")[variant % 2]
    elif problem == "type-error":
        if variant % 3 == 0:
            body["spec"] = {**body["spec"], "usages": "digital signature"}
        elif variant % 3 == 1:
            body["metadata"] = {**body["metadata"], "labels": ["a"]}
        else:
            body["spec"] = {**body["spec"], "expirationSeconds": "600"}
    raw = json.dumps(body).encode()
    if problem == "syntax":
        raw = raw[: max(1, len(raw) // (2 + variant % 3))]
    ctype = "application/json"
    if problem == "media-type":
        ctype = ("text/plain", "application/xml")[variant % 2]
    return raw, ctype


@given(
    csr=_CSRS,
    problem=st.sampled_from(_DECODE_PROBLEMS),
    variant=st.integers(0, 5),
    endpoint=_ENDPOINTS,
)
@rules("CSR-UPD-DECODE", "CSR-ERR-STATUS")
def test_put_bodies_are_decoded_like_create_bodies(
    csr: dict[str, Any], problem: str, variant: int, endpoint: str
) -> None:
    """A PUT with another group/version, another kind, broken JSON, a JSON type error or an
    unsupported media type is refused as kube-apiserver refuses it, and changes nothing."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        body, ctype = _undecodable(problem, _with_metadata(obj, {"labels": {"x": "y"}}), variant)
        send(
            session,
            role=ADMIN,
            endpoint=endpoint,
            method="PUT",
            name=name,
            body=body,
            content_type=ctype,
        )


# -- CSR-PATCH-OPTS ----------------------------------------------------------------------

_BAD_OPTIONS: dict[str, dict[str, list[str]]] = {
    "dry-run-value": {"dryRun": ["Everything"]},
    "dry-run-extra": {"dryRun": ["All", "None"]},
    "field-validation": {"fieldValidation": ["Loud"]},
    "field-manager-long": {"fieldManager": ["m" * 129]},
    "field-manager-unprintable": {"fieldManager": ["tab\there"]},
    "force-without-apply": {"force": ["true"]},
}


@given(
    csr=_CSRS,
    option=st.sampled_from(sorted(_BAD_OPTIONS)),
    encoding=st.sampled_from(ENCODINGS),
    endpoint=_ENDPOINTS,
)
@rules("CSR-PATCH-OPTS", "CSR-ERR-STATUS")
def test_invalid_update_and_patch_options_are_422(
    csr: dict[str, Any], option: str, encoding: str, endpoint: str
) -> None:
    """Invalid UpdateOptions/PatchOptions give 422 naming the options kind; nothing changes."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        desired = _with_metadata(obj, {"labels": {**obj["metadata"]["labels"], "opt": "x"}})
        body = encode_write(encoding, obj, desired, "")
        _resp, decision = send(
            session,
            role=ADMIN,
            endpoint=endpoint,
            method="PUT" if encoding == "put" else "PATCH",
            name=name,
            body=body,
            content_type=CONTENT_TYPES[encoding],
            query=_BAD_OPTIONS[option],
        )
        if decision.code >= 300:
            checks.same_object(stored(session, name) or {}, obj, "object after refused options")


@given(csr=_CSRS, endpoint=_ENDPOINTS)
@rules("CSR-PATCH-OPTS", "CSR-PATCH-APPLY")
def test_apply_without_a_field_manager_is_422(csr: dict[str, Any], endpoint: str) -> None:
    """Server-side apply needs fieldManager; without it the PatchOptions are invalid."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        apply = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "metadata": {"name": name, "labels": {"applied": "yes"}},
        }
        send(
            session,
            role=ADMIN,
            endpoint=endpoint,
            method="PATCH",
            name=name,
            body=apply,
            content_type=CONTENT_TYPES["apply"],
        )


# -- CSR-PATCH-FIELDVAL ------------------------------------------------------------------

_UNKNOWN_PLACES = ("spec", "metadata", "status", "top")


def _patch_with_unknown(encoding: str, place: str, label: str) -> bytes:
    """A patch that sets a label and an unknown field at ``place``."""
    if encoding == "json":
        ops: list[dict[str, Any]] = [
            {"op": "add", "path": "/metadata/labels/patched", "value": label}
        ]
        path = "/bogusField" if place == "top" else f"/{place}/bogusField"
        if place == "status":
            ops.append({"op": "add", "path": "/status", "value": {"bogusField": 1}})
        else:
            ops.append({"op": "add", "path": path, "value": 1})
        return json.dumps(ops).encode()
    doc: dict[str, Any] = {"metadata": {"labels": {"patched": label}}}
    if place == "top":
        doc["bogusField"] = 1
    else:
        doc.setdefault(place, {})["bogusField"] = 1
    return json.dumps(doc).encode()


def _patch_with_duplicate(label: str) -> bytes:
    """A merge-style patch whose labels map names one key twice (the last value wins)."""
    return (
        b'{"metadata":{"labels":{"patched":"first","patched":' + json.dumps(label).encode() + b"}}}"
    )


@given(
    csr=_CSRS,
    encoding=st.sampled_from(["merge", "smp", "json"]),
    place=st.sampled_from([*_UNKNOWN_PLACES, "duplicate"]),
    directive=st.sampled_from(["Strict", "Warn", None]),
    endpoint=_ENDPOINTS,
)
@rules("CSR-PATCH-FIELDVAL")
def test_unknown_and_duplicate_fields_in_patches_follow_field_validation(
    csr: dict[str, Any], encoding: str, place: str, directive: str | None, endpoint: str
) -> None:
    """A patch carrying an unknown or a duplicated field: Strict is 422, Warn (the default)
    applies it with a Warning header, exactly as kube-apiserver words them."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        if place == "duplicate" and encoding != "json":
            body = _patch_with_duplicate("second")
        else:
            body = _patch_with_unknown(encoding, place if place != "duplicate" else "spec", "v")
        send(
            session,
            role=ADMIN,
            endpoint=endpoint,
            method="PATCH",
            name=name,
            body=body,
            content_type=CONTENT_TYPES[encoding],
            query={"fieldValidation": [directive]} if directive else {},
        )


# -- CSR-UPD-DRYRUN ----------------------------------------------------------------------


@given(
    csr=_CSRS,
    change=metadata_changes(),
    encoding=st.sampled_from(ENCODINGS),
    endpoint=_ENDPOINTS,
)
@rules("CSR-UPD-DRYRUN", "CSR-SUB-META")
def test_dry_run_updates_answer_like_real_ones_and_store_nothing(
    csr: dict[str, Any], change: dict[str, Any], encoding: str, endpoint: str
) -> None:
    """dryRun=All on PUT or PATCH answers with the object a real write would store, and the
    stored object (and its resourceVersion) stays as it was."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        if "labels" in change:
            change = {**change, "labels": {**obj["metadata"]["labels"], **change["labels"]}}
        body = encode_write(encoding, obj, _with_metadata(obj, change), "")
        send(
            session,
            role=ADMIN,
            endpoint=endpoint,
            method="PUT" if encoding == "put" else "PATCH",
            name=name,
            body=body,
            content_type=CONTENT_TYPES[encoding],
            query={"dryRun": ["All"]},
        )
        checks.same_object(stored(session, name) or {}, obj, "object after a dry-run write")
