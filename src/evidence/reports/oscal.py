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

import hashlib
import io
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from evidence.models import ControlVerdict, Finding, Status
from evidence.reports.content import BundleContent, ReportError
from evidence.reports.jsonstream import Stream, dump, materialize

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


@dataclass(frozen=True)
class _Run:
    """What the document says about the run, from the bundle's metadata."""

    run_id: str
    period: dict[str, Any]
    company: str
    started: str
    finished: str
    collected: str
    tool: dict[str, Any]

    @classmethod
    def of(cls, content: BundleContent) -> _Run:
        meta = content.meta
        started = str(meta.get("started_at"))
        finished = str(meta.get("finished_at") or started)
        return cls(
            run_id=str(meta.get("run_id", "unknown-run")),
            period=meta.get("period", {}) or {},
            company=meta.get("company") or "Unnamed company",
            started=started,
            finished=finished,
            collected=str(meta.get("reference_time") or finished),
            tool=meta.get("tool", {}) or {},
        )


def _inventoried(f: Finding) -> bool:
    """Whether the finding's resource is an inventory item (and the observation's subject)."""
    return bool(f.resource_type) and f.source != "manual"


def _inventory_item(resource_id: str, resource_type: str, source: str, account: str, region: str) -> dict[str, Any]:
    return {
        "uuid": _uuid("resource", resource_id),
        "description": _line(resource_id),
        "props": [_prop(k, v) for k, v in (("resource-id", resource_id), ("resource-type", resource_type),
                                           ("source", source), ("account", account),
                                           ("region", region)) if v],
    }


def _observation(f: Finding, obs_id: str, collected: str, evidence_ids: dict[str, str]) -> dict[str, Any]:
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
    if _inventoried(f):
        obs["subjects"] = [{"subject-uuid": _uuid("resource", f.resource_id), "type": "inventory-item",
                            "title": _line(f.resource_id)}]
    evidence = [
        {"href": f"#{evidence_ids[p]}", "description": f"Evidence record {p}"} if p in evidence_ids
        else {"description": f"Evidence {p} (not in the bundle)"}
        for p in f.evidence
    ]
    if evidence:
        obs["relevant-evidence"] = evidence
    obs["collected"] = collected
    return obs


def _resource(run: _Run, path: str, sha256: str, prefix: str) -> dict[str, Any]:
    rlink: dict[str, Any] = {"href": prefix + path}
    if path.endswith(".json"):
        rlink["media-type"] = "application/json"
    rlink["hashes"] = [{"algorithm": "SHA-256", "value": sha256}]
    return {"uuid": _uuid(run.run_id, "evidence", path), "title": _line(path), "rlinks": [rlink]}


def _finding(run: _Run, v: ControlVerdict, related: list[str] | None) -> dict[str, Any]:
    """A control's finding; `related` are its observations' uuids (None or empty: none)."""
    state, reason = STATE[v.verdict]
    counts = ", ".join(f"{n} {s}" for s, n in sorted(v.counts.items()) if n)
    finding: dict[str, Any] = {
        "uuid": _uuid(run.run_id, "finding", v.control_id),
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
    if related:
        finding["related-observations"] = Stream({"observation-uuid": o} for o in related)
    return finding


def _document(content: BundleContent, run: _Run, prefix: str, *, inventory: list[Any] | Stream | None,
              observations: list[Any] | Stream | None, findings: list[Any] | Stream | None,
              resources: list[Any] | Stream) -> dict[str, Any]:
    """The document around its long parts; a part that is None is left out (OSCAL wants no
    empty arrays there)."""
    period, company = run.period, run.company
    judging_hash = content.hashes.get("judging.json")
    plan: dict[str, Any] = {
        "uuid": _uuid(run.run_id, "plan"),
        "title": "Assessment plan: the control catalog and parameters of this run (judging.json)",
        "description": "No separate OSCAL assessment plan exists. The controls assessed, the checks that evidence "
                       "each and their parameters are in judging.json, which evidence evaluate re-judges from.",
        "rlinks": [{"href": prefix + "judging.json", "media-type": "application/json",
                    **({"hashes": [{"algorithm": "SHA-256", "value": judging_hash}]} if judging_hash else {})}],
    }
    result: dict[str, Any] = {
        "uuid": _uuid(run.run_id, "result"),
        "title": _line(f"evidence run {run.run_id}"),
        "description": f"Automated collection and judging of SOC 2 evidence for {company}, period "
                       f"{period.get('name', '?')} ({period.get('start', '?')} to {period.get('end', '?')}).",
        "start": run.started,
        "end": run.finished,
        "props": [
            _prop("period", period.get("name", "?")),
            _prop("period-start", period.get("start", "?")),
            _prop("period-end", period.get("end", "?")),
            _prop("reference-time", run.collected),
            _prop("content-digest", content.content_digest),
            _prop("catalog-digest", content.meta.get("catalog_digest", "?")),
            _prop("catalog-source", content.meta.get("catalog_source", "built-in")),
        ],
    }
    if inventory is not None:
        result["local-definitions"] = {"inventory-items": inventory}
    controls = sorted({v.control_id for v in content.verdicts})
    result["reviewed-controls"] = {
        "control-selections": [{"include-controls": [{"control-id": _token(c)} for c in controls]}]
        if controls else [{"include-all": {}}]
    }
    if observations is not None:
        result["observations"] = observations
    if findings is not None:
        result["findings"] = findings
    back_matter = [plan, *resources] if isinstance(resources, list) else Stream(_chain([plan], resources.items))
    return {
        "assessment-results": {
            "uuid": _uuid(run.run_id, "assessment-results"),
            "metadata": {
                "title": _line(f"SOC 2 evidence: {company}, {period.get('name', '')}"),
                "last-modified": run.finished,
                "version": _line(run.run_id),
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("run-id", run.run_id), _prop("tool", f"{run.tool.get('name', 'evidence')} "
                                                                     f"{run.tool.get('version', '?')}")],
                "parties": [{"uuid": _uuid("party", company), "type": "organization", "name": _line(company)}],
            },
            "import-ap": {"href": f"#{plan['uuid']}"},
            "results": [result],
            "back-matter": {"resources": back_matter},
        }
    }


