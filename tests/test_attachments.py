"""Manual evidence: `evidence attach` stores the file with its sha256, who and when; bundles
include every valid attachment (hashed in the manifest); missing or expired evidence leaves
the control `manual` and expiring or expired evidence alerts."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence import models, runner
from evidence.attachments import AttachmentError, attach, for_run, load_attachments
from evidence.bundle import verify
from evidence.catalog import load_catalog
from evidence.cli import UserError, cli
from evidence.history import EXIT_DRIFT
from evidence.models import Status, utc_now
from evidence.registry import Registry
from tests.test_notify import HttpReceiver, alerts_toml, pipeline, write_config

REPORT = b"%PDF-1.4\n% Pentest report by Example Security Ltd, October 2026\n"


def _attach(out: Path, report: Path, until: date, *extra: str) -> str:
    result = CliRunner().invoke(
        cli, ["attach", "PENTEST", str(report), "--valid-until", until.isoformat(), "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _report(tmp_path: Path) -> Path:
    path = tmp_path / "Pentest report 2026.pdf"
    path.write_bytes(REPORT)
    return path


def _travel(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Move the clock the run judges with (and the attachment listing uses) to `day`."""
    when = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(runner, "utc_now", lambda: when)
    monkeypatch.setattr(models, "utc_now", lambda: when)


