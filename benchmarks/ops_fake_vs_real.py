"""The embedded fake and kube-apiserver side by side: the same client, the same machine,
one run, operations interleaved so that machine noise hits both alike.

For each operation (create, get, update, every patch type, get as protobuf, list of N
CSRs as JSON and as protobuf) it prints the median latency on each server and the speed
ratio fake/real = real time / fake time (≥ 1.0: the fake is at least as fast). For the
list sizes it also prints how a list of the largest population compares with that many
smaller lists (10k vs ten lists of 1k), and draws ``benchmarks/scaling.png``: list
latency against population on both servers.

Usage (needs the control-plane binaries: bash ci/controlplane/build.sh)::

    python benchmarks/ops_fake_vs_real.py [--repeat N] [--sizes 100,1000,10000]
        [--assets DIR] [--plot PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import datetime
import functools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conformance.client.api import Client, Response
from conformance.client.connection import Connection
from conformance.client.transcript import Transcript
from conformance.identities import ADMIN
from conformance.targets import TargetEnv, TargetSpec, open_target

PROTOBUF = "application/vnd.kubernetes.protobuf"
PREFIX = "csrc-bench-"
SIGNER = "bench.example.com/signer"


def _request_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")]))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


REQUEST = _request_pem()


def csr(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "labels": labels or {"bench": "1"}},
        "spec": {"request": REQUEST, "signerName": SIGNER, "usages": ["client auth"]},
    }


@dataclass
class Target:
    """One opened server and a client on it (the admin identity)."""

    label: str
    client: Client
    store: Any = None
    """The embedded fake's store (None for kube-apiserver): see ``populate``."""
    timings: dict[str, list[float]] = field(default_factory=dict)

    def timed(self, op: str, call: Callable[[], Response], expect: int = 200) -> Response:
        t0 = time.perf_counter()
        resp = call()
        self.timings.setdefault(op, []).append(time.perf_counter() - t0)
        if resp.status != expect:
            raise SystemExit(f"{self.label} {op}: HTTP {resp.status}: {resp.body[:300]!r}")
        return resp


def _client(env: TargetEnv) -> Client:
    conn = Connection.from_kubeconfig(env.kubeconfig, env.contexts.get(ADMIN) or None)
    return Client(conn, ADMIN, Transcript(limit=1), timeout=120.0)


@contextlib.contextmanager
def _fake() -> Iterator[tuple[Client, Any]]:
    """The embedded fake as ``open_target`` starts it, but with its store at hand."""
    from conformance.targets.fake import FakeConfig, FakeServer

    server = FakeServer(FakeConfig())
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "kubeconfig")
            server.write_kubeconfig(path)
            conn = Connection.from_kubeconfig(path, ADMIN)
            yield Client(conn, ADMIN, Transcript(limit=1), timeout=120.0), server.store
    finally:
        server.stop()


@contextlib.contextmanager
def targets(assets: str | None) -> Iterator[list[Target]]:
    with contextlib.ExitStack() as stack:
        fake_client, store = stack.enter_context(_fake())
        real = stack.enter_context(open_target(TargetSpec("controlplane", assets=assets)))
        yield [Target("fake", fake_client, store), Target("kube-apiserver", _client(real))]


def _patch(t: Target, op: str, name: str, body: Any, content_type: str, query: Any = None) -> None:
    path = f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    t.timed(
        op,
        lambda: t.client.request("PATCH", path, data=data, content_type=content_type, query=query),
    )


def single_object_ops(t: Target, i: int) -> None:
    """One round of every single-object operation on a fresh object, then delete it."""
    name = f"{PREFIX}op-{i}"
    t.timed("create", lambda: t.client.create(csr(name)), 201)
    got = t.timed("get", lambda: t.client.get(name)).obj()
    t.timed(
        "get (protobuf)",
        lambda: t.client.request(
            "GET",
            f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}",
            accept=PROTOBUF,
        ),
    )
    got["metadata"]["labels"] = {"bench": "1", "round": str(i)}
    path = f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}"
    t.timed("update (PUT)", lambda: t.client.request("PUT", path, body=got))
    _patch(
        t,
        "patch (merge)",
        name,
        {"metadata": {"labels": {"m": "1"}}},
        "application/merge-patch+json",
    )
    _patch(
        t,
        "patch (json)",
        name,
        [{"op": "add", "path": "/metadata/annotations", "value": {"j": "1"}}],
        "application/json-patch+json",
    )
    _patch(
        t,
        "patch (strategic)",
        name,
        {"metadata": {"labels": {"s": "1"}}},
        "application/strategic-merge-patch+json",
    )
    apply = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "labels": {"a": "1"}},
    }
    _patch(
        t,
        "patch (apply)",
        name,
        apply,
        "application/apply-patch+yaml",
        query={"fieldManager": "bench"},
    )
    t.timed("delete", lambda: t.client.delete(name))


