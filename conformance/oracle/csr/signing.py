"""What a CSR signer must do, as pure functions: kube-controller-manager's csrsigning
policy, and the checks the signer properties apply to an issued certificate.

Upstream (kubernetes/kubernetes, v1.37):
- ``pkg/controller/certificates/signer/signer.go``: ``handle`` ignores CSRs that are not
  Approved (or are also Denied), that carry ``Failed=True``, or whose signerName is not
  its own; a request the signer's check refuses gets ``Failed=True`` with reason
  ``SignerValidationFailure`` and the check's error as message, instead of a
  certificate. ``duration`` is ``min(expirationSeconds, certTTL)`` but never below 10
  minutes.
- ``pkg/controller/certificates/authority/policies.go`` (``PermissiveSigningPolicy``,
  ``Backdate: 5m``, ``Short: 8h``): NotBefore = now - 5m; NotAfter = now + ttl for a
  short (< 8h) certificate, else now + ttl - 5m; never past the CA's NotAfter, and
  nothing is signed once the CA has expired. Usages map to KeyUsage bits and
  ExtKeyUsage OIDs; every other extension of the request is dropped; CA:FALSE.
- ``pkg/controller/certificates/authority/authority.go``: the subject, DNS/IP/email/URI
  SANs and public key of the request are copied.
- ``pkg/apis/certificates/helpers.go``: ``ValidateKubeletClientCSR`` and
  ``ValidateKubeletServingCSR`` (their exact messages are reproduced below).

The properties judge a certificate with :func:`check_issued`; the fake's reference
signer decides with :func:`policy_error`, :func:`duration` and :func:`validity`, so the
fake and the judge read one statement of the policy.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from conformance.oracle.csr.signer import (
    KUBE_APISERVER_CLIENT,
    KUBE_APISERVER_CLIENT_KUBELET,
    KUBELET_SERVING,
    LEGACY_UNKNOWN,
    is_kubernetes_signer_name,
)

KUBERNETES_SIGNERS: Final = (KUBE_APISERVER_CLIENT, KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING)
"""The in-tree signers a v1 client can request (legacy-unknown is refused on create)."""

NODE_SUBJECT_SIGNERS: Final = frozenset({KUBE_APISERVER_CLIENT_KUBELET, KUBELET_SERVING})
"""Signers whose policy demands a ``system:node:`` subject (a node credential)."""

BACKDATE: Final = 300
"""Seconds kube-controller-manager backdates NotBefore by."""
SHORT: Final = 8 * 3600
"""Below this TTL the end time is not backdated as well."""
MIN_DURATION: Final = 600
"""The 10-minute floor on a requested duration (2x the backdate)."""
DEFAULT_CERT_TTL: Final = 365 * 24 * 3600
"""kube-controller-manager's ``--cluster-signing-duration`` default (8760h)."""
CLOCK_SKEW: Final = 60
"""Seconds of clock difference between the suite and the signer that are tolerated."""
FAILED_REASON: Final = "SignerValidationFailure"

# --- usages -------------------------------------------------------------------------

KEY_USAGE_BITS: Final[dict[str, str]] = {
    "signing": "digital_signature",
    "digital signature": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "key agreement": "key_agreement",
    "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
    "encipher only": "encipher_only",
    "decipher only": "decipher_only",
}
"""``keyUsageDict``: usage string -> the ``cryptography`` KeyUsage attribute it sets."""

EXT_KEY_USAGES: Final[dict[str, ObjectIdentifier]] = {
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "s/mime": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec end system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft sgc": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape sgc": ObjectIdentifier("2.16.840.1.113730.4.1"),
}
"""``extKeyUsageDict``: usage string -> ExtKeyUsage OID."""

KEY_USAGE_ATTRS: Final = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def key_usage_bits(usages: Iterable[str]) -> frozenset[str]:
    """The KeyUsage bits ``usages`` ask for (names of ``cryptography`` attributes)."""
    return frozenset(KEY_USAGE_BITS[u] for u in usages if u in KEY_USAGE_BITS)


def ext_key_usages(usages: Iterable[str]) -> frozenset[ObjectIdentifier]:
    """The ExtKeyUsage OIDs ``usages`` ask for."""
    return frozenset(EXT_KEY_USAGES[u] for u in usages if u in EXT_KEY_USAGES)


