"""evidence.sarif: every failing or erroring finding as a SARIF 2.1.0 result, for GitHub code
scanning and other SARIF viewers.

One rule per control and check (`ENC-TRANSIT/aws.elbv2.listener_tls`), carrying the control,
its title, statement and SOC 2 criteria as properties. A result's level is `error` for a
failing resource and `warning` for evidence that could not be collected. Cloud resources have
no line in a file: each result points at the control's catalog file (`controls/<ID>.toml`, the
promise broken) and names the resource as a logical location; `partialFingerprints` keeps one
alert per control, check and resource across runs. Streamed: the results are written one at a
time, so a run with many failing resources is never held in memory."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TextIO

from evidence import __version__
from evidence.models import Finding, Status, finding_key
from evidence.reports.content import BundleContent

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/evidence-soc2/evidence"
_LEVEL = {Status.FAIL: "error", Status.ERROR: "warning"}


def _rule_id(f: Finding) -> str:
    return f"{f.control_id}/{f.check_id}"


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    where = ", ".join(part for part in (f.account, f.region) if part)
    text = f.message if not where else f"{f.message} ({where})"
    return {
        "ruleId": _rule_id(f),
        "ruleIndex": rule_index,
        "level": _LEVEL[f.status],
        "kind": "fail",
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": f"controls/{f.control_id}.toml"},
                "region": {"startLine": 1},
            },
            "logicalLocations": [{"fullyQualifiedName": f.resource_id or f.check_id, "kind": "resource"}],
        }],
        "partialFingerprints": {
            "evidenceFinding/v1": hashlib.sha256(finding_key(f).encode("utf-8")).hexdigest(),
        },
        "properties": {
            "status": f.status.value, "control": f.control_id, "check": f.check_id, "resource": f.resource_id,
            "resource_type": f.resource_type, "account": f.account, "region": f.region,
            "evidence": list(f.evidence),
        },
    }


def write_sarif(content: BundleContent, path: Path) -> None:
    """Write `evidence.sarif` for the bundle `content` to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        _write(content, fh)


def _write(content: BundleContent, fh: TextIO) -> None:
    verdicts = {v.control_id: v for v in content.verdicts}
    checks = content.checks
    rules: dict[str, tuple[int, Finding]] = {}
    fh.write('{\n"$schema": ' + json.dumps(SCHEMA_URI) + ',\n"version": "2.1.0",\n"runs": [{\n"results": [')
    first = True
    for f in content.iter_findings():
        if f.status not in _LEVEL:
            continue
        rule = rules.setdefault(_rule_id(f), (len(rules), f))
        fh.write(("\n" if first else ",\n") + json.dumps(_result(f, rule[0]), ensure_ascii=False, sort_keys=True))
        first = False
    fh.write("\n],\n")
    driver_rules = []
    for rule_id, (_, f) in sorted(rules.items(), key=lambda item: item[1][0]):
        v = verdicts.get(f.control_id)
        check = checks.get(f.check_id)
        title = v.title if v is not None else f.control_id
        driver_rules.append({
            "id": rule_id,
            "name": f"{f.control_id}.{f.check_id}",
            "shortDescription": {"text": f"{f.control_id}: {title}"},
            "fullDescription": {"text": check.description if check is not None else f.check_id},
            "help": {"text": v.statement if v is not None else ""},
            "properties": {
                "control": f.control_id, "title": title, "check": f.check_id,
                "criteria": list(v.criteria) if v is not None else [],
                "statement": v.statement if v is not None else "",
                "tags": ["soc2", *(v.criteria if v is not None else [])],
            },
        })
    run_meta = content.meta
    period = run_meta["period"] if isinstance(run_meta.get("period"), dict) else {}
    tail = {
        "tool": {"driver": {"name": "evidence", "version": __version__, "informationUri": INFORMATION_URI,
                            "rules": driver_rules}},
        "automationDetails": {"id": f"evidence/{period.get('name', '')}/"
                                    f"{run_meta.get('run_id', '')}"},
        "columnKind": "unicodeCodePoints",
        "properties": {"run_id": run_meta.get("run_id", ""), "bundle_content_digest": content.content_digest},
    }
    body = json.dumps(tail, ensure_ascii=False, sort_keys=True, indent=1)
    fh.write(body[1:-1].strip("\n") + "\n}]\n}\n")


__all__ = ["SCHEMA_URI", "write_sarif"]
