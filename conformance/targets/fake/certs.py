"""The fake's private PKI: a CA, a serving certificate, and client certificates.

Everything is made in memory at start-up with ``cryptography``. Clients trust the CA
through the kubeconfig's ``certificate-authority-data``; the same CA signs client
certificates, which the fake accepts as a second way to authenticate (CN is the user,
O entries are the groups), as kube-apiserver does with ``--client-ca-file``.
"""

from __future__ import annotations

import datetime
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.targets import certificates

_VALIDITY = datetime.timedelta(days=2)
_BACKDATE = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class CertificateAuthority:
    """A throw-away CA that lives as long as the fake server."""

    def __init__(self, name: str = "csr-conformance-fake-ca") -> None:
        self._key = certificates.new_ec_key()
        now = _now()
        self._cert = certificates.self_signed_ca(self._key, name, now - _BACKDATE, now + _VALIDITY)

    @property
    def cert_pem(self) -> bytes:
        return certificates.cert_pem(self._cert)

    def _issue(
        self,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        sans: list[x509.GeneralName] | None = None,
    ) -> KeyPair:
        key = certificates.new_ec_key()
        now = _now()
        cert = certificates.issue_leaf(
            self._cert,
            self._key,
            key.public_key(),
            subject,
            now - _BACKDATE,
            now + _VALIDITY,
            ext_usage=usage,
            sans=sans,
        )
        return KeyPair(certificates.cert_pem(cert), certificates.key_pem(key))

    def issue_serving(self, hosts: list[str]) -> KeyPair:
        """A server certificate valid for every name or address in ``hosts``."""
        subject = certificates.common_name("csr-conformance-fake")
        return self._issue(subject, ExtendedKeyUsageOID.SERVER_AUTH, certificates.host_names(hosts))

    def issue_client(self, username: str, groups: tuple[str, ...] = ()) -> KeyPair:
        """A client certificate the fake maps to ``username`` and ``groups``."""
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, username))
        return self._issue(x509.Name(attrs), ExtendedKeyUsageOID.CLIENT_AUTH)


def server_ssl_context(ca: CertificateAuthority, serving: KeyPair) -> ssl.SSLContext:
    """TLS for the listener: present ``serving``, and verify client certificates if sent.

    ``CERT_OPTIONAL`` mirrors kube-apiserver's ``VerifyClientCertIfGiven``: bearer-token
    clients send no certificate, and a certificate from another CA fails the handshake.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain needs files; the directory vanishes as soon as the chain is loaded.
    with tempfile.TemporaryDirectory(prefix="csrc-fake-tls-") as tmp:
        cert_path = Path(tmp, "tls.crt")
        key_path = Path(tmp, "tls.key")
        cert_path.write_bytes(serving.cert_pem)
        key_path.write_bytes(serving.key_pem)
        key_path.chmod(0o600)
        ctx.load_cert_chain(cert_path, key_path)
    ctx.load_verify_locations(cadata=ca.cert_pem.decode("ascii"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx
