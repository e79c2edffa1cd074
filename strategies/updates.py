"""Strategies for writes after create: conditions, certificates, edits, and how they are sent.

A write is drawn as an *edit* of the stored object (what the client wants it to look like)
plus an *encoding* (PUT, or one of the patch types, with or without a resourceVersion).
Separating the two lets one edit be judged through every endpoint and every wire form,
and keeps shrinking meaningful: an edit shrinks towards "change nothing", an encoding
towards a plain PUT.
"""

from __future__ import annotations

import base64
import copy
import datetime
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from hypothesis import strategies as st

from strategies.keys import private_keys
from strategies.names import custom_signer_names
from strategies.pem import csr_pems, self_signed_certificate
from strategies.usages import usage_lists

JSON = dict[str, Any]

SPECIAL_TYPES: Final = ("Approved", "Denied", "Failed")
CUSTOM_TYPES: Final = ("ApprovalPatch", "StatusUpdate", "example.com/Checked")
ENDPOINTS: Final = ("main", "approval", "status")
ENCODINGS: Final = ("put", "put-unconditional", "put-stale", "merge", "json", "smp", "merge-rv")

_CONTENT_TYPES: Final = {
    "merge": "application/merge-patch+json",
    "merge-rv": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "smp": "application/strategic-merge-patch+json",
}


def _timestamp(draw: st.DrawFn) -> str:
    moment = draw(
        st.datetimes(
            min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 1, 1)
        )
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def conditions(draw: st.DrawFn, types: tuple[str, ...] = SPECIAL_TYPES + CUSTOM_TYPES) -> JSON:
    """One condition; mostly one the server accepts, sometimes breaking C1-C3.

    Well-formed conditions dominate so that histories get past validation and reach the
    interesting transitions (approve, then deny; fail; issue); the malformed ones still
    come often enough to check the 422s.
    """
    ctype = draw(st.sampled_from(types)) if draw(st.integers(0, 9)) else ""
    if ctype in SPECIAL_TYPES:
        status = "True" if draw(st.integers(0, 5)) else draw(st.sampled_from(["False", "", "x"]))
    else:
        status = (
            draw(st.sampled_from(["True", "False", "Unknown"])) if draw(st.integers(0, 7)) else ""
        )
    cond: JSON = {"type": ctype, "status": status}
    if draw(st.booleans()):
        cond["reason"] = draw(st.sampled_from(["AutoApproved", "E2E", "Because", ""]))
    if draw(st.booleans()):
        cond["message"] = draw(st.text(max_size=20))
    if draw(st.integers(0, 3)) == 3:
        cond["lastUpdateTime"] = _timestamp(draw)
    if draw(st.integers(0, 3)) == 3:
        cond["lastTransitionTime"] = _timestamp(draw)
    return cond


def _pem(block_type: str, der: bytes, headers: str = "") -> bytes:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN {block_type}-----\n{headers}{body}-----END {block_type}-----\n".encode()


@st.composite
def certificate_values(draw: st.DrawFn) -> str:
    """A base64 ``status.certificate``: valid chains, tolerated junk, and each K1 failure."""
    key = draw(private_keys(kinds=["ecdsa-p256", "ed25519"]))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr-conformance")])
    der = self_signed_certificate(key, subject, serial=draw(st.integers(1, 2**32))).public_bytes(
        serialization.Encoding.DER
    )
    kind = draw(
        st.sampled_from(
            [
                "valid",
                "valid-two-blocks",
                "valid-with-junk",
                "empty",
                "no-block",
                "wrong-type",
                "headers",
                "garbage-der",
            ]
        )
    )
    pem = {
        "valid": _pem("CERTIFICATE", der),
        "valid-two-blocks": _pem("CERTIFICATE", der) + _pem("CERTIFICATE", der),
        "valid-with-junk": b"chain:\n" + _pem("CERTIFICATE", der) + b"end\n",
        "empty": b"",
        "no-block": b"not a certificate",
        "wrong-type": _pem("CERTIFICATE REQUEST", der),
        "headers": _pem("CERTIFICATE", der, headers="Proc-Type: 4,ENCRYPTED\n\n"),
        "garbage-der": _pem("CERTIFICATE", b"\x30\x03\x02\x01\x01"),
    }[kind]
    return base64.b64encode(pem).decode()


@st.composite
def spec_edits(draw: st.DrawFn) -> JSON:
    """Changes to spec fields; every one of them must be ignored by every endpoint."""
    edit: JSON = {}
    if draw(st.booleans()):
        edit["signerName"] = draw(custom_signer_names())
    if draw(st.booleans()):
        edit["usages"] = draw(usage_lists())
    if draw(st.booleans()):
        edit["expirationSeconds"] = draw(st.integers(600, 10**6))
    if draw(st.booleans()):
        edit["username"] = draw(st.sampled_from(["mallory", "system:admin"]))
    if draw(st.booleans()):
        edit["groups"] = ["system:masters"]
    if draw(st.integers(0, 3)) == 3:
        edit["request"] = base64.b64encode(draw(csr_pems())).decode()
    return edit