def certificate_key_usage_bits(cert: x509.Certificate) -> frozenset[str]:
    """The KeyUsage bits a certificate carries (none without the extension)."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return frozenset()
    bits = set()
    for attr in KEY_USAGE_ATTRS:
        if attr in ("encipher_only", "decipher_only") and not ku.key_agreement:
            continue  # only defined with keyAgreement; cryptography refuses to read them
        if getattr(ku, attr):
            bits.add(attr)
    return frozenset(bits)


def certificate_ext_key_usages(cert: x509.Certificate) -> frozenset[ObjectIdentifier]:
    try:
        return frozenset(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return frozenset()


# --- subjects and names as Go sees them --------------------------------------------

GO_SUBJECT_ORDER: Final = (
    NameOID.COUNTRY_NAME,
    NameOID.STATE_OR_PROVINCE_NAME,
    NameOID.LOCALITY_NAME,
    NameOID.STREET_ADDRESS,
    NameOID.POSTAL_CODE,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.COMMON_NAME,
    NameOID.SERIAL_NUMBER,
)
"""The attributes Go's ``pkix.Name`` keeps, in the order ``ToRDNSequence`` writes them.

kube-controller-manager copies the request's parsed ``pkix.Name`` into the certificate,
so attributes of other types are dropped, and of ``CN`` and ``serialNumber`` only the
last value survives."""
_SINGLE_VALUED: Final = (NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER)


def go_subject(name: x509.Name) -> dict[ObjectIdentifier, tuple[str, ...]]:
    """``name`` as Go's ``pkix.Name`` holds it: values per known type, in order."""
    out: dict[ObjectIdentifier, list[str]] = {}
    for attr in name:
        if attr.oid in GO_SUBJECT_ORDER:
            value = attr.value if isinstance(attr.value, str) else attr.value.decode("latin-1")
            out.setdefault(attr.oid, []).append(value)
    for oid in _SINGLE_VALUED:
        if oid in out:
            out[oid] = out[oid][-1:]
    return {oid: tuple(out[oid]) for oid in GO_SUBJECT_ORDER if oid in out}


def go_name(name: x509.Name) -> x509.Name:
    """The subject a Go signer writes for a request subject ``name``."""
    rdns = [
        x509.RelativeDistinguishedName([x509.NameAttribute(oid, v) for v in values])
        for oid, values in go_subject(name).items()
    ]
    return x509.Name(rdns)


def common_name(name: x509.Name) -> str:
    values = go_subject(name).get(NameOID.COMMON_NAME, ())
    return values[-1] if values else ""


def organizations(name: x509.Name) -> tuple[str, ...]:
    return go_subject(name).get(NameOID.ORGANIZATION_NAME, ())


@dataclass(frozen=True)
class Names:
    """The SANs Go's x509 parser keeps: DNS, email, IP and URI, in request order."""

    dns: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()

    def all(self) -> Counter[tuple[str, str]]:
        return Counter(
            [("DNS", v) for v in self.dns]
            + [("email", v) for v in self.emails]
            + [("IP", v) for v in self.ips]
            + [("URI", v) for v in self.uris]
        )

    def general_names(self) -> list[x509.GeneralName]:
        out: list[x509.GeneralName] = [x509.DNSName(v) for v in self.dns]
        out += [x509.RFC822Name(v) for v in self.emails]
        out += [x509.IPAddress(ipaddress.ip_address(v)) for v in self.ips]
        out += [x509.UniformResourceIdentifier(v) for v in self.uris]
        return out


def names_of(extensions: x509.Extensions) -> Names:
    try:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return Names()
    return Names(
        dns=tuple(san.get_values_for_type(x509.DNSName)),
        emails=tuple(san.get_values_for_type(x509.RFC822Name)),
        ips=tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
        uris=tuple(san.get_values_for_type(x509.UniformResourceIdentifier)),
    )


# --- the signers' policies ----------------------------------------------------------

