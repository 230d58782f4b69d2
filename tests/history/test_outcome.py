"""The step after a run: an undelivered alert is released and tried again; drift against the
last run or the baseline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from evidence.cli import cli
from evidence.history import EXIT_DRIFT, History
from tests.history.support import T0, Recorder, make_snapshot, step


def test_an_undelivered_alert_is_tried_again(tmp_path: Path) -> None:
    sender = Recorder()
    sender.fail = True
    with History.open(tmp_path) as h:
        assert len(step(h, make_snapshot("r1", T0, ["lb-1"]), sender, tmp_path)) == 1
        sender.fail = False
        assert step(h, make_snapshot("r2", T0 + timedelta(hours=1), ["lb-1"]), sender, tmp_path) == [
            "ENC-TRANSIT fails: lb-1 allows TLSv1 (eu-west-2, account 1)"]
        assert "reached no one" in sender.sent[-1].body
        assert step(h, make_snapshot("r3", T0 + timedelta(hours=2), ["lb-1"]), sender, tmp_path) == []
        assert [d.ok for d in h.deliveries()] == [False, True]


def test_drift_against_last_or_baseline(tmp_path: Path) -> None:
    with History.open(tmp_path) as h:
        h.record(make_snapshot("r1", T0))
    runner = CliRunner()
    missing = runner.invoke(cli, ["drift", "--against", "baseline", "--out", str(tmp_path)])
    assert missing.exit_code == 2
    assert "no baseline set" in missing.output
    assert runner.invoke(cli, ["baseline", "latest", "--out", str(tmp_path)]).output.startswith("baseline: r1 ")
    with History.open(tmp_path) as h:
        h.record(make_snapshot("r2", T0 + timedelta(days=1), ["lb-1"]))
        h.record(make_snapshot("r3", T0 + timedelta(days=2), ["lb-1"]))
    # against the last run nothing changed; against the baseline the resource drifted
    last = runner.invoke(cli, ["drift", "--no-notify", "--out", str(tmp_path)])
    assert last.exit_code == 0 and "  no drift" in last.output, last.output
    base = runner.invoke(cli, ["drift", "--against", "baseline", "--no-notify", "--out", str(tmp_path)])
    assert base.exit_code == EXIT_DRIFT, base.output
    assert "against baseline run r1 " in base.output
    assert "    failing resource lb-1 (aws.elbv2.listener_tls_min_version): lb-1 allows TLSv1" in base.output
    listed = runner.invoke(cli, ["history", "--out", str(tmp_path)])
    assert [line.split()[0] for line in listed.output.splitlines()] == ["r1", "r2", "r3"]
    assert listed.output.splitlines()[0].endswith("(baseline)")
    nothing = runner.invoke(cli, ["drift", "--out", str(tmp_path / "empty")])
    assert nothing.exit_code == 2 and "no history here yet" in nothing.output
