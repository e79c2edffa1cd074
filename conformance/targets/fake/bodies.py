"""Turning POST and PUT bodies into the JSON the oracle decides on.

kube-apiserver decodes JSON, YAML and protobuf bodies into the same Go object; the oracle
(``conformance.oracle.csr.create`` / ``conformance.oracle.csr.update``) models the JSON decoder
only.
YAML is converted to JSON first, as the server's YAML serializer does. A protobuf body is
decoded with ``conformance.wire.protobuf`` into exactly the JSON the server would show
for the decoded object, so handing that JSON to the oracle reproduces the protobuf
decode: unknown fields cannot exist in it, and no strict-decoding warning can arise.

Upstream: apiserver ``endpoints/handlers/rest.go`` (``transformDecodeError``,
``summarizeData``), apimachinery ``runtime/serializer/protobuf/protobuf.go``.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Final

import yaml

from conformance.oracle.apimachinery import status as st
from conformance.wire import protobuf

JSON: Final = "application/json"
YAML: Final = "application/yaml"
_SUMMARY_LENGTH: Final = 30


@dataclass(frozen=True)
class Body:
    """A request body ready for the oracle, or the 400 the server answers instead."""

    data: bytes
    content_type: str | None
    error: st.Status | None = None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def yaml_to_json(body: bytes) -> bytes:
    """kube-apiserver converts YAML bodies to JSON before decoding; so does the fake."""
    doc = yaml.safe_load(body) if body.strip() else None
    return json.dumps(doc).encode()


def summarize_data(data: bytes, max_length: int = _SUMMARY_LENGTH) -> str:
    """``summarizeData``: what a decode error quotes of the body."""
    if not data:
        return "<empty>"
    if data[:1] == b"{":
        text = data[:max_length].decode("utf-8", errors="replace")
        return text + " ..." if len(data) > max_length else text
    hexed = data[:max_length].hex()
    return hexed + " ..." if len(data) > max_length else hexed


def _unrecognized(reason: str, data: bytes) -> st.Status:
    return st.bad_request(
        f"the object provided is unrecognized (must be of type {st.KIND}): {reason} "
        f"({summarize_data(data)})"
    )


def _go_yaml_error(e: yaml.YAMLError) -> str:
    """A YAML syntax error in go-yaml's shape (``yaml: line N: …``); the wording of the
    problem is PyYAML's, so only the shape matches kube-apiserver."""
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    if mark is not None:
        return f"yaml: line {mark.line + 1}: {problem}"
    return f"yaml: {problem}"


def _protobuf_to_json(data: bytes) -> Body:
    if not data:
        return Body(data, JSON, _unrecognized("empty data", data))
    if not data.startswith(protobuf.MAGIC):
        prefix = "[" + " ".join(str(b) for b in protobuf.MAGIC) + "]"
        reason = f"provided data does not appear to be a protobuf message, expected prefix {prefix}"
        return Body(data, JSON, _unrecognized(reason, data))
    try:
        api_version, kind, _raw = protobuf.unwrap(data)
    except protobuf.ProtobufError as e:
        return Body(data, JSON, _unrecognized(str(e), data))
    version = api_version.rpartition("/")[2]
    if kind != st.KIND:
        # The scheme knows the kind but has no conversion from its Go type to a CSR.
        return Body(
            data,
            JSON,
            st.bad_request(
                f"{kind} in version {json.dumps(version)} cannot be handled as a {st.KIND}: "
                f"converting ({version}.{kind}) to (certificates.{st.KIND}): unknown conversion"
            ),
        )
    try:
        doc = protobuf.decode(data)
    except protobuf.ProtobufError as e:
        return Body(
            data,
            JSON,
            st.bad_request(
                f"{kind} in version {json.dumps(version)} cannot be handled as a {st.KIND}: {e}"
            ),
        )
    return Body(json.dumps(doc).encode(), JSON)


def as_json(data: bytes, content_type: str | None) -> Body:
    """The body as JSON for the oracle; other media types pass through unchanged (the
    oracle answers 415 for those it does not accept)."""
    media = media_type(content_type)
    if media == YAML:
        try:
            return Body(yaml_to_json(data), JSON)
        except yaml.YAMLError as e:
            return Body(data, content_type, _unrecognized(_go_yaml_error(e), data))
    if media == protobuf.MEDIA_TYPE:
        return _protobuf_to_json(data)
    return Body(data, content_type)


# -- LOCAL SHIM: apply bodies with YAML timestamps ----------------------------------------
# conformance.oracle.csr.update.load_apply_yaml reads apply bodies with PyYAML's SafeLoader,
# which turns an unquoted ``2020-01-01T00:00:00Z`` into a datetime; sigs.k8s.io/yaml
# keeps it a string (kube-apiserver v1.37.2 accepts such a lastUpdateTime). Until the
# oracle's loader is fixed, the fake re-encodes such a body as JSON (which is YAML) with
# timestamps kept as the text that was sent. Remove once the oracle handles them.


class _StringTimestampLoader(yaml.SafeLoader):
    """YAML as sigs.k8s.io/yaml reads it on the way to JSON: timestamps stay strings."""


_StringTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _has_time(value: object) -> bool:
    if isinstance(value, datetime.date):
        return True
    if isinstance(value, dict):
        return any(_has_time(k) or _has_time(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_time(v) for v in value)
    return False


def apply_body_with_string_timestamps(body: bytes) -> bytes:
    """``body`` unchanged, or re-encoded as JSON when YAML timestamps would be resolved."""
    try:
        if not _has_time(yaml.safe_load(body)):
            return body
        doc = yaml.load(body, Loader=_StringTimestampLoader)
    except yaml.YAMLError:
        return body
    return json.dumps(doc).encode()
