"""oscal/assessment-results.json: valid for compliance-trestle, linked, and faithful to the run."""

from __future__ import annotations

import dataclasses
import itertools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidence.bundle import file_sha256
from evidence.judge import findings_json
from evidence.models import Finding
from evidence.registry import Registry
from evidence.reports import BundleContent, ReportError, load_bundle
from evidence.reports.oscal import OSCAL_VERSION, assessment_results, assessment_results_json, write_assessment_results
from tests.reports.support import make_bundle

trestle_ar = pytest.importorskip("trestle.oscal.assessment_results")
validator_factory = pytest.importorskip("trestle.core.validator_factory")

DOC = "oscal/assessment-results.json"


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


# --------------------------------------------------------------------------------------------
# The streamed writer: the same bytes as the in-memory document, without holding it.


def _in_memory(content: BundleContent, prefix: str = "../") -> bytes:
    """The document the way it was always written: one dict, dumped at once."""
    return (json.dumps(assessment_results(content, prefix), indent=2, ensure_ascii=False) + "\n").encode()


def _with_findings(content: BundleContent, folder: Path, findings: list[Finding], **changes: Any) -> BundleContent:
    """`content` reading its findings from `folder/findings.json` (in the given order)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "findings.json").write_text(findings_json(findings), encoding="utf-8")
    return dataclasses.replace(content, root=folder, **changes)


@pytest.mark.parametrize("prefix", ["../", "", "../../bundle%20x/"])
def test_streamed_document_is_byte_identical_for_the_demo_bundle(
    demo_bundle: Path, tmp_path: Path, prefix: str
) -> None:
    content = load_bundle(demo_bundle)
    target = tmp_path / "deep" / "oscal" / "assessment-results.json"
    write_assessment_results(content, target, prefix)
    expected = _in_memory(content, prefix)
    assert target.read_bytes() == expected
    assert assessment_results_json(content, prefix).encode() == expected
    if prefix == "../":  # what the report hook wrote into the bundle
        assert target.read_bytes() == (demo_bundle / DOC).read_bytes()
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_streamed_document_is_byte_identical_for_the_small_bundle(tmp_path: Path, registry: Registry) -> None:
    bundle = make_bundle(tmp_path / "out", registry, passing=40)
    content = load_bundle(bundle)
    target = tmp_path / "streamed.json"
    write_assessment_results(content, target)
    assert target.read_bytes() == _in_memory(content) == (bundle / DOC).read_bytes()
    doc = json.loads(target.read_text(encoding="utf-8"))
    result = doc["assessment-results"]["results"][0]
    assert len(result["observations"]) == sum(1 for _ in content.iter_findings())
    assert result["local-definitions"]["inventory-items"]
    assert any("related-observations" in f for f in result["findings"])
    assert "Example & Co <Ltd>" in target.read_text(encoding="utf-8")  # not escaped: ensure_ascii=False


def test_streamed_document_without_findings(tmp_path: Path, registry: Registry) -> None:
    content = load_bundle(make_bundle(tmp_path / "out", registry, passing=0))
    # verdicts but no findings: no observations, no inventory, no related observations
    empty = _with_findings(content, tmp_path / "empty", [])
    write_assessment_results(empty, tmp_path / "a.json")
    assert (tmp_path / "a.json").read_bytes() == _in_memory(empty)
    result = json.loads((tmp_path / "a.json").read_text())["assessment-results"]["results"][0]
    assert "observations" not in result and "local-definitions" not in result
    assert result["findings"] and not any("related-observations" in f for f in result["findings"])
    # nothing at all: no findings array either, every control reviewed, only the plan in the back matter
    bare = dataclasses.replace(empty, verdicts=[])
    write_assessment_results(bare, tmp_path / "b.json")
    assert (tmp_path / "b.json").read_bytes() == _in_memory(bare)
    doc = json.loads((tmp_path / "b.json").read_text())["assessment-results"]
    assert "findings" not in doc["results"][0]
    assert doc["results"][0]["reviewed-controls"]["control-selections"] == [{"include-all": {}}]
    assert len(doc["back-matter"]["resources"]) == 1


def test_streamed_document_numbers_repeated_and_unsorted_findings_alike(tmp_path: Path, registry: Registry) -> None:
    content = load_bundle(make_bundle(tmp_path / "out", registry))
    findings = list(content.iter_findings())
    # out of order, the same sort key three times, a resource first seen without then with a type,
    # and a finding of a control that has no verdict
    twice = findings[0].model_copy(update={"message": "again"})
    typed = findings[-1].model_copy(update={"resource_type": "AWS::IAM::Root", "account": "", "source": "aws"})
    stray = findings[0].model_copy(update={"control_id": "NOT-IN-CATALOG"})
    shuffled = [findings[-1], twice, *reversed(findings), twice, typed, stray]
    odd = _with_findings(content, tmp_path / "odd", shuffled)
    target = tmp_path / "odd.json"
    write_assessment_results(odd, target)
    assert target.read_bytes() == _in_memory(odd)
    obs = json.loads(target.read_text())["assessment-results"]["results"][0]["observations"]
    assert len(obs) == len(shuffled) and len({o["uuid"] for o in obs}) == len(shuffled)


class _Watched(BundleContent):
    """Records, for each finding read, how much of the document had been written by then."""

    written: list[str]
    at_read: list[int]

    def iter_findings(self) -> Iterator[Finding]:
        for f in super().iter_findings():
            self.at_read.append(sum(len(t) for t in self.written))
            yield f


def test_observations_are_written_as_the_findings_are_read(tmp_path: Path, registry: Registry) -> None:
    from evidence.reports.oscal import _write_document

    content = load_bundle(make_bundle(tmp_path / "out", registry, passing=20))
    watched = _Watched(**{f.name: getattr(content, f.name) for f in dataclasses.fields(content)})
    object.__setattr__(watched, "written", [])
    object.__setattr__(watched, "at_read", [])
    _write_document(watched, "../", watched.written.append)
    n = len(watched.at_read) // 2
    second_pass = watched.at_read[n:]
    assert n > 20 and second_pass[0] > 0
    # every finding of the second pass is read after the previous one's observation was written
    assert all(later > earlier for earlier, later in itertools.pairwise(second_pass))
    assert "".join(watched.written).encode() == _in_memory(content)


def test_a_failed_write_leaves_no_document(tmp_path: Path, registry: Registry) -> None:
    content = load_bundle(make_bundle(tmp_path / "out", registry))
    findings = list(content.iter_findings())
    target = tmp_path / "oscal" / "assessment-results.json"

    class _Shrinking(BundleContent):
        passes = 0

        def iter_findings(self) -> Iterator[Finding]:
            type(self).passes += 1
            # findings.json changes between the two passes: a finding goes missing
            yield from (findings if type(self).passes == 1 else findings[:-1])

    shrinking = _Shrinking(**{f.name: getattr(content, f.name) for f in dataclasses.fields(content)})
    with pytest.raises(ReportError, match="changed while"):
        write_assessment_results(shrinking, target)
    assert list(target.parent.iterdir()) == []
