"""Lists beyond one page: limit and continue, resourceVersion semantics, label selectors.

Every population here is created by the example and selected by its example label, so a
list sees exactly the example's objects however busy the cluster is; selectors under test
are added on top. Populations always hold objects the selector must leave out, so a
server that ignores a selector (or one of its operators) changes the answer.
"""

from __future__ import annotations

from typing import Any, Final

from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.client import Response
from conformance.client.watch import open_watch
from conformance.identities import ADMIN
from conformance.oracle.apimachinery import listing
from conformance.oracle.apimachinery.selectors import SelectorError, parse_list_selectors
from conformance.properties.support import checks as rules
from conformance.properties.support import current_session
from conformance.properties.watchdraws import request_pems
from conformance.session import EXAMPLE_LABEL
from strategies.csr import encode_request

KEYS: Final = ("csr-conformance.io/tier", "csr-conformance.io/zone")
VALUES: Final = ("a", "b", "c")


def _name_key(name: str) -> bytes:
    return name.encode("utf-8", errors="surrogatepass")


def _create(ex: str, pem: bytes, index: int, labels: dict[str, str], signer: str) -> dict[str, Any]:
    session = current_session()
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": f"l{index}", "labels": dict(labels)},
        "spec": {
            "request": encode_request(pem),
            "signerName": signer,
            "usages": ["client auth"],
        },
    }
    resp = session.client(ADMIN).create(session.stamp(body, ex))
    checks.status_code(resp, 201)
    obj: dict[str, Any] = resp.obj()
    return obj


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [str(i["metadata"]["name"]) for i in items]


# ---------------------------------------------------------------------------
# pagination
# ---------------------------------------------------------------------------


@given(
    size=st.integers(0, 7),
    limit=st.integers(1, 4),
    churn=st.booleans(),
    pem=request_pems(),
)
@rules("CSR-READ-PAGE", "CSR-READ-LIST")
def test_pages_list_every_object_once_from_one_snapshot(
    size: int, limit: int, churn: bool, pem: bytes
) -> None:
    """Paging with any limit returns every object exactly once, in name order, all pages
    from the first page's snapshot (writes between pages do not show), and a page that
    carries a continue token is full."""
    session = current_session()
    admin = session.client(ADMIN)
    with session.example() as ex:
        created = [_create(ex, pem, i, {}, "example.com/pages") for i in range(size)]
        want = sorted(_names(created), key=_name_key)
        query: dict[str, str] = {"labelSelector": f"{EXAMPLE_LABEL}={ex}", "limit": str(limit)}
        pages: list[dict[str, Any]] = []
        extra = size
        while True:
            resp = admin.list(query)
            checks.status_code(resp, 200)
            body = resp.obj()
            pages.append(body)
            token = (body.get("metadata") or {}).get("continue")
            if not token or len(pages) > size + 2:
                break
            if churn:
                # Writes between pages: a new object, and one of the listed ones deleted.
                _create(ex, pem, extra, {}, "example.com/pages")
                extra += 1
                if created:
                    gone = created.pop(0)
                    admin.delete(gone["metadata"]["name"])
            query = {
                "labelSelector": f"{EXAMPLE_LABEL}={ex}",
                "limit": str(limit),
                "continue": token,
            }
        first_rv = pages[0]["metadata"].get("resourceVersion")
        got: list[str] = []
        for n, page in enumerate(pages):
            meta = page.get("metadata") or {}
            items = page.get("items") or []
            if meta.get("resourceVersion") != first_rv:
                raise AssertionError(
                    f"page {n} is from resourceVersion {meta.get('resourceVersion')}, the first "
                    f"page from {first_rv}: pages must come from one snapshot"
                )
            if len(items) > limit:
                raise AssertionError(f"page {n} holds {len(items)} items, limit was {limit}")
            if meta.get("continue") and len(items) != limit:
                raise AssertionError(
                    f"page {n} has a continue token but only {len(items)} of {limit} items"
                )
            if session.exact and "remainingItemCount" in meta:
                raise AssertionError(
                    "a label-selected page carries remainingItemCount "
                    f"({meta['remainingItemCount']}); kube-apiserver sets it only without selectors"
                )
            got += _names(items)
        if got != want:
            raise AssertionError(
                f"paging with limit {limit} gave {got}, the snapshot holds {want} "
                "(each once, in name order)"
            )


