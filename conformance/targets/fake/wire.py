"""How the fake writes bytes: JSON the way Go writes it, content negotiation, headers.

Properties read raw responses (design rule 1), so small encoding habits of kube-apiserver
show through: compact JSON with a trailing newline, ``<``, ``>`` and ``&`` escaped as
``\\u003c`` and friends (Go's HTML-safe encoder), pretty output for curl, ``Warning``
headers in the ``299 - "text"`` form, and 406 for an Accept header nothing satisfies.

Protobuf (``application/vnd.kubernetes.protobuf``) is served for the documents
``conformance.wire.protobuf`` can encode (CSRs, CSR lists, Status), because typed
clients such as ``kubectl certificate approve`` ask for it. Error responses and other
responses without an explicit rendering are negotiated from the Accept header the way
kube-apiserver's ``ErrorNegotiated`` does: JSON, YAML or protobuf, JSON when nothing fits.

Upstream: apimachinery ``runtime/serializer/json``, apiserver
``endpoints/handlers/negotiation`` and ``endpoints/handlers/responsewriters``,
``endpoints/warning`` (``NewWarningHeader``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import yaml
from aiohttp import web

from conformance.oracle.apimachinery import status as spec_status
from conformance.wire import protobuf

JSON: Final = "application/json"
YAML: Final = "application/yaml"
PROTOBUF: Final = protobuf.MEDIA_TYPE

_HTML_ESCAPES: Final = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
_HTML_RE: Final = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


def _html_escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch in _HTML_ESCAPES:
        return _HTML_ESCAPES[ch]
    if ch in "\u2028\u2029":
        return f"\\u{ord(ch):04x}"
    return "\ufffd"  # a lone surrogate cannot be valid UTF-8; Go writes U+FFFD


def go_json_bytes(obj: Any, *, pretty: bool = False) -> bytes:
    """Serialise ``obj`` as kube-apiserver's JSON serializer would (newline-terminated)."""
    if pretty:
        text = json.dumps(obj, ensure_ascii=False, indent=2)
    else:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    text = _HTML_RE.sub(_html_escape, text)
    return (text + "\n").encode("utf-8")


