"""Delete and deletecollection: Status bodies, preconditions, dry run, selectors."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.client.api import csr_path
from conformance.identities import ADMIN, USER
from conformance.oracle.apimachinery import status
from conformance.oracle.csr import delete as spec_delete
from conformance.properties.draws import distinct_csrs
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.writes import create
from conformance.session import EXAMPLE_LABEL, RUN_LABEL
from strategies.csr import valid_csr


def _gone(name: str) -> None:
    got = current_session().client(ADMIN).get(name)
    if got.status != 404:
        raise AssertionError(f"{name!r} still readable after delete (GET gave {got.status})")


@given(csr=valid_csr())
@rules("CSR-DEL-STATUS", "CSR-DEL-404", "CSR-ERR-STATUS")
def test_delete_answers_with_a_success_status_then_404s(csr: dict[str, Any]) -> None:
    """DELETE returns a Success Status naming the object; later GET and DELETE are 404."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name, uid = obj["metadata"]["name"], obj["metadata"]["uid"]
        resp = session.client(ADMIN).delete(name)
        checks.status_code(resp, 200)
        if session.exact:
            problems = checks.diff(resp.obj(), status.delete_success(name, uid))
            if problems:
                raise AssertionError("delete response differs:\n  " + "\n  ".join(problems))
        _gone(name)
        again = session.client(ADMIN).delete(name)
        if session.exact:
            checks.status_matches(again, status.not_found(name), exact_message=True)
        else:
            checks.status_code(again, 404)


@given(csr=valid_csr(), which=st.sampled_from(["uid", "resourceVersion"]))
@rules("CSR-DEL-PRECOND", "CSR-ERR-STATUS")
def test_delete_with_a_failed_precondition_conflicts_and_keeps_the_object(
    csr: dict[str, Any], which: str
) -> None:
    """A UID or resourceVersion precondition that does not match gives 409; nothing is deleted."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        wrong = "00000000-0000-0000-0000-000000000001" if which == "uid" else "1"
        resp = session.client(ADMIN).delete(
            name,
            options={"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {which: wrong}},
        )
        if session.exact:
            meta = obj["metadata"]
            message = (
                status.uid_precondition_message(wrong, meta["uid"])
                if which == "uid"
                else status.rv_precondition_message(wrong, meta["resourceVersion"])
            )
            checks.status_matches(
                resp, status.delete_precondition_conflict(name, message), exact_message=True
            )
        else:
            checks.status_code(resp, 409)
            checks.is_status_object(resp)
        still = session.client(ADMIN).get(name)
        checks.status_code(still, 200)


@given(csr=valid_csr())
@rules("CSR-DEL-DRYRUN")
def test_dry_run_delete_keeps_the_object(csr: dict[str, Any]) -> None:
    """dryRun=All answers like a delete and deletes nothing."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"]
        resp = session.client(ADMIN).delete(name, query={"dryRun": "All"})
        checks.status_code(resp, 200)
        still = session.client(ADMIN).get(name)
        checks.status_code(still, 200)
        checks.same_object(still.obj(), obj, "object after a dry-run delete")


_DECOY_SIGNER = "decoy.example.com/not-selected"


@given(
    csrs=distinct_csrs(1, 5),
    decoy=valid_csr(junk=False),
    split=st.integers(min_value=0),
    by_signer=st.booleans(),
)
@rules("CSR-DEL-COLL", "CSR-SEL-LABEL")
def test_deletecollection_deletes_exactly_the_selected_objects(
    csrs: list[dict[str, Any]], decoy: dict[str, Any], split: int, by_signer: bool
) -> None:
    """DELETE on the collection removes the selected set and returns them as a List.

    The population always holds objects the selector must spare: one of another example
    (with the signer of the selected ones), and, when the selector also names a signer,
    one of the same example with another signer.
    """
    session = current_session()
    with session.example() as ex:
        keep_ex = session.new_example_label()
        cut = split % (len(csrs) + 1)
        doomed = [create(session, c, ex) for c in csrs[:cut]]
        kept = [create(session, c, keep_ex) for c in csrs[cut:]]
        signer = (doomed or kept)[0]["spec"]["signerName"]
        elsewhere = _renamed(decoy, "other-", signer)
        kept.append(create(session, elsewhere, keep_ex))
        selectors = {"labelSelector": f"{RUN_LABEL}={session.run_id},{EXAMPLE_LABEL}={ex}"}
        if by_signer:
            kept.append(create(session, _renamed(decoy, "decoy-", _DECOY_SIGNER), ex))
            selectors["fieldSelector"] = f"spec.signerName={signer}"
            spared = [o for o in doomed if o["spec"]["signerName"] != signer]
            doomed = [o for o in doomed if o["spec"]["signerName"] == signer]
            kept += spared
        try:
            resp = session.client(ADMIN).delete_collection(selectors)
            checks.status_code(resp, 200)
            body = resp.obj()
            if body.get("kind") != "CertificateSigningRequestList":
                raise AssertionError(f"deletecollection answered kind {body.get('kind')!r}")
            got = sorted(i["metadata"]["name"] for i in body.get("items") or [])
            want = sorted(o["metadata"]["name"] for o in doomed)
            if got != want:
                raise AssertionError(f"deletecollection reported {got}, expected {want}")
            for o in doomed:
                _gone(o["metadata"]["name"])
            for o in kept:
                checks.status_code(session.client(ADMIN).get(o["metadata"]["name"]), 200)
        finally:
            session.sweep(keep_ex)


