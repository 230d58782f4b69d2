"""A bundle's manifest metadata is untrusted: a run id that is no safe name, a missing run id,
a period that is not an object are refused by every command that reads a bundle, in one line
(exit 2: sealed malformed, not a bundle), never a traceback, and nothing is written outside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidence.bundle import MANIFEST, metadata_problem, not_a_bundle, verify
from evidence.cli import cli
from evidence.exit_codes import EXIT_FAIL
from tests.test_bundle_hostile import _reseal, bundle  # noqa: F401  (the fixture)

EVIL = "x/../../../../tmp/evil-evidence-metadata"


def _run_id(m: dict[str, Any]) -> None:
    m["run_id"] = EVIL


def _no_run_id(m: dict[str, Any]) -> None:
    del m["run_id"]


def _period_string(m: dict[str, Any]) -> None:
    m["period"] = "2026-Q1"


def _period_name(m: dict[str, Any]) -> None:
    m["period"]["name"] = "../../evil"


def _reference_time(m: dict[str, Any]) -> None:
    m["reference_time"] = 12


HOSTILE = {"run_id-escapes": _run_id, "run_id-missing": _no_run_id, "period-string": _period_string,
           "period-name-escapes": _period_name, "reference_time-number": _reference_time}
COMMANDS = {
    "verify": lambda b: ["verify", str(b)],
    "evaluate": lambda b: ["evaluate", str(b)],
    "report": lambda b: ["report", str(b), "--format", "csv"],
    "report-html-sarif-junit": lambda b: ["report", str(b), "--format", "html,sarif,junit"],
    "export": lambda b: ["export", str(b)],
    "diff": lambda b: ["diff", str(b), str(b)],
}


@pytest.mark.parametrize("alter", sorted(HOSTILE))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_malformed_sealed_metadata_is_not_a_bundle(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alter: str, command: str  # noqa: F811
) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text())
    HOSTILE[alter](manifest)
    _reseal(bundle, manifest)
    work = tmp_path / "work" / "a" / "b" / "c"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    before = sorted(p for p in tmp_path.rglob("*") if "work" not in p.parts)
    ran = CliRunner().invoke(cli, COMMANDS[command](bundle))
    assert ran.exit_code == 2, (ran.output, ran.exception)
    assert "Traceback" not in ran.output and not isinstance(ran.exception, (KeyError, AttributeError, TypeError))
    lines = [line for line in ran.output.splitlines() if line.strip()]
    assert len(lines) == 1, ran.output
    assert "sealed malformed" in lines[0], lines[0]
    assert list(work.iterdir()) == []  # nothing written
    assert sorted(p for p in tmp_path.rglob("*") if "work" not in p.parts) == before
    assert not Path("/tmp/evil-evidence-metadata").exists()
    assert not (work / EVIL).exists()


def test_altered_metadata_without_resealing_is_tampering_exit_1(bundle: Path) -> None:  # noqa: F811
    manifest = json.loads((bundle / MANIFEST).read_text())
    _run_id(manifest)
    (bundle / MANIFEST).write_text(json.dumps(manifest))  # manifest.sha256 left as it was
    assert not_a_bundle(bundle) is None
    ran = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert ran.exit_code == EXIT_FAIL and "Traceback" not in ran.output


def test_an_intact_bundle_has_well_formed_metadata(bundle: Path, tmp_path: Path,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert metadata_problem(json.loads((bundle / MANIFEST).read_text())) is None
    assert verify(bundle) == []
    monkeypatch.chdir(tmp_path)
    ran = CliRunner().invoke(cli, ["report", str(bundle), "--format", "csv"])
    assert ran.exit_code == 0, ran.output
    assert (tmp_path / f"report-{bundle.name}").is_dir()
    ran = CliRunner().invoke(cli, ["export", str(bundle)])
    assert ran.exit_code == 0, ran.output
    assert len(list(tmp_path.glob("evidence-*.zip"))) == 1


def test_metadata_problems_are_named() -> None:
    good = {"run_id": "20261130T080000Z-a1b2c3", "reference_time": "2026-11-30T08:00:00Z",
            "period": {"name": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31"}}
    assert metadata_problem(good) is None
    assert metadata_problem({**good, "run_id": "../x"}) is not None
    assert metadata_problem({**good, "run_id": 7}) is not None
    assert metadata_problem({**good, "period": {**good["period"], "start": "soon"}}) is not None  # type: ignore[dict-item]
    assert metadata_problem({**good, "reference_time": "later"}) is not None
    period = {"schema": "evidence.period/1", "period_id": "period-20261130T080000Z-a1b2c3", "period": good["period"]}
    assert metadata_problem(period) is None
    assert metadata_problem({**period, "period_id": "a/../b"}) is not None
    shard = {"schema": "evidence.shard/1", "run_id": "r1", "period": good["period"]}
    assert metadata_problem(shard) is None
