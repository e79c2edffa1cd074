"""Aimed draws: inputs that exercise one rule in every example.

The general strategies (``csr``, ``updates``) draw the whole space, so a rule that only
a narrow slice of inputs reaches (an Ed25519 request, a kubernetes.io name nobody
reserved, a status change the main resource must drop although ``/status`` would take
it) is reached by chance. The focused properties draw from here instead: every value is
one that the named rule decides, and shrinking keeps it so.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from hypothesis import strategies as st

from strategies.keys import KEY_KINDS, KeyKind, private_keys
from strategies.names import WELL_KNOWN_SIGNERS, dns_labels
from strategies.pem import csr_pems, self_signed_certificate
from strategies.updates import CUSTOM_TYPES
from strategies.usages import USAGES

JSON = dict[str, Any]

KEY_FAMILIES: Final[dict[str, tuple[KeyKind, ...]]] = {
    family: tuple(k for k in KEY_KINDS if k.startswith(family))
    for family in ("ed25519", "ecdsa", "rsa")
}
"""Key kinds by family; the R4 property sends one request of each family per example."""

MAX_INT32: Final = 2**31 - 1
ONE_YEAR: Final = 365 * 24 * 3600
ENCODINGS: Final = ("put", "merge", "smp", "json")
"""The write encodings of the focused update properties (``strategies.updates`` names)."""


def requests_of_family(family: str) -> st.SearchStrategy[bytes]:
    """PEM requests signed by a key of ``family``, with any subject, SANs and extensions
    (CA-ness included): nothing the API server may refuse (R4)."""
    return csr_pems(private_keys(kinds=KEY_FAMILIES[family]))


def unreserved_kubernetes_signers() -> st.SearchStrategy[str]:
    """``kubernetes.io/<path>`` names no in-tree signer serves: valid like any other (S7)."""
    paths = st.lists(dns_labels(1, 20), min_size=1, max_size=3).map(".".join)
    reserved = {*WELL_KNOWN_SIGNERS, "kubernetes.io/legacy-unknown"}
    return paths.map(lambda p: f"kubernetes.io/{p}").filter(lambda s: s not in reserved)


def long_expirations() -> st.SearchStrategy[int]:
    """expirationSeconds above every cap a server might invent (a day, a year), up to the
    int32 limit: the API has no maximum (X2)."""
    return st.one_of(st.just(MAX_INT32), st.integers(ONE_YEAR + 1, MAX_INT32))


def unsorted_usages() -> st.SearchStrategy[list[str]]:
    """Distinct usages in an order sorting would change (U4)."""
    return st.lists(st.sampled_from(USAGES), min_size=2, max_size=5, unique=True).map(
        lambda us: us[::-1] if us == sorted(us) else us
    )


# -- status changes ------------------------------------------------------------------------


_CERT_KEYS: Final = private_keys(kinds=["ecdsa-p256", "ed25519"])
_COMMON_NAMES: Final = dns_labels(1, 20)
_SERIALS: Final = st.integers(1, 2**32)


@st.composite
def valid_certificates(draw: st.DrawFn) -> str:
    """Base64 certificates ``/status`` accepts, unrelated to any request (K2): one or two
    CERTIFICATE blocks, sometimes with text around them."""
    key = draw(_CERT_KEYS)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, draw(_COMMON_NAMES))])
    cert = self_signed_certificate(key, subject, serial=draw(_SERIALS))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    layout = draw(st.sampled_from(["one", "two", "text-around"]))
    if layout == "two":
        pem += pem
    elif layout == "text-around":
        pem = b"issued:\n" + pem + b"end\n"
    return base64.b64encode(pem).decode("ascii")


@dataclass(frozen=True)
class StatusChange:
    """A change to status that ``/status`` accepts from a signer."""

    kind: str  # "failed", "custom", "certificate"
    condition: JSON | None = None
    certificate: str | None = None

    def apply(self, obj: JSON) -> JSON:
        out = {**obj, "status": dict(obj.get("status") or {})}
        if self.condition is not None:
            conds = list(out["status"].get("conditions") or [])
            out["status"]["conditions"] = [*conds, self.condition]
        if self.certificate is not None:
            out["status"]["certificate"] = self.certificate
        return out


@st.composite
def status_changes(draw: st.DrawFn) -> StatusChange:
    """What ``/status`` would accept and the main resource must drop (§5.1)."""
    kind = draw(st.sampled_from(["failed", "custom", "certificate"]))
    reason = draw(st.sampled_from(["SignerError", "Checked", "E2E"]))
    if kind == "failed":
        return StatusChange(kind, {"type": "Failed", "status": "True", "reason": reason})
    if kind == "custom":
        ctype = draw(st.sampled_from(CUSTOM_TYPES))
        status = draw(st.sampled_from(["True", "False", "Unknown"]))
        return StatusChange(kind, {"type": ctype, "status": status, "reason": reason})
    return StatusChange(kind, certificate=draw(valid_certificates()))


# -- condition validation ------------------------------------------------------------------

CONDITION_RULES: Final = ("CSR-VAL-C1", "CSR-VAL-C2", "CSR-VAL-C3", "CSR-VAL-C4")


@st.composite
def condition_violations(draw: st.DrawFn, endpoint: str) -> tuple[str, list[JSON]]:
    """A condition list breaking exactly one of C1-C4, and the rule it breaks.

    On ``/status`` only custom types and Failed are used (adding Approved or Denied there
    is C7, not the rule aimed at).
    """
    rule = draw(st.sampled_from(CONDITION_RULES))
    specials = ("Failed",) if endpoint == "status" else ("Approved", "Denied", "Failed")
    ctype = draw(st.sampled_from(specials + CUSTOM_TYPES))
    good = {"type": ctype, "status": "True"}
    if rule == "CSR-VAL-C1":
        conds = [{"type": "", "status": draw(st.sampled_from(["True", "False"]))}]
    elif rule == "CSR-VAL-C2":
        conds = [{"type": ctype, "status": ""}]
    elif rule == "CSR-VAL-C3":
        bad = draw(st.sampled_from(["False", "Unknown", "true", "Maybe"]))
        if ctype not in specials and bad in ("False", "Unknown"):
            bad = "Maybe"
        conds = [{"type": ctype, "status": bad}]
    else:
        conds = [good, {**good, "reason": "again"}]
    if draw(st.booleans()):
        other = next(t for t in CUSTOM_TYPES if t != ctype)
        conds.insert(draw(st.integers(0, len(conds))), {"type": other, "status": "True"})
    return rule, conds


# -- metadata ------------------------------------------------------------------------------

_META_KEYS: Final = st.sampled_from(["app", "tier", "example.com/owner"])
_META_VALUES: Final = st.sampled_from(["a", "b", "c-1"])


def _owner_references() -> st.SearchStrategy[list[JSON]]:
    return st.sampled_from(["owner", "other"]).map(
        lambda name: [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": name,
                "uid": "00000000-0000-0000-0000-0000000000ff",
            }
        ]
    )


_METADATA_PARTS: Final[dict[str, st.SearchStrategy[Any]]] = {
    "labels": st.dictionaries(_META_KEYS, _META_VALUES, min_size=1, max_size=2),
    "annotations": st.dictionaries(_META_KEYS, _META_VALUES, min_size=1, max_size=2),
    "ownerReferences": _owner_references(),
}


@st.composite
def metadata_changes(draw: st.DrawFn) -> JSON:
    """New labels, annotations or ownerReferences, at least one of them (no finalizers,
    which would keep objects alive on a real cluster)."""
    parts = draw(st.sets(st.sampled_from(sorted(_METADATA_PARTS)), min_size=1))
    return {part: draw(_METADATA_PARTS[part]) for part in sorted(parts)}


@st.composite
def immutable_metadata_edits(draw: st.DrawFn) -> JSON:
    """Edits of the metadata an update must keep or refuse (M5): creation time, uid,
    generation downwards, deletion fields."""
    field = draw(
        st.sampled_from(
            [
                "creationTimestamp",
                "uid",
                "generation",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ]
        )
    )
    if field == "creationTimestamp":
        value: Any = draw(st.sampled_from(["2001-02-03T04:05:06Z", "2030-01-01T00:00:00Z"]))
    elif field == "uid":
        value = "00000000-0000-0000-0000-00000000abcd"
    elif field == "generation":
        value = draw(st.integers(-3, 0))
    elif field == "deletionTimestamp":
        value = "2030-01-01T00:00:00Z"
    else:
        value = draw(st.integers(0, 30))
    return {field: value}
