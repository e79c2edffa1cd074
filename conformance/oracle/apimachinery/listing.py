"""List and watch options: how kube-apiserver reads them, refuses them, and pages.

The same query parameters drive a list, a watch and a deletecollection, and servers get
them wrong in ways a client notices only later: a continue token that repeats an item, a
``limit`` honoured on ``resourceVersion=0`` where the caller cannot tell, a 200 where a
combination must be refused. This module states the rules once, for the fake and the
properties alike.

Upstream: apimachinery ``pkg/apis/meta/internalversion/validation/validation.go``
(``ValidateListOptions``), apiserver ``pkg/storage/continue.go`` (the continue token),
``pkg/storage/etcd3/store.go`` and ``pkg/storage/cacher`` (paging, remainingItemCount,
"too large" and "too old"), ``pkg/endpoints/handlers/get.go`` (query decoding).
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from conformance.oracle.apimachinery import fielderrors as fe
from conformance.oracle.apimachinery import status as st
from conformance.oracle.golang.jsonscan import syntax_error

EXACT: Final = "Exact"
NOT_OLDER_THAN: Final = "NotOlderThan"
INITIAL_EVENTS_END: Final = "k8s.io/initial-events-end"
"""The annotation on the bookmark that ends a watch's initial events (sendInitialEvents)."""

CONTINUE_VERSION: Final = "meta.k8s.io/v1"
_RULE_RV: Final = "CSR-READ-RV"
_RULE_PAGE: Final = "CSR-READ-PAGE"

Query = Mapping[str, str]


@dataclass(frozen=True)
class ListOptions:
    """The list/watch query as kube-apiserver decodes it (``metav1.ListOptions``)."""

    watch: bool = False
    resource_version: str = ""
    match: str = ""
    limit: int = 0
    continue_token: str = ""
    send_initial_events: bool | None = None
    allow_bookmarks: bool = False
    timeout_seconds: int | None = None
    label_selector: str = ""
    field_selector: str = ""


class OptionsError(Exception):
    """A query kube-apiserver refuses before reading; ``status`` is the body it sends."""

    def __init__(self, status: st.Status) -> None:
        super().__init__(status.get("message", ""))
        self.status = status


def _go_bool(name: str, text: str) -> bool:
    """How the query-parameter converter reads a bool: "", "false" and "0" (any case)
    are false and every other value is true (so ``watch=maybe`` starts a watch)."""
    return text.lower() not in ("", "false", "0")