@given(size=st.integers(2, 6), limit=st.integers(1, 3), pem=request_pems())
@rules("CSR-READ-PAGE")
def test_remaining_item_count_is_what_the_later_pages_hold(
    size: int, limit: int, pem: bytes
) -> None:
    """Without selectors, remainingItemCount on each page is exactly the number of objects
    the later pages return (the whole collection, paged from one snapshot)."""
    session = current_session()
    admin = session.client(ADMIN)
    with session.example() as ex:
        for i in range(size):
            _create(ex, pem, i, {}, "example.com/remaining")
        probe = admin.list({"limit": "1"})
        checks.status_code(probe, 200)
        total = len(probe.obj().get("items") or []) + int(
            (probe.obj().get("metadata") or {}).get("remainingItemCount") or 0
        )
        if total > 300:
            return  # a large shared cluster: paging all of it is out of this example's budget
        counts: list[tuple[int | None, int]] = []
        query: dict[str, str] = {"limit": str(limit)}
        for _ in range(400):
            resp = admin.list(query)
            checks.status_code(resp, 200)
            meta = resp.obj().get("metadata") or {}
            items = resp.obj().get("items") or []
            counts.append((meta.get("remainingItemCount"), len(items)))
            if not meta.get("continue"):
                if meta.get("remainingItemCount") not in (None, 0):
                    raise AssertionError(
                        f"the last page says {meta['remainingItemCount']} items remain"
                    )
                break
            if "remainingItemCount" not in meta and session.exact:
                raise AssertionError(
                    "an unselected page with a continue token has no remainingItemCount"
                )
            query = {"limit": str(limit), "continue": meta["continue"]}
        for n, (remaining, _count) in enumerate(counts):
            later = sum(c for _r, c in counts[n + 1 :])
            if remaining is not None and remaining != later:
                raise AssertionError(
                    f"page {n} says remainingItemCount {remaining}, the later pages held {later}"
                )


_TOKENS: Final = st.one_of(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+/.",
        min_size=1,
        max_size=24,
    ),
    st.builds(
        lambda v, rv, start: listing.encode_continue_key(rv, start).replace(
            "bWV0YS5rOHMuaW8vdjE", v
        ),
        st.sampled_from(["bWV0YS5rOHMuaW8vdjE", "eA", "bWV0YS5rOHMuaW8vdjI"]),
        st.sampled_from([0, 5]),
        st.sampled_from(["", "../x", "/a\x00", "a/../b", "//a"]),
    ),
)


@given(token=_TOKENS)
@rules("CSR-READ-PAGE", "CSR-ERR-STATUS")
def test_a_malformed_continue_token_is_400(token: str) -> None:
    """A continue token the server could not have issued is a 400 naming what is wrong."""
    session = current_session()
    try:
        listing.decode_continue(token)
    except listing.OptionsError as e:
        expected = e.status
    else:
        return  # a well-formed token (a fresh page of an empty snapshot): nothing to check
    resp = session.client(ADMIN).list(
        {"continue": token, "labelSelector": "csr-conformance.io/none=x"}
    )
    if session.exact:
        checks.status_matches(resp, expected, exact_message=True)
    else:
        checks.status_code(resp, 400)


