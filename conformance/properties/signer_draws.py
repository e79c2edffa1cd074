"""Requests the signer properties send: what each signer accepts, and what it must refuse.

Safety (design rule 5) is built into the draws, not checked afterwards: every subject
carries the run's name prefix, ``system:masters`` is never drawn, and ``system:node:``
subjects (a working node credential on a real cluster) only when the caller allows them.
Private keys come from the shared pool (``strategies.keys``) and stay in memory; only the
PKCS#10 request (public) is sent.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from hypothesis import assume
from hypothesis import strategies as st

from conformance.oracle.csr.signer import (
    KUBE_APISERVER_CLIENT,
    KUBE_APISERVER_CLIENT_KUBELET,
    KUBELET_SERVING,
)
from conformance.oracle.csr.signing import NODE_PREFIX, NODES_GROUP, Names, policy_error
from strategies.keys import PrivateKey, pool_key, private_keys, signature_hash

KEY_KINDS: Final = ("ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-2048")
"""Kinds kube-controller-manager signs for; RSA-3072/4096 only slow the run down."""
HARMLESS_ORGS: Final = ("csr-conformance", "csrc-team")


@dataclass(frozen=True)
class SignerRequest:
    """One request to send: the PKCS#10 PEM and the spec fields beside it."""

    pem: bytes
    usages: tuple[str, ...]
    expiration_seconds: int | None

    def csr(self) -> x509.CertificateSigningRequest:
        return x509.load_pem_x509_csr(self.pem)

    def spec(self, signer: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request": base64.b64encode(self.pem).decode(),
            "signerName": signer,
            "usages": list(self.usages),
        }
        if self.expiration_seconds is not None:
            out["expirationSeconds"] = self.expiration_seconds
        return out


def build_request(
    key: PrivateKey,
    common_name: str,
    orgs: tuple[str, ...],
    names: Names,
    usages: tuple[str, ...],
    expiration_seconds: int | None,
) -> SignerRequest:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    general = names.general_names()
    if general:
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    csr = builder.sign(key, signature_hash(key))
    pem = csr.public_bytes(serialization.Encoding.PEM)
    return SignerRequest(pem, usages, expiration_seconds)


_WORD: Final = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_DNS: Final = st.builds(lambda a, b: f"{a}.{b}.example.com", _WORD, _WORD)
_IPS: Final = st.sampled_from(["192.0.2.1", "192.0.2.77", "198.51.100.5", "2001:db8::1"])
_EMAILS: Final = _WORD.map(lambda w: f"{w}@example.com")
_URIS: Final = _WORD.map(lambda w: f"spiffe://example.com/{w}")
EXPIRATIONS: Final = st.one_of(
    st.none(),
    st.integers(600, 3 * 86400),
    st.sampled_from([600, 601, 8 * 3600 - 1, 8 * 3600, 8 * 3600 + 1, 400 * 86400]),
)
"""None, short and long requests, around the 8h ``Short`` edge, and past every CA."""


