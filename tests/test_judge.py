"""Judging: control by control, check by check, streamed; and `findings.json` written piece by
piece is the same bytes as whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from evidence.catalog import Catalog, CheckRef, Control
from evidence.checks.base import Check, CheckContext, check
from evidence.checks.inventory import Inventory
from evidence.checks.params import NoParams
from evidence.judge import Judge, Judging, findings_json, findings_json_chunks, judge, read_findings
from evidence.models import EvidenceRecord, Finding, Status
from evidence.records import EvidenceIndex, EvidenceWriter


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_findings_json_equals_one_dump(count: int) -> None:
    findings = [
        Finding(control_id="ENC-TRANSIT", check_id="c", status=Status.FAIL, source="aws", resource_id=f"r{i}",
                message="m", observed={"protocols": ["TLSv1", {"nested": "é"}]}, expected=None, evidence=["e"])
        for i in range(count)
    ]
    whole = json.dumps([f.model_dump(mode="json") for f in findings], indent=2, sort_keys=True,
                       ensure_ascii=False) + "\n"
    assert "".join(findings_json_chunks(iter(findings))) == whole
    assert findings_json(findings) == whole


LIST = Inventory("svc.List", items="items")

# --- judging control by control -------------------------------------------------------------


def _estate(tmp_path: Path) -> EvidenceIndex:
    writer = EvidenceWriter(tmp_path)
    writer.write(EvidenceRecord(source="x", service="svc", operation="List", collected_at="2026-11-30T08:00:00Z",
                                response={"items": ["b", "a", "c"]}))
    return writer.index()


def _checks(seen: list[str]) -> dict[str, Check]:
    """Two checks reading one listing; each notes when it runs, so a test sees the interleaving."""

    def make(check_id: str) -> Check:
        @check(id=check_id, source="x", description=check_id, inventory=LIST)
        def judge_items(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
            seen.append(f"run {check_id}")
            for ev in ctx.evidence("svc.List"):
                for item in ev.response["items"]:
                    status = Status.FAIL if item == "c" else Status.PASS
                    yield ctx.finding(status, resource_id=item, message=item, evidence=[ev])

        return judge_items

    return {cid: make(cid) for cid in ("x.b", "x.a")}


def _judging(controls: dict[str, list[str]]) -> Judging:
    catalog = Catalog(controls={
        cid: Control(id=cid, title=cid, statement="s", criteria=["CC6.1"], checks=[CheckRef(id=c) for c in refs])
        for cid, refs in controls.items()
    })
    return Judging(reference_time=datetime(2026, 11, 30, tzinfo=UTC), catalog=catalog, params={},
                   sources={"x": None})


def test_judge_streams_in_sorted_order_one_check_at_a_time(tmp_path: Path) -> None:
    seen: list[str] = []
    judging = _judging({"B-CTRL": ["x.b", "x.a"], "A-CTRL": ["x.a"]})
    j = Judge(judging, _checks(seen), _estate(tmp_path))
    out: list[Finding] = []
    for f in j.findings():
        seen.append(f"yield {f.control_id} {f.check_id} {f.resource_id}")
        out.append(f)
    # the same order as sorting every finding at once
    assert out == sorted(out, key=Finding.sort_key)
    assert [(f.control_id, f.check_id, f.resource_id) for f in out][:4] == [
        ("A-CTRL", "x.a", "a"), ("A-CTRL", "x.a", "b"), ("A-CTRL", "x.a", "c"), ("B-CTRL", "x.a", "a")]
    # a check's findings are handed on before the next check is judged
    assert seen.index("yield B-CTRL x.a c") < seen.index("run x.b", seen.index("yield A-CTRL x.a c"))
    assert sum(sum(v.counts.values()) for v in j.verdicts) == len(out) == 9
    assert [(v.control_id, v.verdict, v.counts["pass"], v.counts["fail"]) for v in j.verdicts] == [
        ("A-CTRL", Status.FAIL, 2, 1), ("B-CTRL", Status.FAIL, 4, 2)]


def test_a_finding_is_attributed_to_the_check_and_control_that_made_it(tmp_path: Path) -> None:
    @check(id="x.liar", source="x", description="claims another check's id", inventory=LIST)
    def liar(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
        for r in ("a", "b", "c"):
            yield Finding(control_id="OTHER", check_id="x.other", status=Status.PASS, source="x", resource_id=r,
                          message="m")

    findings, verdicts = judge(_judging({"C": ["x.liar"]}), {"x.liar": liar}, _estate(tmp_path))
    assert {(f.control_id, f.check_id) for f in findings} == {("C", "x.liar")}
    assert verdicts[0].verdict is Status.PASS


def test_findings_read_back_streamed_equal_what_was_written(tmp_path: Path) -> None:
    findings, _ = judge(_judging({"B-CTRL": ["x.b", "x.a"]}), _checks([]), _estate(tmp_path))
    path = tmp_path / "findings.json"
    path.write_text(findings_json(findings), encoding="utf-8")
    assert list(read_findings(path)) == findings
