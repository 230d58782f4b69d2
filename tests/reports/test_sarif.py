"""evidence.sarif: one result per failing or erroring finding, valid SARIF 2.1.0 (the OASIS
schema), with the control and its criteria as rule properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from evidence.models import Status
from evidence.reports import load_bundle, write_reports

SCHEMA = Path(__file__).parents[1] / "data" / "vendor" / "sarif-schema-2.1.0.json"


def _sarif(bundle: Path, tmp_path: Path) -> dict[str, Any]:
    [path] = write_reports(load_bundle(bundle), tmp_path, ["sarif"])
    assert path.name == "evidence.sarif"
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def test_sarif_validates_and_has_one_result_per_failing_or_erroring_finding(bundle: Path, tmp_path: Path) -> None:
    doc = _sarif(bundle, tmp_path)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(doc)
    [run] = doc["runs"]
    findings = [f for f in load_bundle(bundle).iter_findings() if f.status in (Status.FAIL, Status.ERROR)]
    assert len(run["results"]) == len(findings) == 3
    levels = sorted((r["properties"]["control"], r["level"]) for r in run["results"])
    assert levels == [("ENC-TRANSIT", "error"), ("ENC-TRANSIT", "warning"), ("ROOT-ACCOUNT", "warning")]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    rule = rules["ENC-TRANSIT/aws.elbv2.listener_tls_min_version"]
    assert rule["properties"]["control"] == "ENC-TRANSIT" and rule["properties"]["criteria"]
    assert "TLS" in rule["help"]["text"]  # the control's statement
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("controls/")
    failing = next(r for r in run["results"] if r["level"] == "error")
    assert failing["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].endswith("listener/app/web/1/bad")
    assert "TLSv1" in failing["message"]["text"]


def test_sarif_fingerprints_are_stable_across_runs_and_distinct_per_resource(
    bundle: Path, tmp_path: Path
) -> None:
    first = _sarif(bundle, tmp_path / "a")
    second = _sarif(bundle, tmp_path / "b")
    prints = [r["partialFingerprints"]["evidenceFinding/v1"] for r in first["runs"][0]["results"]]
    assert prints == [r["partialFingerprints"]["evidenceFinding/v1"] for r in second["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)