@given(size=st.integers(2, 4), pem=request_pems())
@rules("CSR-READ-PAGE")
def test_a_continue_token_from_compacted_history_is_410(size: int, pem: bytes) -> None:
    """Once the first page's snapshot is compacted away, its continue token is 410 Expired."""
    session = current_session()
    admin = session.client(ADMIN)
    with session.example() as ex:
        for i in range(size):
            _create(ex, pem, i, {}, "example.com/expired")
        first = admin.list({"labelSelector": f"{EXAMPLE_LABEL}={ex}", "limit": "1"})
        checks.status_code(first, 200)
        token = first.obj()["metadata"].get("continue")
        if not token:
            raise AssertionError(f"a list of {size} objects with limit 1 has no continue token")
        _create(ex, pem, size, {}, "example.com/expired")
        session.compact()
        resp = admin.list(
            {"labelSelector": f"{EXAMPLE_LABEL}={ex}", "limit": "1", "continue": token}
        )
        body = checks.is_status_object(resp) if resp.status != 200 else resp.obj()
        if resp.status != 410 or body.get("reason") != "Expired":
            raise AssertionError(
                f"a compacted continue token gave HTTP {resp.status} {body.get('reason')!r}, "
                "expected 410 Expired"
            )
        if session.exact and body.get("message") != listing.continue_expired_message():
            raise AssertionError(
                f"410 message {body.get('message')!r} differs from kube-apiserver's"
            )


# ---------------------------------------------------------------------------
# resourceVersion and list options
# ---------------------------------------------------------------------------


@given(size=st.integers(1, 4), pem=request_pems(), pick=st.integers(0, 3))
@rules("CSR-READ-RV")
def test_an_exact_list_reads_that_snapshot(size: int, pem: bytes, pick: int) -> None:
    """resourceVersionMatch=Exact lists the objects as they were at that resourceVersion."""
    session = current_session()
    admin = session.client(ADMIN)
    with session.example() as ex:
        created = [_create(ex, pem, i, {}, "example.com/exact") for i in range(size)]
        at = created[pick % size]
        rv = at["metadata"]["resourceVersion"]
        resp = admin.list(
            {
                "labelSelector": f"{EXAMPLE_LABEL}={ex}",
                "resourceVersion": rv,
                "resourceVersionMatch": "Exact",
            }
        )
        checks.status_code(resp, 200)
        body = resp.obj()
        reported = body["metadata"].get("resourceVersion")
        if reported != rv:
            raise AssertionError(f"an Exact list at {rv} reports resourceVersion {reported}")
        want = sorted(_names(created[: created.index(at) + 1]), key=_name_key)
        got = _names(body.get("items") or [])
        if got != want:
            raise AssertionError(f"the Exact list at {rv} gave {got}, the state then was {want}")


_OPTION_QUERIES: Final = st.fixed_dictionaries(
    {},
    optional={
        "resourceVersion": st.sampled_from(["", "0", "1", "abc", "-1", "1.0"]),
        "resourceVersionMatch": st.sampled_from(["", "Exact", "NotOlderThan", "exact", "Bogus"]),
        "sendInitialEvents": st.sampled_from(["true", "false"]),
        "limit": st.sampled_from(["1", "0", "-1", "x"]),
        "timeoutSeconds": st.sampled_from(["5", "x"]),
    },
)


def _predict_list(query: dict[str, str]) -> dict[str, Any] | None:
    """The error Status kube-apiserver gives for this list query, or None for a 200."""
    try:
        opts = listing.parse_list_options(query)
    except listing.OptionsError as e:
        return e.status
    errs = listing.validate_list_options(opts)
    if errs:
        return listing.options_status(errs)
    if opts.resource_version not in ("", "0"):
        try:
            listing.parse_resource_version(opts.resource_version)
        except listing.OptionsError as e:
            return e.status
    return None


@given(query=_OPTION_QUERIES)
@rules("CSR-READ-RV", "CSR-ERR-STATUS")
def test_list_options_are_refused_exactly_as_kube_apiserver_refuses_them(
    query: dict[str, str],
) -> None:
    """Any combination of resourceVersion, resourceVersionMatch, sendInitialEvents, limit
    and timeoutSeconds on a list: 422 ListOptions for invalid combinations, 400 for what
    does not parse, and otherwise a list."""
    session = current_session()
    query = {**query, "labelSelector": "csr-conformance.io/none=x"}
    expected = _predict_list(query)
    resp = session.client(ADMIN).list(query)
    if expected is None:
        if resp.status != 200:
            raise AssertionError(
                f"list {query} gave HTTP {resp.status}, expected 200: {resp.body[:300]!r}"
            )
        return
    if session.exact:
        checks.status_matches(resp, expected, exact_message=True)
    else:
        checks.status_code(resp, int(expected["code"]))


