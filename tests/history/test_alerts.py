"""Alert decisions on synthetic runs: the timing rules (repeat_after, clearing, staleness) and
what an alert says."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from evidence.config import AlertsConfig
from evidence.history import History, evaluate
from evidence.models import Finding, Status
from tests.history.support import T0, TLS_CHECK, Recorder, make_snapshot, step


def test_a_control_that_keeps_failing_alerts_once_then_after_repeat_after(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        assert step(h, make_snapshot("r1", T0), sender, tmp_path) == []
        assert step(h, make_snapshot("r2", T0 + timedelta(days=1), ["lb-1"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: pass → fail, 1 new failing resource"]
        for day in range(2, 8):  # still failing, within 7 days: silent
            assert step(h, make_snapshot(f"r{day + 1}", T0 + timedelta(days=day), ["lb-1"]), sender, tmp_path) == []
        # 7 days after the alert: one reminder naming the resource
        assert step(h, make_snapshot("r9", T0 + timedelta(days=8), ["lb-1"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: still fail"]
        assert "lb-1" in sender.sent[-1].body and "still fail since" in sender.sent[-1].body
        # a second resource failing alerts at once, without the control's reminder
        assert step(h, make_snapshot("r10", T0 + timedelta(days=9), ["lb-1", "lb-2"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: 1 new failing resource"]
        assert "new failing resource lb-2" in sender.sent[-1].body
        assert "new failing resource lb-1" not in sender.sent[-1].body
        # fixed, then broken again: a new alert at once
        assert step(h, make_snapshot("r11", T0 + timedelta(days=10)), sender, tmp_path) == []
        assert step(h, make_snapshot("r12", T0 + timedelta(days=11), ["lb-1"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: pass → fail, 1 new failing resource"]
    assert len(sender.sent) == 4


def test_repeat_after_is_configurable(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        step(h, make_snapshot("r1", T0, ["lb-1"]), sender, tmp_path, repeat_after_days=2)
        assert step(h, make_snapshot("r2", T0 + timedelta(days=1), ["lb-1"]), sender, tmp_path,
                     repeat_after_days=2) == []
        assert step(h, make_snapshot("r3", T0 + timedelta(days=2), ["lb-1"]), sender, tmp_path,
                     repeat_after_days=2) == ["evidence: ENC-TRANSIT fail: still fail"]


def test_an_older_run_evaluated_late_sends_nothing(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        step(h, make_snapshot("r1", T0 + timedelta(days=1)), sender, tmp_path)
        assert step(h, make_snapshot("r0", T0, ["lb-1"]), sender, tmp_path) == []
    assert sender.sent == []


def test_a_resource_that_passed_before_is_said_to_have_passed(tmp_path: Path) -> None:
    sender = Recorder()
    config = AlertsConfig(urls=["json://127.0.0.1:9/hook"])
    with History.open(tmp_path) as h:
        before = make_snapshot("r1", T0)  # lb-3 passes, among other passing findings
        before.findings.append(Finding(control_id="ENC-TRANSIT", check_id=TLS_CHECK, status=Status.PASS,
                                       source="aws", resource_id="lb-3", account="1", region="eu-west-2",
                                       message="fine"))
        evaluate(h, h.record(before), out=tmp_path, alerts=config, sender=sender)
        after = make_snapshot("r2", T0 + timedelta(days=1), ["lb-3"])
        outcome = evaluate(h, h.record(after), out=tmp_path, alerts=config, sender=sender)
    assert len(outcome.alerts) == 1
    assert "new failing resource lb-3" in sender.sent[-1].body and "; was pass)" in sender.sent[-1].body