def _chain(*parts: Iterable[Any]) -> Iterator[Any]:
    for part in parts:
        yield from part


def assessment_results(content: BundleContent, prefix: str = "../") -> dict[str, Any]:
    """The document as a dict, all in memory (`write_assessment_results` streams it); `prefix`
    leads from the document's folder to the bundle's files."""
    run = _Run.of(content)
    evidence_ids: dict[str, str] = {}
    resources: list[dict[str, Any]] = []
    for path in sorted({p for f in content.iter_findings() for p in f.evidence}):
        if path not in content.hashes:
            continue
        resource = _resource(run, path, content.hashes[path], prefix)
        evidence_ids[path] = resource["uuid"]
        resources.append(resource)

    inventory: dict[str, dict[str, Any]] = {}
    observations: list[dict[str, Any]] = []
    by_control: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for f in content.iter_findings():
        key = "\x1f".join(f.sort_key())
        seen[key] = seen.get(key, 0) + 1
        obs_id = _uuid(run.run_id, "observation", key, str(seen[key]))
        if _inventoried(f) and f.resource_id not in inventory:
            inventory[f.resource_id] = _inventory_item(f.resource_id, f.resource_type, f.source, f.account, f.region)
        observations.append(_observation(f, obs_id, run.collected, evidence_ids))
        by_control.setdefault(f.control_id, []).append(obs_id)

    findings = [_finding(run, v, by_control.get(v.control_id)) for v in content.verdicts]
    doc = _document(content, run, prefix, inventory=[inventory[k] for k in sorted(inventory)] or None,
                    observations=observations or None, findings=findings or None, resources=resources)
    return cast("dict[str, Any]", materialize(doc))


def _write_document(content: BundleContent, prefix: str, write: Callable[[str], object]) -> None:
    """Stream the document to `write`: a first pass over the findings collects what has to come
    before the observations or be linked from them (evidence files, inventory, observation ids
    per control); a second pass writes the observations one at a time."""
    run = _Run.of(content)
    paths: set[str] = set()
    #: resource id -> (type, source, account, region) of the first finding that names it
    inventory: dict[str, tuple[str, str, str, str]] = {}
    by_control: dict[str, list[str]] = {}
    #: how many findings had each sort key so far, by a 128-bit digest of the key
    seen: dict[bytes, int] = {}
    total = 0
    for f in content.iter_findings():
        total += 1
        paths.update(f.evidence)
        key = "\x1f".join(f.sort_key())
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        n = seen[digest] = seen.get(digest, 0) + 1
        by_control.setdefault(f.control_id, []).append(_uuid(run.run_id, "observation", key, str(n)))
        if _inventoried(f) and f.resource_id not in inventory:
            # the few distinct types, sources, accounts and regions are held once each
            inventory[f.resource_id] = (sys.intern(f.resource_type), sys.intern(f.source),
                                        sys.intern(f.account), sys.intern(f.region))
    del seen

    present = sorted(p for p in paths if p in content.hashes)
    del paths
    evidence_ids = {p: _uuid(run.run_id, "evidence", p) for p in present}

    def observations() -> Iterator[dict[str, Any]]:
        used: dict[str, int] = {}
        count = 0
        for f in content.iter_findings():
            ids = by_control.get(f.control_id, [])
            i = used[f.control_id] = used.get(f.control_id, -1) + 1
            count += 1
            if i >= len(ids):
                raise _changed(content)
            yield _observation(f, ids[i], run.collected, evidence_ids)
        if count != total:
            raise _changed(content)

    doc = _document(
        content, run, prefix,
        inventory=Stream(_inventory_item(k, *inventory[k]) for k in sorted(inventory)) if inventory else None,
        observations=Stream(observations()) if total else None,
        findings=Stream(_finding(run, v, by_control.get(v.control_id)) for v in content.verdicts)
        if content.verdicts else None,
        resources=Stream(_resource(run, p, content.hashes[p], prefix) for p in present),
    )
    dump(doc, 0, write)
    write("\n")


def _changed(content: BundleContent) -> Exception:
    return ReportError(f"{content.root / 'findings.json'}: changed while the OSCAL document was written")


def write_assessment_results(content: BundleContent, path: Path, prefix: str = "../") -> None:
    """Write `oscal/assessment-results.json` to `path`, streamed: the same bytes as
    `assessment_results_json(content, prefix).encode()`, with memory that does not grow with
    each observation. The file appears whole (written beside it, then renamed) or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            _write_document(content, prefix, out.write)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def assessment_results_json(content: BundleContent, prefix: str = "../") -> str:
    """The exact bytes of `oscal/assessment-results.json` (in memory; prefer
    `write_assessment_results`)."""
    out = io.StringIO()
    _write_document(content, prefix, out.write)
    return out.getvalue()
