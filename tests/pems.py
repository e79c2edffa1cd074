"""Throwaway requests and certificates for tests that need a valid PEM to send.

Tests of the fake, the oracle, kubectl and the control plane each need a well-formed
PKCS#10 request (base64 of its PEM, as ``spec.request`` carries it) and sometimes a
certificate to put in ``status.certificate``; what they check is the API, not these
bytes, so one way of making them serves all. Import it as ``pems`` (``tests/`` is on
``sys.path`` under pytest, as for ``differential_corpus`` and ``forkruns``).
"""

from __future__ import annotations

import base64
import datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

START: Final = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
"""When the test certificates begin: fixed, so no test depends on the clock."""


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def b64(pem: bytes) -> str:
    """``pem`` as a ``[]byte`` field travels in JSON."""
    return base64.b64encode(pem).decode("ascii")


def _cn(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def request(
    common_name: str, key: ec.EllipticCurvePrivateKey | None = None
) -> x509.CertificateSigningRequest:
    """A request for ``common_name``, self-signed with ``key`` (a fresh P-256 key if None)."""
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_cn(common_name))
        .sign(key if key is not None else ec_key(), hashes.SHA256())
    )


def request_pem(common_name: str = "test", key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    return request(common_name, key).public_bytes(serialization.Encoding.PEM)


def request_b64(common_name: str = "test") -> str:
    """A valid request as ``spec.request`` carries it."""
    return b64(request_pem(common_name))


def tampered(pem: bytes, byte: int = -1) -> bytes:
    """The request ``pem`` with one bit of its DER flipped at ``byte`` (the end of the
    signature by default): still a well-formed request, no longer validly signed."""
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[byte] ^= 0x01
    body = base64.encodebytes(bytes(der))
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + body + b"-----END CERTIFICATE REQUEST-----\n"


def cert_pem(
    common_name: str = "issued", *, serial: int = 1, start: datetime.datetime = START
) -> bytes:
    """A self-signed certificate valid for one day from ``start``."""
    key = ec_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_cn(common_name))
        .issuer_name(_cn(common_name))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_b64(
    common_name: str = "issued", *, serial: int = 1, start: datetime.datetime = START
) -> str:
    """A certificate as ``status.certificate`` carries it."""
    return b64(cert_pem(common_name, serial=serial, start=start))