def test_attach_stores_the_file_with_its_sha256_who_and_when(tmp_path: Path) -> None:
    out = tmp_path / "out"
    until = utc_now().date() + timedelta(days=31)
    printed = _attach(out, _report(tmp_path), until, "--by", "alice@zaptic.example")
    digest = hashlib.sha256(REPORT).hexdigest()
    assert f"sha256 {digest}" in printed and "by alice@zaptic.example" in printed
    stored = load_attachments(out)
    assert len(stored) == 1
    a = stored[0].attachment
    assert (a.control_id, a.requirement, a.sha256, a.valid_until, a.attached_by) == (
        "PENTEST", "pentest-report", digest, until, "alice@zaptic.example")
    assert datetime.fromisoformat(a.attached_at.replace("Z", "+00:00")) <= datetime.now(UTC)
    assert a.path == f"attachments/{digest}-Pentest_report_2026.pdf"
    assert stored[0].file.read_bytes() == REPORT
    assert stored[0].original_name == "Pentest report 2026.pdf"
    # the current user when --by is not given
    _attach(out, _report(tmp_path), until)
    assert load_attachments(out)[1].attachment.attached_by != ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NO-SUCH", "{file}", "--valid-until", "2027-01-01"], "unknown control 'NO-SUCH'"),
        (["ENC-TRANSIT", "{file}", "--valid-until", "2027-01-01"], "needs no manual evidence"),
        (["PENTEST", "{missing}", "--valid-until", "2027-01-01"], "no such file"),
        (["PENTEST", "{file}", "--valid-until", "2027-01-01", "--requirement", "dr"], "no manual requirement 'dr'"),
        (["PENTEST", "{file}", "--valid-until", "31/01/2027"], "Invalid value for '--valid-until'"),
        (["PENTEST", "{file}", "--valid-until", "2027-01-01", "--by", " "], "must not be empty"),
    ],
)
def test_attach_refuses_mistakes(tmp_path: Path, args: list[str], message: str) -> None:
    file = _report(tmp_path)
    filled = [a.format(file=file, missing=tmp_path / "nope.pdf") for a in args]
    result = CliRunner().invoke(cli, ["attach", *filled, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output


def test_a_control_with_several_requirements_needs_one_named(tmp_path: Path) -> None:
    catalog = load_catalog()
    control = catalog.controls["PENTEST"]
    retest = control.manual[0].model_copy(update={"id": "retest"})
    two = control.model_copy(update={"manual": [*control.manual, retest]})
    catalog.controls["PENTEST"] = two
    with pytest.raises(AttachmentError, match="several manual requirements"):
        attach(tmp_path, catalog, "PENTEST", _report(tmp_path), date(2027, 1, 1))
    stored = attach(tmp_path, catalog, "PENTEST", _report(tmp_path), date(2027, 1, 1), requirement="retest", by="x")
    assert stored.attachment.requirement == "retest"


def test_valid_attachment_passes_and_expired_is_manual_and_alerts(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acceptance 4: evidence valid until next month makes PENTEST pass, and is in the bundle;
    once that date has passed PENTEST is `manual` and an alert says so (after a warning while
    it was about to expire)."""
    out = tmp_path / "out"
    today = utc_now().date()
    until = today + timedelta(days=31)
    _attach(out, _report(tmp_path), until, "--by", "alice")
    digest = hashlib.sha256(REPORT).hexdigest()
    with HttpReceiver() as hook:
        cfg = write_config(tmp_path, alerts_toml([hook.url], warn_days=14))
        result, code = pipeline(registry, cfg, out, {"manual"})
        verdicts = {v.control_id: v.verdict for v in result.verdicts}
        assert verdicts["PENTEST"] is Status.PASS
        assert code == 0
        pentest = next(f for f in result.findings if f.control_id == "PENTEST")
        rel = f"attachments/{digest}-Pentest_report_2026.pdf"
        assert pentest.evidence == [rel]
        assert result.bundle is not None
        assert (result.bundle / rel).read_bytes() == REPORT
        manifest = json.loads((result.bundle / "manifest.json").read_text())
        assert manifest["files"][rel]["sha256"] == digest
        judging = json.loads((result.bundle / "judging.json").read_text())
        assert judging["attachments"][0]["attached_by"] == "alice"
        assert verify(result.bundle) == []
        evaluated = CliRunner().invoke(cli, ["evaluate", str(result.bundle)])
        assert "match findings.json byte for byte" in evaluated.output
        assert not [r for r in hook.requests if "PENTEST" in r["json"]["title"]]

        # ten days before it expires: still passing, one warning
        _travel(monkeypatch, until - timedelta(days=10))
        result, code = pipeline(registry, cfg, out, {"manual"})
        assert {v.control_id: v.verdict for v in result.verdicts}["PENTEST"] is Status.PASS
        assert code == EXIT_DRIFT  # nothing fails, but there is drift: exit 4
        titles = [r["json"]["title"] for r in hook.requests]
        assert titles == [f"PENTEST: manual evidence pentest-report expires on {until.isoformat()} (in 10 days)"]
        assert "(in 10 days)" in hook.requests[-1]["json"]["message"]

        # the day after it expired: manual, one alert
        _travel(monkeypatch, until + timedelta(days=1))
        result, code = pipeline(registry, cfg, out, {"manual"})
        pentest = next(f for f in result.findings if f.control_id == "PENTEST")
        assert pentest.status is Status.MANUAL
        assert pentest.observed == f"expired on {until.isoformat()}"
        assert code == EXIT_DRIFT
        assert [r["json"]["title"] for r in hook.requests][1:] == [
            f"PENTEST: manual evidence pentest-report expired on {until.isoformat()}"]
        message = hook.requests[-1]["json"]["message"]
        assert f"manual evidence pentest-report ({rel}) expired on {until.isoformat()}" in message
        assert "Statement: We engage third-party security experts" in message
        # the expired report stays in the bundle as the evidence of what expired
        assert result.bundle is not None and (result.bundle / rel).is_file()

        # the next day, unchanged: nothing new
        _travel(monkeypatch, until + timedelta(days=2))
        _, code = pipeline(registry, cfg, out, {"manual"})
        assert code == 0
        assert len(hook.requests) == 2


def test_evidence_valid_until_yesterday_is_manual_and_alerts(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _attach(out, _report(tmp_path), utc_now().date() - timedelta(days=1))
    with HttpReceiver() as hook:
        result, code = pipeline(registry, write_config(tmp_path, alerts_toml([hook.url])), out, {"manual"})
        assert {v.control_id: v.verdict for v in result.verdicts}["PENTEST"] is Status.MANUAL
        assert code == EXIT_DRIFT
        assert [r["json"]["title"] for r in hook.requests] == [
            f"PENTEST: manual evidence pentest-report expired on {utc_now().date() - timedelta(days=1)}"]


def test_runs_include_valid_and_only_the_latest_expired(tmp_path: Path) -> None:
    out = tmp_path / "out"
    catalog = load_catalog()
    today = date(2026, 11, 30)
    old = tmp_path / "old.pdf"
    old.write_bytes(b"old")
    newer = tmp_path / "newer.pdf"
    newer.write_bytes(b"newer")
    training = tmp_path / "training.csv"
    training.write_bytes(b"name,date\n")
    attach(out, catalog, "PENTEST", old, today - timedelta(days=400), by="a")
    attach(out, catalog, "PENTEST", newer, today - timedelta(days=35), by="a")
    attach(out, catalog, "TRAINING", training, today + timedelta(days=200), by="a")
    attach(out, catalog, "TRAINING", old, today + timedelta(days=1), by="a")
    chosen = for_run(out, today, catalog)
    assert sorted((a.control_id, a.path.split("-", 1)[1], a.valid_until) for a in chosen.attachments) == [
        ("PENTEST", "newer.pdf", today - timedelta(days=35)),
        ("TRAINING", "old.pdf", today + timedelta(days=1)),
        ("TRAINING", "training.csv", today + timedelta(days=200)),
    ]
    assert set(chosen.files) == {a.path for a in chosen.attachments}
    assert all(p.is_file() for p in chosen.files.values())


def test_an_altered_stored_file_is_refused(registry: Registry, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _attach(out, _report(tmp_path), utc_now().date() + timedelta(days=30))
    stored = load_attachments(out)[0]
    stored.file.write_bytes(REPORT + b"tampered")
    with pytest.raises(AttachmentError, match="does not match its recorded sha256"):
        load_attachments(out)
    with pytest.raises(UserError, match="altered since it was attached"):
        pipeline(registry, write_config(tmp_path, ""), out, {"manual"})
    assert not (out / "2026-Q4").exists()
