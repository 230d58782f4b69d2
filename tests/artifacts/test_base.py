"""Declared artifacts: built from the evidence index, written into a bundle, compared again."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence.artifacts.base import Artifact, artifact, build_artifacts, compare_artifacts, write_artifacts
from evidence.models import EvidenceRecord
from evidence.records import EvidenceIndex, EvidenceWriter


def _index(tmp_path: Path, pages: int) -> EvidenceIndex:
    writer = EvidenceWriter(tmp_path / "bundle")
    for n in range(pages):
        writer.write(EvidenceRecord(source="toy", service="toy", operation="List", parameters={"page": n},
                                    collected_at="2026-11-30T08:00:00Z", response={"items": [n]}))
    return writer.index()


@artifact(id="toy.count", path="toy/count.txt", source="toy", description="How many pages were listed.")
def count(index: EvidenceIndex) -> bytes | None:
    pages = index.entries_for("toy.List")
    return f"{len(pages)}\n".encode() if pages else None


@artifact(id="toy.broken", path="toy/broken.txt", source="toy", description="Always raises.")
def broken(index: EvidenceIndex) -> bytes | None:
    raise RuntimeError("cannot read the toy pages")


def test_an_artifact_is_written_only_when_its_evidence_holds_something(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert write_artifacts(build_artifacts([count], _index(tmp_path / "none", 0)), folder) == []
    assert not (folder / "toy").exists()
    assert write_artifacts(build_artifacts([count], _index(tmp_path / "two", 2)), folder) == []
    assert (folder / "toy/count.txt").read_text(encoding="utf-8") == "2\n"


def test_an_artifact_that_raises_is_an_error_line_and_the_others_are_still_written(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    errors = write_artifacts(build_artifacts([broken, count], _index(tmp_path, 1)), folder)
    assert errors == ["artifact toy.broken (toy/broken.txt): RuntimeError: cannot read the toy pages"]
    assert (folder / "toy/count.txt").is_file() and not (folder / "toy/broken.txt").exists()


def test_compare_names_what_differs_is_missing_or_should_not_be_there(tmp_path: Path) -> None:
    index = _index(tmp_path / "ev", 3)
    bundle = tmp_path / "bundle"
    write_artifacts(build_artifacts([count], index), bundle)
    assert compare_artifacts([count], bundle, index) == []

    (bundle / "toy/count.txt").write_text("4\n", encoding="utf-8")
    assert compare_artifacts([count], bundle, index) == [
        "toy/count.txt: differs from the file built again from the evidence"]
    (bundle / "toy/count.txt").unlink()
    assert compare_artifacts([count], bundle, index) == ["toy/count.txt: missing from the bundle"]
    (bundle / "toy/count.txt").write_text("3\n", encoding="utf-8")
    assert compare_artifacts([count], bundle, _index(tmp_path / "empty", 0)) == [
        "toy/count.txt: in the bundle, but its evidence builds no such file"]
    assert compare_artifacts([broken], bundle, index) == [
        "toy/broken.txt: could not be built again (RuntimeError: cannot read the toy pages)"]


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.csv", ""])
def test_an_artifact_path_stays_inside_the_bundle(path: str) -> None:
    with pytest.raises(ValueError, match="must be relative, inside the bundle"):
        Artifact(id="bad", path=path, source="toy", description="", build=lambda index: None)


@pytest.mark.parametrize("path", ["findings.json", "manifest.json", "evidence/aws/x.json", "oscal/a.json"])
def test_an_artifact_may_not_take_a_file_the_bundle_owns(path: str) -> None:
    with pytest.raises(ValueError, match="is the bundle's own"):
        Artifact(id="bad", path=path, source="toy", description="", build=lambda index: None)


def test_an_artifact_that_returns_text_or_finds_its_place_taken_is_an_error_line(tmp_path: Path) -> None:
    texty = Artifact(id="toy.text", path="toy/text.csv", source="toy", description="",
                     build=lambda index: "a,b\n")  # type: ignore[arg-type, return-value]
    folder = tmp_path / "out"
    (folder / "toy").mkdir(parents=True)
    (folder / "toy/count.txt").write_text("already\n", encoding="utf-8")
    errors = write_artifacts(build_artifacts([texty, count], _index(tmp_path, 1)), folder)
    assert errors == [
        "artifact toy.count (toy/count.txt): FileExistsError: another file of the bundle is already there",
        "artifact toy.text (toy/text.csv): TypeError: its build returned str, not bytes",
    ]
    assert (folder / "toy/count.txt").read_text(encoding="utf-8") == "already\n"
