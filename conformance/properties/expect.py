"""Judging a create response against the oracle, under either profile.

The oracle's ``decide_create`` is a pure function; the values the server picks at random
(uid, creation time, the generated name suffix) are read back from the response and fed
to it, so the prediction is exact without pretending to know the server's dice.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, timedelta
from typing import Any

from conformance import checks
from conformance.client import Response
from conformance.client.api import USER_AGENT
from conformance.oracle.csr.create import CreateDecision, UserInfo, decide_create
from conformance.oracle.csr.update import UpdateDecision, decide_update
from conformance.properties.permissions import authorizer_for
from conformance.session import Identity, Session

Query = Mapping[str, Sequence[str]]
_PLACEHOLDER_UID = "00000000-0000-0000-0000-000000000000"
_PLACEHOLDER_TIME = "1970-01-01T00:00:00Z"
_RV = ("metadata.resourceVersion",)


def user_info(identity: Identity) -> UserInfo:
    """The caller as the oracle's create and update pipelines take it."""
    return UserInfo.of(identity)


def _server_randoms(resp: Response) -> tuple[str, str, str]:
    """uid, creationTimestamp and generated suffix as the server chose them."""
    try:
        body = json.loads(resp.body)
    except ValueError:
        body = {}
    meta: dict[str, Any] = {}
    if isinstance(body, dict):
        if body.get("kind") == "Status":
            details = body.get("details") or {}
            meta = {"name": details.get("name") or ""}
        else:
            meta = body.get("metadata") or {}
    name = str(meta.get("name") or "")
    return (
        str(meta.get("uid") or _PLACEHOLDER_UID),
        str(meta.get("creationTimestamp") or _PLACEHOLDER_TIME),
        name[-5:] if len(name) >= 5 else "xxxxx",
    )


def _server_chosen(body: bytes, got: dict[str, Any]) -> None:
    """The values fed back to the oracle must really be the server's, not the client's.

    The oracle is told the uid and creation time the server picked; if the server merely
    kept what the client sent, the prediction would agree with a bug. A fresh uid can only
    equal the client's by a 2^-122 accident.
    """
    try:
        sent = json.loads(body).get("metadata") or {}
    except (ValueError, AttributeError):
        return
    meta = got.get("metadata") or {}
    for key in ("uid", "creationTimestamp"):
        if isinstance(sent, dict) and sent.get(key) and sent.get(key) == meta.get(key):
            raise AssertionError(f"server kept the client-sent metadata.{key} {sent[key]!r}")


def predict_create(
    session: Session,
    body: bytes,
    query: Query,
    role: str,
    resp: Response,
    existing: Collection[str] = (),
) -> CreateDecision:
    uid, now, suffix = _server_randoms(resp)
    return decide_create(
        body,
        query,
        user_info(session.identity(role)),
        existing_names=existing,
        now=now,
        uid=uid,
        generated_suffix=suffix,
        version=session.kube_version,
    )


def judge_create(
    session: Session,
    resp: Response,
    body: bytes,
    query: Query,
    role: str,
    existing: Collection[str] = (),
) -> CreateDecision:
    """Fail unless the server's answer to a create is what kube-apiserver would say."""
    decision = predict_create(session, body, query, role, resp, existing)
    if decision.code in (200, 201):
        checks.status_code(resp, decision.code)
        got = resp.obj()
        _server_chosen(body, got)
        if session.exact:
            checks.same_object(got, decision.body, "created object")
            if decision.warnings != resp.warnings:
                raise AssertionError(
                    f"Warning headers {resp.warnings!r}, expected {decision.warnings!r}"
                )
        else:
            for part in ("spec", "status"):
                checks.same_object(
                    {part: got.get(part)}, {part: decision.body.get(part)}, f"created {part}"
                )
        rv = (got.get("metadata") or {}).get("resourceVersion")
        if decision.persist and not rv:
            raise AssertionError("created object has no metadata.resourceVersion")
        return decision
    if session.exact:
        checks.status_matches(
            resp,
            decision.body,
            exact_message=decision.exact,
            message_prefix=decision.message_prefix,
        )
    else:
        checks.rejected_without_persisting(resp)
    return decision