def _permuted(items: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.permutations(items).map(tuple)


@st.composite
def _names(draw: st.DrawFn, *, emails_uris: bool, at_least_one: bool = False) -> Names:
    dns = draw(st.lists(_DNS, max_size=2, unique=True))
    ips = draw(st.lists(_IPS, max_size=2, unique=True))
    if at_least_one and not dns and not ips:
        dns = [draw(_DNS)]
    emails = draw(st.lists(_EMAILS, max_size=1)) if emails_uris else []
    uris = draw(st.lists(_URIS, max_size=1)) if emails_uris else []
    return Names(tuple(dns), tuple(emails), tuple(ips), tuple(uris))


def _key() -> st.SearchStrategy[PrivateKey]:
    return private_keys(KEY_KINDS)


@st.composite
def valid_requests(draw: st.DrawFn, signer: str, prefix: str) -> SignerRequest:
    """A request ``signer`` accepts (upstream policy for kubernetes.io; a common client or
    server certificate for any other signer)."""
    key = draw(_key())
    word = draw(_WORD)
    expiration = draw(EXPIRATIONS)
    if signer == KUBE_APISERVER_CLIENT_KUBELET:
        base = ["digital signature", "client auth"]
        usages = draw(_permuted(base + draw(st.sampled_from([[], ["key encipherment"]]))))
        cn = f"{NODE_PREFIX}{prefix}{word}"
        return build_request(key, cn, (NODES_GROUP,), Names(), usages, expiration)
    if signer == KUBELET_SERVING:
        base = ["digital signature", "server auth"]
        usages = draw(_permuted(base + draw(st.sampled_from([[], ["key encipherment"]]))))
        names = draw(_names(emails_uris=False, at_least_one=True))
        cn = f"{NODE_PREFIX}{prefix}{word}"
        return build_request(key, cn, (NODES_GROUP,), names, usages, expiration)
    orgs = tuple(draw(st.lists(st.sampled_from(HARMLESS_ORGS), max_size=2, unique=True)))
    names = draw(_names(emails_uris=True))
    if signer == KUBE_APISERVER_CLIENT:
        optional = draw(
            st.lists(st.sampled_from(["digital signature", "key encipherment"]), unique=True)
        )
        usages = draw(_permuted(["client auth", *optional]))
    else:
        eku = draw(
            st.sampled_from([["client auth"], ["server auth"], ["client auth", "server auth"]])
        )
        usages = draw(_permuted(["digital signature", "key encipherment", *eku]))
    return build_request(key, f"{prefix}{word}", orgs, names, usages, expiration)


@st.composite
def refused_requests(draw: st.DrawFn, signer: str, prefix: str) -> SignerRequest:
    """A request ``signer``'s upstream policy refuses (kubernetes.io signers only)."""
    key = draw(_key())
    word = draw(_WORD)
    expiration = draw(EXPIRATIONS)
    node_cn = f"{NODE_PREFIX}{prefix}{word}"
    usages: tuple[str, ...]
    if signer == KUBE_APISERVER_CLIENT:
        usages = draw(
            st.sampled_from(
                [
                    ("digital signature", "key encipherment"),
                    ("server auth",),
                    ("client auth", "server auth"),
                    ("client auth", "code signing"),
                    ("digital signature", "client auth", "cert sign"),
                ]
            )
        )
        req = build_request(key, f"{prefix}{word}", HARMLESS_ORGS[:1], Names(), usages, expiration)
    else:
        serving = signer == KUBELET_SERVING
        eku = "server auth" if serving else "client auth"
        good_usages = ("digital signature", "key encipherment", eku)
        good_names = Names(dns=(f"{word}.example.com",)) if serving else Names()
        how = draw(st.sampled_from(["org", "cn", "usages", "names"]))
        cn, names = node_cn, good_names
        orgs: tuple[str, ...] = (NODES_GROUP,)
        usages = good_usages
        if how == "org":
            orgs = draw(st.sampled_from([(), HARMLESS_ORGS[:1], (NODES_GROUP, HARMLESS_ORGS[0])]))
        elif how == "cn":
            cn = f"{prefix}{word}"
        elif how == "usages":
            other = "client auth" if serving else "server auth"
            usages = draw(st.sampled_from([("digital signature", other), (*good_usages, other)]))
        elif serving:
            names = draw(st.sampled_from([Names(), Names(emails=(f"{word}@example.com",))]))
        else:
            names = Names(dns=(f"{word}.example.com",))
        req = build_request(key, cn, orgs, names, usages, expiration)
    assume(policy_error(signer, req.csr(), list(req.usages)) is not None)
    return req


def control_request(signer: str, prefix: str) -> SignerRequest:
    """A fixed request ``signer`` accepts, for the barrier (see ``test_signer``)."""
    key = pool_key("ecdsa-p256", 0)
    if signer == KUBE_APISERVER_CLIENT_KUBELET:
        cn, orgs = f"{NODE_PREFIX}{prefix}control", (NODES_GROUP,)
        return build_request(key, cn, orgs, Names(), ("digital signature", "client auth"), None)
    if signer == KUBELET_SERVING:
        cn, orgs = f"{NODE_PREFIX}{prefix}control", (NODES_GROUP,)
        names = Names(dns=("control.example.com",))
        return build_request(key, cn, orgs, names, ("digital signature", "server auth"), None)
    usages = ("digital signature", "key encipherment", "client auth")
    return build_request(key, f"{prefix}control", HARMLESS_ORGS[:1], Names(), usages, None)
