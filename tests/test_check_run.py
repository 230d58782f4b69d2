"""Judging one check: declared inventories are counted, so nothing listed goes unjudged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from evidence.catalog import Catalog, CheckRef, Control
from evidence.check_run import run_check
from evidence.checks.base import Check, CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import NoParams, Params
from evidence.judging import Judging
from evidence.models import EvidenceRecord, Finding, Status
from evidence.records import EvidenceIndex, EvidenceWriter

THINGS = Inventory("svc.ListThings", items="Things", id="Name", resource_type="Thing")
PARTS = Inventory("svc.ListParts", items="Parts", id="PartId", resource_type="Part", parent=THINGS)


def _index(tmp_path: Path, records: list[tuple[str, Any, str]]) -> EvidenceIndex:
    writer = EvidenceWriter(tmp_path)
    for n, (op, response, subject) in enumerate(records):
        writer.write(EvidenceRecord(source="x", service="svc", operation=op, parameters={"n": n}, subject=subject,
                                    account="111", region="r1", collected_at="2026-11-30T08:00:00Z",
                                    response=response))
    return writer.index()


def _judging(check_id: str, params: dict[str, Any] | None = None) -> Judging:
    control = Control(id="C", title="c", statement="s", criteria=["CC6.1"], checks=[CheckRef(id=check_id)])
    return Judging(reference_time=datetime(2026, 11, 30, tzinfo=UTC), catalog=Catalog(controls={"C": control}),
                   params={"C": {check_id: params}} if params is not None else {}, sources={"x": None})


def _run(chk: Check, index: EvidenceIndex, params: dict[str, Any] | None = None) -> list[Finding]:
    return run_check(chk, "C", _judging(chk.id, params), index)


class SizeParams(Params):
    max_size: int = Field(10, ge=0, description="Largest size allowed.")


@check(id="x.small", source="x", description="Every thing is small.", inventory=THINGS, params=SizeParams)
def small(ctx: CheckContext[SizeParams]) -> Iterator[Finding]:
    def one(thing: Item) -> Finding:
        if thing.need("Kind", str) == "ghost":
            return ctx.skip(thing, "ghosts have no size")
        size = thing.need("Size", int)
        ok = size <= ctx.params.max_size
        return ctx.finding(Status.PASS if ok else Status.FAIL, resource_id=thing.resource_id, region=thing.region,
                           message=f"size {size}", observed=size, evidence=[thing.ev])

    yield from ctx.each(THINGS, one)


def test_items_under_an_unexpected_key_are_an_error_naming_the_page_and_the_path(tmp_path: Path) -> None:
    index = _index(tmp_path, [("ListThings", {"ThingList": [{"Name": "a", "Kind": "box", "Size": 1}]}, "")])
    (finding,) = _run(small, index)
    assert finding.status is Status.ERROR
    assert index.entries_for("svc.ListThings")[0].path in finding.message
    assert "'Things'" in finding.message and finding.evidence == [index.entries_for("svc.ListThings")[0].path]


def test_items_that_are_not_a_list_are_an_error(tmp_path: Path) -> None:
    index = _index(tmp_path, [("ListThings", {"Things": {"Name": "a"}}, "")])
    (finding,) = _run(small, index)
    assert finding.status is Status.ERROR and "not a list" in finding.message


def test_not_applicable_only_for_pages_read_and_empty_and_it_names_them(tmp_path: Path) -> None:
    index = _index(tmp_path, [("ListThings", {"Things": []}, ""), ("ListThings", {"Things": []}, "")])
    (finding,) = _run(small, index)
    assert finding.status is Status.NOT_APPLICABLE
    assert finding.evidence == sorted(e.path for e in index.entries_for("svc.ListThings"))
    assert "2 page(s)" in finding.message


def test_a_missing_decisive_field_is_an_error_for_that_resource_alone(tmp_path: Path) -> None:
    things = [{"Name": "a", "Kind": "box", "Size": 1}, {"Name": "b", "Kind": "box"},
              {"Name": "c", "Kind": "box", "Size": "big"}, {"Name": "d", "Kind": "ghost"}]
    index = _index(tmp_path, [("ListThings", {"Things": things}, "")])
    got = {f.resource_id: f for f in _run(small, index)}
    assert got["a"].status is Status.PASS
    assert got["b"].status is Status.ERROR and "'Things[1].Size'" in got["b"].message and "missing" in got["b"].message
    assert got["c"].status is Status.ERROR and "is string (expected an integer)" in got["c"].message
    assert got["d"].status is Status.NOT_APPLICABLE and "ghosts have no size" in got["d"].message


def test_an_item_without_its_id_is_an_error(tmp_path: Path) -> None:
    index = _index(tmp_path, [("ListThings", {"Things": [{"Kind": "box", "Size": 1}]}, "")])
    (finding,) = _run(small, index)
    assert finding.status is Status.ERROR and "Things[0].Name" in finding.message


@check(id="x.first_only", source="x", description="Judges only the first thing.", inventory=THINGS)
def first_only(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    first = ctx.items(THINGS)[0]
    yield ctx.finding(Status.PASS, resource_id=first.resource_id, region=first.region, message="ok")


def test_a_listed_resource_no_finding_covers_is_an_error(tmp_path: Path) -> None:
    index = _index(tmp_path, [("ListThings", {"Things": [{"Name": "a"}]}, ""),
                              ("ListThings", {"Things": [{"Name": "b"}, {"Name": "c"}]}, "")])
    findings = _run(first_only, index)
    judged = [f.resource_id for f in findings if f.status is Status.PASS]
    unjudged = {f.resource_id for f in findings if f.status is Status.ERROR}
    assert len(judged) == 1 and unjudged == {"a", "b", "c"} - set(judged)
    assert all("not judged by x.first_only" in f.message for f in findings if f.status is Status.ERROR)


@check(id="x.parts", source="x", description="Parts are new.", inventory=PARTS)
def parts_new(ctx: CheckContext[NoParams]) -> Iterator[Finding]:
    def one(part: Item) -> Finding:
        new = part.need("New", bool)
        return ctx.finding(Status.PASS if new else Status.FAIL, resource_id=part.resource_id, region=part.region,
                           message="part")

    yield from ctx.each(PARTS, one)


def test_a_chain_needs_a_child_listing_for_every_parent(tmp_path: Path) -> None:
    index = _index(tmp_path, [
        ("ListThings", {"Things": [{"Name": "a"}, {"Name": "b"}, {"Name": "e"}]}, ""),
        ("ListParts", {"Parts": [{"PartId": "a1", "New": True}]}, "a"),
        ("ListParts", {"Parts": []}, "e"),
    ])
    got = {f.resource_id: f for f in _run(parts_new, index)}
    assert set(got) == {"a1", "b"}
    assert got["a1"].status is Status.PASS
    assert got["b"].status is Status.ERROR and "no svc.ListParts record" in got["b"].message


def test_a_chain_with_every_child_empty_is_not_applicable(tmp_path: Path) -> None:
    index = _index(tmp_path, [("ListThings", {"Things": [{"Name": "a"}]}, ""), ("ListParts", {"Parts": []}, "a")])
    (finding,) = _run(parts_new, index)
    assert finding.status is Status.NOT_APPLICABLE and len(finding.evidence) == 2


def test_parameters_are_typed_and_checked_when_judging(tmp_path: Path) -> None:
    index = _index(tmp_path, [("ListThings", {"Things": [{"Name": "a", "Kind": "box", "Size": 5}]}, "")])
    assert [f.status for f in _run(small, index, {"max_size": 4})] == [Status.FAIL]
    assert [f.status for f in _run(small, index, {"max_size": 5})] == [Status.PASS]
    (bad,) = _run(small, index, {"max_size": "big"})
    assert bad.status is Status.ERROR and "max_size" in bad.message


def test_a_resource_is_covered_per_region(tmp_path: Path) -> None:
    writer = EvidenceWriter(tmp_path)
    for region in ("r1", "r2"):
        writer.write(EvidenceRecord(source="x", service="svc", operation="ListThings", account="111", region=region,
                                    collected_at="2026-11-30T08:00:00Z", response={"Things": [{"Name": "same"}]}))
    got = [(f.region, f.status) for f in _run(first_only, writer.index())]
    assert sorted(got) == [("r1", Status.PASS), ("r2", Status.ERROR)]
