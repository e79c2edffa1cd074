"""The fake's watch and list faults each change what a client sees (one scenario per
fault), and the correct fake answers watches and pages as kube-apiserver does.

The properties judge these behaviours over drawn histories; the scenarios here are the
smallest request sequences that show each fault's deviation, so a fault that silently
stopped working is caught without running the suite.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from test_fake import CSRS, TOKENS, csr_body

from conformance.identities import ADMIN
from conformance.targets.fake import FakeConfig, FakeServer

Events = list[tuple[str, str, str]]


class Client:
    """Plain-HTTP admin requests against one fake, and watches read to their end."""

    def __init__(self, server: FakeServer) -> None:
        self.url = server.url
        self.server = server
        self.pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(read=20))
        self.headers = {
            "Authorization": f"Bearer {TOKENS[ADMIN]}",
            "Content-Type": "application/json",
        }

    def send(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        url = self.url + path + (f"?{query}" if query else "")
        headers = dict(self.headers)
        if method == "PATCH":
            headers["Content-Type"] = "application/merge-patch+json"
        r = self.pool.request(method, url, body=data, headers=headers)
        return r.status, json.loads(r.data) if r.data.strip() else None

    def create(self, name: str, **labels: str) -> str:
        body = csr_body(name)
        body["metadata"]["labels"] = labels
        status, obj = self.send("POST", CSRS, body)
        assert status == 201, obj
        return str(obj["metadata"]["resourceVersion"])

    def watch(self, query: str, during: Callable[[], None] | None = None) -> Events:
        """The events of a watch that ends by its own timeout (1 s)."""
        if during is not None:
            threading.Timer(0.3, during).start()
        url = f"{self.url}{CSRS}?watch=true&timeoutSeconds=1&{query}"
        r = self.pool.request("GET", url, headers=self.headers)
        out: Events = []
        for line in r.data.splitlines():
            if line.strip():
                e = json.loads(line)
                meta = e["object"].get("metadata", {})
                out.append((e["type"], meta.get("name", ""), meta.get("resourceVersion", "")))
        return out

    def pages(self, query: str, between: Callable[[], None] | None = None) -> list[Any]:
        out, token = [], ""
        while True:
            q = query + (f"&continue={token}" if token else "")
            status, body = self.send("GET", CSRS, query=q)
            assert status == 200, body
            meta = body["metadata"]
            out.append(
                ([i["metadata"]["name"] for i in body["items"]], meta.get("remainingItemCount"))
            )
            token = meta.get("continue", "")
            if not token or len(out) > 10:
                return out
            if between is not None:
                between()
                between = None


Scenario = Callable[[Client], Any]


def _history(c: Client) -> str:
    rv = c.create("a", g="x")
    c.send("PATCH", f"{CSRS}/a", {"metadata": {"labels": {"g": "y"}}})
    c.create("b", g="x")
    c.send("PATCH", f"{CSRS}/b", {"metadata": {"labels": {"z": "1"}}})
    c.send("DELETE", f"{CSRS}/a")
    return str(int(rv) - 1)


def _sc_order(c: Client) -> Events:
    return c.watch(f"resourceVersion={_history(c)}")


def _sc_selector(c: Client) -> Events:
    return c.watch(f"resourceVersion={_history(c)}&labelSelector=g%3Dx")


def _sc_too_old(c: Client) -> Events:
    _history(c)
    c.send("POST", "/csr-conformance/v1/compact")
    return [(k, "", "") for k, _n, _rv in c.watch("resourceVersion=1")]


def _sc_bookmarks(c: Client) -> Events:
    rv = c.create("a")
    return [
        e
        for e in c.watch(f"resourceVersion={int(rv) - 1}&allowWatchBookmarks=true")
        if e[0] == "BOOKMARK"
    ][:1]


def _sc_initial(c: Client) -> Events:
    c.create("a")
    q = "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
    return [(k, n, "") for k, n, _rv in c.watch(q)]


def _sc_pages(c: Client) -> Any:
    for n in ("a", "b", "c", "d"):
        c.create(n)
    return c.pages("limit=2", between=lambda: c.create("bb"))


def _sc_notin(c: Client) -> Any:
    c.create("a", t="x")
    c.create("b", t="y")
    c.create("c")
    return c.send("GET", CSRS, query="labelSelector=t%20notin%20(x)")[1]["items"].__len__()


def _sc_not_equal(c: Client) -> Any:
    c.create("a")
    return c.send("GET", CSRS, query="fieldSelector=metadata.name%21%3Da")[1]["items"].__len__()


WATCH_SCENARIOS: dict[str, Scenario] = {
    "watch-events-reordered": _sc_order,
    "watch-drops-modified": _sc_order,
    "watch-duplicates-event": _sc_order,
    "watch-ignores-start-rv": _sc_order,
    "watch-deleted-wrong-rv": _sc_order,
    "watch-ignores-selector": _sc_selector,
    "watch-too-old-from-now": _sc_too_old,
    "bookmark-goes-backwards": _sc_bookmarks,
    "initial-events-end-missing": _sc_initial,
    "continue-repeats-item": _sc_pages,
    "pages-from-different-snapshots": _sc_pages,
    "list-ignores-limit": _sc_pages,
    "remaining-count-off-by-one": _sc_pages,
    "list-ignores-label-selector": _sc_notin,
    "label-notin-as-in": _sc_notin,
    "field-selector-not-equal-ignored": _sc_not_equal,
}


def _run(scenario: Scenario, faults: frozenset[str]) -> Any:
    with FakeServer(FakeConfig(tls=False, faults=faults, signer=None, bookmark_seconds=0.3)) as s:
        return scenario(Client(s))


@pytest.mark.parametrize("fault", sorted(WATCH_SCENARIOS))
def test_watch_fault_changes_what_clients_see(fault: str) -> None:
    scenario = WATCH_SCENARIOS[fault]
    expected = _run(scenario, frozenset())
    observed = _run(scenario, frozenset({fault}))
    assert observed != expected, f"fault {fault} did not change what the server does: {observed}"


def test_a_watch_from_a_resource_version_replays_exactly_the_later_changes() -> None:
    events = _run(_sc_order, frozenset())
    kinds = [(k, n) for k, n, _rv in events]
    assert kinds == [
        ("ADDED", "a"),
        ("MODIFIED", "a"),
        ("ADDED", "b"),
        ("MODIFIED", "b"),
        ("DELETED", "a"),
    ], events
    rvs = [int(rv) for _k, _n, rv in events]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)


def test_leaving_a_selection_is_deleted_and_entering_it_is_added() -> None:
    events = _run(_sc_selector, frozenset())
    assert [(k, n) for k, n, _rv in events] == [
        ("ADDED", "a"),
        ("DELETED", "a"),
        ("ADDED", "b"),
        ("MODIFIED", "b"),
    ]


def test_pages_come_from_the_first_snapshot() -> None:
    pages = _run(_sc_pages, frozenset())
    assert pages == [(["a", "b"], 2), (["c", "d"], None)]


def test_a_watch_ends_at_its_timeout() -> None:
    def scenario(c: Client) -> float:
        t0 = time.monotonic()
        c.watch("")
        return time.monotonic() - t0

    assert 0.9 <= _run(scenario, frozenset()) < 5