def populate(t: Target, start: int, stop: int) -> None:
    """Create objects ``start..stop-1`` (labelled ``pop=1``).

    On kube-apiserver: POSTs, eight at a time. On the fake: one POST, then copies of the
    stored object (new name and uid) put straight into its store, because the fake's
    create handler copies the whole store on every request (O(N) per create, so 10k
    creates would take most of an hour); lists are what is measured here.
    """

    def one(i: int) -> Response:
        r = t.client.create(csr(f"{PREFIX}pop-{i:05d}", {"pop": "1"}))
        if r.status != 201:
            raise SystemExit(f"{t.label} populate: HTTP {r.status}: {r.body[:200]!r}")
        return r

    if t.store is None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(start, stop)))
        return
    if start >= stop:
        return
    template = one(start).obj()
    for i in range(start + 1, stop):
        obj = copy.deepcopy(template)
        obj["metadata"]["name"] = f"{PREFIX}pop-{i:05d}"
        obj["metadata"]["uid"] = str(uuid.uuid4())
        t.store.create(obj)


def _list(t: Target, accept: str) -> Response:
    return t.client.request(
        "GET",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests",
        query={"labelSelector": "pop=1"},
        accept=accept,
    )


def list_ops(t: Target, size: int, repeat: int) -> None:
    for _ in range(repeat):
        for accept, label in (("application/json", "json"), (PROTOBUF, "protobuf")):
            resp = t.timed(f"list {size} ({label})", functools.partial(_list, t, accept))
            if label == "json" and len(resp.obj()["items"]) != size:
                raise SystemExit(f"{t.label}: list of {size} gave {len(resp.obj()['items'])}")


def cleanup(t: Target) -> None:
    t.client.delete_collection(query={"labelSelector": "pop=1"})
    t.client.delete_collection(query={"labelSelector": "bench=1"})


def _median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values)


def table(fake: Target, real: Target) -> list[dict[str, Any]]:
    rows = []
    for op in fake.timings:
        f, r = _median_ms(fake.timings[op]), _median_ms(real.timings[op])
        rows.append({"op": op, "fake_ms": f, "real_ms": r, "speed_fake_over_real": r / f})
    return rows


def plot(rows: list[dict[str, Any]], sizes: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_op = {row["op"]: row for row in rows}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for key, label, marker in (("fake_ms", "fake", "o"), ("real_ms", "kube-apiserver", "s")):
        for enc, line in (("json", "-"), ("protobuf", "--")):
            ys = [by_op[f"list {n} ({enc})"][key] for n in sizes]
            ax.plot(sizes, ys, marker=marker, linestyle=line, label=f"{label}, {enc}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("CSRs in the list")
    ax.set_ylabel("median latency of one list (ms)")
    ax.set_title("LIST certificatesigningrequests: fake vs kube-apiserver")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=20, help="rounds of single-object ops")
    parser.add_argument("--list-repeat", type=int, default=5)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--assets", default=None)
    parser.add_argument("--plot", default=str(Path(__file__).with_name("scaling.png")))
    parser.add_argument("--json", default=None, help="also write the table here")
    args = parser.parse_args(argv)
    try:
        sizes = sorted(int(s) for s in args.sizes.split(","))
    except ValueError:
        print(f"ops_fake_vs_real: bad --sizes {args.sizes!r}", file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    with targets(args.assets) as (fake, real):
        pair = (fake, real)
        for i in range(args.repeat):
            for t in pair if i % 2 == 0 else pair[::-1]:
                single_object_ops(t, i)
        have = 0
        for size in sizes:
            for t in pair:
                populate(t, have, size)
            have = size
            for t in pair:
                list_ops(t, size, args.list_repeat)
        for t in pair:
            cleanup(t)
    rows = table(fake, real)
    machine = f"{os.cpu_count()} CPUs; {platform.platform()}"
    print(f"{started}; {machine}; Python {platform.python_version()}")
    print(f"{'operation':<24}{'fake ms':>10}{'real ms':>10}{'fake/real speed':>17}")
    for row in rows:
        print(
            f"{row['op']:<24}{row['fake_ms']:>10.2f}{row['real_ms']:>10.2f}"
            f"{row['speed_fake_over_real']:>17.2f}"
        )
    if len(sizes) >= 2:
        big, small = sizes[-1], sizes[-2]
        times = big // small
        by_op = {row["op"]: row for row in rows}
        for key, label in (("fake_ms", "fake"), ("real_ms", "kube-apiserver")):
            ratio = by_op[f"list {big} (json)"][key] / (times * by_op[f"list {small} (json)"][key])
            print(f"{label}: a list of {big} takes {ratio:.2f}x {times} lists of {small}")
    plot(rows, sizes, Path(args.plot))
    print(f"plot: {args.plot}")
    if args.json:
        Path(args.json).write_text(json.dumps({"date": started, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
