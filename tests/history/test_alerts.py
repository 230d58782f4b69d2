"""Alert decisions on synthetic runs: the timing rules (repeat_after, clearing, staleness) and
what an alert says."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from evidence.config import AlertsConfig
from evidence.history import Alert, History, Snapshot, evaluate
from evidence.models import Finding, Status
from tests.history.support import T0, TLS_CHECK, Recorder, make_snapshot, step

WHERE = " (eu-west-2, account 1)"


def test_a_control_that_keeps_failing_alerts_once_then_after_repeat_after(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        assert step(h, make_snapshot("r1", T0), sender, tmp_path) == []
        assert step(h, make_snapshot("r2", T0 + timedelta(days=1), ["lb-1"]), sender, tmp_path) == [
            f"ENC-TRANSIT now fails: lb-1 allows TLSv1{WHERE}"]
        for day in range(2, 8):  # still failing, within 7 days: silent
            assert step(h, make_snapshot(f"r{day + 1}", T0 + timedelta(days=day), ["lb-1"]), sender, tmp_path) == []
        # 7 days after the alert: one reminder naming the resource
        assert step(h, make_snapshot("r9", T0 + timedelta(days=8), ["lb-1"]), sender, tmp_path) == [
            f"ENC-TRANSIT still fails: lb-1 allows TLSv1{WHERE}"]
        assert "lb-1" in sender.sent[-1].body and "still fail since" in sender.sent[-1].body
        # a second resource failing alerts at once, without the control's reminder
        assert step(h, make_snapshot("r10", T0 + timedelta(days=9), ["lb-1", "lb-2"]), sender, tmp_path) == [
            f"ENC-TRANSIT fails on a new resource: lb-2 allows TLSv1{WHERE}"]
        assert "new failing resource lb-2" in sender.sent[-1].body
        assert "new failing resource lb-1" not in sender.sent[-1].body
        # fixed, then broken again: a new alert at once
        assert step(h, make_snapshot("r11", T0 + timedelta(days=10)), sender, tmp_path) == []
        assert step(h, make_snapshot("r12", T0 + timedelta(days=11), ["lb-1"]), sender, tmp_path) == [
            f"ENC-TRANSIT now fails: lb-1 allows TLSv1{WHERE}"]
    assert len(sender.sent) == 4


def test_repeat_after_is_configurable(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        step(h, make_snapshot("r1", T0, ["lb-1"]), sender, tmp_path, repeat_after_days=2)
        assert step(h, make_snapshot("r2", T0 + timedelta(days=1), ["lb-1"]), sender, tmp_path,
                     repeat_after_days=2) == []
        assert step(h, make_snapshot("r3", T0 + timedelta(days=2), ["lb-1"]), sender, tmp_path,
                     repeat_after_days=2) == [f"ENC-TRANSIT still fails: lb-1 allows TLSv1{WHERE}"]


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


def _alert_for(tmp_path: Path, snap: Snapshot) -> Alert:
    sender = Recorder()
    with History.open(tmp_path) as h:
        outcome = evaluate(h, h.record(snap), out=tmp_path, alerts=AlertsConfig(urls=["json://127.0.0.1:9/hook"]),
                           sender=sender)
    assert len(outcome.alerts) == 1 and len(sender.sent) == 1
    assert sender.sent[0].title == outcome.alerts[0].subject()
    return outcome.alerts[0]


def test_a_failing_control_alert_is_a_sentence_naming_the_first_resources(tmp_path: Path) -> None:
    with History.open(tmp_path) as h:
        evaluate(h, h.record(make_snapshot("r1", T0)), out=tmp_path, alerts=AlertsConfig(), sender=Recorder())
    failing = [f"lb-{i:03}" for i in range(120)]
    alert = _alert_for(tmp_path, make_snapshot("r2", T0 + timedelta(days=1), failing))
    assert alert.subject() == f"ENC-TRANSIT now fails on 120 resources: lb-000 allows TLSv1{WHERE}, and 119 more"
    body = alert.body()
    assert "verdict pass → fail (since run r1)" in body
    assert "Resources (120):" in body
    assert "  - lb-000 (fail, eu-west-2, account 1): lb-000 allows TLSv1\n" in body
    # bounded: the first 50 resources and changes, then how many more
    assert "lb-049" in body and "lb-050 (fail" not in body
    assert "  ... and 70 more (see findings.json)" in body
    assert "  ... and 71 more (see findings.json)" in body  # 121 changes: the verdict and 120 resources
    assert len(body.splitlines()) < 120


def test_an_erroring_control_alert_says_what_could_not_be_checked(tmp_path: Path) -> None:
    snap = make_snapshot("r1", T0, control="AUDIT-LOG")
    denied = "Could not collect cloudtrail:DescribeTrails: AccessDenied: User is not authorized."
    snap.findings = [
        Finding(control_id="AUDIT-LOG", check_id="aws.cloudtrail.multi_region", status=Status.ERROR, source="aws",
                resource_id="cloudtrail", account="123456789012", region="eu-west-2", message=denied),
        Finding(control_id="AUDIT-LOG", check_id="aws.elbv2.access_logs", status=Status.PASS, source="aws",
                resource_id="lb-1", message="fine"),
    ]
    snap.verdicts["AUDIT-LOG"] = snap.verdicts["AUDIT-LOG"].model_copy(update={"verdict": Status.ERROR})
    alert = _alert_for(tmp_path, snap)
    subject = alert.subject()
    assert subject == (
        "AUDIT-LOG could not be checked: Could not collect cloudtrail:DescribeTrails: AccessDenied: "
        "User is not authorized (eu-west-2, account 123456789012)"
    )
    assert "error: error" not in subject and "error: error" not in alert.body()
    assert "  - cloudtrail (error, eu-west-2, account 123456789012): Could not collect" in alert.body()


def test_a_long_message_gives_way_in_the_subject(tmp_path: Path) -> None:
    snap = make_snapshot("r1", T0, ["arn:aws:elasticloadbalancing:eu-west-2:1:listener/app/" + "x" * 300])
    alert = _alert_for(tmp_path, snap)
    assert len(alert.subject()) <= 160
    assert alert.subject().startswith("ENC-TRANSIT fails: arn:aws:elasticloadbalancing")
    assert alert.subject().endswith(f"...{WHERE}")
