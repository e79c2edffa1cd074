"""How the create faults bend the oracle's verdict, kept apart from the correct path.

The fake's create is "ask the oracle, then store", so a fault that breaks a validation
rule cannot simply skip a line of validation code. Instead the request is *repaired*
before the oracle sees it (a bad signature replaced by a good CSR, 599 seconds by 600,
the legacy signer by a harmless one), so every other rule still fires exactly as it
would; after a 201, the repaired field gets its original value back, which is what a
server without that one check would have stored. Faults that are about what storage keeps
(client identity, status, namespace, uid) edit the object after the oracle accepted it.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from conformance.oracle.csr.request import check_request
from conformance.targets.fake.faults import ActiveFaults
from conformance.targets.fake.objects import go_order_metadata

LEGACY_SIGNER: Final = "kubernetes.io/legacy-unknown"
_LEGACY_STAND_IN: Final = "kubernetes.io/legacy-unknown-stand-in"
_WELL_KNOWN_KUBERNETES_SIGNERS: Final = frozenset(
    {
        "kubernetes.io/kube-apiserver-client",
        "kubernetes.io/kube-apiserver-client-kubelet",
        "kubernetes.io/kubelet-serving",
        LEGACY_SIGNER,
    }
)
_UNKNOWN_KUBERNETES_SIGNER: Final = "kubernetes.io/Unknown_Signer"
"""What ``kubernetes-io-signers-restricted`` hands the oracle instead of an unlisted
``kubernetes.io/`` name: a path the syntax rules refuse, so the answer is a 422."""
_ONE_YEAR: Final = 365 * 24 * 3600
_UNPARSEABLE_REQUEST: Final = base64.b64encode(
    b"-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQE=\n-----END CERTIFICATE REQUEST-----\n"
).decode("ascii")
"""A request whose DER is no PKCS#10 (rule R2), standing in for a refused Ed25519 one."""