@dataclass
class Edit:
    """What the client wants the object to look like, relative to what is stored."""

    spec: JSON = field(default_factory=dict)
    conditions: list[tuple[str, Any]] = field(default_factory=list)  # (op, arg)
    certificate: str | None = None
    labels: dict[str, str | None] = field(default_factory=dict)
    annotations: dict[str, str | None] = field(default_factory=dict)

    def apply(self, stored: JSON) -> JSON:
        """The desired object: ``stored`` with this edit applied."""
        obj = copy.deepcopy(stored)
        obj["spec"] = {**obj.get("spec", {}), **self.spec}
        status = obj.setdefault("status", {})
        conds = list(status.get("conditions") or [])
        for op, arg in self.conditions:
            if op == "append":
                conds.append(arg)
            elif op == "remove" and conds:
                conds.pop(arg % len(conds))
            elif op == "reason" and conds:
                conds[arg[0] % len(conds)] = {**conds[arg[0] % len(conds)], "reason": arg[1]}
            elif op == "replace":
                conds = list(arg)
        if conds or "conditions" in status:
            status["conditions"] = conds
        if self.certificate is not None:
            status["certificate"] = self.certificate
        meta = obj.setdefault("metadata", {})
        for key, changes in (("labels", self.labels), ("annotations", self.annotations)):
            if changes:
                current = dict(meta.get(key) or {})
                for k, v in changes.items():
                    if v is None:
                        current.pop(k, None)
                    else:
                        current[k] = v
                meta[key] = current
        return obj


_META_KEYS = st.sampled_from(["app", "tier", "example.com/owner"])
_META_VALUES = st.sampled_from(["a", "b", "c-1"]) | st.none()


@st.composite
def edits(draw: st.DrawFn) -> Edit:
    """An edit touching any mix of spec, conditions, certificate and metadata."""
    edit = Edit()
    if draw(st.integers(0, 3)) == 3:
        edit.spec = draw(spec_edits())
    ops = st.one_of(
        st.tuples(st.just("append"), conditions()),
        st.tuples(st.just("remove"), st.integers(0, 5)),
        st.tuples(st.just("reason"), st.tuples(st.integers(0, 5), st.sampled_from(["R1", "R2"]))),
        st.tuples(st.just("replace"), st.lists(conditions(), max_size=3)),
    )
    edit.conditions = draw(st.lists(ops, max_size=2))
    if draw(st.integers(0, 2)) == 2:
        edit.certificate = draw(certificate_values())
    edit.labels = draw(st.dictionaries(_META_KEYS, _META_VALUES, max_size=2))
    edit.annotations = draw(st.dictionaries(_META_KEYS, _META_VALUES, max_size=2))
    return edit


def content_type(encoding: str) -> str:
    return _CONTENT_TYPES.get(encoding, "application/json")


def merge_patch(old: Any, new: Any) -> Any:
    """RFC 7386 patch turning ``old`` into ``new`` (lists are replaced whole)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: JSON = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = merge_patch(old[key], value)
    return patch


def json_patch(old: JSON, new: JSON) -> list[JSON]:
    """RFC 6902 operations turning ``old`` into ``new``, one per changed second-level field."""
    ops: list[JSON] = []
    for section in ("metadata", "spec", "status"):
        before, after = old.get(section) or {}, new.get(section) or {}
        if section not in old and after:
            ops.append({"op": "add", "path": f"/{section}", "value": after})
            continue
        for key in sorted(set(before) | set(after)):
            path = f"/{section}/{key.replace('~', '~0').replace('/', '~1')}"
            if key not in after:
                ops.append({"op": "remove", "path": path})
            elif key not in before:
                ops.append({"op": "add", "path": path, "value": after[key]})
            elif before[key] != after[key]:
                ops.append({"op": "replace", "path": path, "value": after[key]})
    return ops


def encode_write(encoding: str, stored: JSON, desired: JSON, stale_rv: str) -> Any:
    """The request body (a JSON value) that asks for ``desired`` in the given encoding."""
    if encoding.startswith("put"):
        body = copy.deepcopy(desired)
        meta = body.setdefault("metadata", {})
        meta.pop("managedFields", None)
        if encoding == "put-unconditional":
            meta.pop("resourceVersion", None)
        elif encoding == "put-stale":
            meta["resourceVersion"] = stale_rv
        return body
    if encoding == "json":
        return json_patch(stored, desired)
    patch = merge_patch(stored, desired)
    if encoding == "merge-rv":
        patch.setdefault("metadata", {})["resourceVersion"] = stored["metadata"]["resourceVersion"]
    return patch