def _go_int(name: str, text: str) -> int:
    """``strconv.ParseInt(text, 10, 64)`` as the converter uses it."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise OptionsError(st.bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax'))
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise OptionsError(
            st.bad_request(f'strconv.ParseInt: parsing "{text}": value out of range')
        )
    return value


def parse_list_options(query: Query, *, watch_path: bool = False) -> ListOptions:
    """Decode the query of a list or watch request; :class:`OptionsError` for a 400.

    ``watch_path`` is the legacy ``/watch/`` prefix, which implies ``watch=true``.
    """
    watch = watch_path or ("watch" in query and _go_bool("watch", query["watch"]))
    send: bool | None = None
    if "sendInitialEvents" in query:
        send = _go_bool("sendInitialEvents", query["sendInitialEvents"])
    timeout: int | None = None
    if "timeoutSeconds" in query:
        timeout = _go_int("timeoutSeconds", query["timeoutSeconds"])
    return ListOptions(
        watch=watch,
        resource_version=query.get("resourceVersion", ""),
        match=query.get("resourceVersionMatch", ""),
        limit=_go_int("limit", query["limit"]) if "limit" in query else 0,
        continue_token=query.get("continue", ""),
        send_initial_events=send,
        allow_bookmarks=(
            _go_bool("allowWatchBookmarks", query["allowWatchBookmarks"])
            if "allowWatchBookmarks" in query
            else False
        ),
        timeout_seconds=timeout,
        label_selector=query.get("labelSelector", ""),
        field_selector=query.get("fieldSelector", ""),
    )


def validate_list_options(opts: ListOptions) -> list[fe.FieldError]:
    """``ValidateListOptions`` with the WatchList feature on (the v1.37 default)."""
    errs: list[fe.FieldError] = []
    path = "resourceVersionMatch"
    if opts.watch:
        send = opts.send_initial_events
        if send is None and opts.match:
            errs.append(
                fe.forbidden(
                    _RULE_RV,
                    path,
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                    "provided",
                )
            )
        if send is not None and opts.match != NOT_OLDER_THAN:
            errs.append(
                fe.forbidden(
                    _RULE_RV,
                    path,
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )
            )
        if opts.match and opts.match != NOT_OLDER_THAN:
            errs.append(fe.not_supported(_RULE_RV, path, opts.match, [NOT_OLDER_THAN]))
        return errs
    if opts.match:
        if opts.resource_version == "":
            errs.append(
                fe.forbidden(
                    _RULE_RV,
                    path,
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                )
            )
        if opts.continue_token:
            errs.append(
                fe.forbidden(
                    _RULE_RV, path, "resourceVersionMatch is forbidden when continue is provided"
                )
            )
        if opts.match not in (EXACT, NOT_OLDER_THAN):
            errs.append(fe.not_supported(_RULE_RV, path, opts.match, [EXACT, NOT_OLDER_THAN, ""]))
        if opts.match == EXACT and opts.resource_version == "0":
            errs.append(
                fe.forbidden(
                    _RULE_RV,
                    path,
                    'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                )
            )
    if opts.send_initial_events is not None:
        errs.append(
            fe.forbidden(_RULE_RV, "sendInitialEvents", "sendInitialEvents is forbidden for list")
        )
    return errs


def options_status(errs: Sequence[fe.FieldError]) -> st.Status:
    """The 422 for refused list options (details.kind ListOptions, group meta.k8s.io)."""
    return st.options_invalid("ListOptions", errs)


# ---------------------------------------------------------------------------
# resourceVersion of a read
# ---------------------------------------------------------------------------


def parse_resource_version(text: str) -> int:
    """A list/watch resourceVersion as a number; :class:`OptionsError` (400) otherwise.

    kube-apiserver's storage versioner refuses anything that is not an unsigned integer
    before reading, with this exact message (confirmed on v1.37.2).
    """
    if text.isascii() and text.isdigit() and int(text) < 2**64:
        return int(text)
    quoted = fe.go_quote(text)
    why = "value out of range" if text.isascii() and text.isdigit() else "invalid syntax"
    raise OptionsError(
        st.bad_request(
            f"invalid resource version: resourceVersion: Invalid value: {quoted}: "
            f"strconv.ParseUint: parsing {quoted}: {why}"
        )
    )


def watch_resource_version_error(text: str) -> st.Status:
    """A watch from an unparseable resourceVersion: v1.37 answers 500 (no reason) with the
    field error, unlike a list's 400 (confirmed on the real binary)."""
    quoted = fe.go_quote(text)
    why = "value out of range" if text.isascii() and text.isdigit() else "invalid syntax"
    message = (
        f"resourceVersion: Invalid value: {quoted}: strconv.ParseUint: parsing {quoted}: {why}"
    )
    return st.failure(500, "", message)


