"""A run as an OSCAL 1.1 assessment-results document: `oscal/assessment-results.json`.

    assessment-results
      metadata            company, period, run id, tool version
      import-ap           -> a back-matter resource: the catalog in judging.json (there is no
                             separate OSCAL assessment plan; the catalog is the plan)
      results[0]          the run: start, end, reviewed controls (every control of the catalog)
        local-definitions.inventory-items   one per resource judged (ARN, email, owner/repo, ...)
        observations      one per finding: status, check, observed vs expected, the resource as
                          subject, and relevant-evidence -> back-matter resources
        findings          one per control: target = the control's statement, status satisfied only
                          when the verdict is pass; related-observations = its findings
      back-matter         one resource per evidence file, linked by relative path with its SHA-256

UUIDs are version 5 (name-based) so the document is byte-stable for a given bundle.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from evidence.models import Finding, Status

if TYPE_CHECKING:
    from evidence.report import BundleContent

OSCAL_VERSION = "1.1.3"
#: namespace of the properties this tool defines (a URN: an identifier, never fetched)
NS = "urn:evidence:soc2"
_UUID_NS = uuid.UUID("6f0c7c39-3c8e-5a57-9a0e-8f4a3b7e2d10")
_SPACE = re.compile(r"\s+")
_TOKEN_BAD = re.compile(r"[^A-Za-z0-9_.\-]")
#: control verdict -> (OSCAL objective status state, reason)
STATE = {
    Status.PASS: ("satisfied", "pass"),
    Status.FAIL: ("not-satisfied", "fail"),
    Status.ERROR: ("not-satisfied", "other"),
    Status.MANUAL: ("not-satisfied", "other"),
    Status.NOT_APPLICABLE: ("not-satisfied", "other"),
    Status.WAIVED: ("satisfied", "pass"),
}
_VERDICT_REMARKS = {
    Status.PASS: "Every finding passes (waived findings count as passing).",
    Status.FAIL: "At least one resource fails the control.",
    Status.ERROR: "Some evidence could not be collected or judged; an error is never a pass.",
    Status.MANUAL: "Manual evidence is missing or expired, or a person has to review the control.",
    Status.NOT_APPLICABLE: "No resources were in scope; the empty listings are the evidence. Not a demonstration "
                           "that the control operates.",
    Status.WAIVED: "Waived.",
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_NS, "\x1f".join(parts)))


def _line(text: str) -> str:
    """A value OSCAL wants on one line without outer whitespace."""
    return _SPACE.sub(" ", text).strip() or "-"


def _token(text: str) -> str:
    token = _TOKEN_BAD.sub("_", text)
    return token if token[:1].isalpha() or token[:1] == "_" else "_" + token


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": _line(str(value))}


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _observation(f: Finding, obs_id: str, collected: str, inventory: dict[str, dict[str, Any]],
                 evidence_ids: dict[str, str]) -> dict[str, Any]:
    props = [_prop("status", f.status.value), _prop("control-id", f.control_id), _prop("check-id", f.check_id),
             _prop("source", f.source or "none"), _prop("resource-id", f.resource_id)]
    if f.waiver:
        props.append(_prop("waiver", f.waiver))
    obs: dict[str, Any] = {
        "uuid": obs_id,
        "title": _line(f"{f.check_id}: {f.resource_id}"),
        "description": f"{f.message}\n\nObserved: {_value(f.observed)}\n\nExpected: {_value(f.expected)}",
        "props": props,
        "methods": ["EXAMINE"] if f.source == "manual" else ["TEST"],
    }
    if f.resource_type and f.source != "manual":
        item = inventory.setdefault(f.resource_id, {
            "uuid": _uuid("resource", f.resource_id),
            "description": _line(f.resource_id),
            "props": [_prop(k, v) for k, v in (("resource-id", f.resource_id), ("resource-type", f.resource_type),
                                               ("source", f.source), ("account", f.account),
                                               ("region", f.region)) if v],
        })
        obs["subjects"] = [{"subject-uuid": item["uuid"], "type": "inventory-item", "title": _line(f.resource_id)}]
    evidence = [
        {"href": f"#{evidence_ids[p]}", "description": f"Evidence record {p}"} if p in evidence_ids
        else {"description": f"Evidence {p} (not in the bundle)"}
        for p in f.evidence
    ]
    if evidence:
        obs["relevant-evidence"] = evidence
    obs["collected"] = collected
    return obs


def assessment_results(content: BundleContent, prefix: str = "../") -> dict[str, Any]:
    """The document as a dict; `prefix` leads from the document's folder to the bundle's files."""
    meta = content.meta
    run_id = str(meta.get("run_id", "unknown-run"))
    period: dict[str, Any] = meta.get("period", {}) or {}
    company = meta.get("company") or "Unnamed company"
    started = str(meta.get("started_at"))
    finished = str(meta.get("finished_at") or started)
    collected = str(meta.get("reference_time") or finished)
    tool = meta.get("tool", {}) or {}

    evidence_ids: dict[str, str] = {}
    resources: list[dict[str, Any]] = []
    for path in sorted({p for f in content.findings for p in f.evidence}):
        if path not in content.hashes:
            continue
        rid = evidence_ids[path] = _uuid(run_id, "evidence", path)
        rlink: dict[str, Any] = {"href": prefix + path}
        if path.endswith(".json"):
            rlink["media-type"] = "application/json"
        rlink["hashes"] = [{"algorithm": "SHA-256", "value": content.hashes[path]}]
        resources.append({"uuid": rid, "title": _line(path), "rlinks": [rlink]})

    inventory: dict[str, dict[str, Any]] = {}
    observations: list[dict[str, Any]] = []
    by_control: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for f in content.findings:
        key = "\x1f".join(f.sort_key())
        seen[key] = seen.get(key, 0) + 1
        obs_id = _uuid(run_id, "observation", key, str(seen[key]))
        observations.append(_observation(f, obs_id, collected, inventory, evidence_ids))
        by_control.setdefault(f.control_id, []).append(obs_id)

    findings: list[dict[str, Any]] = []
    for v in content.verdicts:
        state, reason = STATE[v.verdict]
        counts = ", ".join(f"{n} {s}" for s, n in sorted(v.counts.items()) if n)
        finding: dict[str, Any] = {
            "uuid": _uuid(run_id, "finding", v.control_id),
            "title": _line(f"{v.control_id}: {v.title}"),
            "description": f"{v.statement}\n\nVerdict: {v.verdict.value} ({counts or 'no findings'}).",
            "props": [_prop("verdict", v.verdict.value), *(_prop("soc2-criterion", c) for c in v.criteria)],
            "target": {
                "type": "statement-id",
                "target-id": _token(f"{v.control_id}_smt"),
                "status": {"state": state, "reason": reason},
                "remarks": _VERDICT_REMARKS[v.verdict],
            },
        }
        if by_control.get(v.control_id):
            finding["related-observations"] = [{"observation-uuid": o} for o in by_control[v.control_id]]
        findings.append(finding)

    judging_hash = content.hashes.get("judging.json")
    plan: dict[str, Any] = {
        "uuid": _uuid(run_id, "plan"),
        "title": "Assessment plan: the control catalog and parameters of this run (judging.json)",
        "description": "No separate OSCAL assessment plan exists. The controls assessed, the checks that evidence "
                       "each and their parameters are in judging.json, which evidence evaluate re-judges from.",
        "rlinks": [{"href": prefix + "judging.json", "media-type": "application/json",
                    **({"hashes": [{"algorithm": "SHA-256", "value": judging_hash}]} if judging_hash else {})}],
    }
    result: dict[str, Any] = {
        "uuid": _uuid(run_id, "result"),
        "title": _line(f"evidence run {run_id}"),
        "description": f"Automated collection and judging of SOC 2 evidence for {company}, period "
                       f"{period.get('name', '?')} ({period.get('start', '?')} to {period.get('end', '?')}).",
        "start": started,
        "end": finished,
        "props": [
            _prop("period", period.get("name", "?")),
            _prop("period-start", period.get("start", "?")),
            _prop("period-end", period.get("end", "?")),
            _prop("reference-time", collected),
            _prop("content-digest", content.content_digest),
        ],
    }
    if inventory:
        result["local-definitions"] = {"inventory-items": [inventory[k] for k in sorted(inventory)]}
    controls = sorted({v.control_id for v in content.verdicts})
    result["reviewed-controls"] = {
        "control-selections": [{"include-controls": [{"control-id": _token(c)} for c in controls]}]
        if controls else [{"include-all": {}}]
    }
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    return {
        "assessment-results": {
            "uuid": _uuid(run_id, "assessment-results"),
            "metadata": {
                "title": _line(f"SOC 2 evidence: {company}, {period.get('name', '')}"),
                "last-modified": finished,
                "version": _line(run_id),
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("run-id", run_id), _prop("tool", f"{tool.get('name', 'evidence')} "
                                                                 f"{tool.get('version', '?')}")],
                "parties": [{"uuid": _uuid("party", company), "type": "organization", "name": _line(company)}],
            },
            "import-ap": {"href": f"#{plan['uuid']}"},
            "results": [result],
            "back-matter": {"resources": [plan, *resources]},
        }
    }


def assessment_results_json(content: BundleContent, prefix: str = "../") -> str:
    """The exact bytes of `oscal/assessment-results.json`."""
    return json.dumps(assessment_results(content, prefix), indent=2, ensure_ascii=False) + "\n"
