"""What a list costs the fake with and without a deep copy of every stored object.

The fake's store never changes a stored object in place (every write stores a new one),
so a list can read the stored objects themselves. This measures the two ways side by
side, in one process against one fake, alternating request by request, so machine load
affects both alike.

Usage: ``python benchmarks/list_snapshot.py [--objects N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from conformance.client import Client, Connection, Transcript
from conformance.targets.fake import FakeConfig, FakeServer
from conformance.targets.fake import store as store_mod

PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


def _deep_snapshot(self: store_mod.Store) -> tuple[int, list[dict[str, Any]]]:
    """The snapshot as it was: a deep copy of every object."""
    with self._lock:
        names = sorted(self._objects, key=store_mod._key)
        return self._rv, [copy.deepcopy(self._objects[n]) for n in names]


def _csr(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {
            "name": f"n{i:05d}",
            "uid": f"u{i}",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": "bench", "i": str(i)},
        },
        "spec": {
            "request": "LS0t" * 200,
            "signerName": "example.com/x",
            "usages": ["client auth"],
            "username": "u",
            "groups": ["g", "system:authenticated"],
        },
        "status": {
            "conditions": [
                {
                    "type": "Approved",
                    "status": "True",
                    "reason": "R",
                    "lastUpdateTime": "2026-01-01T00:00:00Z",
                }
            ]
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    shared = store_mod.Store.snapshot
    with FakeServer(FakeConfig(tls=False)) as server, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.objects):
            server.state.store.create(_csr(i))
        kubeconfig = str(Path(tmp) / "kubeconfig")
        server.write_kubeconfig(kubeconfig)
        client = Client(Connection.from_kubeconfig(kubeconfig, "admin"), "admin", Transcript())
        times: dict[str, list[float]] = {"deep copy": [], "shared": []}
        for _ in range(args.rounds):
            for label, snapshot in (("deep copy", _deep_snapshot), ("shared", shared)):
                store_mod.Store.snapshot = snapshot  # type: ignore[method-assign]
                start = time.perf_counter()
                resp = client.request("GET", PATH)
                times[label].append(time.perf_counter() - start)
                assert resp.status == 200 and len(resp.obj()["items"]) == args.objects
        store_mod.Store.snapshot = shared  # type: ignore[method-assign]
    medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"list of {args.objects} CSRs (JSON), median of {args.rounds} rounds:")
    for label, ms in medians.items():
        print(f"  {label:<9} {ms:8.1f} ms")
    print(f"  ratio shared / deep copy: {medians['shared'] / medians['deep copy']:.2f}")


if __name__ == "__main__":
    main()