_KUBELET_SERVING_USAGES: Final = (
    frozenset({"digital signature", "key encipherment", "server auth"}),
    frozenset({"digital signature", "server auth"}),
)
_KUBELET_CLIENT_USAGES: Final = (
    frozenset({"digital signature", "key encipherment", "client auth"}),
    frozenset({"digital signature", "client auth"}),
)
NODE_PREFIX: Final = "system:node:"
NODES_GROUP: Final = "system:nodes"


def _kubelet_serving_error(
    csr: x509.CertificateSigningRequest, usages: Sequence[str]
) -> str | None:
    names = names_of(csr.extensions)
    if list(organizations(csr.subject)) != [NODES_GROUP]:
        return "subject organization is not system:nodes"
    if not names.dns and not names.ips:
        return "DNS or IP subjectAltName is required"
    if names.emails:
        return "Email subjectAltNames are not allowed"
    if names.uris:
        return "URI subjectAltNames are not allowed"
    if frozenset(usages) not in _KUBELET_SERVING_USAGES:
        return "usages did not match [digital signature key encipherment server auth]"
    if not common_name(csr.subject).startswith(NODE_PREFIX):
        return "subject common name does not begin with system:node:"
    return None


def _kubelet_client_error(csr: x509.CertificateSigningRequest, usages: Sequence[str]) -> str | None:
    names = names_of(csr.extensions)
    if list(organizations(csr.subject)) != [NODES_GROUP]:
        return "subject organization is not system:nodes"
    if names.dns:
        return "DNS subjectAltNames are not allowed"
    if names.emails:
        return "Email subjectAltNames are not allowed"
    if names.ips:
        return "IP subjectAltNames are not allowed"
    if names.uris:
        return "URI subjectAltNames are not allowed"
    if not common_name(csr.subject).startswith(NODE_PREFIX):
        return "subject common name does not begin with system:node:"
    if frozenset(usages) not in _KUBELET_CLIENT_USAGES:
        return "usages did not match [client auth digital signature key encipherment]"
    return None


def _apiserver_client_error(usages: Sequence[str]) -> str | None:
    has_client_auth = False
    for u in usages:
        if u in ("digital signature", "key encipherment"):
            continue
        if u == "client auth":
            has_client_auth = True
            continue
        return f"invalid usage for client certificate: {u}"
    if not has_client_auth:
        return "missing required usage for client certificate: client auth"
    return None


@dataclass(frozen=True)
class CustomPolicy:
    """The policy of a signer outside kubernetes.io, as the fake's reference signer keeps it.

    ``allowed_usages`` None allows every usage; ``required_usages`` must all be present;
    ``max_duration`` plays ``--cluster-signing-duration``. The default is permissive like
    ``legacy-unknown``: any usage, any subject.
    """

    allowed_usages: frozenset[str] | None = None
    required_usages: frozenset[str] = frozenset()
    max_duration: int = DEFAULT_CERT_TTL

    def error(self, usages: Sequence[str]) -> str | None:
        if self.allowed_usages is not None:
            for u in usages:
                if u not in self.allowed_usages:
                    return f"usage {u} is not allowed by this signer"
        missing = sorted(self.required_usages - set(usages))
        if missing:
            return f"missing required usages: {', '.join(missing)}"
        return None


def knows_policy(signer: str) -> bool:
    """Whether the suite knows ``signer``'s exact policy (the in-tree ones)."""
    return signer in KUBERNETES_SIGNERS or signer == LEGACY_UNKNOWN


def policy_error(
    signer: str,
    csr: x509.CertificateSigningRequest,
    usages: Sequence[str],
    custom: CustomPolicy | None = None,
) -> str | None:
    """Why ``signer`` refuses the request (the Failed message), or None when it signs."""
    if signer == KUBELET_SERVING:
        return _kubelet_serving_error(csr, usages)
    if signer == KUBE_APISERVER_CLIENT_KUBELET:
        return _kubelet_client_error(csr, usages)
    if signer == KUBE_APISERVER_CLIENT:
        return _apiserver_client_error(usages)
    if signer == LEGACY_UNKNOWN or is_kubernetes_signer_name(signer):
        return None
    return (custom or CustomPolicy()).error(usages)


# --- lifetime -----------------------------------------------------------------------


def duration(cert_ttl: int, expiration_seconds: int | None) -> int:
    """``signer.duration``: the TTL in seconds for a request."""
    if expiration_seconds is None:
        return cert_ttl
    if expiration_seconds > cert_ttl:
        return cert_ttl
    return max(expiration_seconds, MIN_DURATION)