def _renamed(csr: dict[str, Any], prefix: str, signer: str) -> dict[str, Any]:
    """``csr`` under a name no drawn object has, for ``signer``."""
    meta = dict(csr["metadata"])
    key = "name" if "name" in meta else "generateName"
    meta[key] = prefix + str(meta[key])
    return {**csr, "metadata": meta, "spec": {**csr["spec"], "signerName": signer}}


@st.composite
def _delete_options(draw: st.DrawFn) -> dict[str, Any]:
    """A DeleteOptions body: valid and invalid values, the unsafe-delete option alone and in
    the combinations 1.37 refuses, and a value that cannot be decoded. Never one that would
    add a garbage-collection finalizer (the object would then outlive the example)."""
    body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
    choices: dict[str, Any] = {
        "propagationPolicy": st.sampled_from(["Background", "Sometimes"]),
        "orphanDependents": st.just(False),
        "gracePeriodSeconds": st.sampled_from([0, 30, "soon"]),
        "dryRun": st.sampled_from([["All"], ["Sometimes"]]),
        "ignoreStoreReadErrorWithClusterBreakingPotential": st.booleans(),
    }
    for key, values in choices.items():
        if draw(st.booleans()):
            body[key] = draw(values)
    return body


@given(
    csr=valid_csr(junk=False),
    options=_delete_options(),
    exists=st.booleans(),
    role=st.sampled_from([ADMIN, USER]),
    precondition=st.booleans(),
)
@rules("CSR-DEL-OPTS", "CSR-DEL-404", "CSR-ERR-STATUS")
def test_delete_options_are_judged_before_anything_is_deleted(
    csr: dict[str, Any], options: dict[str, Any], exists: bool, role: str, precondition: bool
) -> None:
    """DeleteOptions that cannot be decoded or are invalid are refused before the object is
    looked up, and the unsafe-delete option is treated as the server's release treats it
    (ignored before 1.37; from 1.37 refused in combinations, 403 without its verb, and 409
    for an object that decodes fine). Otherwise the delete is an ordinary one."""
    session = current_session()
    with session.example() as ex:
        obj = create(session, csr, ex)
        name = obj["metadata"]["name"] if exists else session.prefix + "missing-" + ex
        body = dict(options)
        if precondition and exists:
            body["preconditions"] = {"uid": obj["metadata"]["uid"]}
        raw = json.dumps(body).encode()
        resp = session.client(role).request("DELETE", csr_path(name), data=raw)
        try:
            opts = spec_delete.honoured_options(spec_delete.decode_body(raw))
        except spec_delete.OptionsError as e:
            expected: dict[str, Any] | None = spec_delete.undecodable_status(str(e))
        else:
            expected = spec_delete.refuse_options(
                opts, name, exists=exists, may_delete_unsafely=role == ADMIN
            )
            if expected is None and not exists:
                expected = status.not_found(name)
        if expected is not None:
            if session.exact:
                checks.status_matches(resp, expected, exact_message=True)
            else:
                checks.status_code(resp, int(expected["code"]))
            if exists and session.client(ADMIN).get(name).status != 200:
                raise AssertionError(f"a refused DELETE ({resp.status}) removed {name!r}")
            return
        checks.status_code(resp, 200)
        if opts.is_dry_run:
            if session.client(ADMIN).get(name).status != 200:
                raise AssertionError("a dry-run DELETE removed the object")
        else:
            _gone(name)
