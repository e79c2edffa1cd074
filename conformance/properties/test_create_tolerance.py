"""What create must accept as sent: the rules that say "the API server does not check".

Rules R4, S7, X2 and U4 are promises of *no* check: no key type or subject policy, no
special syntax for kubernetes.io names, no maximum lifetime, no reordering of usages. A
server that adds such a check or normalisation refuses or rewrites valid CSRs, and only
CSRs aimed at the gap show it, so each property here draws from that gap in every
example (``strategies.focused``) and the oracle judges the answer.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.identities import ADMIN
from conformance.properties.expect import judge_create
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import post
from strategies.csr import valid_csr
from strategies.focused import (
    KEY_FAMILIES,
    long_expirations,
    requests_of_family,
    unreserved_kubernetes_signers,
    unsorted_usages,
)


def _create_and_judge(csr: dict[str, Any], ex: str) -> dict[str, Any]:
    session = current_session()
    obj = session.stamp(csr, ex)
    body = json.dumps(obj).encode()
    resp = post(session, body)
    judge_create(session, resp, body, {}, ADMIN)
    return obj


@given(
    csrs=st.tuples(
        *(valid_csr(junk=False, request_pems=requests_of_family(f)) for f in KEY_FAMILIES)
    )
)
@rules("CSR-VAL-R4", "CSR-CREATE-201")
def test_requests_of_every_key_family_and_subject_are_accepted(
    csrs: tuple[dict[str, Any], ...],
) -> None:
    """An Ed25519, an ECDSA and an RSA request, each with any subject, SANs and extensions
    (CA ones too), are all created: the API server checks only the signature."""
    session = current_session()
    with session.example() as ex:
        for family, csr in zip(KEY_FAMILIES, csrs, strict=True):
            meta = csr["metadata"]
            if "name" in meta:  # three objects, three names
                csr = {**csr, "metadata": {**meta, "name": f"{meta['name']}-{family}"}}
            _create_and_judge(csr, ex)


@given(csr=valid_csr(junk=False, signer_names=unreserved_kubernetes_signers()))
@rules("CSR-VAL-S7", "CSR-CREATE-201")
def test_unreserved_kubernetes_io_signer_names_are_ordinary_names(csr: dict[str, Any]) -> None:
    """A kubernetes.io/<path> name no in-tree signer serves is valid syntax like any other."""
    session = current_session()
    with session.example() as ex:
        _create_and_judge(csr, ex)


@given(csr=valid_csr(junk=False, expirations=long_expirations()))
@rules("CSR-VAL-X2", "CSR-CREATE-ROUNDTRIP")
def test_expiration_seconds_has_no_maximum(csr: dict[str, Any]) -> None:
    """expirationSeconds above a year, up to the int32 limit, is stored as sent."""
    session = current_session()
    with session.example() as ex:
        _create_and_judge(csr, ex)


@given(csr=valid_csr(junk=False, usages=unsorted_usages()))
@rules("CSR-VAL-U4", "CSR-CREATE-ROUNDTRIP")
def test_usage_order_is_kept(csr: dict[str, Any]) -> None:
    """Usages in an order that sorting would change come back in the order sent."""
    session = current_session()
    with session.example() as ex:
        _create_and_judge(csr, ex)