class SignerExpired(Exception):
    """The CA can no longer sign (``PermissiveSigningPolicy.apply``'s refusals)."""


def validity(
    now: dt.datetime, ttl: int, ca_not_after: dt.datetime, *, backdate: int = BACKDATE
) -> tuple[dt.datetime, dt.datetime]:
    """``(NotBefore, NotAfter)`` as ``PermissiveSigningPolicy.apply`` computes them."""
    not_before = now - dt.timedelta(seconds=backdate)
    if ttl < SHORT:
        not_after = now + dt.timedelta(seconds=ttl)
    else:
        not_after = now + dt.timedelta(seconds=ttl - backdate)
    if not_after >= ca_not_after:
        not_after = ca_not_after
    if not_before >= ca_not_after:
        raise SignerExpired(f"the signer has expired: NotAfter={ca_not_after}")
    if now >= ca_not_after:
        raise SignerExpired(
            f"refusing to sign a certificate that expired in the past: NotAfter={ca_not_after}"
        )
    return not_before, not_after


# --- judging an issued certificate --------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One way an issued certificate breaks a rule."""

    rule: str
    message: str


def parse_certificates(text: str) -> list[x509.Certificate]:
    """The CERTIFICATE blocks of ``status.certificate``, leaf first; ValueError if none."""
    certs = x509.load_pem_x509_certificates(text.encode())
    if not certs:
        raise ValueError("no certificate")
    return certs


def describe(cert: x509.Certificate) -> str:
    """How a certificate appears in a report: serial and subject only."""
    return f"serial {cert.serial_number:x}, subject {cert.subject.rfc4514_string()!r}"


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # any failure (bad signature, other key type) means "not"
        return False
    return True