# ---------------------------------------------------------------------------
# label selectors
# ---------------------------------------------------------------------------


@st.composite
def _terms(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(KEYS))
    op = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!"]))
    if op == "exists":
        return key
    if op == "!":
        return f"!{key}"
    if op in ("in", "notin"):
        values = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True))
        return f"{key} {op} ({','.join(values)})"
    return f"{key}{op}{draw(st.sampled_from(VALUES))}"


_SELECTORS: Final = st.lists(_terms(), min_size=1, max_size=2).map(",".join)
_LABELS: Final = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)


@given(
    labels=st.lists(_LABELS, min_size=2, max_size=6),
    selector=_SELECTORS,
    pem=request_pems(),
)
@rules("CSR-SEL-LABEL", "CSR-WATCH-FILTER")
def test_label_selectors_select_exactly_on_list_and_watch(
    labels: list[dict[str, str]], selector: str, pem: bytes
) -> None:
    """A list and a watch with any label selector return exactly the objects the selector
    matches, among a population that always holds objects it must leave out."""
    session = current_session()
    admin = session.client(ADMIN)
    with session.example() as ex:
        full = f"{EXAMPLE_LABEL}={ex},{selector}"
        chosen = parse_list_selectors(full, None)
        objs = [_create(ex, pem, i, lab, "example.com/selected") for i, lab in enumerate(labels)]
        # One more object that the selector must exclude, whatever it is.
        outsider: dict[str, str] = {}
        for lab in ({}, {KEYS[0]: "a"}, {KEYS[0]: "b", KEYS[1]: "c"}, {KEYS[1]: "a"}):
            probe = {"metadata": {"labels": {**lab, EXAMPLE_LABEL: ex}}}
            if not chosen.matches(probe):
                outsider = lab
                break
        objs.append(_create(ex, pem, len(labels), outsider, "example.com/selected"))
        want = sorted((o["metadata"]["name"] for o in objs if chosen.matches(o)), key=_name_key)
        resp = admin.list({"labelSelector": full})
        checks.status_code(resp, 200)
        got = _names(resp.obj().get("items") or [])
        if got != want:
            raise AssertionError(
                f"list with labelSelector {selector!r} gave {got}, expected {want}"
            )
        with open_watch(admin, {"labelSelector": full, "timeoutSeconds": "30"}, deadline=30) as w:
            if w.status != 200:
                raise AssertionError(f"watch with labelSelector {selector!r} gave HTTP {w.status}")
            events = w.collect(quiet=0.3, limit=10)
        seen = sorted((e.name for e in events if e.type == "ADDED"), key=_name_key)
        others = [e.type for e in events if e.type != "ADDED"]
        if seen != want or others:
            raise AssertionError(
                f"watch with labelSelector {selector!r} sent ADDED {seen} and {others}, "
                f"expected ADDED {want}"
            )


_MALFORMED: Final = st.sampled_from(
    [
        "k in (a",
        "k!!a",
        "k=a=b",
        "k notin",
        "k in ()",
        "=a",
        "k=(a)",
        "k,,j",
        "!",
        "k in (a b)",
        "Bad Key=a",
        "k=bad value",
        "k gt a",
        "k<1",
    ]
)


@given(selector=_MALFORMED, watch=st.booleans())
@rules("CSR-SEL-LABEL", "CSR-ERR-STATUS")
def test_a_malformed_label_selector_is_400(selector: str, watch: bool) -> None:
    """A label selector that does not parse is a 400 with kube-apiserver's parser message,
    on list and on watch alike."""
    session = current_session()
    try:
        parse_list_selectors(selector, None)
    except SelectorError as e:
        message = str(e)
    else:
        return
    query = {"labelSelector": selector}
    if watch:
        with open_watch(session.client(ADMIN), query, deadline=10) as w:
            resp = Response(status=w.status, headers=w.headers, body=w.error_body)
    else:
        resp = session.client(ADMIN).list(query)
    from conformance.oracle.apimachinery import status

    if session.exact:
        checks.status_matches(resp, status.bad_request(message), exact_message=True)
    else:
        checks.status_code(resp, 400)
