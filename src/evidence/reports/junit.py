"""junit.xml: one test case per control, for CI test reports (the Ant JUnit schema that
Jenkins, GitLab and GitHub test-report actions read).

A failing control is a `<failure>`, a control whose evidence could not be collected an
`<error>`, and one awaiting manual evidence or with nothing in scope is `<skipped>`; each names
its first findings' causes and remedies. Passing and waived controls are plain test cases."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from evidence.models import Status
from evidence.reports.causes import Cause, first_causes
from evidence.reports.content import BundleContent

_ELEMENT = {Status.FAIL: "failure", Status.ERROR: "error", Status.MANUAL: "skipped",
            Status.NOT_APPLICABLE: "skipped"}
_SHOWN = 20


def _detail(causes: list[Cause], total: int) -> str:
    lines = []
    for c in causes:
        where = " ".join(part for part in (c.finding.resource_id, c.finding.account, c.finding.region) if part)
        lines.append(f"{c.finding.status.value} {c.finding.check_id} {where}: {c.cause}")
        if c.remedy:
            lines.append(f"  remedy: {c.remedy}")
    if total > len(causes):
        lines.append(f"... and {total - len(causes)} more (findings.json)")
    return "\n".join(lines)


def junit_xml(content: BundleContent) -> str:
    """The bytes of `junit.xml` (as text) for the bundle `content`."""
    meta = content.meta
    causes = first_causes(content.verdicts, content.iter_findings(), per_control=_SHOWN)
    count = {name: 0 for name in ("failure", "error", "skipped")}
    for v in content.verdicts:
        if v.verdict in _ELEMENT:
            count[_ELEMENT[v.verdict]] += 1
    stamp = str(meta.get("reference_time") or meta.get("finished_at") or "1970-01-01T00:00:00")[:19]
    suite = ET.Element("testsuite", {
        "name": "evidence SOC 2 controls", "timestamp": stamp, "hostname": "evidence",
        "tests": str(len(content.verdicts)), "failures": str(count["failure"]), "errors": str(count["error"]),
        "skipped": str(count["skipped"]), "time": "0",
    })
    props = ET.SubElement(suite, "properties")
    period = meta["period"] if isinstance(meta.get("period"), dict) else {}
    for name, value in (("run_id", meta.get("run_id", "")), ("period", period.get("name", "")),
                        ("company", meta.get("company", "")), ("content_digest", content.content_digest)):
        ET.SubElement(props, "property", {"name": name, "value": str(value) or "-"})
    for v in content.verdicts:
        case = ET.SubElement(suite, "testcase", {
            "name": f"{v.control_id}: {v.title}", "classname": f"evidence.{v.control_id}", "time": "0",
        })
        element = _ELEMENT.get(v.verdict)
        if element is None:
            continue
        found = causes.get(v.control_id, [])
        message = found[0].cause if found else f"{v.control_id} is {v.verdict.value}"
        attrs = {"message": message} if element == "skipped" else {"message": message, "type": v.verdict.value}
        child = ET.SubElement(case, element, attrs)
        child.text = _detail(found, v.counts.get(v.verdict.value, len(found)))
    ET.SubElement(suite, "system-out").text = ""
    ET.SubElement(suite, "system-err").text = ""
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_junit(content: BundleContent, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(content), encoding="utf-8")


__all__ = ["junit_xml", "write_junit"]
