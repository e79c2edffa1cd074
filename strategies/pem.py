"""PKCS#10 requests for ``spec.request``: valid, malformed (per rule) and tolerated.

kube-apiserver checks a request with ``certificates.ParseCSR`` (Go's ``pem.Decode`` of
the *first* block, block type exactly ``CERTIFICATE REQUEST``, then
``x509.ParseCertificateRequest``) followed by ``CheckSignature``. Each malformed class
below is labelled with the rule its failure lands in, derived from what those Go
functions do, not from what a PEM library in Python would do:

- ``pem.Decode`` skips a block whose base64 does not decode, whose END line does not
  match, or that has no END line, and looks for a later block; with none left it returns
  nil. So bad base64 is CSR-VAL-R1 (block type), not R2.
- ``pem.Decode`` accepts ``Key: Value`` header lines after BEGIN and ``ParseCSR`` never
  looks at them, so a request with PEM headers is *accepted* (unlike
  ``status.certificate``, which forbids headers). It is in ``tolerated_requests``.
- BEGIN must start the input or follow a newline; anything else on the END line after
  the closing dashes (other than spaces/tabs) disqualifies the block.
- Leading text, trailing text and further blocks after the first are ignored.

Upstream: kubernetes ``pkg/apis/certificates/helpers.go`` (ParseCSR), golang
``src/encoding/pem/pem.go`` (Decode), ``src/crypto/x509/x509.go``
(ParseCertificateRequest, which rejects trailing data) and ``parser.go`` (SAN parsing:
IA5 strings only, URIs must parse and have a valid host — so the SANs drawn here stay
inside what Go parses).

Every strategy is built once and cached (``functools.cache`` or a module constant), and
composites draw only from those: a strategy built inside a per-draw composite is
validated again on every draw (see ``strategies.names``).
"""

from __future__ import annotations

import base64
import datetime
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import strategies as st

from strategies.keys import (
    Digest,
    KeyKind,
    PrivateKey,
    pool_key,
    private_keys,
    signature_hash,
    slots,
)
from strategies.names import dns_labels, domains

RULE_R1: Final = "CSR-VAL-R1"
RULE_R2: Final = "CSR-VAL-R2"
RULE_R3: Final = "CSR-VAL-R3"

CSR_BLOCK: Final = "CERTIFICATE REQUEST"

Extension = tuple[x509.ExtensionType, bool]
"""An extension value and its critical flag."""


@dataclass(frozen=True)
class Malformed:
    """A ``spec.request`` value kube-apiserver rejects, and the rule it breaks."""

    pem: bytes
    kind: str
    rule: str


@dataclass(frozen=True)
class Tolerated:
    """A ``spec.request`` value that looks irregular but kube-apiserver accepts."""

    pem: bytes
    kind: str


# ---------------------------------------------------------------------------
# PEM and DER helpers
# ---------------------------------------------------------------------------


def encode_pem(
    block_type: str,
    der: bytes,
    *,
    line_length: int = 64,
    headers: Sequence[tuple[str, str]] = (),
    newline: bytes = b"\n",
) -> bytes:
    """PEM text for ``der``; unlike library encoders, any type, width and headers go."""
    body = base64.b64encode(der)
    lines = [body[i : i + line_length] for i in range(0, len(body), line_length)]
    out = [f"-----BEGIN {block_type}-----".encode()]
    if headers:
        out.extend(f"{k}: {v}".encode() for k, v in headers)
        out.append(b"")
    out.extend(lines)
    out.append(f"-----END {block_type}-----".encode())
    return newline.join(out) + newline


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_read(data: bytes, offset: int) -> tuple[int, int]:
    """(start of content, end of element) of the DER element at ``offset``."""
    first = data[offset + 1]
    if first < 0x80:
        start, length = offset + 2, first
    else:
        count = first & 0x7F
        start = offset + 2 + count
        length = int.from_bytes(data[offset + 2 : start], "big")
    return start, start + length


