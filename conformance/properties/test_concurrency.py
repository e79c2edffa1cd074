"""Optimistic concurrency: stale writes lose, exactly one of several racing writers wins."""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.client import Response
from conformance.identities import ADMIN
from conformance.oracle.apimachinery import status
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import create
from strategies.csr import valid_csr


def _relabel(obj: dict[str, Any], key: str, value: str, rv: str | None) -> dict[str, Any]:
    body = {k: v for k, v in obj.items()}
    meta = dict(body["metadata"])
    meta.pop("managedFields", None)
    meta["labels"] = {**(meta.get("labels") or {}), key: value}
    if rv is None:
        meta.pop("resourceVersion", None)
    else:
        meta["resourceVersion"] = rv
    body["metadata"] = meta
    return body


@given(csr=valid_csr(junk=False), writes=st.integers(min_value=1, max_value=3))
@rules("CSR-CONC-RV", "CSR-CONC-UNCOND", "CSR-ERR-STATUS")
def test_stale_resource_version_conflicts_and_changes_nothing(
    csr: dict[str, Any], writes: int
) -> None:
    """After k writes, a PUT carrying the original resourceVersion gets 409; each write
    that succeeds returns a resourceVersion never seen before."""
    session = current_session()
    admin = session.client(ADMIN)
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        seen = {obj["metadata"]["resourceVersion"]}
        current = obj
        for i in range(writes):
            resp = admin.request(
                "PUT",
                f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{_quote(name)}",
                body=_relabel(current, "step", str(i), None),
            )
            checks.status_code(resp, 200)
            current = resp.obj()
            rv = current["metadata"]["resourceVersion"]
            if rv in seen:
                raise AssertionError(f"write {i} returned an old resourceVersion {rv}")
            seen.add(rv)
        stale = _relabel(current, "step", "stale", obj["metadata"]["resourceVersion"])
        resp = admin.request(
            "PUT",
            f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{_quote(name)}",
            body=stale,
        )
        if session.exact:
            checks.status_matches(
                resp, status.conflict(name, status.OBJECT_MODIFIED), exact_message=True
            )
        else:
            checks.status_code(resp, 409)
        after = admin.get(name)
        checks.status_code(after, 200)
        checks.same_object(after.obj(), current, "object after a stale write")


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@given(csr=valid_csr(junk=False), writers=st.integers(min_value=2, max_value=5))
@rules("CSR-CONC-RV")
def test_of_racing_writers_with_one_resource_version_exactly_one_wins(
    csr: dict[str, Any], writers: int
) -> None:
    """N PUTs sent at once with the same resourceVersion: one 200, N-1 409s, winner's value kept."""
    session = current_session()
    admin = session.client(ADMIN)
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        rv = obj["metadata"]["resourceVersion"]
        results: dict[int, Response] = {}
        gate = threading.Barrier(writers)

        def write(i: int) -> None:
            gate.wait(timeout=10)
            results[i] = admin.request(
                "PUT",
                f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{_quote(name)}",
                body=_relabel(obj, "writer", str(i), rv),
            )

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=session.timeout + 10)
        codes = sorted(r.status for r in results.values())
        if len(results) != writers or codes != [200] + [409] * (writers - 1):
            raise AssertionError(f"racing writers got {codes}, expected one 200 and 409s")
        (winner,) = [i for i, r in results.items() if r.status == 200]
        after = admin.get(name).obj()
        label = (after["metadata"].get("labels") or {}).get("writer")
        if label != str(winner):
            raise AssertionError(f"writer {winner} won but the stored label is {label!r}")
