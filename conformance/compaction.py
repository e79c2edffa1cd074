"""Asking a target to forget its history, so that "too old" answers can be tested.

On a real cluster history goes away by etcd compaction every few minutes; a conformance
run cannot wait for that. A target that can compact on demand says how, as one string
that travels from the command line to the pytest plugin (``--csr-compaction``):

- ``fake:<url path>`` — the embedded fake's admin endpoint, called as the admin user;
- ``etcd:<client url>`` — etcd's JSON gateway (``/v3/kv/compaction``), for the control
  plane started from binaries, whose etcd listens on loopback;
- ``etcd-grpc:<client url>`` — etcd's gRPC ``Compact`` (``etcd_grpc``), for kine, which
  serves no JSON gateway.

Targets that cannot compact (any kubeconfig) give None, and properties that need it skip
with that reason.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Final

import urllib3

from conformance.client import Client, TargetError

FAKE_PATH: Final = "/csr-conformance/v1/compact"


def compact_etcd(url: str) -> None:
    """Compact etcd at ``url`` to its current revision (physically, so it takes effect)."""
    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2.0, read=10.0))
    try:
        key = base64.b64encode(b"/").decode()
        r = pool.request("POST", f"{url}/v3/kv/range", body=json.dumps({"key": key, "limit": 1}))
        revision = int(json.loads(r.data)["header"]["revision"])
        r = pool.request(
            "POST",
            f"{url}/v3/kv/compaction",
            body=json.dumps({"revision": revision, "physical": True}),
        )
        if r.status != 200 and b"has been compacted" not in r.data:
            raise TargetError(f"etcd compaction failed: HTTP {r.status} {r.data[:200]!r}")
    except (urllib3.exceptions.HTTPError, ValueError, KeyError) as e:
        raise TargetError(f"etcd compaction at {url} failed: {e}") from None
    finally:
        pool.clear()


def compactor(how: str | None, admin: Callable[[], Client]) -> Callable[[], None] | None:
    """The function that compacts the target described by ``how`` (None: it cannot)."""
    if not how:
        return None
    scheme, _, where = how.partition(":")
    if scheme == "etcd":
        return lambda: compact_etcd(where)
    if scheme == "etcd-grpc":
        from conformance import etcd_grpc

        return lambda: etcd_grpc.compact(where)
    if scheme == "fake":

        def compact_fake() -> None:
            resp = admin().request("POST", where)
            if resp.status != 200:
                raise TargetError(f"the fake refused to compact: HTTP {resp.status}")

        return compact_fake
    raise ValueError(f"unknown compaction method {how!r}")