def der_children(der: bytes) -> list[bytes]:
    """The encoded elements inside a top-level SEQUENCE (tbs, algorithm, signature)."""
    start, end = _der_read(der, 0)
    children: list[bytes] = []
    offset = start
    while offset < end:
        _, stop = _der_read(der, offset)
        children.append(der[offset:stop])
        offset = stop
    return children


def _der_sequence(*parts: bytes) -> bytes:
    content = b"".join(parts)
    return b"\x30" + _der_length(len(content)) + content


def _der_bit_string(data: bytes) -> bytes:
    return b"\x03" + _der_length(len(data) + 1) + b"\x00" + data


def sign_raw(key: PrivateKey, data: bytes, digest: Digest | None) -> bytes:
    """A signature over ``data`` in the form X.509 embeds it."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    algorithm = digest or hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(algorithm))
    return key.sign(data, padding.PKCS1v15(), algorithm)


# ---------------------------------------------------------------------------
# Request contents
# ---------------------------------------------------------------------------

_TEXT: Final = st.characters(codec="utf-8")


def _attribute_value(value: str) -> str:
    # Never emit a system: identity (system:masters, system:node:...): a real signer
    # could otherwise issue a privileged credential for a drawn request.
    if value.lower().startswith("system:"):
        value = "x" + value
    # cryptography caps a common name at 64 UTF-8 bytes; keep every attribute under it.
    while len(value.encode()) > 64:
        value = value[:-1]
    return value


@functools.cache
def _attribute_text() -> st.SearchStrategy[str]:
    return st.text(alphabet=_TEXT, min_size=1, max_size=64).map(_attribute_value)


_TEXT_OIDS: Final = (
    NameOID.COMMON_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.LOCALITY_NAME,
    NameOID.STATE_OR_PROVINCE_NAME,
    NameOID.STREET_ADDRESS,
    NameOID.POSTAL_CODE,
)


_ATTRIBUTE_OIDS: Final = st.sampled_from((*_TEXT_OIDS, NameOID.COUNTRY_NAME))
_COUNTRIES: Final = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)


@st.composite
def _name_attribute(draw: st.DrawFn) -> x509.NameAttribute[str]:
    # The OID first (one choice; the country comes last, so draws shrink to a CN), then
    # the value its kind takes: two choices per attribute instead of three.
    oid = draw(_ATTRIBUTE_OIDS)
    value = draw(_COUNTRIES if oid == NameOID.COUNTRY_NAME else _attribute_text())
    return x509.NameAttribute(oid, value)


@functools.cache
def name_attributes() -> st.SearchStrategy[x509.NameAttribute[str]]:
    """One subject attribute: a UTF8String one, or a two-letter country."""
    return _name_attribute()


@functools.cache
def _rdns() -> st.SearchStrategy[x509.RelativeDistinguishedName]:
    return st.lists(
        name_attributes(),
        min_size=1,
        max_size=2,
        unique_by=lambda a: (a.oid.dotted_string, a.value),
    ).map(x509.RelativeDistinguishedName)


@functools.cache
def subjects() -> st.SearchStrategy[x509.Name]:
    """Subjects with random CN, O, OU, C, L, ST, street and postal code (possibly empty,
    occasionally with multi-valued RDNs). Values never start with ``system:``."""
    return st.lists(_rdns(), max_size=6).map(x509.Name)


@functools.cache
def _dns_names() -> st.SearchStrategy[str]:
    return st.builds(lambda wild, d: ("*." if wild else "") + d, st.booleans(), domains())


@functools.cache
def _emails() -> st.SearchStrategy[str]:
    return st.builds(lambda local, d: f"{local}@{d}", dns_labels(1, 10), domains())


@functools.cache
def _uris() -> st.SearchStrategy[str]:
    with_host = st.builds(
        lambda scheme, host, path: f"{scheme}://{host}/{path}",
        st.sampled_from(["https", "spiffe"]),
        domains(),
        st.lists(dns_labels(1, 8), max_size=3).map("/".join),
    )
    urn = dns_labels(1, 12).map(lambda s: f"urn:example:{s}")
    return st.one_of(with_host, urn)


@functools.cache
def sans() -> st.SearchStrategy[list[x509.GeneralName]]:
    """Subject alternative names: DNS (incl. wildcards), IPv4, IPv6, email and URI.

    Possibly empty (then the request carries no SAN extension).
    """
    name: st.SearchStrategy[x509.GeneralName] = st.one_of(
        _dns_names().map(x509.DNSName),
        st.ip_addresses(v=4).map(x509.IPAddress),
        st.ip_addresses(v=6).map(x509.IPAddress),
        _emails().map(x509.RFC822Name),
        _uris().map(x509.UniformResourceIdentifier),
    )
    return st.lists(name, max_size=4)


_KEY_USAGE_BITS: Final = st.integers(0, 2**7 - 1)


@st.composite
def _key_usages(draw: st.DrawFn) -> x509.KeyUsage:
    # Seven independent flags as the bits of one integer: one choice instead of seven,
    # the same distribution, and it still shrinks to all-false.
    bits = draw(_KEY_USAGE_BITS)
    flags = [bool(bits >> i & 1) for i in range(7)]
    agreement = flags[4]
    return x509.KeyUsage(
        digital_signature=flags[0],
        content_commitment=flags[1],
        key_encipherment=flags[2],
        data_encipherment=flags[3],
        key_agreement=agreement,
        key_cert_sign=flags[5],
        crl_sign=flags[6],
        encipher_only=agreement and draw(st.booleans()),
        decipher_only=agreement and draw(st.booleans()),
    )


_EKU_OIDS: Final = (
    ExtendedKeyUsageOID.CLIENT_AUTH,
    ExtendedKeyUsageOID.SERVER_AUTH,
    ExtendedKeyUsageOID.CODE_SIGNING,
    ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ExtendedKeyUsageOID.TIME_STAMPING,
    ExtendedKeyUsageOID.OCSP_SIGNING,
    x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.4"),  # an EKU Go does not know
)


_PATH_LENGTHS: Final = st.one_of(st.none(), st.integers(0, 5))


@st.composite
def _basic_constraints(draw: st.DrawFn) -> x509.BasicConstraints:
    ca = draw(st.booleans())
    path_length = draw(_PATH_LENGTHS) if ca else None
    return x509.BasicConstraints(ca=ca, path_length=path_length)


@functools.cache
def extensions() -> st.SearchStrategy[list[Extension]]:
    """Extra requested extensions (besides SANs): KeyUsage, ExtendedKeyUsage,
    BasicConstraints and SubjectKeyIdentifier, each at most once, critical or not.

    The API server checks none of them (rule CSR-VAL-R4); signers may.
    """
    value: st.SearchStrategy[x509.ExtensionType] = st.one_of(
        _key_usages(),
        st.lists(st.sampled_from(_EKU_OIDS), min_size=1, max_size=3, unique=True).map(
            x509.ExtendedKeyUsage
        ),
        _basic_constraints(),
        st.binary(min_size=20, max_size=20).map(x509.SubjectKeyIdentifier),
    )
    return st.lists(st.tuples(value, st.booleans()), max_size=4, unique_by=lambda e: e[0].oid)


def build_csr(
    key: PrivateKey,
    subject: x509.Name,
    alt_names: Sequence[x509.GeneralName] = (),
    extra: Iterable[Extension] = (),
    digest: Digest | None = None,
) -> x509.CertificateSigningRequest:
    """A signed request; ``digest`` defaults to the usual one for the key."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    for ext, critical in extra:
        builder = builder.add_extension(ext, critical=critical)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else digest
    csr: x509.CertificateSigningRequest = _sign(builder, key, algorithm or signature_hash(key))
    return csr


