"""The signing policy and the certificate judge (``conformance.oracle.csr.signing``), offline.

Each check of :func:`check_issued` is shown to fire on a certificate built to break
exactly that rule, and to stay quiet on one built the way kube-controller-manager builds
it, so a property's verdict rests on tested code.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conformance.oracle.csr.signer import (
    KUBE_APISERVER_CLIENT,
    KUBE_APISERVER_CLIENT_KUBELET,
    KUBELET_SERVING,
)
from conformance.oracle.csr.signing import (
    BACKDATE,
    MIN_DURATION,
    CustomPolicy,
    Names,
    Request,
    SignerExpired,
    check_issued,
    duration,
    go_subject,
    policy_error,
    validity,
)
from conformance.targets.fake.signing_ca import SigningCA

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)
DAY = 86400


NO_NAMES = Names()


def _csr(
    cn: str, orgs: tuple[str, ...] = (), names: Names = NO_NAMES
) -> x509.CertificateSigningRequest:
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    if names.general_names():
        b = b.add_extension(x509.SubjectAlternativeName(names.general_names()), False)
    return b.sign(key, hashes.SHA256())


# --- lifetime ---------------------------------------------------------------------------


def test_duration_clamps_to_max_and_floors_at_ten_minutes() -> None:
    assert duration(DAY, None) == DAY
    assert duration(DAY, 3600) == 3600
    assert duration(DAY, 2 * DAY) == DAY
    assert duration(DAY, 60) == MIN_DURATION


def test_validity_backdates_and_caps_at_the_ca() -> None:
    ca_end = NOW + dt.timedelta(days=30)
    nb, na = validity(NOW, 3600, ca_end)  # short: end not backdated
    assert (nb, na) == (NOW - dt.timedelta(seconds=BACKDATE), NOW + dt.timedelta(hours=1))
    nb, na = validity(NOW, DAY, ca_end)  # long: end backdated too
    assert na == NOW + dt.timedelta(seconds=DAY - BACKDATE)
    _, na = validity(NOW, 365 * DAY, ca_end)
    assert na == ca_end
    with pytest.raises(SignerExpired):
        validity(NOW, 3600, NOW - dt.timedelta(seconds=1))


# --- policies ---------------------------------------------------------------------------


def test_kubelet_serving_policy_messages() -> None:
    node = "system:node:n1"
    ok_names = Names(dns=("n1.example.com",))
    usages = ["digital signature", "server auth"]
    assert policy_error(KUBELET_SERVING, _csr(node, ("system:nodes",), ok_names), usages) is None
    cases = [
        (_csr(node, ("other",), ok_names), usages, "subject organization is not system:nodes"),
        (_csr(node, ("system:nodes",)), usages, "DNS or IP subjectAltName is required"),
        (
            _csr(node, ("system:nodes",), Names(ips=("192.0.2.1",), emails=("a@example.com",))),
            usages,
            "Email subjectAltNames are not allowed",
        ),
        (
            _csr(node, ("system:nodes",), ok_names),
            ["client auth"],
            "usages did not match [digital signature key encipherment server auth]",
        ),
        (
            _csr("n1", ("system:nodes",), ok_names),
            usages,
            "subject common name does not begin with system:node:",
        ),
    ]
    for csr, us, message in cases:
        assert policy_error(KUBELET_SERVING, csr, us) == message


def test_kubelet_client_and_apiserver_client_policies() -> None:
    node = _csr("system:node:n1", ("system:nodes",))
    good = ["key encipherment", "client auth", "digital signature"]
    assert policy_error(KUBE_APISERVER_CLIENT_KUBELET, node, good) is None
    with_dns = _csr("system:node:n1", ("system:nodes",), Names(dns=("a.example.com",)))
    assert (
        policy_error(KUBE_APISERVER_CLIENT_KUBELET, with_dns, good)
        == "DNS subjectAltNames are not allowed"
    )
    client = _csr("someone")
    assert policy_error(KUBE_APISERVER_CLIENT, client, ["client auth"]) is None
    assert (
        policy_error(KUBE_APISERVER_CLIENT, client, ["client auth", "server auth"])
        == "invalid usage for client certificate: server auth"
    )
    assert (
        policy_error(KUBE_APISERVER_CLIENT, client, ["digital signature"])
        == "missing required usage for client certificate: client auth"
    )
    strict = CustomPolicy(allowed_usages=frozenset({"client auth"}))
    assert policy_error("example.com/x", client, ["server auth"], strict) is not None
    assert policy_error("example.com/x", client, ["server auth"]) is None


def test_go_subject_keeps_known_attributes_and_the_last_common_name() -> None:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "first"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "dropped@example.com"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "o1"),
            x509.NameAttribute(NameOID.COMMON_NAME, "last"),
        ]
    )
    assert go_subject(name) == {
        NameOID.ORGANIZATION_NAME: ("o1",),
        NameOID.COMMON_NAME: ("last",),
    }


# --- the judge --------------------------------------------------------------------------


def _request(
    csr: x509.CertificateSigningRequest, usages: tuple[str, ...], exp: int | None
) -> Request:
    return Request(KUBE_APISERVER_CLIENT, csr, usages, exp, NOW)


def _issue(ca: SigningCA, req: Request, nb: dt.datetime, na: dt.datetime, **kw: object) -> str:
    from conformance.oracle.csr.signing import names_of

    return ca.issue(req.csr, list(req.usages), nb, na, names=names_of(req.csr.extensions), **kw)  # type: ignore[arg-type]


def _rules(req: Request, pem: str, ca: SigningCA) -> set[str]:
    return {v.rule for v in check_issued(req, pem, [ca.cert], observed=NOW)}


def test_a_certificate_built_like_kcm_passes() -> None:
    ca = SigningCA.generate("ca", 30 * DAY, NOW)
    csr = _csr("someone", ("csr-conformance",), Names(dns=("a.example.com",), ips=("192.0.2.1",)))
    req = _request(csr, ("client auth", "digital signature"), 3600)
    nb, na = validity(NOW, 3600, ca.not_after)
    assert check_issued(req, _issue(ca, req, nb, na), [ca.cert], observed=NOW) == []


def test_each_check_fires() -> None:
    ca = SigningCA.generate("ca", 30 * DAY, NOW)
    other = SigningCA.generate("other", 30 * DAY, NOW)
    csr = _csr("someone", (), Names(dns=("a.example.com", "b.example.com")))
    req = _request(csr, ("client auth",), 3600)
    nb, na = validity(NOW, 3600, ca.not_after)
    foreign_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert "CSR-SIGN-KEY" in _rules(req, _issue(ca, req, nb, na, public_key=foreign_key), ca)
    assert "CSR-SIGN-CHAIN" in _rules(req, _issue(other, req, nb, na), ca)
    assert "CSR-SIGN-USAGES" in _rules(
        req, _issue(ca, req, nb, na, extra_usages=("server auth",)), ca
    )
    dropped = ca.issue(csr, ["client auth"], nb, na, names=Names(dns=("a.example.com",)))
    assert "CSR-SIGN-SUBJECT" in _rules(req, dropped, ca)
    long = _issue(ca, req, nb, nb + dt.timedelta(days=2))
    assert "CSR-SIGN-LIFETIME" in _rules(req, long, ca)
    past_ca = _issue(ca, req, nb, ca.not_after + dt.timedelta(days=1))
    assert "CSR-SIGN-CA-EXPIRY" in _rules(_request(csr, ("client auth",), None), past_ca, ca)
    early = _issue(ca, req, NOW - dt.timedelta(hours=3), na)
    assert "CSR-SIGN-NOTBEFORE" in _rules(_request(csr, ("client auth",), None), early, ca)
    short = _issue(ca, req, nb, nb + dt.timedelta(seconds=60))
    assert "CSR-SIGN-LIFETIME" in _rules(req, short, ca)


def test_an_unparseable_certificate_is_an_issue_violation() -> None:
    ca = SigningCA.generate("ca", 30 * DAY, NOW)
    req = _request(_csr("x"), ("client auth",), None)
    assert {v.rule for v in check_issued(req, "junk", [ca.cert], observed=NOW)} == {
        "CSR-SIGN-ISSUE"
    }
    pem = ca.cert.public_bytes(serialization.Encoding.PEM).decode()
    assert "CSR-SIGN-KEY" in _rules(req, pem, ca)


def test_eku_oids_cover_client_and_server_auth() -> None:
    from conformance.oracle.csr.signing import ext_key_usages

    assert ext_key_usages(["client auth", "server auth"]) == {
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.SERVER_AUTH,
    }
