"""JUnit XML that the usual CI readers accept.

Shape chosen from what consumers parse (see shared/references.md §4): a ``testsuites``
root with one named ``testsuite`` carrying counts, time and run metadata as suite-level
properties; one ``testcase`` per property with ``name``, ``classname`` and ``time``;
``failure`` for a server that broke a rule, ``error`` for a run that could not judge it,
``skipped`` with a reason. Failure bodies hold the minimal example, the replay command
and the redacted HTTP transcript, cut to a size no reader chokes on.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

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


def to_xml(result: RunResult) -> bytes:
    root = ET.Element("testsuites", name=SUITE_NAME)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=SUITE_NAME,
        tests=str(len(result.cases)),
        failures=str(result.count("failed")),
        errors=str(result.count("error")),
        skipped=str(result.count("skipped")),
        time=f"{result.seconds:.3f}",
        timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        hostname=socket.gethostname(),
    )
    for attr in ("tests", "failures", "errors"):
        root.set(attr, suite.get(attr, "0"))
    root.set("time", suite.get("time", "0"))
    props = ET.SubElement(suite, "properties")
    for key, value in result.properties.items():
        ET.SubElement(props, "property", name=key, value=_clean(value, 2000))
    for case in result.cases:
        tc = ET.SubElement(
            suite, "testcase", name=case.name, classname=case.classname, time=f"{case.seconds:.3f}"
        )
        if case.outcome == "failed":
            el = ET.SubElement(
                tc, "failure", message=_clean(case.message, 1000), type="NonConformance"
            )
            el.text = _clean(failure_body(case))
        elif case.outcome == "error":
            el = ET.SubElement(tc, "error", message=_clean(case.message, 1000), type="TargetError")
            el.text = _clean(failure_body(case))
        elif case.outcome == "skipped":
            ET.SubElement(tc, "skipped", message=_clean(case.message, 1000))
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def write(result: RunResult, path: str) -> None:
    with open(path, "wb") as f:
        f.write(to_xml(result))
