"""Get and list: the object as stored, 404s, the list envelope, order and field selectors."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.identities import ADMIN
from conformance.properties.draws import distinct_csrs
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.session import EXAMPLE_LABEL
from conformance.spec import status
from strategies.csr import valid_csr
from strategies.names import object_names


def _as_item(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as a list shows it: kube-apiserver omits kind and apiVersion on items."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def _create_all(csrs: list[dict[str, Any]], ex: str) -> list[dict[str, Any]]:
    session = current_session()
    created = []
    for csr in csrs:
        resp = session.client(ADMIN).create(session.stamp(csr, ex))
        checks.status_code(resp, 201)
        created.append(resp.obj())
    return created


@given(name=object_names())
@rules("CSR-READ-404", "CSR-ERR-STATUS")
def test_get_of_a_missing_name_is_404(name: str) -> None:
    """GET (and GET of /status and /approval) on a missing name is kube-apiserver's NotFound."""
    session = current_session()
    full = session.prefix + "missing-" + name
    for sub in (None, "status", "approval"):
        resp = session.client(ADMIN).get(full, sub)
        if session.exact:
            checks.status_matches(resp, status.not_found(full), exact_message=True)
        else:
            checks.status_code(resp, 404)
            checks.is_status_object(resp)


@given(csr=valid_csr())
@rules("CSR-READ-GET")
def test_get_returns_the_created_object_on_every_endpoint(csr: dict[str, Any]) -> None:
    """The main resource, /status and /approval all return the same stored object."""
    session = current_session()
    with session.example() as ex:
        (created,) = _create_all([csr], ex)
        for sub in (None, "status", "approval"):
            resp = session.client(ADMIN).get(created["metadata"]["name"], sub)
            checks.status_code(resp, 200)
            checks.same_object(resp.obj(), created, f"GET {sub or 'object'}")


@given(csrs=distinct_csrs(0, 5))
@rules("CSR-READ-LIST")
def test_list_is_a_sorted_envelope_of_exactly_the_matching_objects(
    csrs: list[dict[str, Any]],
) -> None:
    """A label-selected list has the List envelope, every match once, sorted by name."""
    session = current_session()
    with session.example() as ex:
        created = _create_all(csrs, ex)
        resp = session.client(ADMIN).list({"labelSelector": f"{EXAMPLE_LABEL}={ex}"})
        checks.status_code(resp, 200)
        body = resp.obj()
        head = {k: body.get(k) for k in ("kind", "apiVersion")}
        if head != {
            "kind": "CertificateSigningRequestList",
            "apiVersion": "certificates.k8s.io/v1",
        }:
            raise AssertionError(f"list envelope {head!r}")
        if not isinstance(body.get("items"), list):
            raise AssertionError(f"items is {json.dumps(body.get('items'))}, expected a list")
        if not (body.get("metadata") or {}).get("resourceVersion"):
            raise AssertionError("list has no metadata.resourceVersion")
        names = [i["metadata"]["name"] for i in body["items"]]
        want = sorted((c["metadata"]["name"] for c in created), key=lambda n: n.encode())
        if names != want:
            raise AssertionError(f"list gave {names}, expected {want} (sorted, each once)")
        for item, exp in zip(
            body["items"],
            sorted(created, key=lambda c: c["metadata"]["name"].encode()),
            strict=True,
        ):
            checks.same_object(
                _as_item(item), _as_item(exp), f"listed {item['metadata']['name']!r}"
            )


@given(
    csrs=distinct_csrs(1, 4),
    pick=st.integers(min_value=0),
    op=st.sampled_from(["=", "==", "!="]),
    field=st.sampled_from(["metadata.name", "spec.signerName"]),
)
@rules("CSR-READ-LIST")
def test_field_selectors_on_name_and_signer(
    csrs: list[dict[str, Any]], pick: int, op: str, field: str
) -> None:
    """metadata.name and spec.signerName selectors return exactly the matching objects."""
    session = current_session()
    with session.example() as ex:
        created = _create_all(csrs, ex)
        chosen = created[pick % len(created)]
        value = (
            chosen["metadata"]["name"] if field == "metadata.name" else chosen["spec"]["signerName"]
        )
        escaped = value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        resp = session.client(ADMIN).list(
            {"labelSelector": f"{EXAMPLE_LABEL}={ex}", "fieldSelector": f"{field}{op}{escaped}"}
        )
        checks.status_code(resp, 200)

        def key(c: dict[str, Any]) -> str:
            return str(
                c["metadata"]["name"] if field == "metadata.name" else c["spec"]["signerName"]
            )

        want = sorted(
            (c["metadata"]["name"] for c in created if (key(c) == value) == (op != "!=")),
            key=lambda n: n.encode(),
        )
        got = [i["metadata"]["name"] for i in resp.obj().get("items") or []]
        if got != want:
            raise AssertionError(f"{field}{op}{value!r} selected {got}, expected {want}")


@given(
    label=st.sampled_from(
        ["metadata.namespace", "spec.username", "status.certificate", "spec.usages", "metadata.uid"]
    )
)
@rules("CSR-READ-LIST", "CSR-ERR-STATUS")
def test_unsupported_field_selector_is_400(label: str) -> None:
    """Only metadata.name and spec.signerName are selectable; anything else is a 400."""
    session = current_session()
    resp = session.client(ADMIN).list({"fieldSelector": f"{label}=x"})
    if session.exact:
        checks.status_matches(
            resp, status.bad_request(f"field label not supported: {label}"), exact_message=True
        )
    else:
        checks.status_code(resp, 400)