def too_large(requested: int, current: int) -> st.Status:
    """504 for a read newer than the server has (after it waited a little)."""
    cause = {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
    return st.failure(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        {"causes": [cause], "retryAfterSeconds": 1},
    )


def expired(message: str) -> st.Status:
    """410 Expired: a read or watch from history the server no longer has."""
    return st.failure(410, "Expired", message)


def too_old_message(requested: int, oldest: int) -> str:
    """The watch cache's 410 text (kube-apiserver's default, and the fake's)."""
    return f"too old resource version: {requested} ({oldest})"


WATCH_EXPIRED_FROM_STORAGE: Final = "The resourceVersion for the provided watch is too old."
"""The 410 text when the watch is served straight from etcd (``--watch-cache=false``):
etcd reports the compaction and the storage layer words it this way (v1.37.2)."""


# ---------------------------------------------------------------------------
# continue tokens
# ---------------------------------------------------------------------------


def encode_continue(resource_version: int, last_name: str) -> str:
    """The token for the page after ``last_name`` in the snapshot at ``resource_version``.

    Upstream encodes the next key to read (the last key plus a NUL byte) relative to the
    resource's key prefix, as compact JSON in unpadded URL-safe base64.
    """
    return encode_continue_key(resource_version, "/" + last_name + "\x00")


def encode_continue_key(resource_version: int, start: str) -> str:
    """A token that resumes at the key ``start`` itself (see :func:`encode_continue`)."""
    raw = json.dumps(
        {"v": CONTINUE_VERSION, "rv": resource_version, "start": start},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class ContinuePoint:
    """Where a continued list resumes: names at or after ``start``, snapshot ``rv``."""

    start: str
    rv: int


def decode_continue(token: str) -> ContinuePoint:
    """The inverse of :func:`encode_continue`; :class:`OptionsError` (400) when malformed.

    Messages are upstream's ``DecodeContinue`` errors behind "invalid continue token: ",
    with Go's own base64 and JSON texts (the JSON ones from the scanner port).
    """
    prefix = "invalid continue token: continue key is not valid"
    data = _raw_url_b64decode(token)
    if isinstance(data, str):
        raise OptionsError(st.bad_request(f"{prefix}: {data}"))
    problem = syntax_error(data)
    if problem is not None:
        raise OptionsError(st.bad_request(f"{prefix}: {problem}"))
    c = json.loads(data)
    if not isinstance(c, dict):
        raise OptionsError(
            st.bad_request(
                f"{prefix}: json: cannot unmarshal {_go_json_kind(c)} into Go value "
                "of type storage.continueToken"
            )
        )
    version = c.get("v") if isinstance(c.get("v"), str) else ""
    if version != CONTINUE_VERSION:
        raise OptionsError(
            st.bad_request(f"{prefix}: server does not recognize this encoded version {version}")
        )
    rv = c.get("rv")
    if not isinstance(rv, int) or isinstance(rv, bool) or rv == 0:
        raise OptionsError(
            st.bad_request(
                f"{prefix}: incorrect encoded start resourceVersion (version {CONTINUE_VERSION})"
            )
        )
    start = c.get("start")
    if not isinstance(start, str) or not start:
        raise OptionsError(
            st.bad_request(f"{prefix}: encoded start key empty (version {CONTINUE_VERSION})")
        )
    key = start if start.startswith("/") else "/" + start
    if posixpath.normpath(key) != key or key.startswith("//"):
        raise OptionsError(st.bad_request(f"{prefix}: {start}"))
    return ContinuePoint(start=key[1:], rv=rv)


def _go_json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "null"
    return "number"


def _raw_url_b64decode(token: str) -> bytes | str:
    """Go's ``base64.RawURLEncoding.DecodeString``: bytes, or Go's error text."""
    for i, ch in enumerate(token):
        if ch not in _B64URL:
            return f"illegal base64 data at input byte {i}"
    if len(token) % 4 == 1:
        return f"illegal base64 data at input byte {len(token) - 1}"
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except binascii.Error:
        return "illegal base64 data at input byte 0"


_B64URL: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


RV_WITH_CONTINUE: Final = "specifying resource version is not allowed when using continue"
"""400 for a continued list that also names a resourceVersion other than "0" (v1.37.2)."""


def continue_expired_message() -> str:
    """The 410 text for a continue token whose snapshot was compacted away."""
    return (
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter, or use the continue token "
        "in this response to retrieve the remainder of the results. Continuing with the "
        "provided token results in an inconsistent list - objects that were created, "
        "modified, or deleted between the time the first chunk was returned and now may "
        "show up in the list."
    )


# ---------------------------------------------------------------------------
# paging
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, the token for the next page, what remains."""

    items: list[dict[str, Any]]
    continue_token: str
    remaining: int | None


def page(
    matching: Sequence[dict[str, Any]],
    *,
    rv: int,
    limit: int,
    start: str = "",
    selective: bool = False,
) -> Page:
    """Cut one page out of ``matching`` (already filtered and in name order).

    ``start`` is a continue point (names at or after it). A page that stops early carries
    a token at the snapshot ``rv``; ``remainingItemCount`` is exact, and only set when the
    list has no selectors (``selective`` False), as upstream counts keys, not matches.
    """
    rest = (
        [o for o in matching if _key(o["metadata"]["name"]) >= _key(start)]
        if start
        else list(matching)
    )
    if limit <= 0 or len(rest) <= limit:
        return Page(list(rest), "", None)
    items = rest[:limit]
    token = encode_continue(rv, items[-1]["metadata"]["name"])
    remaining = None if selective else len(rest) - limit
    return Page(items, token, remaining)


def _key(name: str) -> bytes:
    return name.encode("utf-8", errors="surrogatepass")
