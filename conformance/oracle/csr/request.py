"""``spec.request`` checking as kube-apiserver does it (rules R1–R3), and the subject read
that the CertificateSubjectRestriction admission plugin makes (§6.4).

Upstream: ``pkg/apis/certificates/helpers.go`` ``ParseCSR`` (first ``pem.Decode`` block,
type must be ``CERTIFICATE REQUEST``), ``pkg/apis/certificates/validation`` ``validateCSR``
(then ``CheckSignature``), Go 1.26 ``crypto/x509`` ``checkSignature`` and ``crypto/rsa``
(which refuses keys under 1024 bits at verification time, a rule R4 of the semantics doc
does not mention).

Where Go's text can be reproduced it is; DER parse failures (R2) come from Go's
``encoding/asn1`` with offsets and tags we cannot predict in general, so those errors
carry ``detail_exact=False`` and our best guess as the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.golang.decoders import pem_decode

REQUEST_FIELD: Final = "spec.request"
BLOCK_TYPE: Final = "CERTIFICATE REQUEST"
BLOCK_TYPE_MESSAGE: Final = "PEM block type must be CERTIFICATE REQUEST"

ERR_UNSUPPORTED_ALGORITHM: Final = "x509: cannot verify signature: algorithm unimplemented"
ERR_ECDSA_VERIFY: Final = "x509: ECDSA verification failure"
ERR_ED25519_VERIFY: Final = "x509: Ed25519 verification failure"
ERR_RSA_VERIFY: Final = "crypto/rsa: verification error"
ERR_UNSUPPORTED_CURVE: Final = "x509: unsupported elliptic curve"
ERR_TRAILING_DATA: Final = "asn1: syntax error: trailing data"
ERR_DER_GUESS: Final = "asn1: structure error: tags don't match"

_GO_CURVES: Final = frozenset({"secp224r1", "secp256r1", "secp384r1", "secp521r1"})

# Go's PublicKeyAlgorithm names, used in the key/algorithm mismatch message.
_RSA: Final = "RSA"
_DSA: Final = "DSA"
_ECDSA: Final = "ECDSA"
_ED25519: Final = "Ed25519"


@dataclass(frozen=True)
class _SigAlgo:
    name: str  # Go SignatureAlgorithm.String()
    pub: str  # expected public key algorithm
    hash: str  # "", "MD5", "SHA1", "SHA256", ...
    pss: bool = False


# signatureAlgorithmDetails from crypto/x509, keyed by dotted OID (PSS handled apart).
_SIG_ALGOS: Final[dict[str, _SigAlgo]] = {
    "1.2.840.113549.1.1.4": _SigAlgo("MD5-RSA", _RSA, "MD5"),
    "1.2.840.113549.1.1.5": _SigAlgo("SHA1-RSA", _RSA, "SHA1"),
    "1.3.14.3.2.29": _SigAlgo("SHA1-RSA", _RSA, "SHA1"),
    "1.2.840.113549.1.1.11": _SigAlgo("SHA256-RSA", _RSA, "SHA256"),
    "1.2.840.113549.1.1.12": _SigAlgo("SHA384-RSA", _RSA, "SHA384"),
    "1.2.840.113549.1.1.13": _SigAlgo("SHA512-RSA", _RSA, "SHA512"),
    "1.2.840.10040.4.3": _SigAlgo("DSA-SHA1", _DSA, "SHA1"),
    "2.16.840.1.101.3.4.3.2": _SigAlgo("DSA-SHA256", _DSA, "SHA256"),
    "1.2.840.10045.4.1": _SigAlgo("ECDSA-SHA1", _ECDSA, "SHA1"),
    "1.2.840.10045.4.3.2": _SigAlgo("ECDSA-SHA256", _ECDSA, "SHA256"),
    "1.2.840.10045.4.3.3": _SigAlgo("ECDSA-SHA384", _ECDSA, "SHA384"),
    "1.2.840.10045.4.3.4": _SigAlgo("ECDSA-SHA512", _ECDSA, "SHA512"),
    "1.3.101.112": _SigAlgo("Ed25519", _ED25519, ""),
}
_OID_RSAPSS: Final = "1.2.840.113549.1.1.10"
_PSS_SALT: Final[dict[str, int]] = {"SHA256": 32, "SHA384": 48, "SHA512": 64}

_PUBKEY_OIDS: Final[dict[str, str]] = {
    "1.2.840.113549.1.1.1": _RSA,
    "1.2.840.10040.4.1": _DSA,
    "1.2.840.10045.2.1": _ECDSA,
    "1.3.101.112": _ED25519,
}
_GO_KEY_TYPE: Final[dict[str, str]] = {
    _RSA: "*rsa.PublicKey",
    _DSA: "*dsa.PublicKey",
    _ECDSA: "*ecdsa.PublicKey",
    _ED25519: "ed25519.PublicKey",
}


@dataclass(frozen=True)
class RequestCheck:
    """Outcome of checking one ``spec.request`` value.

    ``error`` is the text Go's ``validateCSR`` returns (``None`` when the request is good);
    ``exact`` says whether that text is reproduced exactly. ``organizations`` is the
    parsed ``Subject.Organization`` when the request parsed (signature validity aside).
    """

    error: str | None
    exact: bool = True
    organizations: tuple[str, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _sig_algo(csr: x509.CertificateSigningRequest) -> _SigAlgo | None:
    oid = csr.signature_algorithm_oid.dotted_string
    if oid != _OID_RSAPSS:
        return _SIG_ALGOS.get(oid)
    try:
        params = csr.signature_algorithm_parameters
        hash_alg = csr.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        return None
    if not isinstance(params, padding.PSS) or hash_alg is None:
        return None
    name = hash_alg.name.upper()
    mgf = params._mgf  # cryptography exposes no public accessor for these
    salt = params._salt_length
    if not isinstance(mgf, padding.MGF1) or mgf._algorithm.name != hash_alg.name:
        return None
    if _PSS_SALT.get(name) != salt:
        return None
    return _SigAlgo(f"{name}-RSAPSS", _RSA, name, pss=True)


def _der_error(exc: Exception) -> tuple[str, bool]:
    text = str(exc)
    if "ExtraData" in text and "location" not in text:
        return ERR_TRAILING_DATA, True
    return ERR_DER_GUESS, False


def check_der(der: bytes) -> RequestCheck:
    """``x509.ParseCertificateRequest`` then ``CheckSignature``, as Go reports them."""
    try:
        csr = x509.load_der_x509_csr(der)
    except ValueError as exc:
        text, exact = _der_error(exc)
        return RequestCheck(text, exact)

    spki_oid: x509.ObjectIdentifier = csr.public_key_algorithm_oid  # type: ignore[attr-defined]
    key_algo = _PUBKEY_OIDS.get(spki_oid.dotted_string)
    key: object = None
    if key_algo is not None:
        try:
            key = csr.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            if key_algo == _ECDSA:
                return RequestCheck(ERR_UNSUPPORTED_CURVE, True)
            text, _ = _der_error(exc)
            return RequestCheck(text, False)
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in _GO_CURVES:
            return RequestCheck(ERR_UNSUPPORTED_CURVE, True)

    try:
        orgs = tuple(
            str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        )
    except ValueError as exc:
        text, _ = _der_error(exc)
        return RequestCheck(text, False)

    return RequestCheck(_check_signature(csr, key_algo, key), True, orgs)


def _check_signature(
    csr: x509.CertificateSigningRequest, key_algo: str | None, key: object
) -> str | None:
    algo = _sig_algo(csr)
    if algo is None or (algo.hash == "" and algo.pub != _ED25519):
        return ERR_UNSUPPORTED_ALGORITHM
    if algo.hash == "MD5":
        return f"x509: cannot verify signature: insecure algorithm {algo.name}"
    if key_algo is None or key_algo == _DSA or key is None:
        return ERR_UNSUPPORTED_ALGORITHM
    if algo.pub != key_algo:
        return (
            f"x509: signature algorithm specifies an {algo.pub} public key, "
            f"but have public key of type {_GO_KEY_TYPE[key_algo]}"
        )
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 1024:
        return (
            f"crypto/rsa: {key.key_size}-bit keys are insecure "
            "(see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)"
        )
    valid = _verify(csr, algo, key)
    if valid:
        return None
    if isinstance(key, rsa.RSAPublicKey):
        return ERR_RSA_VERIFY
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ERR_ECDSA_VERIFY
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ERR_ED25519_VERIFY
    if isinstance(key, dsa.DSAPublicKey):  # pragma: no cover - handled above
        return ERR_UNSUPPORTED_ALGORITHM
    return ERR_UNSUPPORTED_ALGORITHM


_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}


def _verify(csr: x509.CertificateSigningRequest, algo: _SigAlgo, key: object) -> bool:
    """Verify the self-signature ourselves: cryptography's own check refuses SHA-1, which
    Go still accepts for CSRs."""
    tbs = csr.tbs_certrequest_bytes
    sig = csr.signature
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, tbs)
            return True
        hash_cls = _HASHES.get(algo.hash)
        if hash_cls is None:
            return False
        if isinstance(key, rsa.RSAPublicKey):
            if algo.pss:
                pad: padding.AsymmetricPadding = padding.PSS(
                    mgf=padding.MGF1(hash_cls()), salt_length=hash_cls().digest_size
                )
            else:
                pad = padding.PKCS1v15()
            key.verify(sig, tbs, pad, hash_cls())
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, tbs, ec.ECDSA(hash_cls()))
            return True
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        return False
    return False


def check_request(request: bytes | None) -> RequestCheck:
    """Go's ``validateCSR``: ``ParseCSR`` (first PEM block) then ``CheckSignature``."""
    block, _ = pem_decode(request or b"")
    if block is None or block.type != BLOCK_TYPE:
        return RequestCheck(BLOCK_TYPE_MESSAGE, True)
    return check_der(block.bytes)


def validate_request(request: bytes | None, field: str = REQUEST_FIELD) -> list[fe.FieldError]:
    """R1–R3 as field errors. ``None`` stands for an absent (nil) request.

    The bad value is the raw request bytes, which Go prints through ``json.Marshal``:
    base64 in quotes, or ``null`` for a nil slice (``""`` for an empty, non-nil one).
    """
    result = check_request(request)
    if result.ok:
        return []
    assert result.error is not None
    rule = "CSR-VAL-R1"
    if result.error != BLOCK_TYPE_MESSAGE:
        rule = "CSR-VAL-R3" if result.organizations is not None else "CSR-VAL-R2"
    return [fe.invalid(rule, field, request, result.error, detail_exact=result.exact)]


def parse_subject_organizations(pem: bytes | None) -> list[str] | None:
    """``ParseCSR(...).Subject.Organization``, or ``None`` when Go's ParseCSR would fail.

    The signature is not checked here, matching the admission plugin.
    """
    result = check_request(pem)
    if result.organizations is None:
        return None
    return list(result.organizations)
