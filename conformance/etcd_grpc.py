"""Compacting an etcd-API server that speaks only gRPC (kine), for "too old" properties.

etcd itself also serves a JSON gateway (``compaction.compact_etcd`` uses it); kine
implements only the gRPC service, and its manual ``Compact`` is what kube-apiserver's
own compactor calls. This module sends that one unary call by hand over cleartext
HTTP/2 (h2c, prior knowledge): the gRPC framing is five bytes, and the two messages
involved have three scalar fields between them, so a protobuf and gRPC stack would be
far more than the job needs.

Messages (etcd api/v3 etcdserverpb): ``RangeRequest{key=1, limit=3}`` to read the
current revision from ``RangeResponse.header(1).revision(3)``, then
``CompactionRequest{revision=1, physical=2}``.
"""

from __future__ import annotations

import socket
import time
from typing import Final
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events

from conformance.client import TargetError
from conformance.wire import protobuf

RANGE: Final = "/etcdserverpb.KV/Range"
COMPACT: Final = "/etcdserverpb.KV/Compact"
_PROBE_KEY: Final = b"/registry/csr-conformance-revision-probe"
_TIMEOUT: Final = 10.0
_VARINT: Final = 0
_LEN: Final = 2


def fields(msg: bytes) -> dict[int, int | bytes]:
    """The last value of each varint or length-delimited field of a protobuf message."""
    return {n: v for n, wire, v in protobuf.fields(msg) if wire in (_VARINT, _LEN)}


def range_request(key: bytes) -> bytes:
    """``RangeRequest{key, limit: 1}``: the cheapest read that returns a header."""
    return protobuf.len_field(1, key) + protobuf.varint_field(3, 1)


def compaction_request(revision: int) -> bytes:
    """``CompactionRequest{revision, physical: true}``."""
    return protobuf.varint_field(1, revision) + protobuf.varint_field(2, 1)


def unary(url: str, path: str, request: bytes, timeout: float = _TIMEOUT) -> bytes:
    """One unary gRPC call over h2c to ``url`` (http://host:port); the response message.

    Raises TargetError (one line) for a transport failure or a non-zero grpc-status.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 2379
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    )
    deadline = time.monotonic() + timeout
    body = bytearray()
    headers: dict[str, str] = {}
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            conn.initiate_connection()
            stream = conn.get_next_available_stream_id()
            conn.send_headers(
                stream,
                [
                    (":method", "POST"),
                    (":scheme", "http"),
                    (":path", path),
                    (":authority", f"{host}:{port}"),
                    ("content-type", "application/grpc"),
                    ("te", "trailers"),
                ],
            )
            conn.send_data(stream, b"\x00" + len(request).to_bytes(4, "big") + request, True)
            sock.sendall(conn.data_to_send())
            done = False
            while not done:
                if time.monotonic() > deadline:
                    raise TargetError(f"gRPC {path} at {url}: no answer in {timeout:g}s")
                data = sock.recv(65536)
                if not data:
                    raise TargetError(f"gRPC {path} at {url}: connection closed early")
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.DataReceived) and event.data is not None:
                        body += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, stream)
                    elif isinstance(
                        event, (h2.events.ResponseReceived, h2.events.TrailersReceived)
                    ):
                        for name, value in event.headers or ():
                            headers[str(name)] = str(value)
                    elif isinstance(event, h2.events.StreamReset):
                        raise TargetError(f"gRPC {path} at {url}: stream reset")
                    elif isinstance(event, h2.events.StreamEnded):
                        done = True
                sock.sendall(conn.data_to_send())
    except OSError as e:
        raise TargetError(f"gRPC {path} at {url} failed: {e}") from None
    status = headers.get("grpc-status", "")
    if status != "0":
        raise TargetError(
            f"gRPC {path} at {url}: grpc-status {status or 'missing'} "
            f"{headers.get('grpc-message', '')}".rstrip()
        )
    if len(body) < 5:
        raise TargetError(f"gRPC {path} at {url}: no response message")
    size = int.from_bytes(body[1:5], "big")
    return bytes(body[5 : 5 + size])


def current_revision(url: str) -> int:
    header = fields(unary(url, RANGE, range_request(_PROBE_KEY))).get(1, b"")
    revision = fields(header).get(3) if isinstance(header, bytes) else None
    if not isinstance(revision, int) or revision <= 0:
        raise TargetError(f"gRPC Range at {url} gave no revision in its header")
    return revision


def compact(url: str) -> None:
    """Compact the store at ``url`` to its current revision; compacting again is fine."""
    revision = current_revision(url)
    try:
        unary(url, COMPACT, compaction_request(revision))
    except TargetError as e:
        # Nothing written since the last compaction: already as compact as it gets.
        if "compacted" not in str(e):
            raise