@functools.cache
def _good_request_b64() -> str:
    """A valid, self-signed CSR (base64 of its PEM) to stand in for a badly signed one."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fault-stand-in")]))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate keys")
    return dict(pairs)


def parse_plain_object(body: bytes) -> dict[str, Any] | None:
    """The body as a dict when re-encoding it cannot change what the oracle sees."""
    try:
        doc = json.loads(body, object_pairs_hook=_no_duplicates)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


Restore = Callable[[dict[str, Any]], None]


@dataclass
class Bent:
    """A request prepared for the oracle under the active faults."""

    body: bytes
    doc: dict[str, Any] | None  # the client's original document, if it was plain JSON
    restores: list[Restore] = field(default_factory=list)
    drop_name_from_existing: str | None = None


def _spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc.get("spec")
    return spec if isinstance(spec, dict) else {}


def _set_spec(key: str, value: Any) -> Restore:
    def restore(obj: dict[str, Any]) -> None:
        obj.setdefault("spec", {})[key] = value

    return restore


def _bad_signature_only(spec: dict[str, Any]) -> bool:
    raw = spec.get("request")
    if not isinstance(raw, str):
        return False
    try:
        pem = base64.b64decode(raw, validate=True)
    except ValueError:
        return False
    result = check_request(pem)
    # organizations is set only when the CSR parsed, so the failure is the signature (R3).
    return not result.ok and result.organizations is not None


def _is_ed25519_request(spec: dict[str, Any]) -> bool:
    raw = spec.get("request")
    if not isinstance(raw, str):
        return False
    try:
        csr = x509.load_pem_x509_csr(base64.b64decode(raw, validate=True))
        return isinstance(csr.public_key(), ed25519.Ed25519PublicKey)
    except ValueError:
        return False


def bend_request(body: bytes, faults: ActiveFaults) -> Bent:
    """Repair what the active faults would not have checked, remembering how to undo it."""
    doc = parse_plain_object(body)
    bent = Bent(body, doc)
    if doc is None:
        return bent
    work = copy.deepcopy(doc)
    spec = _spec(work)
    meta = work.get("metadata") if isinstance(work.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    changed = False
    if faults.on("accept-bad-signature") and _bad_signature_only(spec):
        bent.restores.append(_set_spec("request", spec["request"]))
        spec["request"] = _good_request_b64()
        changed = True
    if faults.on("min-expiration-off-by-one") and spec.get("expirationSeconds") == 599:
        bent.restores.append(_set_spec("expirationSeconds", 599))
        spec["expirationSeconds"] = 600
        changed = True
    if faults.on("allow-legacy-signer") and spec.get("signerName") == LEGACY_SIGNER:
        bent.restores.append(_set_spec("signerName", LEGACY_SIGNER))
        spec["signerName"] = _LEGACY_STAND_IN
        changed = True
    if faults.on("reject-ed25519-requests") and _is_ed25519_request(spec):
        spec["request"] = _UNPARSEABLE_REQUEST
        changed = True
    signer = spec.get("signerName")
    if (
        faults.on("kubernetes-io-signers-restricted")
        and isinstance(signer, str)
        and signer.startswith("kubernetes.io/")
        and signer not in _WELL_KNOWN_KUBERNETES_SIGNERS
    ):
        spec["signerName"] = _UNKNOWN_KUBERNETES_SIGNER
        changed = True
    if faults.on("rv-on-create-accepted") and "resourceVersion" in meta:
        del meta["resourceVersion"]
        changed = True
    if faults.on("duplicate-name-overwrites") and isinstance(meta.get("name"), str):
        bent.drop_name_from_existing = meta["name"]
    if changed:
        bent.body = json.dumps(work).encode()
    return bent


def bend_stored(obj: dict[str, Any], bent: Bent, faults: ActiveFaults) -> None:
    """Edit an accepted object the way the active storage-side faults would."""
    for restore in bent.restores:
        restore(obj)
    doc = bent.doc or {}
    sent_spec = _spec(doc)
    sent_meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    assert isinstance(sent_meta, dict)
    spec = obj.setdefault("spec", {})
    meta = obj.setdefault("metadata", {})
    if faults.on("keep-client-username"):
        for key in ("username", "uid", "groups", "extra"):
            if key in sent_spec:
                spec[key] = copy.deepcopy(sent_spec[key])
    if faults.on("keep-client-status") and isinstance(doc.get("status"), dict):
        obj["status"] = copy.deepcopy(doc["status"])
    if faults.on("namespace-kept") and sent_meta.get("namespace"):
        meta["namespace"] = sent_meta["namespace"]
    if faults.on("keep-client-uid"):
        for key in ("uid", "creationTimestamp"):
            if sent_meta.get(key):
                meta[key] = sent_meta[key]
    expiration = spec.get("expirationSeconds")
    if faults.on("expiration-capped") and isinstance(expiration, int) and expiration > _ONE_YEAR:
        spec["expirationSeconds"] = _ONE_YEAR
    if faults.on("usages-sorted") and isinstance(spec.get("usages"), list):
        spec["usages"] = sorted(spec["usages"])
    generate = sent_meta.get("generateName")
    if (
        faults.on("generate-name-untruncated")
        and not sent_meta.get("name")
        and isinstance(generate, str)
        and len(generate.encode()) > 58
    ):
        meta["name"] = generate + str(meta.get("name", ""))[-5:]
    go_order_metadata(obj)


_INDEX: Final = re.compile(r"\[\d+\]")


def bend_invalid(body: dict[str, Any], faults: ActiveFaults) -> tuple[int, dict[str, Any]]:
    """Reshape a 422 Invalid for the CSR the way the error-reporting faults would."""
    out = copy.deepcopy(body)
    code = int(out.get("code", 422))
    if faults.on("wrong-cause-field"):
        details = out.get("details") or {}
        for cause in details.get("causes") or []:
            old = cause.get("field", "")
            new = _INDEX.sub("", old)
            if new != old:
                cause["field"] = new
                out["message"] = str(out.get("message", "")).replace(old + ":", new + ":")
    if faults.on("validation-400"):
        code = 400
        out["reason"] = "BadRequest"
        out["code"] = 400
    return code, out


def persists(faults: ActiveFaults, decided: bool, dry_run: bool) -> bool:
    """Whether the accepted object is stored: ``dryrun-persists`` stores a dry run too."""
    return decided or (dry_run and faults.on("dryrun-persists"))
