"""oscal/assessment-results.json of a period bundle: one OSCAL result spanning the period
covered, one finding per control (satisfied only when it operated throughout), linked to the
coverage, the deviations and every run bundle's manifest."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from evidence.reports.oscal import NS, OSCAL_VERSION

_UUID_NS = uuid.UUID("0b7f3c1e-6a52-5d3b-9f7e-2c1d4e5f6a70")
_TOKEN_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_NS, "\x1f".join(parts)))


def _token(text: str) -> str:
    token = _TOKEN_BAD.sub("_", text)
    return token if token[:1].isalpha() or token[:1] == "_" else "_" + token


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": " ".join(str(value).split()) or "-"}


def period_assessment_results(files: Mapping[str, str], meta: Mapping[str, Any], hashes: Mapping[str, str]) -> str:
    """The document as JSON text. `files` are the period bundle's computed files, `meta` its
    manifest metadata (period_id, company, built_at, runs), `hashes` the sha256 of its files."""
    coverage = json.loads(files["coverage.json"])
    pid = str(meta["period_id"])
    company = str(meta.get("company") or "Unnamed company")
    rng, period = coverage["range"], coverage["period"]
    resources = [{
        "uuid": _uuid(pid, "resource", name), "title": name,
        "rlinks": [{"href": f"../{name}", "media-type": "text/csv" if name.endswith(".csv") else "application/json",
                    "hashes": [{"algorithm": "SHA-256", "value": hashes[name]}]}],
    } for name in ("coverage.json", "coverage.csv", "deviations.csv")]
    for run in meta.get("runs", []):
        resources.append({
            "uuid": _uuid(pid, "run", run["run_id"]), "title": f"run bundle {run['run_id']} ({run['day']})",
            "rlinks": [{"href": f"../../../{run['bundle']}/manifest.json", "media-type": "application/json",
                        "hashes": [{"algorithm": "SHA-256", "value": run["manifest_sha256"]}]}],
        })
    plan = {"uuid": _uuid(pid, "plan"), "title": "Assessment plan: the controls and their runs over the period",
            "description": "No separate OSCAL assessment plan exists: the period's coverage is computed from the run "
                           "bundles listed here (evidence evaluate recomputes it).",
            "rlinks": [{"href": "../coverage.json", "media-type": "application/json"}]}
    findings = []
    for c in coverage["controls"]:
        ok = bool(c["operated_throughout"])
        findings.append({
            "uuid": _uuid(pid, "finding", c["control_id"]),
            "title": f"{c['control_id']}: {c['title']}",
            "description": (f"{c['days']} days: {c['days_passed']} passed, {c['days_failed']} failed, "
                            f"{c['days_errored']} errored, {c['days_manual']} manual, {c['days_not_covered']} "
                            f"without a run (longest gap {c['longest_gap_days']})."),
            "props": [_prop("days-failed", c["days_failed"]), _prop("days-not-covered", c["days_not_covered"]),
                      _prop("operated-throughout", "yes" if ok else "no")],
            "target": {"type": "statement-id", "target-id": _token(f"{c['control_id']}_smt"),
                       "status": {"state": "satisfied" if ok else "not-satisfied", "reason": "pass" if ok else "fail"}},
        })
    result: dict[str, Any] = {
        "uuid": _uuid(pid, "result"),
        "title": f"SOC 2 period {period['name']}",
        "description": f"Coverage of {company}'s controls from {rng['start']} to {rng['end']} "
                       f"({coverage['runs']} runs, {coverage['schedule']} schedule).",
        "start": f"{rng['start']}T00:00:00Z",
        "end": f"{rng['end']}T23:59:59Z",
        "props": [_prop("period", period["name"]), _prop("period-start", period["start"]),
                  _prop("period-end", period["end"]), _prop("schedule", coverage["schedule"])],
        "reviewed-controls": {"control-selections": [{"include-controls": [
            {"control-id": _token(c["control_id"])} for c in coverage["controls"]]} if coverage["controls"]
            else {"include-all": {}}]},
    }
    if findings:
        result["findings"] = findings
    doc = {"assessment-results": {
        "uuid": _uuid(pid, "assessment-results"),
        "metadata": {"title": f"SOC 2 period evidence: {company}, {period['name']}",
                     "last-modified": str(meta["built_at"]), "version": pid, "oscal-version": OSCAL_VERSION,
                     "props": [_prop("period-id", pid)],
                     "parties": [{"uuid": _uuid("party", company), "type": "organization", "name": company}]},
        "import-ap": {"href": f"#{plan['uuid']}"},
        "results": [result],
        "back-matter": {"resources": [plan, *resources]},
    }}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