def _request_times(resp: Response) -> list[str]:
    """Candidates for the server's ``now``: its Date header, and the second before it.

    The server stamps condition times and managedFields with the time it handled the
    request; the Date header is written a moment later, possibly in the next second.
    """
    date = resp.headers.get("date")
    if not date:
        return [_PLACEHOLDER_TIME]
    try:
        when = email.utils.parsedate_to_datetime(date).astimezone(UTC)
    except (TypeError, ValueError):
        return [_PLACEHOLDER_TIME]
    return [(when - timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in (0, 1, 2)]


def judge_update(
    session: Session,
    resp: Response,
    *,
    endpoint: str,
    method: str,
    name: str,
    body: bytes,
    content_type: str,
    query: Query,
    role: str,
    stored: dict[str, Any] | None,
) -> UpdateDecision:
    """Fail unless the server answered a PUT/PATCH as kube-apiserver would."""
    user = user_info(session.identity(role))
    decision = None
    times = _request_times(resp)
    # The field manager stamps managedFields before the strategy stamps condition times,
    # so the two may fall in different seconds: try each pair, managedFields not later.
    pairs = [(now, now) for now in times] + [
        (now, earlier) for i, now in enumerate(times) for earlier in times[i + 1 :]
    ]
    for now, managed_now in pairs:
        candidate = decide_update(
            endpoint,  # type: ignore[arg-type]
            method,  # type: ignore[arg-type]
            name,
            body,
            content_type,
            query,
            user,
            authorizer_for(role),
            stored=stored,
            now=now,
            user_agent=USER_AGENT,
            version=session.kube_version,
            managed_now=managed_now,
        )
        decision = decision or candidate  # report against the Date header's second
        if candidate.code != resp.status or candidate.code >= 300:
            break
        if not checks.diff(checks.without(resp.obj(), _RV), checks.without(candidate.body, _RV)):
            decision = candidate
            break
    assert decision is not None
    if decision.code < 300:
        checks.status_code(resp, decision.code)
        got = resp.obj()
        if session.exact:
            # managedFields are predicted too (the oracle runs the field manager).
            problems = checks.diff(checks.without(got, _RV), checks.without(decision.body, _RV))
            if problems:
                raise AssertionError(
                    f"{method} {endpoint} response differs:\n  " + "\n  ".join(problems)
                )
            if decision.warnings != resp.warnings:
                raise AssertionError(
                    f"Warning headers {resp.warnings!r}, expected {decision.warnings!r}"
                )
        else:
            for part in ("spec", "status"):
                checks.same_object(
                    {part: got.get(part)}, {part: decision.body.get(part)}, f"{part} after write"
                )
        old_rv = ((stored or {}).get("metadata") or {}).get("resourceVersion")
        new_rv = (got.get("metadata") or {}).get("resourceVersion")
        if decision.noop and new_rv != old_rv:
            raise AssertionError(f"no-op write changed resourceVersion {old_rv} -> {new_rv}")
        # A GET cannot show everything stored (an empty status.certificate is stored but
        # not served), so a write the oracle thinks changes only hidden state may be a
        # no-op on the server; demand a new resourceVersion only for visible changes.
        visible = stored is not None and checks.diff(
            checks.without(got, _RV), checks.without(stored, _RV)
        )
        if decision.persist and not decision.noop and visible and new_rv == old_rv:
            raise AssertionError(f"write kept resourceVersion {old_rv}")
        return decision
    if session.exact:
        checks.status_matches(
            _in_oracle_cause_order(resp, decision.body),
            decision.body,
            exact_message=decision.exact,
            message_prefix=decision.message_prefix,
        )
    else:
        checks.rejected_without_persisting(resp)
    return decision


def _in_oracle_cause_order(resp: Response, expected: Mapping[str, Any]) -> Response:
    """``resp`` with an apply conflict's causes in the oracle's order, when they are the
    oracle's causes in another order.

    kube-apiserver builds those causes by ranging over a Go map of managers, so their order
    changes from one request to the next (seen on v1.37.2; the message is sorted); any
    order is kube-apiserver's. Everything else is compared as sent.
    """
    want = (expected.get("details") or {}).get("causes")
    if expected.get("reason") != "Conflict" or not isinstance(want, list) or len(want) < 2:
        return resp
    try:
        body = json.loads(resp.body)
        got = body["details"]["causes"]
    except (ValueError, TypeError, KeyError):
        return resp
    if not isinstance(got, list) or sorted(map(_canonical, got)) != sorted(map(_canonical, want)):
        return resp
    body["details"]["causes"] = list(want)
    return dataclasses.replace(resp, body=json.dumps(body).encode(), _parsed=None, _parsed_ok=False)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
