"""Strategies for writes after create: conditions, certificates, edits, and how they are sent.

A write is drawn as an *edit* of the stored object (what the client wants it to look like)
plus an *encoding* (PUT, or one of the patch types, with or without a resourceVersion).
Separating the two lets one edit be judged through every endpoint and every wire form,
and keeps shrinking meaningful: an edit shrinks towards "change nothing", an encoding
towards a plain PUT.

Composites here draw only from strategies built once (module constants or cached
factories); see ``strategies.names`` for why.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
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


_MOMENTS: Final = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 1, 1)
)
_D10: Final = st.integers(0, 9)
_D6: Final = st.integers(0, 5)
_D8: Final = st.integers(0, 7)
_D4: Final = st.integers(0, 3)
_NOT_TRUE: Final = st.sampled_from(["False", "", "x"])
_STATUSES: Final = st.sampled_from(["True", "False", "Unknown"])
_REASONS: Final = st.sampled_from(["AutoApproved", "E2E", "Because", ""])
_MESSAGES: Final = st.text(max_size=20)


def _timestamp(draw: st.DrawFn) -> str:
    moment = draw(_MOMENTS)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(
    types: tuple[str, ...] = SPECIAL_TYPES + CUSTOM_TYPES,
) -> st.SearchStrategy[JSON]:
    """One condition; mostly one the server accepts, sometimes breaking C1-C3.

    Well-formed conditions dominate so that histories get past validation and reach the
    interesting transitions (approve, then deny; fail; issue); the malformed ones still
    come often enough to check the 422s.
    """
    return _conditions(tuple(types))


@functools.cache
def _conditions(types: tuple[str, ...]) -> st.SearchStrategy[JSON]:
    return _conditions_drawn(st.sampled_from(types))


@st.composite
def _conditions_drawn(draw: st.DrawFn, types: st.SearchStrategy[str]) -> JSON:
    ctype = draw(types) if draw(_D10) else ""
    if ctype in SPECIAL_TYPES:
        status = "True" if draw(_D6) else draw(_NOT_TRUE)
    else:
        status = draw(_STATUSES) if draw(_D8) else ""
    cond: JSON = {"type": ctype, "status": status}
    if draw(st.booleans()):
        cond["reason"] = draw(_REASONS)
    if draw(st.booleans()):
        cond["message"] = draw(_MESSAGES)
    if draw(_D4) == 3:
        cond["lastUpdateTime"] = _timestamp(draw)
    if draw(_D4) == 3:
        cond["lastTransitionTime"] = _timestamp(draw)
    return cond


def _pem(block_type: str, der: bytes, headers: str = "") -> bytes:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN {block_type}-----\n{headers}{body}-----END {block_type}-----\n".encode()


_CERT_KEYS: Final = private_keys(kinds=["ecdsa-p256", "ed25519"])
_CERT_SERIALS: Final = st.integers(1, 2**32)
_CERT_KINDS: Final = st.sampled_from(
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


def certificate_values() -> st.SearchStrategy[str]:
    """A base64 ``status.certificate``: valid chains, tolerated junk, and each K1 failure."""
    return _CERTIFICATE_VALUES


@st.composite
def _certificate_values(draw: st.DrawFn) -> str:
    key = draw(_CERT_KEYS)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr-conformance")])
    der = self_signed_certificate(key, subject, serial=draw(_CERT_SERIALS)).public_bytes(
        serialization.Encoding.DER
    )
    kind = draw(_CERT_KINDS)
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


_CERTIFICATE_VALUES: Final = _certificate_values()
_EXPIRATIONS: Final = st.integers(600, 10**6)
_USERNAMES: Final = st.sampled_from(["mallory", "system:admin"])


def spec_edits() -> st.SearchStrategy[JSON]:
    """Changes to spec fields; every one of them must be ignored by every endpoint."""
    return _SPEC_EDITS


@st.composite
def _spec_edits(draw: st.DrawFn) -> JSON:
    edit: JSON = {}
    if draw(st.booleans()):
        edit["signerName"] = draw(custom_signer_names())
    if draw(st.booleans()):
        edit["usages"] = draw(usage_lists())
    if draw(st.booleans()):
        edit["expirationSeconds"] = draw(_EXPIRATIONS)
    if draw(st.booleans()):
        edit["username"] = draw(_USERNAMES)
    if draw(st.booleans()):
        edit["groups"] = ["system:masters"]
    if draw(_D4) == 3:
        edit["request"] = base64.b64encode(draw(csr_pems())).decode()
    return edit


_SPEC_EDITS: Final = _spec_edits()


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


_CONDITION_OPS: Final = st.lists(
    st.one_of(
        st.tuples(st.just("append"), conditions()),
        st.tuples(st.just("remove"), st.integers(0, 5)),
        st.tuples(st.just("reason"), st.tuples(st.integers(0, 5), st.sampled_from(["R1", "R2"]))),
        st.tuples(st.just("replace"), st.lists(conditions(), max_size=3)),
    ),
    max_size=2,
)
_D3: Final = st.integers(0, 2)
_META_EDITS: Final = st.dictionaries(_META_KEYS, _META_VALUES, max_size=2)


def edits() -> st.SearchStrategy[Edit]:
    """An edit touching any mix of spec, conditions, certificate and metadata."""
    return _EDITS


@st.composite
def _edits(draw: st.DrawFn) -> Edit:
    edit = Edit()
    if draw(_D4) == 3:
        edit.spec = draw(spec_edits())
    edit.conditions = draw(_CONDITION_OPS)
    if draw(_D3) == 2:
        edit.certificate = draw(certificate_values())
    edit.labels = draw(_META_EDITS)
    edit.annotations = draw(_META_EDITS)
    return edit


_EDITS: Final = _edits()


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