class _GoYamlDumper(yaml.SafeDumper):
    """Scalars styled as go-yaml v2 styles them: a string that would read back as another
    type (``"true"``, ``"1"``, a timestamp) in double quotes, other strings needing quotes
    in single quotes, multi-line strings as literal blocks, and no line folding."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    tag = "tag:yaml.org,2002:str"
    if "\n" in value:
        return dumper.represent_scalar(tag, value, style="|")
    if not value or dumper.resolve(yaml.ScalarNode, value, (True, False)) != tag:  # type: ignore[no-untyped-call]
        return dumper.represent_scalar(tag, value, style='"')
    return dumper.represent_scalar(tag, value)


_GoYamlDumper.add_representer(str, _represent_str)


def yaml_bytes(obj: Any) -> bytes:
    # sigs.k8s.io/yaml goes through a Go map, so keys come out sorted.
    return yaml.dump(
        obj,
        Dumper=_GoYamlDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 30,
    ).encode()


# ---------------------------------------------------------------------------
# Content negotiation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRange:
    """One clause of an Accept header."""

    type: str
    subtype: str
    params: Mapping[str, str]
    q: float

    @property
    def full(self) -> str:
        return f"{self.type}/{self.subtype}"

    def matches(self, media_type: str) -> bool:
        t, _, s = media_type.partition("/")
        return self.type in ("*", t) and self.subtype in ("*", s)


def parse_accept(header: str) -> list[MediaRange]:
    """Parse Accept into clauses, best first (by q, then specificity, then position)."""
    ranges: list[tuple[float, int, int, MediaRange]] = []
    for pos, clause in enumerate(header.split(",")):
        parts = [p.strip() for p in clause.split(";")]
        if not parts[0]:
            continue
        t, _, s = parts[0].lower().partition("/")
        params: dict[str, str] = {}
        q = 1.0
        for p in parts[1:]:
            k, _, v = p.partition("=")
            k = k.strip().lower()
            v = v.strip().strip('"')
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
            elif k:
                params[k] = v
        specificity = (t != "*") + (s != "*")
        ranges.append((-q, -specificity, pos, MediaRange(t, s or "*", params, q)))
    ranges.sort(key=lambda r: (r[0], r[1], r[2]))
    return [r[3] for r in ranges if r[3].q > 0]


@dataclass(frozen=True)
class Rendering:
    """What a negotiated response will be: a media type plus an optional transform."""

    media_type: str  # application/json, application/yaml or application/vnd.kubernetes.protobuf
    transform: str = ""  # "", "Table", "PartialObjectMetadata", "APIGroupDiscoveryList"
    transform_version: str = ""


ACCEPTED_OUTPUT: Final = spec_status.CREATE_MEDIA_TYPES


class NotAcceptable(Exception):
    """No Accept clause names something the endpoint can produce."""


def negotiate(
    accept: str | None,
    transforms: Iterable[tuple[str, str, str]] = (),
    *,
    protobuf: bool = False,
) -> Rendering:
    """Choose a rendering for ``accept``; ``transforms`` lists (as, g, v) the endpoint allows.

    A clause asking for a transform the endpoint does not offer is skipped, as
    kube-apiserver skips it, so ``as=Table,application/json`` falls back to plain JSON on
    discovery endpoints. ``protobuf`` says whether the endpoint's documents can be sent
    as protobuf (transforms never are); otherwise a protobuf-only Accept falls through
    to 406 like any other unsupported type.
    """
    allowed = list(transforms)
    if not accept or not accept.strip():
        return Rendering(JSON)
    for r in parse_accept(accept):
        as_ = r.params.get("as", "")
        if as_:
            group, version = r.params.get("g", ""), r.params.get("v", "")
            if (as_, group, version) not in allowed:
                continue
            if r.matches(JSON):
                return Rendering(JSON, as_, version)
            if r.matches(YAML):
                return Rendering(YAML, as_, version)
            continue
        if r.full in ("*/*", "application/*") or r.matches(JSON):
            return Rendering(JSON)
        if r.matches(YAML):
            return Rendering(YAML)
        if protobuf and r.full == PROTOBUF:
            return Rendering(PROTOBUF)
    raise NotAcceptable


def not_acceptable_status() -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "only the following media types are accepted: " + ", ".join(ACCEPTED_OUTPUT),
        "reason": "NotAcceptable",
        "code": 406,
    }


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------


def wants_pretty(request: web.Request) -> bool:
    """kube-apiserver pretty-prints for ``?pretty=true`` and for curl/wget user agents."""
    pretty = request.query.get("pretty", "")
    if pretty:
        return pretty.lower() in ("1", "true", "t")
    ua = request.headers.get("User-Agent", "")
    return ua.startswith("curl") or ua.startswith("Wget") or ua.startswith("kube-probe")


def respond(
    request: web.Request,
    code: int,
    body: Any,
    *,
    rendering: Rendering | None = None,
    warning_headers: Sequence[str] = (),
) -> web.Response:
    """A complete API response with kube-apiserver's usual headers.

    ``warning_headers`` are complete ``Warning`` header values (``299 - "…"``), one
    header line each, in order. Without a ``rendering`` the representation is
    negotiated from the Accept header (errors and plain objects); a document protobuf
    cannot carry goes out as JSON.
    """
    if rendering is None:
        rendering = negotiated_rendering(request)
    media = rendering.media_type
    payload = b""
    if media == PROTOBUF:
        try:
            payload = protobuf.encode(body)
        except protobuf.ProtobufError:
            media = JSON
    if media == YAML:
        payload = yaml_bytes(body)
    elif media == JSON:
        payload = go_json_bytes(body, pretty=wants_pretty(request))
    content_type = media
    if rendering and rendering.transform == "APIGroupDiscoveryList":
        content_type = f"{media};g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    resp = web.Response(status=code, body=payload)
    resp.headers["Content-Type"] = content_type
    resp.headers["Cache-Control"] = "no-cache, private"
    resp.headers["Audit-Id"] = str(uuid.uuid4())
    for w in warning_headers:
        resp.headers.add("Warning", w)
    return resp


def negotiated_rendering(request: web.Request) -> Rendering:
    """What ``ErrorNegotiated`` picks: the best plain media type the client accepts."""
    try:
        return negotiate(request.headers.get("Accept"), protobuf=True)
    except NotAcceptable:
        return Rendering(JSON)


def plain_not_found(request: web.Request) -> web.Response:
    """Go's ``http.NotFound``: what paths outside every API group prefix get."""
    resp = web.Response(status=404, text="404 page not found\n")
    resp.headers["Content-Type"] = "text/plain; charset=utf-8"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-cache, private"
    resp.headers["Audit-Id"] = str(uuid.uuid4())
    return resp
