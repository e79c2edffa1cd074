"""JUnit XML that the usual CI readers accept.

Shape chosen from what consumers parse (see shared/references.md §4): a ``testsuites``
root with one ``testsuite`` per concern (``csr-conformance.create``, ...), each carrying
counts, time and the run's metadata as suite-level properties, so a reader that looks at
one suite only still sees the target; one ``testcase`` per property with ``name``,
``classname`` (``csr-conformance.<concern>``) and ``time``;
``failure`` for a server that broke a rule, ``error`` for a run that could not judge it,
``skipped`` with a reason. Failure bodies hold the minimal example, the replay command
and the redacted HTTP transcript, cut to a size no reader chokes on.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from reports.concerns import CONCERNS
from reports.model import CaseResult, RunResult

SUITE_NAME = "csr-conformance"
_MAX_BODY = 200_000
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str, limit: int = _MAX_BODY) -> str:
    text = _INVALID_XML.sub("\ufffd", text)
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit} characters cut)"
    return text


def failure_body(case: CaseResult) -> str:
    """Everything a reader needs to understand and reproduce one failure."""
    parts = []
    if case.rules:
        parts.append("Rules: " + ", ".join(case.rules))
    if case.replay:
        parts.append("Replay: " + case.replay)
    if case.details:
        parts.append(case.details.rstrip())
    if case.transcript:
        parts.append("HTTP transcript of the failing example:\n" + case.transcript)
    return "\n\n".join(parts)


def _suite_name(case: CaseResult) -> str:
    return case.concern or "other"


def _suites(result: RunResult) -> list[tuple[str, list[CaseResult]]]:
    """Cases grouped by concern, concerns in their fixed order, others after."""
    groups: dict[str, list[CaseResult]] = {}
    for case in result.cases:
        groups.setdefault(_suite_name(case), []).append(case)
    order = [c for c in CONCERNS if c in groups] + sorted(set(groups) - set(CONCERNS))
    return [(name, groups[name]) for name in order]


def to_xml(result: RunResult) -> bytes:
    root = ET.Element("testsuites", name=SUITE_NAME)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    host = socket.gethostname()
    properties = dict(result.properties)
    if result.stopped:
        properties["stopped"] = result.stopped
    for name, cases in _suites(result):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{SUITE_NAME}.{name}",
            tests=str(len(cases)),
            failures=str(sum(c.outcome == "failed" for c in cases)),
            errors=str(sum(c.outcome == "error" for c in cases)),
            skipped=str(sum(c.outcome == "skipped" for c in cases)),
            time=f"{sum(c.seconds for c in cases):.3f}",
            timestamp=stamp,
            hostname=host,
        )
        props = ET.SubElement(suite, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", name=key, value=_clean(value, 2000))
        for case in cases:
            tc = ET.SubElement(
                suite,
                "testcase",
                name=case.name,
                classname=case.classname or f"{SUITE_NAME}.{name}",
                time=f"{case.seconds:.3f}",
            )
            if case.outcome == "failed":
                el = ET.SubElement(
                    tc, "failure", message=_clean(case.message, 1000), type="NonConformance"
                )
                el.text = _clean(failure_body(case))
            elif case.outcome == "error":
                el = ET.SubElement(
                    tc, "error", message=_clean(case.message, 1000), type="TargetError"
                )
                el.text = _clean(failure_body(case))
            elif case.outcome == "skipped":
                ET.SubElement(tc, "skipped", message=_clean(case.message, 1000))
    root.set("tests", str(len(result.cases)))
    root.set("failures", str(result.count("failed")))
    root.set("errors", str(result.count("error")))
    root.set("time", f"{result.seconds:.3f}")
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def write(result: RunResult, path: str) -> None:
    with open(path, "wb") as f:
        f.write(to_xml(result))
