"""Which concern a property belongs to, which rules one test case checks, and its message.

The JUnit file has one ``testsuite`` per concern so a CI page groups results the way a
server author thinks about them ("my validation is fine, my patches are not"). A
property's concern follows from its first rule id, so it is stable across runs and
needs no second list to maintain: rule ids never change (conformance/oracle/csr/rules.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

CONCERNS = (
    "create",
    "validation",
    "identity",
    "immutability",
    "subresources",
    "patches",
    "concurrency",
    "authorization",
    "reads",
    "watch",
    "signer",
)

# Longest prefix first; the first match decides.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("CSR-CREATE-PREP-ID", "identity"),
    ("CSR-VAL-", "validation"),
    ("CSR-META-M", "validation"),
    ("CSR-IMM-", "immutability"),
    ("CSR-SUB-", "subresources"),
    ("CSR-UPD-", "subresources"),
    ("CSR-PATCH-", "patches"),
    ("CSR-CONC-", "concurrency"),
    ("CSR-ADM-", "authorization"),
    ("CSR-AUTH", "authorization"),
    ("CSR-READ-", "reads"),
    ("CSR-SEL-", "reads"),
    ("CSR-DEL-", "reads"),
    ("CSR-DISC", "reads"),
    ("CSR-WATCH-", "watch"),
    ("CSR-SIGN-", "signer"),
    ("CSR-", "create"),
)

_MODULES = {"test_watch": "watch", "test_signer": "signer", "test_identity": "identity"}


def concern_of(module: str, name: str, rules: Sequence[str]) -> str:
    """The concern of a property, from its module for whole-concern modules, else its rules."""
    short = module.rsplit(".", 1)[-1]
    for prefix, concern in _MODULES.items():
        if short.startswith(prefix):
            return concern
    for rule in rules[:1]:
        for prefix, concern in _PREFIXES:
            if rule.startswith(prefix):
                return concern
    return "create"


def case_rules(item: Any, declared: tuple[str, ...]) -> tuple[str, ...]:
    """The rules one test case checks: a case parametrised by rule id keeps only its own.

    ``@pytest.mark.parametrize("rule", [...])`` over rule ids makes one case per rule,
    each of which breaks only that rule; listing every rule on every case would mark
    rules failed that nothing broke.
    """
    callspec = getattr(item, "callspec", None)
    params: dict[str, Any] = dict(getattr(callspec, "params", {}) or {})
    if not params:
        return declared
    declared_set = set(declared)
    drop: set[str] = set()
    own: list[str] = []
    for marker in item.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else ""
        values: Iterable[Any] = marker.args[1] if len(marker.args) > 1 else ()
        argnames = [n.strip() for n in names.split(",")] if isinstance(names, str) else names
        if len(argnames) != 1 or argnames[0] not in params:
            continue
        flat = [getattr(v, "values", (v,))[0] for v in values]
        rule_values = {v for v in flat if isinstance(v, str) and v in declared_set}
        if rule_values:
            drop |= rule_values
            mine = params[argnames[0]]
            if isinstance(mine, str) and mine in declared_set:
                own.append(mine)
    if not drop:
        return declared
    return tuple(own) + tuple(r for r in declared if r not in drop)


def failure_message(case: Any, raw: str) -> str:
    """One line: the rule, what kube-apiserver does, what the server did."""
    what = raw.removeprefix("AssertionError: ").strip()
    rules = ", ".join(case.rules[:3]) + (" …" if len(case.rules) > 3 else "")
    expected = (case.doc or "").strip().rstrip(".")
    if expected:
        if expected[1:2].islower():
            expected = expected[0].lower() + expected[1:]
        line = f"{rules}: kube-apiserver: {expected}; this server: {what}"
    else:
        line = f"{rules}: {what}"
    return line[:600]
