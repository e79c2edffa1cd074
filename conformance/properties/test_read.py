"""Get and list: the object as stored, 404s, the list envelope, order, field and label
selectors over populations that always hold objects the selector must exclude."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.identities import ADMIN
from conformance.oracle.apimachinery import status
from conformance.oracle.apimachinery.selectors import parse_list_selectors
from conformance.properties.draws import distinct_csrs
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import create
from conformance.session import EXAMPLE_LABEL
from strategies.csr import valid_csr
from strategies.names import object_names

_DECOYS = valid_csr(junk=False)
"""An object for a selector to exclude (renamed apart from the drawn population)."""


def _as_item(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as a list shows it: kube-apiserver omits kind and apiVersion on items."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


def _create_all(csrs: list[dict[str, Any]], ex: str) -> list[dict[str, Any]]:
    session = current_session()
    return [create(session, csr, ex) for csr in csrs]


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


@contextmanager
def _other_example(csrs: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Objects of another example, created for the selector to exclude, then removed."""
    session = current_session()
    other = session.new_example_label()
    try:
        yield _create_all([_renamed(c, "other-") for c in csrs], other)
    finally:
        session.sweep(other)


def _renamed(csr: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``csr`` under a name no drawn object has (names are drawn without this prefix)."""
    meta = dict(csr["metadata"])
    key = "name" if "name" in meta else "generateName"
    meta[key] = prefix + str(meta[key])
    return {**csr, "metadata": meta}


@given(csrs=distinct_csrs(0, 5), decoy=_DECOYS)
@rules("CSR-READ-LIST")
def test_list_is_a_sorted_envelope_of_exactly_the_matching_objects(
    csrs: list[dict[str, Any]], decoy: dict[str, Any]
) -> None:
    """A label-selected list has the List envelope, every match once, sorted by name, and
    nothing of another example (whose object exists meanwhile)."""
    session = current_session()
    with session.example() as ex, _other_example([decoy]):
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


_DECOY_SIGNER = "decoy.example.com/not-selected"


def _field_value(obj: dict[str, Any], field: str) -> str:
    return str(obj["metadata"]["name"] if field == "metadata.name" else obj["spec"]["signerName"])


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _listed(selectors: dict[str, str]) -> list[str]:
    resp = current_session().client(ADMIN).list(selectors)
    checks.status_code(resp, 200)
    return [i["metadata"]["name"] for i in resp.obj().get("items") or []]


def _expected(objs: list[dict[str, Any]], selectors: dict[str, str]) -> list[str]:
    """The names the oracle's selectors match, in list order."""
    chosen = parse_list_selectors(selectors.get("labelSelector"), selectors.get("fieldSelector"))
    return sorted(
        (o["metadata"]["name"] for o in objs if chosen.matches(o)), key=lambda n: n.encode()
    )


@given(
    csrs=distinct_csrs(1, 4),
    decoy=_DECOYS,
    pick=st.integers(min_value=0),
    op=st.sampled_from(["=", "==", "!="]),
    field=st.sampled_from(["metadata.name", "spec.signerName"]),
)
@rules("CSR-READ-LIST")
def test_field_selectors_on_name_and_signer(
    csrs: list[dict[str, Any]], decoy: dict[str, Any], pick: int, op: str, field: str
) -> None:
    """metadata.name and spec.signerName selectors return exactly the matching objects.

    The population always holds objects the selector must exclude: one of this example
    with another name and signer, and one of another example with the chosen signer.
    """
    session = current_session()
    own_decoy = _renamed(decoy, "decoy-")
    own_decoy["spec"] = {**own_decoy["spec"], "signerName": _DECOY_SIGNER}
    with session.example() as ex:
        created = _create_all([*csrs, own_decoy], ex)
        chosen = created[pick % len(csrs)]
        value = _field_value(chosen, field)
        elsewhere = _renamed(decoy, "other-")
        elsewhere["spec"] = {**elsewhere["spec"], "signerName": chosen["spec"]["signerName"]}
        with _other_example([elsewhere]) as others:
            selectors = {
                "labelSelector": f"{EXAMPLE_LABEL}={ex}",
                "fieldSelector": f"{field}{op}{_escaped(value)}",
            }
            got, want = _listed(selectors), _expected([*created, *others], selectors)
        if got != want:
            raise AssertionError(f"{field}{op}{value!r} selected {got}, expected {want}")


_TIER = "example.com/tier"
_TIERS = ("a", "b", "c", None)


def _label_selectors(values: list[str]) -> list[str]:
    """One selector per operator over the tier label (``values`` for in and notin)."""
    one, many = values[0], ",".join(values)
    return [
        f"{_TIER}={one}",
        f"{_TIER}=={one}",
        f"{_TIER}!={one}",
        f"{_TIER} in ({many})",
        f"{_TIER} notin ({many})",
        _TIER,
        f"!{_TIER}",
    ]


@given(
    csrs=st.lists(valid_csr(junk=False), min_size=len(_TIERS), max_size=len(_TIERS)),
    values=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2, unique=True),
)
@rules("CSR-SEL-LABEL", "CSR-READ-LIST")
def test_label_selectors_select_exactly_the_matching_objects(
    csrs: list[dict[str, Any]], values: list[str]
) -> None:
    """=, ==, !=, in, notin, exists and !exists each select exactly the matching objects of
    a population where every one of them both selects and excludes something (tier a, b,
    c and no tier), and never an object of another example with a matching label."""
    session = current_session()
    population = []
    for i, (csr, tier) in enumerate(zip(csrs, _TIERS, strict=True)):
        obj = _renamed(csr, f"t{i}-")
        labels = dict(obj["metadata"].get("labels") or {})
        labels.pop(_TIER, None)
        if tier is not None:
            labels[_TIER] = tier
        population.append({**obj, "metadata": {**obj["metadata"], "labels": labels}})
    with session.example() as ex:
        created = _create_all(population, ex)
        with _other_example(population[:1]) as others:
            for selector in _label_selectors(values):
                selectors = {"labelSelector": f"{EXAMPLE_LABEL}={ex},{selector}"}
                got, want = _listed(selectors), _expected([*created, *others], selectors)
                if got != want:
                    raise AssertionError(f"{selector!r} selected {got}, expected {want}")


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