def chain_to(
    leaf: x509.Certificate, extra: Sequence[x509.Certificate], bundle: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    """The bundle CA ``leaf`` chains to through ``extra`` intermediates, or None."""
    current = leaf
    for _ in range(len(extra) + 1):
        for ca in bundle:
            if _issued_by(current, ca):
                return ca
        step = next((c for c in extra if c is not current and _issued_by(current, c)), None)
        if step is None:
            return None
        current = step
    return None


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Request:
    """What the CSR asked for, as the judge needs it."""

    signer: str
    csr: x509.CertificateSigningRequest
    usages: tuple[str, ...]
    expiration_seconds: int | None
    created: dt.datetime


def check_issued(
    request: Request,
    certificate: str,
    bundle: Sequence[x509.Certificate],
    *,
    observed: dt.datetime,
) -> list[Violation]:
    """Every rule the issued ``certificate`` (``status.certificate``) breaks.

    ``bundle`` holds the CAs the signer's certificates must chain to (empty: the chain
    is not judged); ``observed`` is when the suite first saw the certificate.
    """
    try:
        certs = parse_certificates(certificate)
    except ValueError as e:
        return [Violation("CSR-SIGN-ISSUE", f"status.certificate holds no certificate: {e}")]
    leaf, extra = certs[0], certs[1:]
    out: list[Violation] = []
    if _spki(leaf.public_key()) != _spki(request.csr.public_key()):
        out.append(Violation("CSR-SIGN-KEY", f"{describe(leaf)} certifies another public key"))
    issuer: x509.Certificate | None = None
    if bundle:
        issuer = chain_to(leaf, extra, bundle)
        if issuer is None:
            out.append(
                Violation("CSR-SIGN-CHAIN", f"{describe(leaf)} does not chain to the CA bundle")
            )
    out += _check_names(request, leaf)
    out += _check_usages(request, leaf)
    out += _check_lifetime(request, leaf, issuer, observed)
    return out


def _check_names(request: Request, leaf: x509.Certificate) -> list[Violation]:
    out: list[Violation] = []
    asked = names_of(request.csr.extensions).all()
    got = names_of(leaf.extensions).all()
    extra_names = got - asked
    if extra_names:
        out.append(
            Violation(
                "CSR-SIGN-SUBJECT",
                f"{describe(leaf)} names {sorted(extra_names)} that were not requested",
            )
        )
    if not knows_policy(request.signer):
        return out
    missing = asked - got
    if missing:
        out.append(
            Violation(
                "CSR-SIGN-SUBJECT", f"{describe(leaf)} lacks requested SANs {sorted(missing)}"
            )
        )
    if _unordered(go_subject(leaf.subject)) != _unordered(go_subject(request.csr.subject)):
        out.append(
            Violation(
                "CSR-SIGN-SUBJECT",
                f"{describe(leaf)}: subject differs from the request's "
                f"{request.csr.subject.rfc4514_string()!r}",
            )
        )
    return out


def _unordered(subject: dict[ObjectIdentifier, tuple[str, ...]]) -> dict[str, list[str]]:
    """Values per attribute type, sorted: a multi-valued RDN is a DER SET, whose order
    the encoder chooses (Go and OpenSSL sort it), so only the values are compared."""
    return {oid.dotted_string: sorted(values) for oid, values in subject.items()}


def _check_usages(request: Request, leaf: x509.Certificate) -> list[Violation]:
    out: list[Violation] = []
    try:
        bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            out.append(Violation("CSR-SIGN-USAGES", f"{describe(leaf)} is a CA certificate"))
    except x509.ExtensionNotFound:
        pass
    want_bits = key_usage_bits(request.usages)
    want_eku = ext_key_usages(request.usages)
    got_bits = certificate_key_usage_bits(leaf)
    got_eku = certificate_ext_key_usages(leaf)
    if got_bits - want_bits or got_eku - want_eku:
        unasked = sorted(got_bits - want_bits) + sorted(o.dotted_string for o in got_eku - want_eku)
        out.append(
            Violation("CSR-SIGN-USAGES", f"{describe(leaf)} carries unrequested usages {unasked}")
        )
    if knows_policy(request.signer) and (want_bits - got_bits or want_eku - got_eku):
        lost = sorted(want_bits - got_bits) + sorted(o.dotted_string for o in want_eku - got_eku)
        out.append(Violation("CSR-SIGN-USAGES", f"{describe(leaf)} lacks requested usages {lost}"))
    return out


def _check_lifetime(
    request: Request, leaf: x509.Certificate, issuer: x509.Certificate | None, observed: dt.datetime
) -> list[Violation]:
    out: list[Violation] = []
    nb, na = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    lifetime = (na - nb).total_seconds()
    if request.expiration_seconds is not None:
        bound = max(request.expiration_seconds, MIN_DURATION) + BACKDATE + 1
        if lifetime > bound:
            out.append(
                Violation(
                    "CSR-SIGN-LIFETIME",
                    f"{describe(leaf)} lives {lifetime:.0f}s; expirationSeconds "
                    f"{request.expiration_seconds} allows at most {bound - 1}s with backdating",
                )
            )
    floor = float(MIN_DURATION)
    if issuer is not None:
        floor = min(floor, (issuer.not_valid_after_utc - nb).total_seconds())
    if lifetime < floor - 1:
        out.append(
            Violation(
                "CSR-SIGN-LIFETIME",
                f"{describe(leaf)} lives {lifetime:.0f}s, under the {MIN_DURATION}s minimum",
            )
        )
    if issuer is not None and na > issuer.not_valid_after_utc:
        out.append(
            Violation(
                "CSR-SIGN-CA-EXPIRY",
                f"{describe(leaf)} expires {na.isoformat()}, after its CA "
                f"({issuer.not_valid_after_utc.isoformat()})",
            )
        )
    skew = dt.timedelta(seconds=CLOCK_SKEW)
    if nb > _utc(observed) + skew:
        out.append(
            Violation(
                "CSR-SIGN-NOTBEFORE",
                f"{describe(leaf)} is not valid before {nb.isoformat()}, in the future "
                f"when it was issued ({_utc(observed).isoformat()})",
            )
        )
    earliest = _utc(request.created) - dt.timedelta(seconds=BACKDATE) - skew
    if nb < earliest:
        out.append(
            Violation(
                "CSR-SIGN-NOTBEFORE",
                f"{describe(leaf)} is backdated to {nb.isoformat()}, more than {BACKDATE}s "
                f"before the request was created ({_utc(request.created).isoformat()})",
            )
        )
    return out
