"""oscal/assessment-results.json: valid for compliance-trestle, linked, and faithful to the run."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from evidence.bundle import file_sha256
from evidence.oscal import OSCAL_VERSION, assessment_results_json
from evidence.registry import Registry
from evidence.report import load_bundle
from tests.report_support import make_bundle, shared_demo_bundle

trestle_ar = pytest.importorskip("trestle.oscal.assessment_results")
validator_factory = pytest.importorskip("trestle.core.validator_factory")

DOC = "oscal/assessment-results.json"


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_demo_bundle(tmp_path_factory)[0]


def _trestle_validate(path: Path) -> Any:
    """Load with trestle's pydantic models, then run every validator trestle registers."""
    model = trestle_ar.AssessmentResults.oscal_read(path)
    assert model is not None
    for name, validator in validator_factory.validator_factory._objects.items():
        assert validator.model_is_valid(model, True, None), f"trestle {name} validator: {validator.error_msg()}"
    return model


def test_trestle_loads_and_validates_the_demo_document(demo_bundle: Path) -> None:
    model = _trestle_validate(demo_bundle / DOC)
    result = model.results[0]
    controls = json.loads((demo_bundle / "controls.json").read_text())
    findings = json.loads((demo_bundle / "findings.json").read_text())
    assert len(result.findings) == len(controls)
    assert len(result.observations) == len(findings)
    assert model.metadata.oscal_version.root.root == OSCAL_VERSION


def test_trestle_rejects_a_broken_document(demo_bundle: Path, tmp_path: Path) -> None:
    doc = json.loads((demo_bundle / DOC).read_text())
    doc["assessment-results"]["results"][0]["observations"][0]["uuid"] = "not-a-uuid"
    broken = tmp_path / "assessment-results.json"
    broken.write_text(json.dumps(doc))
    with pytest.raises(Exception, match="uuid"):
        trestle_ar.AssessmentResults.oscal_read(broken)


def _check_links(doc: dict[str, Any], bundle: Path, doc_dir: Path) -> None:
    ar = doc["assessment-results"]
    result = ar["results"][0]
    resources = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    observations = {o["uuid"] for o in result.get("observations", [])}
    inventory = {i["uuid"] for i in result.get("local-definitions", {}).get("inventory-items", [])}
    assert ar["import-ap"]["href"].removeprefix("#") in resources
    for f in result["findings"]:
        for rel in f.get("related-observations", []):
            assert rel["observation-uuid"] in observations
    for o in result.get("observations", []):
        for s in o.get("subjects", []):
            assert s["subject-uuid"] in inventory
        for ev in o.get("relevant-evidence", []):
            if "href" in ev:
                assert ev["href"].removeprefix("#") in resources
    for r in resources.values():
        for link in r.get("rlinks", []):
            target = (doc_dir / link["href"]).resolve()
            assert target.is_file() and target.is_relative_to(bundle.resolve()), link["href"]
            for h in link.get("hashes", []):
                assert h["algorithm"] == "SHA-256" and h["value"] == file_sha256(target)


def test_observations_link_evidence_files_with_their_hashes(demo_bundle: Path) -> None:
    doc = json.loads((demo_bundle / DOC).read_text())
    _check_links(doc, demo_bundle, demo_bundle / "oscal")
    findings = json.loads((demo_bundle / "findings.json").read_text())
    linked = sum(len(o.get("relevant-evidence", [])) for o in doc["assessment-results"]["results"][0]["observations"])
    assert linked == sum(len(f["evidence"]) for f in findings)


def test_findings_state_follows_the_control_verdict(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry)
    doc = json.loads((bundle / DOC).read_text())
    _trestle_validate(bundle / DOC)
    verdicts = {c["control_id"]: c["verdict"] for c in json.loads((bundle / "controls.json").read_text())}
    states = {}
    for f in doc["assessment-results"]["results"][0]["findings"]:
        props = {p["name"]: p["value"] for p in f["props"]}
        states[props["verdict"]] = f["target"]["status"]["state"]
        assert f["title"].startswith(f["target"]["target-id"].removesuffix("_smt"))
    assert set(states) == set(verdicts.values()) >= {"pass", "fail", "error", "manual", "not_applicable"}
    # only a passing control is satisfied: an error, missing manual evidence or nothing in scope is not
    assert {v: s for v, s in states.items()} == {
        "pass": "satisfied", "fail": "not-satisfied", "error": "not-satisfied", "manual": "not-satisfied",
        "not_applicable": "not-satisfied",
    }
    # manual evidence is an examined observation, linked to the attached file
    obs = doc["assessment-results"]["results"][0]["observations"]
    pentest = next(o for o in obs if {"name": "check-id", "ns": "urn:evidence:soc2",
                                      "value": "manual.pentest-report"} in o["props"])
    assert pentest["methods"] == ["EXAMINE"] and pentest["relevant-evidence"][0]["href"].startswith("#")
    _check_links(doc, bundle, bundle / "oscal")


def test_document_is_deterministic_with_name_based_uuids(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry)
    content = load_bundle(bundle)
    text = assessment_results_json(content)
    assert text == assessment_results_json(content) == (bundle / DOC).read_text()
    doc = json.loads(text)
    assert uuid.UUID(doc["assessment-results"]["uuid"]).version == 5
