"""Throwaway certificates and keys for one control-plane run.

Everything is generated per run and deleted with the run's directory, so nothing
here needs to be secret or long-lived, except the cluster-signing CA's validity:
kube-controller-manager caps every certificate it issues at the CA's expiry, and a
short-lived CA would make issued certificates shorter than on a real cluster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from conformance.targets import certificates

_BACKDATE = dt.timedelta(hours=1)
_CA_LIFETIME = dt.timedelta(days=3650)
_LEAF_LIFETIME = dt.timedelta(days=30)


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its key, kept as objects so further certificates can be signed."""

    cert: x509.Certificate
    key: certificates.PrivateKey

    @property
    def cert_pem(self) -> bytes:
        return certificates.cert_pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        return certificates.key_pem(self.key)

    def write(self, cert_path: Path, key_path: Path) -> None:
        cert_path.write_bytes(self.cert_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(self.key_pem)


def public_key_pem(key: certificates.PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_ca(name: str, key: certificates.PrivateKey | None = None) -> KeyPair:
    """A self-signed CA valid for ten years."""
    key = key if key is not None else certificates.new_ec_key()
    now = _now()
    return KeyPair(certificates.self_signed_ca(key, name, now - _BACKDATE, now + _CA_LIFETIME), key)


def new_serving_cert(ca: KeyPair, hosts: list[str], name: str = "kube-apiserver") -> KeyPair:
    """A server certificate for ``hosts`` (IP addresses and DNS names mixed), signed by ``ca``."""
    key = certificates.new_ec_key()
    now = _now()
    cert = certificates.issue_leaf(
        ca.cert,
        ca.key,
        key.public_key(),
        certificates.common_name(name),
        now - _BACKDATE,
        now + _LEAF_LIFETIME,
        ext_usage=ExtendedKeyUsageOID.SERVER_AUTH,
        sans=certificates.host_names(hosts),
    )
    return KeyPair(cert, key)


@dataclass(frozen=True)
class ClusterPKI:
    """Paths of every file the control-plane processes are pointed at."""

    serving_ca: Path
    serving_cert: Path
    serving_key: Path
    sa_public_key: Path
    sa_private_key: Path
    cluster_signing_cert: Path
    cluster_signing_key: Path
    token_webhook_cert: Path
    token_webhook_key: Path


def write_cluster_pki(directory: Path) -> ClusterPKI:
    """Generate and write the run's PKI under ``directory``.

    The cluster-signing CA uses RSA 2048 like kubeadm's default CA, so certificates
    kube-controller-manager issues look like those of a typical real cluster; it is
    also the API server's client CA, so kube-apiserver-client certificates it issues
    authenticate, as on a kubeadm cluster. The token webhook's certificate comes from
    the serving CA, which the API server is then told to trust for that webhook only.
    """
    directory.mkdir(parents=True, exist_ok=True)
    serving_ca = new_ca("csr-conformance-serving-ca")
    serving = new_serving_cert(serving_ca, ["127.0.0.1", "localhost"])
    webhook = new_serving_cert(serving_ca, ["127.0.0.1"], name="csrc-token-webhook")
    signing_ca = new_ca("csr-conformance-cluster-ca", key=new_rsa_key())
    sa_key = certificates.new_ec_key()

    paths = ClusterPKI(
        serving_ca=directory / "serving-ca.crt",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        sa_public_key=directory / "sa.pub",
        sa_private_key=directory / "sa.key",
        cluster_signing_cert=directory / "cluster-ca.crt",
        cluster_signing_key=directory / "cluster-ca.key",
        token_webhook_cert=directory / "token-webhook.crt",
        token_webhook_key=directory / "token-webhook.key",
    )
    paths.serving_ca.write_bytes(serving_ca.cert_pem)
    serving.write(paths.serving_cert, paths.serving_key)
    signing_ca.write(paths.cluster_signing_cert, paths.cluster_signing_key)
    webhook.write(paths.token_webhook_cert, paths.token_webhook_key)
    paths.sa_public_key.write_bytes(public_key_pem(sa_key))
    paths.sa_private_key.touch(mode=0o600)
    paths.sa_private_key.write_bytes(certificates.key_pem(sa_key))
    return paths
