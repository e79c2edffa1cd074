"""Triaged non-conformances of a storage subject (kine), expected to fail until fixed.

A finding names the property that shows it, the subjects it holds for (storage, kine
releases, watch cache) and the failure message it produces. In a run against such a
subject, a failure of that property with that message is reported as an expected
failure carrying the finding's id, so CI stays green while the finding stays visible.
A different failure of the same property is not masked: it fails as usual. When the
property passes, the finding no longer reproduces and the run fails with
"expected failure passed", as pytest's strict xfail does, so the entry gets removed
(or its release range narrowed) instead of silently hiding a regression later.

The README's "kine" section holds the same table with a reproduction command per row.
Findings about other subjects (a user's own server, say) can be given in a JSON file
(``--csr-expected-failures``, see :func:`load_findings`); they work the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Finding:
    id: str
    """Several entries share an id when one finding shows in several properties."""
    title: str
    test: str
    """The property's function name (parameters, if any, are ignored)."""
    message: str
    """A regular expression the failure message must contain (re.search)."""
    storages: frozenset[str] | None = None
    """The storages it holds for (etcd, kine-sqlite, kine-memory); None: any target."""
    kine_versions: frozenset[str] | None = None
    """The kine releases it holds for; None: every release."""
    watch_cache: bool | None = None
    """Only with the watch cache on (True) or off (False); None: either way."""
    upstream: str = ""
    """The kine issue or commit that describes it, or "" where none was found."""
    strict: bool = True
    """Whether a pass fails the run ("expected failure passed"). A race that shows in most
    runs but not all is not strict: its pass is reported, visibly, without failing CI."""

    def applies(self, test: str, storage: str, kine_version: str, watch_cache: bool) -> bool:
        return (
            self.test == test.split("[")[0]
            and (self.storages is None or storage in self.storages)
            and (self.kine_versions is None or kine_version in self.kine_versions)
            and (self.watch_cache is None or self.watch_cache == watch_cache)
        )

    def matches(self, text: str) -> bool:
        """Whether a failure's message or rendered details show this finding."""
        return re.search(self.message, text) is not None


_KINE_SQLITE: Final = frozenset({"kine-sqlite"})
_KINE_TRIAGED: Final = frozenset({"v0.17.3", "v0.17.5"})
"""The releases each finding was reproduced on (kube-apiserver v1.37.2)."""

FINDINGS: Final[tuple[Finding, ...]] = (
    Finding(
        id="KINE-1",
        title="a continue token from compacted history still lists (200, not 410 Expired)",
        test="test_a_continue_token_from_compacted_history_is_410",
        message=r"a compacted continue token gave HTTP 200",
        storages=_KINE_SQLITE,
        kine_versions=_KINE_TRIAGED,
        watch_cache=False,
        upstream="https://github.com/k3s-io/k3s/issues/11774",
    ),
    Finding(
        id="KINE-2",
        title="concurrent creates are answered with another write's revision",
        test="test_concurrent_writers_are_seen_in_one_order_by_every_watcher",
        # The write whose answer carried another write's revision has no event at the
        # revision it was given, whichever kind of write it was.
        message=r"watch guarantee 'reliable' broken by watcher \d+ .*: missing (ADDED|MODIFIED) ",
        storages=_KINE_SQLITE,
        kine_versions=_KINE_TRIAGED,
        strict=False,
    ),
    *(
        Finding(
            id="KINE-3",
            title="the memory driver delivers a watch event twice",
            test=test,
            message=message,
            storages=frozenset({"kine-memory"}),
            kine_versions=frozenset({"v0.17.5"}),
            watch_cache=False,
        )
        for test, message in (
            (
                "test_watch_histories_keep_every_guarantee",
                r"watch guarantee 'unique' broken by watcher \d+ .*was delivered twice",
            ),
            (
                "test_concurrent_writers_are_seen_in_one_order_by_every_watcher",
                r"watch guarantee 'unique' broken by watcher \d+ .*was delivered twice",
            ),
            ("test_protobuf_watch_streams_the_same_events", r"protobuf and JSON watches differ"),
        )
    ),
)


def expected_failure(
    test: str,
    storage: str,
    kine_version: str,
    watch_cache: bool,
    findings: tuple[Finding, ...] = FINDINGS,
) -> Finding | None:
    """The finding that makes ``test`` expected to fail on this subject, if any."""
    for finding in findings:
        if finding.applies(test, storage, kine_version, watch_cache):
            return finding
    return None


_FIELDS: Final = ("id", "title", "test", "message")


def load_findings(path: str) -> tuple[Finding, ...]:
    """Findings from a JSON list of objects with id, title, test, message and optionally
    storages, kine_versions, watch_cache, upstream, strict; ValueError (one line) if
    malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            data: Any = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read expected failures from {path}: {e}") from None
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of findings")
    out: list[Finding] = []
    for i, row in enumerate(data):
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in _FIELDS):
            raise ValueError(f"{path}: finding {i} needs string fields {', '.join(_FIELDS)}")
        try:
            re.compile(row["message"])
        except re.error as e:
            raise ValueError(f"{path}: finding {row['id']}: bad message pattern: {e}") from None
        storages = row.get("storages")
        versions = row.get("kine_versions")
        watch_cache = row.get("watch_cache")
        if watch_cache is not None and not isinstance(watch_cache, bool):
            raise ValueError(f"{path}: finding {row['id']}: watch_cache must be true or false")
        strict = row.get("strict", True)
        if not isinstance(strict, bool):
            raise ValueError(f"{path}: finding {row['id']}: strict must be true or false")
        out.append(
            Finding(
                id=row["id"],
                title=row["title"],
                test=row["test"],
                message=row["message"],
                storages=None if storages is None else frozenset(map(str, storages)),
                kine_versions=None if versions is None else frozenset(map(str, versions)),
                watch_cache=watch_cache,
                upstream=str(row.get("upstream", "")),
                strict=strict,
            )
        )
    return tuple(out)
