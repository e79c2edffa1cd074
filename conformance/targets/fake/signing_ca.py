"""The reference signer's configuration and its certificate authority.

The CA is real X.509 made with ``cryptography`` so that every check a property makes of an
issued certificate (chain, key, usages, validity) is made of a certificate any TLS stack
would accept. Its lifetime is deliberately *shorter* than the signer's maximum duration
(30 days against a year): a request without ``expirationSeconds`` then gets a
certificate capped at the CA's notAfter, as kube-controller-manager caps it, and a signer
that forgets the cap (fault ``signer-outlives-ca``) is visible in every such example.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.oracle.csr.signing import (
    DEFAULT_CERT_TTL,
    KUBERNETES_SIGNERS,
    CustomPolicy,
    Names,
    ext_key_usages,
    go_name,
    key_usage_bits,
)
from conformance.targets.certificates import cert_pem, key_usage, new_ec_key, self_signed_ca

CA_LIFETIME: Final = 30 * 24 * 3600
"""Seconds the generated CA is valid for (see the module docstring)."""


@dataclass(frozen=True)
class SignerConfig:
    """Which signer names the fake's reference signer serves, and how.

    ``names`` default to the in-tree signers kube-controller-manager runs; any other name
    is served with ``custom_policy``. ``ca_cert_file``/``ca_key_file`` make it sign with
    a CA of the user's (like ``--cluster-signing-cert-file``/``-key-file``); otherwise a
    fresh CA is made per server.
    """

    names: tuple[str, ...] = KUBERNETES_SIGNERS
    cert_ttl: int = DEFAULT_CERT_TTL
    ca_lifetime: int = CA_LIFETIME
    custom_policy: CustomPolicy = field(default_factory=CustomPolicy)
    ca_cert_file: str | None = None
    ca_key_file: str | None = None


class SigningCA:
    """A CA key and certificate that issues leaf certificates for requests."""

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self.cert = cert
        self.key = key

    @classmethod
    def generate(cls, common_name: str, lifetime: int, now: dt.datetime) -> SigningCA:
        key = new_ec_key()
        cert = self_signed_ca(
            key,
            common_name,
            now - dt.timedelta(hours=1),
            now + dt.timedelta(seconds=lifetime),
            usages=frozenset({"key_cert_sign", "crl_sign"}),
            path_length=0,
        )
        return cls(cert, key)

    @classmethod
    def load(cls, cert_file: str, key_file: str) -> SigningCA:
        """A CA from PEM files; only ECDSA keys are supported (ValueError otherwise)."""
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_file}: the reference signer needs an ECDSA CA key")
        return cls(cert, key)

    @property
    def not_after(self) -> dt.datetime:
        return self.cert.not_valid_after_utc

    @property
    def cert_pem(self) -> bytes:
        return cert_pem(self.cert)

    def write_bundle(self, path: str) -> None:
        """Write the CA certificate (never the key) to ``path``."""
        Path(path).write_bytes(self.cert_pem)
        os.chmod(path, 0o644)

    def issue(
        self,
        csr: x509.CertificateSigningRequest,
        usages: list[str],
        not_before: dt.datetime,
        not_after: dt.datetime,
        *,
        names: Names,
        public_key: object | None = None,
        extra_usages: tuple[str, ...] = (),
    ) -> str:
        """A PEM certificate for ``csr`` shaped as ``PermissiveSigningPolicy`` shapes it:
        the request's subject (as Go keeps it) and SANs, the requested usages, CA:FALSE,
        and no other extension of the request."""
        key = public_key if public_key is not None else csr.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(go_name(csr.subject))
            .issuer_name(self.cert.subject)
            .public_key(key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        all_usages = [*usages, *extra_usages]
        bits = key_usage_bits(all_usages)
        if bits:
            builder = builder.add_extension(key_usage(bits), critical=True)
        ekus = sorted(ext_key_usages(all_usages), key=lambda o: o.dotted_string)
        if ekus:
            builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        )
        general = names.general_names()
        if general:
            critical = len(go_name(csr.subject)) == 0  # Go marks SANs critical then
            builder = builder.add_extension(x509.SubjectAlternativeName(general), critical)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
        )
        return cert_pem(builder.sign(self.key, hashes.SHA256())).decode()
