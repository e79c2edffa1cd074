"""Building X.509 for the targets' throwaway PKIs: keys, self-signed CAs, leaf certificates.

Three places make certificates: the control plane's per-run PKI
(``controlplane/pki.py``), the fake's TLS and client-certificate CA (``fake/certs.py``)
and the fake's reference signer (``fake/signing_ca.py``). They differ in lifetimes, key
types and which usages a certificate carries, not in how a certificate is put together,
so that is written once here, in the shape Go's ``crypto/x509`` gives them: CAs carry a
SubjectKeyIdentifier and leaves an AuthorityKeyIdentifier, which strict verifiers (Go,
OpenSSL 3 with ``X509_V_FLAG_X509_STRICT``) expect.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conformance.oracle.csr.signing import KEY_USAGE_ATTRS

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def new_ec_key() -> ec.EllipticCurvePrivateKey:
    """P-256: fast to generate on a loaded machine (RSA costs tens of milliseconds), and
    accepted by every flag and TLS stack that takes a key here."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> bytes:
    """The private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def common_name(name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])


def key_usage(bits: Iterable[str]) -> x509.KeyUsage:
    """A KeyUsage extension with the named bits (``cryptography``'s attribute names) set.

    encipherOnly and decipherOnly mean something only with keyAgreement, and
    ``cryptography`` refuses them without it, so they are dropped then.
    """
    wanted = set(bits)
    flags = {b: b in wanted for b in KEY_USAGE_ATTRS}
    if not flags["key_agreement"]:
        flags["encipher_only"] = flags["decipher_only"] = False
    return x509.KeyUsage(**flags)


CA_USAGES: Final = frozenset({"digital_signature", "key_cert_sign", "crl_sign"})
"""What kubeadm's and client-go's ``certutil`` CAs carry."""

LEAF_USAGES: Final = frozenset({"digital_signature"})


def host_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    """SubjectAltNames for ``hosts``: IP addresses as such, anything else as a DNS name."""
    sans: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    return sans


def self_signed_ca(
    key: PrivateKey,
    name: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    *,
    usages: frozenset[str] = CA_USAGES,
    path_length: int | None = None,
) -> x509.Certificate:
    """A CA certificate for ``key``, its own issuer."""
    subject = common_name(name)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage(usages), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def issue_leaf(
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    public_key: PublicKey,
    subject: x509.Name,
    not_before: dt.datetime,
    not_after: dt.datetime,
    *,
    ext_usage: x509.ObjectIdentifier,
    sans: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    """A CA:FALSE certificate for ``public_key``, for one extended key usage (server or
    client authentication), signed by the CA."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(LEAF_USAGES), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ext_usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
    )
    return builder.sign(ca_key, hashes.SHA256())