def _sign(
    builder: x509.CertificateSigningRequestBuilder | x509.CertificateBuilder,
    key: PrivateKey,
    digest: Digest | None,
) -> Any:
    """Sign with RFC 6979 ECDSA where available, so a replayed example has the same bytes
    (RSA PKCS#1 v1.5 and Ed25519 signatures are deterministic already)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        try:
            return builder.sign(key, digest, ecdsa_deterministic=True)
        except (TypeError, UnsupportedAlgorithm):
            pass
    return builder.sign(key, digest)


_NO_DIGEST: Final[st.SearchStrategy[Digest | None]] = st.none()
_RSA_DIGESTS: Final[st.SearchStrategy[Digest | None]] = st.sampled_from(
    [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()]
)
_EC_DIGESTS: dict[int, st.SearchStrategy[Digest | None]] = {}


def _digests(key: PrivateKey) -> st.SearchStrategy[Digest | None]:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return _NO_DIGEST
    if isinstance(key, rsa.RSAPrivateKey):
        return _RSA_DIGESTS
    size = key.curve.key_size
    strategy = _EC_DIGESTS.get(size)
    if strategy is None:
        strategy = _EC_DIGESTS.setdefault(
            size, st.sampled_from([signature_hash(key), hashes.SHA256()])
        )
    return strategy


@st.composite
def _csrs(
    draw: st.DrawFn,
    keys: st.SearchStrategy[PrivateKey],
    subjects: st.SearchStrategy[x509.Name],
    sans: st.SearchStrategy[list[x509.GeneralName]],
    extensions: st.SearchStrategy[list[Extension]],
) -> x509.CertificateSigningRequest:
    key = draw(keys)
    subject = draw(subjects)
    alt_names = draw(sans)
    extra = draw(extensions)
    return build_csr(key, subject, alt_names, extra, draw(_digests(key)))


@functools.cache
def csrs(
    keys: st.SearchStrategy[PrivateKey] | None = None,
    subjects: st.SearchStrategy[x509.Name] | None = None,
    sans: st.SearchStrategy[list[x509.GeneralName]] | None = None,
    extensions: st.SearchStrategy[list[Extension]] | None = None,
) -> st.SearchStrategy[x509.CertificateSigningRequest]:
    """Signed request objects (see ``csr_pems`` for the parameters)."""
    return _csrs(
        keys if keys is not None else private_keys(),
        subjects if subjects is not None else _SUBJECTS,
        sans if sans is not None else _SANS,
        extensions if extensions is not None else _EXTENSIONS,
    )


def _pem_bytes(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.PEM)


@functools.cache
def csr_pems(
    keys: st.SearchStrategy[PrivateKey] | None = None,
    *,
    subjects: st.SearchStrategy[x509.Name] | None = None,
    sans: st.SearchStrategy[list[x509.GeneralName]] | None = None,
    extensions: st.SearchStrategy[list[Extension]] | None = None,
) -> st.SearchStrategy[bytes]:
    """Valid PEM requests (``-----BEGIN CERTIFICATE REQUEST-----``) signed by a pool key.

    Every part can be replaced: e.g. ``subjects=st.just(name)`` to request a specific
    identity. Defaults: ``private_keys()``, ``subjects()``, ``sans()``, ``extensions()``.
    """
    return csrs(keys, subjects, sans, extensions).map(_pem_bytes)


_SUBJECTS: Final = subjects()
_SERIALS: Final = st.integers(1, 2**159 - 1)
_SANS: Final = sans()
_EXTENSIONS: Final = extensions()


def _der(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.DER)


def self_signed_certificate(
    key: PrivateKey, subject: x509.Name, serial: int = 1
) -> x509.Certificate:
    """A throwaway self-signed certificate (for "a certificate instead of a request")."""
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
    )
    certificate: x509.Certificate = _sign(builder, key, signature_hash(key))
    return certificate


# ---------------------------------------------------------------------------
# Malformed requests: one strategy per class
# ---------------------------------------------------------------------------

WRONG_BLOCK_TYPES: Final[tuple[str, ...]] = (
    "CERTIFICATE REQUESTS",
    "NEW CERTIFICATE REQUEST",
    "PRIVATE KEY",
    "CERTIFICATE",
    "certificate request",
    "CERTIFICATE  REQUEST",
    "CERTIFICATE REQUEST ",
    " CERTIFICATE REQUEST",
    "PUBLIC KEY",
    "X509 CRL",
    "",
)
"""Block types Go does not take for a request (it compares the type exactly)."""


def _position(draw: st.DrawFn, length: int) -> int:
    """An index in ``range(length)`` drawn with fixed bounds.

    Bounds that depend on a length would make the sequence of draws depend on signature
    bytes, which Hypothesis reports as a flaky strategy; scaling keeps it fixed.
    """
    scale = 1 << 16
    return draw(st.integers(0, scale - 1)) * length // scale


def _no_dashes(data: bytes) -> bytes:
    # Without '-' no BEGIN/END marker can appear by accident.
    return data.replace(b"-", b"")


@functools.cache
def _junk() -> st.SearchStrategy[bytes]:
    """Text or binary that cannot contain a PEM marker."""
    text = st.text(alphabet=st.characters(codec="utf-8"), max_size=60).map(lambda s: s.encode())
    return st.one_of(text, st.binary(max_size=60)).map(_no_dashes)


@functools.cache
def _valid_der(keys: st.SearchStrategy[PrivateKey] | None) -> st.SearchStrategy[bytes]:
    return csrs(keys).map(_der)


@st.composite
def _wrong_block_type(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    block_type = draw(st.sampled_from(WRONG_BLOCK_TYPES))
    return Malformed(encode_pem(block_type, draw(_valid_der(keys))), "wrong-block-type", RULE_R1)


_END_TYPES: Final = st.sampled_from(
    ["CERTIFICATE", "CERTIFICATE REQUESTS", "NEW CERTIFICATE REQUEST"]
)


@st.composite
def _mismatched_end(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    end_type = draw(_END_TYPES)
    pem = encode_pem(CSR_BLOCK, draw(_valid_der(keys)))
    pem = pem.replace(f"-----END {CSR_BLOCK}-----".encode(), f"-----END {end_type}-----".encode())
    return Malformed(pem, "mismatched-end-type", RULE_R1)


@st.composite
def _missing_end(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    pem = encode_pem(CSR_BLOCK, draw(_valid_der(keys)))
    cut = pem.index(b"-----END")
    keep_newline = draw(st.booleans())
    return Malformed(pem[: cut if keep_newline else cut - 1], "missing-end", RULE_R1)


_BASE64_DAMAGE: Final = st.sampled_from(["bad-char", "drop-char", "inner-padding"])
_NON_BASE64: Final = st.sampled_from(b"!#$*?@^~._,;&")


@st.composite
def _bad_base64(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    der = draw(_valid_der(keys))
    body = bytearray(base64.b64encode(der))
    how = draw(_BASE64_DAMAGE)
    # Positions 8.. keep the change off the first body line's first characters; none of
    # the inserted characters is ':' (which would turn the first line into a header) or
    # '-' (which could look like an END marker).
    at = 8 + _position(draw, len(body) - 16)
    if how == "bad-char":
        body.insert(at, draw(_NON_BASE64))
    elif how == "drop-char":
        del body[at]
    else:
        at -= at % 4
        body[at : at + 4] = body[at : at + 2] + b"=="
    lines = [bytes(body[i : i + 64]) for i in range(0, len(body), 64)]
    pem = b"\n".join(
        [f"-----BEGIN {CSR_BLOCK}-----".encode(), *lines, f"-----END {CSR_BLOCK}-----".encode()]
    )
    return Malformed(pem + b"\n", f"bad-base64:{how}", RULE_R1)


@st.composite
def _certificate(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    key = draw(keys if keys is not None else private_keys())
    cert = self_signed_certificate(key, draw(_SUBJECTS), draw(_SERIALS))
    return Malformed(cert.public_bytes(serialization.Encoding.PEM), "certificate", RULE_R1)


_LEAD_BLOCKS: Final = st.sampled_from(["certificate", "public-key", "garbage"])
_GARBAGE_40: Final = st.binary(max_size=40)


@st.composite
def _other_block_first(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    key = draw(keys if keys is not None else private_keys())
    csr_pem = build_csr(key, draw(_SUBJECTS)).public_bytes(serialization.Encoding.PEM)
    # Only public material goes first: the value is echoed back in the 422 message and may
    # end up in audit logs, so a pool private key must never be sent.
    first = draw(_LEAD_BLOCKS)
    if first == "certificate":
        lead = self_signed_certificate(key, x509.Name([])).public_bytes(serialization.Encoding.PEM)
    elif first == "public-key":
        lead = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        lead = encode_pem("GARBAGE", draw(_GARBAGE_40))
    return Malformed(lead + csr_pem, f"other-block-first:{first}", RULE_R1)


@functools.cache
def _empty() -> st.SearchStrategy[Malformed]:
    return st.just(Malformed(b"", "empty", RULE_R1))


@functools.cache
def _no_pem() -> st.SearchStrategy[Malformed]:
    text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1).map(lambda s: s.encode())
    der_like = st.binary(min_size=1, max_size=200)
    return st.one_of(text, der_like).map(
        lambda b: Malformed(_no_dashes(b) or b"x", "no-pem", RULE_R1)
    )


_LINE_START_JUNK: Final = st.sampled_from([b" ", b"\t", b"\xef\xbb\xbf", b"x", b"junk: "])


@st.composite
def _begin_not_at_line_start(
    draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None
) -> Malformed:
    pem = encode_pem(CSR_BLOCK, draw(_valid_der(keys)))
    lead = draw(_LINE_START_JUNK)
    return Malformed(lead + pem, "begin-not-at-line-start", RULE_R1)


_END_LINE_JUNK: Final = st.sampled_from([b"-", b"x", b" x", b"\tjunk", b"-----"])


@st.composite
def _junk_on_end_line(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    pem = encode_pem(CSR_BLOCK, draw(_valid_der(keys)))
    tail = draw(_END_LINE_JUNK)
    return Malformed(pem[:-1] + tail + b"\n", "junk-on-end-line", RULE_R1)


@st.composite
def _truncated_der(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    der = draw(_valid_der(keys))
    cut = _position(draw, len(der))
    return Malformed(encode_pem(CSR_BLOCK, der[:cut]), "truncated-der", RULE_R2)


_TRAILING_DER: Final = st.binary(min_size=1, max_size=16)


@st.composite
def _trailing_der(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    der = draw(_valid_der(keys)) + draw(_TRAILING_DER)
    return Malformed(encode_pem(CSR_BLOCK, der), "trailing-der-data", RULE_R2)


@st.composite
def _certificate_der(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    key = draw(keys if keys is not None else private_keys())
    cert = self_signed_certificate(key, draw(_SUBJECTS), draw(_SERIALS))
    der = cert.public_bytes(serialization.Encoding.DER)
    return Malformed(encode_pem(CSR_BLOCK, der), "certificate-der", RULE_R2)


@functools.cache
def _garbage_der() -> st.SearchStrategy[Malformed]:
    # Never starting with 0x30 (SEQUENCE), so it cannot parse as a request by chance.
    der = st.one_of(
        st.just(b""),
        st.tuples(st.integers(0, 255).filter(lambda b: b != 0x30), st.binary(max_size=64)).map(
            lambda t: bytes([t[0]]) + t[1]
        ),
    )
    return der.map(lambda d: Malformed(encode_pem(CSR_BLOCK, d), "garbage-der", RULE_R2))


_LAST_16: Final = st.integers(0, 15)
_NONZERO_BYTES: Final = st.integers(1, 255)


@st.composite
def _flipped_signature(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    der = bytearray(draw(_valid_der(keys)))
    # The signature BIT STRING ends the DER; its last 16 bytes are signature value bytes
    # for every key kind (for ECDSA they are inside the integer s).
    index = len(der) - 1 - draw(_LAST_16)
    der[index] ^= draw(_NONZERO_BYTES)
    return Malformed(encode_pem(CSR_BLOCK, bytes(der)), "flipped-signature", RULE_R3)


_SLOT_INDICES: Final = st.integers(0, len(slots()) - 1)


def _slot_key(slot: tuple[KeyKind, int]) -> PrivateKey:
    return pool_key(*slot)


@st.composite
def _wrong_key_signature(draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None) -> Malformed:
    key = draw(keys if keys is not None else private_keys())
    # Another pool key; when the drawn slot holds ``key`` itself, the next slot (no
    # per-draw filter: see the module docstring).
    pool = slots()
    index = draw(_SLOT_INDICES)
    other = _slot_key(pool[index])
    if other is key:
        other = _slot_key(pool[(index + 1) % len(pool)])
    csr = build_csr(key, draw(_SUBJECTS), draw(_SANS))
    digest = signature_hash(other)
    algorithm = der_children(_der(build_csr(other, x509.Name([]))))[1]
    signature = sign_raw(other, csr.tbs_certrequest_bytes, digest)
    der = _der_sequence(csr.tbs_certrequest_bytes, algorithm, _der_bit_string(signature))
    return Malformed(encode_pem(CSR_BLOCK, der), "wrong-key-signature", RULE_R3)


MALFORMED_KINDS: Final[dict[str, str]] = {
    "empty": RULE_R1,
    "no-pem": RULE_R1,
    "wrong-block-type": RULE_R1,
    "mismatched-end-type": RULE_R1,
    "missing-end": RULE_R1,
    "bad-base64": RULE_R1,
    "certificate": RULE_R1,
    "other-block-first": RULE_R1,
    "begin-not-at-line-start": RULE_R1,
    "junk-on-end-line": RULE_R1,
    "garbage-der": RULE_R2,
    "truncated-der": RULE_R2,
    "trailing-der-data": RULE_R2,
    "certificate-der": RULE_R2,
    "flipped-signature": RULE_R3,
    "wrong-key-signature": RULE_R3,
}
"""Every malformed class and the rule it breaks. ``Malformed.kind`` starts with one of
these (some add ``:variant``)."""


@functools.cache
def malformed_request_classes(
    keys: st.SearchStrategy[PrivateKey] | None = None,
) -> dict[str, st.SearchStrategy[Malformed]]:
    """One strategy per malformed class, keyed like ``MALFORMED_KINDS``."""
    return {
        "empty": _empty(),
        "no-pem": _no_pem(),
        "wrong-block-type": _wrong_block_type(keys),
        "mismatched-end-type": _mismatched_end(keys),
        "missing-end": _missing_end(keys),
        "bad-base64": _bad_base64(keys),
        "certificate": _certificate(keys),
        "other-block-first": _other_block_first(keys),
        "begin-not-at-line-start": _begin_not_at_line_start(keys),
        "junk-on-end-line": _junk_on_end_line(keys),
        "garbage-der": _garbage_der(),
        "truncated-der": _truncated_der(keys),
        "trailing-der-data": _trailing_der(keys),
        "certificate-der": _certificate_der(keys),
        "flipped-signature": _flipped_signature(keys),
        "wrong-key-signature": _wrong_key_signature(keys),
    }


def malformed_requests(
    keys: st.SearchStrategy[PrivateKey] | None = None,
    *,
    kinds: Iterable[str] | None = None,
    rules: Iterable[str] | None = None,
) -> st.SearchStrategy[Malformed]:
    """Requests kube-apiserver rejects, each labelled with its class and rule.

    ``kinds``/``rules`` narrow the classes (e.g. ``rules=["CSR-VAL-R3"]``).
    """
    return _malformed_requests(
        keys,
        None if kinds is None else frozenset(kinds),
        None if rules is None else frozenset(rules),
    )


@functools.cache
def _malformed_requests(
    keys: st.SearchStrategy[PrivateKey] | None,
    kinds: frozenset[str] | None,
    rules: frozenset[str] | None,
) -> st.SearchStrategy[Malformed]:
    classes = malformed_request_classes(keys)
    wanted_kinds = set(kinds) if kinds is not None else set(classes)
    wanted_rules = set(rules) if rules is not None else {RULE_R1, RULE_R2, RULE_R3}
    unknown = wanted_kinds - set(classes)
    if unknown:
        raise ValueError(f"unknown malformed kinds: {sorted(unknown)}")
    chosen = [
        strategy
        for kind, strategy in classes.items()
        if kind in wanted_kinds and MALFORMED_KINDS[kind] in wanted_rules
    ]
    if not chosen:
        raise ValueError("no malformed class matches the given kinds and rules")
    return st.one_of(chosen)


# ---------------------------------------------------------------------------
# Tolerated irregularities
# ---------------------------------------------------------------------------

_HEADER_KEYS: Final = ("Proc-Type", "DEK-Info", "Comment", "X-Anything")


@functools.cache
def _headers() -> st.SearchStrategy[list[tuple[str, str]]]:
    # Values never hold '-', so no header line can pass for a BEGIN/END marker.
    value = st.one_of(
        st.sampled_from(["4,ENCRYPTED", "AES-128-CBC,00112233445566778899AABBCCDDEEFF"]),
        st.text(alphabet="ABCDEFabcdef0123456789 ,.:/+=_", max_size=30).map(str.strip),
    )
    return st.lists(
        st.tuples(st.sampled_from(_HEADER_KEYS), value),
        min_size=1,
        max_size=3,
        unique_by=lambda h: h[0],
    )


@functools.cache
def _trailing_blocks() -> st.SearchStrategy[bytes]:
    block = st.one_of(
        st.binary(max_size=40).map(lambda b: encode_pem("CERTIFICATE", b)),
        st.binary(max_size=40).map(lambda b: encode_pem(CSR_BLOCK, b)),
        st.just(b"-----BEGIN UNTERMINATED-----\nAAAA\n"),
        st.just(b"-----BEGIN GARBAGE-----\n!!!!\n-----END GARBAGE-----\n"),
    )
    return st.lists(block, min_size=1, max_size=3).map(b"".join)


_TOLERATED_STEPS: Final = (
    "leading-text",
    "trailing-text",
    "extra-blocks",
    "headers",
    "rewrapped",
    "crlf",
    "space-after-markers",
)


_STEP_LISTS: Final = st.lists(
    st.sampled_from(_TOLERATED_STEPS), min_size=1, max_size=3, unique=True
)
_WIDTHS: Final = st.sampled_from([76, 4, 16, 100_000])
_MARKER_PADS: Final = st.sampled_from([b" ", b"\t", b"  \t"])


@st.composite
def labelled_tolerated_requests(
    draw: st.DrawFn, keys: st.SearchStrategy[PrivateKey] | None = None
) -> Tolerated:
    """Valid requests in irregular packaging that ``ParseCSR`` accepts: text before the
    block, text or further blocks after it, PEM headers, other base64 line widths, CRLF
    line ends, spaces after the BEGIN/END markers. One or several at once; ``kind`` names
    them in order ("+"-joined)."""
    der = draw(_valid_der(keys))
    steps = draw(_STEP_LISTS)
    chosen = set(steps)
    headers = draw(_headers()) if "headers" in chosen else []
    width = draw(_WIDTHS) if "rewrapped" in chosen else 64
    newline = b"\r\n" if "crlf" in chosen else b"\n"
    pem = encode_pem(CSR_BLOCK, der, line_length=width, headers=headers, newline=newline)
    if "space-after-markers" in chosen:
        pad = draw(_MARKER_PADS)
        pem = pem.replace(b"-----" + newline, b"-----" + pad + newline)
    if "leading-text" in chosen:
        pem = draw(_junk()) + b"\n" + pem
    if "trailing-text" in chosen:
        pem += draw(_junk())
    if "extra-blocks" in chosen:
        pem += draw(_trailing_blocks())
    order = [s for s in _TOLERATED_STEPS if s in chosen]
    return Tolerated(pem, "+".join(order))


@functools.cache
def tolerated_requests(
    keys: st.SearchStrategy[PrivateKey] | None = None,
) -> st.SearchStrategy[bytes]:
    """The PEM bytes of ``labelled_tolerated_requests``: requests the server must accept."""
    return labelled_tolerated_requests(keys).map(lambda t: t.pem)
