"""Drift, diff and alert decisions: against the real pipeline on moto (the estate changes
between runs) and on synthetic runs for the timing rules (repeat_after, clearing, staleness)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from evidence.cli import cli
from evidence.config import AlertsConfig
from evidence.demo import make_certificate
from evidence.drift import (
    ABSENT,
    EXIT_DRIFT,
    compose_exit,
    conditions,
    diff_runs,
    evaluate,
    json_diff,
    snapshot_from_bundle,
)
from evidence.history import History, Snapshot
from evidence.judge import Attachment, Waiver
from evidence.models import ControlVerdict, Finding, Status, iso
from evidence.notify import Delivery, Message
from evidence.registry import Registry
from tests.test_notify import HttpReceiver, SmtpReceiver, alerts_toml, body_of, pipeline, write_config

REGION = "eu-west-2"
STRONG = "ELBSecurityPolicy-TLS13-1-2-2021-06"
WEAK = "ELBSecurityPolicy-2016-08"
TLS_CHECK = "aws.elbv2.listener_tls_min_version"


def seed_estate() -> dict[str, str]:
    """One internet-facing ALB: an HTTPS listener with a TLS 1.2+ policy and an HTTP listener
    redirecting to HTTPS, behind a sound 2048-bit certificate."""
    session = boto3.Session(region_name=REGION)
    cert, key = make_certificate("app.zaptic.example")
    cert_arn = session.client("acm").import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
        for i, z in enumerate(zones)
    ]
    elbv2 = session.client("elbv2")
    tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"]
    lb = elbv2.create_load_balancer(Name="app", Subnets=subnets, Scheme="internet-facing", Type="application")[
        "LoadBalancers"][0]["LoadBalancerArn"]
    https = elbv2.create_listener(
        LoadBalancerArn=lb, Protocol="HTTPS", Port=443, SslPolicy=STRONG,
        Certificates=[{"CertificateArn": cert_arn}], DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    http = elbv2.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                                                 "StatusCode": "HTTP_301"}}],
    )["Listeners"][0]["ListenerArn"]
    return {"lb": lb, "https": https, "http": http}


def weaken_tls(listener_arn: str) -> None:
    boto3.client("elbv2", region_name=REGION).modify_listener(ListenerArn=listener_arn, SslPolicy=WEAK)


ONLY = {"aws", "manual"}
CONFIG_AWS = f'[aws]\nregions = ["{REGION}"]\n'


def _drift_section(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("drift of "))
    end = next(i for i, line in enumerate(lines) if line.startswith("alerts:"))
    return lines[start + 1:end]


def test_change_estate_drift_names_control_and_resource_alerts_once(
    mocked_aws: None, registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Acceptance 1: run, change the estate, run again: drift reports exactly that control and
    resource; the HTTP receiver and the SMTP server each get one alert; an unchanged third run
    sends none.

    The first run's own alerts (the moto estate fails other controls: default security groups,
    root MFA...) are shown but not sent: the receivers are configured from the second run on,
    as apprise paces e-mail to one message every few seconds."""
    estate = seed_estate()
    out = tmp_path / "out"
    with HttpReceiver() as hook, SmtpReceiver() as mail:
        first, _ = pipeline(registry, write_config(tmp_path, CONFIG_AWS), out, ONLY)
        assert {v.control_id: v.verdict for v in first.verdicts}["ENC-TRANSIT"] is Status.PASS
        cfg = write_config(tmp_path, CONFIG_AWS + alerts_toml([hook.url, mail.url()]))
        before = (len(hook.requests), len(mail.messages))
        assert before == (0, 0)
        capsys.readouterr()

        weaken_tls(estate["https"])
        second, code = pipeline(registry, cfg, out, ONLY)
        printed = capsys.readouterr().out
        assert {v.control_id: v.verdict for v in second.verdicts}["ENC-TRANSIT"] is Status.FAIL
        assert code == 1  # a failing control: DESIGN.md's exit 1 already says it
        assert (len(hook.requests) - before[0], len(mail.messages) - before[1]) == (1, 1)
        account = next(f.account for f in second.findings if f.resource_id == estate["https"])
        posted = hook.requests[-1]["json"]
        for text in (posted["message"], body_of(mail.messages[-1])):
            assert "Control: ENC-TRANSIT" in text
            assert "Statement: Our web servers encrypt data in transit" in text
            assert f"verdict pass → fail (since run {first.run_id})" in text
            assert f"new failing resource {estate['https']} ({TLS_CHECK})" in text
            assert WEAK in text
            assert f"Bundle: {second.bundle.resolve() if second.bundle else ''}" in text
        assert posted["title"] == "evidence: ENC-TRANSIT fail: pass → fail, 1 new failing resource"
        assert [line.split()[0] for line in _drift_section(printed) if not line.startswith("    ")] == ["ENC-TRANSIT"]

        result = CliRunner().invoke(cli, ["drift", "--config", str(tmp_path / "evidence.toml"), "--out", str(out)])
        assert result.exit_code == EXIT_DRIFT, result.output
        section = _drift_section(result.output)
        assert section == [
            "  ENC-TRANSIT          pass → fail",
            f"    failing resource {estate['https']} ({TLS_CHECK}): "
            + next(f.message for f in second.findings if f.resource_id == estate["https"] and f.check_id == TLS_CHECK),
        ]
        assert "alerts: 0 to send" in result.output
        assert (len(hook.requests) - before[0], len(mail.messages) - before[1]) == (1, 1)

        third, code = pipeline(registry, cfg, out, ONLY)
        assert code == 1
        assert (len(hook.requests) - before[0], len(mail.messages) - before[1]) == (1, 1)
        result = CliRunner().invoke(cli, ["drift", "--config", str(tmp_path / "evidence.toml"), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "  no drift" in result.output
    with History.open(out, create=False) as history:
        assert [r.run_id for r in history.runs()] == [first.run_id, second.run_id, third.run_id]
        assert [a["control_id"] for a in history.alerts(second.run_id)] == ["ENC-TRANSIT"]
        assert history.alerts(third.run_id) == []
        assert f"finding:ENC-TRANSIT|{TLS_CHECK}|{estate['https']}|{account}|{REGION}" in history.alerts(
            second.run_id)[0]["keys"]


def test_diff_shows_the_evidence_field_that_changed(
    mocked_aws: None, registry: Registry, tmp_path: Path
) -> None:
    """Acceptance 2: `evidence diff A B` names the verdict change, the changed finding and the
    JSON path of the evidence record whose value decided it, by bundle path and by run id."""
    estate = seed_estate()
    out = tmp_path / "out"
    cfg = write_config(tmp_path, CONFIG_AWS)
    first, _ = pipeline(registry, cfg, out, ONLY)
    weaken_tls(estate["https"])
    second, _ = pipeline(registry, cfg, out, ONLY)
    assert first.bundle is not None and second.bundle is not None
    runner = CliRunner()
    for a, b in ((str(first.bundle), str(second.bundle)), (first.run_id, second.run_id[:18])):
        result = runner.invoke(cli, ["diff", a, b, "--out", str(out)])
        assert result.exit_code == 0, result.output
        text = result.output
        assert "controls whose verdict changed: 1\n  ENC-TRANSIT          pass → fail" in text
        assert "findings new: 0" in text and "findings resolved: 0" in text
        assert f"  ~ ENC-TRANSIT {TLS_CHECK} {estate['https']}\n      status: \"pass\" → \"fail\"" in text
        assert re.search(
            r"evidence evidence/aws/\d+/eu-west-2/elbv2/DescribeListeners-[0-9a-f]+\.json:\n"
            rf"        \$\.response\.Listeners\[\d\]\.SslPolicy: \"{STRONG}\" → \"{WEAK}\"",
            text,
        ), text
        assert "collected_at" not in text
    # the other listener, the SSL policies listing and the unchanged controls are not reported as changes
    d = diff_runs(snapshot_from_bundle(first.bundle), snapshot_from_bundle(second.bundle))
    assert [c.after.resource_id for c in d.changed if c.after.control_id == "ENC-TRANSIT"] == [estate["https"]]
    assert [c.control_id for c in d.verdicts] == ["ENC-TRANSIT"]


# -- synthetic runs: the timing rules ----------------------------------------------------------

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
STATEMENT = "Our web servers encrypt data in transit."


def make_snapshot(
    run_id: str,
    when: datetime,
    failing: Sequence[str] = (),
    *,
    control: str = "ENC-TRANSIT",
    waivers: Sequence[Waiver] = (),
    attachments: Sequence[Attachment] = (),
    manual: Sequence[str] = (),
    sources: Sequence[str] = ("aws", "manual"),
) -> Snapshot:
    findings = [
        Finding(control_id=control, check_id=TLS_CHECK, status=Status.FAIL, source="aws", resource_id=r,
                account="1", region=REGION, message=f"{r} allows TLSv1", observed="TLSv1", expected=">= 1.2")
        for r in failing
    ] or [Finding(control_id=control, check_id=TLS_CHECK, status=Status.PASS, source="aws", resource_id="ok",
                  message="fine")]
    verdict = ControlVerdict(
        control_id=control, title="Encryption in transit", statement=STATEMENT, criteria=["CC6.7"],
        verdict=Status.FAIL if failing else Status.PASS, counts={}, checks=[TLS_CHECK], manual=list(manual),
    )
    manifest: dict[str, Any] = {
        "run_id": run_id, "reference_time": iso(when), "period": {"name": "2026-Q4"},
        "scope": {"sources": {s: "collected" for s in sources}},
    }
    return Snapshot.from_parts(manifest, [verdict], findings, bundle=f"2026-Q4/{run_id}", exit_code=0,
                               waivers=waivers, attachments=attachments)


class Recorder:
    """A sender that records messages and succeeds (or fails) on demand."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.fail = False

    def __call__(self, messages: Sequence[Message], urls: Sequence[str]) -> list[Delivery]:
        self.sent += messages
        return [Delivery(m.key, u, not self.fail, "refused" if self.fail else "") for m in messages for u in urls]


def _step(history: History, snap: Snapshot, sender: Recorder, tmp_path: Path, **alerts: Any) -> list[str]:
    info = history.record(snap)
    config = AlertsConfig(urls=["json://127.0.0.1:9/hook"], **alerts)
    outcome = evaluate(history, info, out=tmp_path, alerts=config, sender=sender)
    return [a.subject() for a in outcome.alerts]


def test_a_control_that_keeps_failing_alerts_once_then_after_repeat_after(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        assert _step(h, make_snapshot("r1", T0), sender, tmp_path) == []
        assert _step(h, make_snapshot("r2", T0 + timedelta(days=1), ["lb-1"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: pass → fail, 1 new failing resource"]
        for day in range(2, 8):  # still failing, within 7 days: silent
            assert _step(h, make_snapshot(f"r{day + 1}", T0 + timedelta(days=day), ["lb-1"]), sender, tmp_path) == []
        # 7 days after the alert: one reminder naming the resource
        assert _step(h, make_snapshot("r9", T0 + timedelta(days=8), ["lb-1"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: still fail"]
        assert "lb-1" in sender.sent[-1].body and "still fail since" in sender.sent[-1].body
        # a second resource failing alerts at once, without the control's reminder
        assert _step(h, make_snapshot("r10", T0 + timedelta(days=9), ["lb-1", "lb-2"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: 1 new failing resource"]
        assert "new failing resource lb-2" in sender.sent[-1].body
        assert "new failing resource lb-1" not in sender.sent[-1].body
        # fixed, then broken again: a new alert at once
        assert _step(h, make_snapshot("r11", T0 + timedelta(days=10)), sender, tmp_path) == []
        assert _step(h, make_snapshot("r12", T0 + timedelta(days=11), ["lb-1"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: pass → fail, 1 new failing resource"]
    assert len(sender.sent) == 4


def test_repeat_after_is_configurable(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        _step(h, make_snapshot("r1", T0, ["lb-1"]), sender, tmp_path, repeat_after_days=2)
        assert _step(h, make_snapshot("r2", T0 + timedelta(days=1), ["lb-1"]), sender, tmp_path,
                     repeat_after_days=2) == []
        assert _step(h, make_snapshot("r3", T0 + timedelta(days=2), ["lb-1"]), sender, tmp_path,
                     repeat_after_days=2) == ["evidence: ENC-TRANSIT fail: still fail"]


def test_an_older_run_evaluated_late_sends_nothing(tmp_path: Path) -> None:
    sender = Recorder()
    with History.open(tmp_path) as h:
        _step(h, make_snapshot("r1", T0 + timedelta(days=1)), sender, tmp_path)
        assert _step(h, make_snapshot("r0", T0, ["lb-1"]), sender, tmp_path) == []
    assert sender.sent == []


def test_an_undelivered_alert_is_tried_again(tmp_path: Path) -> None:
    sender = Recorder()
    sender.fail = True
    with History.open(tmp_path) as h:
        assert len(_step(h, make_snapshot("r1", T0, ["lb-1"]), sender, tmp_path)) == 1
        sender.fail = False
        assert _step(h, make_snapshot("r2", T0 + timedelta(hours=1), ["lb-1"]), sender, tmp_path) == [
            "evidence: ENC-TRANSIT fail: fail, 1 new failing resource"]
        assert "reached no one" in sender.sent[-1].body
        assert _step(h, make_snapshot("r3", T0 + timedelta(hours=2), ["lb-1"]), sender, tmp_path) == []
        assert [d.ok for d in h.deliveries()] == [False, True]


def test_waiver_and_manual_evidence_expiry_conditions() -> None:
    today = T0.date()
    waivers = [
        Waiver(id="soon", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a",
               expires=today + timedelta(days=14)),
        Waiver(id="later", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a",
               expires=today + timedelta(days=15)),
        Waiver(id="gone", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a",
               expires=today - timedelta(days=1)),
        Waiver(id="today", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a", expires=today),
    ]

    def att(until: date, req: str = "pentest-report") -> Attachment:
        return Attachment(control_id="ENC-TRANSIT", requirement=req, path=f"attachments/{req}.pdf",
                          sha256="0" * 64, valid_until=until)

    snap = make_snapshot(
        "r1", T0, waivers=waivers, manual=["pentest-report", "dr-report", "ok-report"],
        attachments=[att(today - timedelta(days=400)), att(today + timedelta(days=3)),
                     att(today - timedelta(days=1), "dr-report"), att(today + timedelta(days=90), "ok-report")],
    )
    conds = conditions(snap, warn_days=14)
    assert sorted(conds) == [
        "manual:ENC-TRANSIT:dr-report:expired",
        "manual:ENC-TRANSIT:pentest-report:expiring",
        "waiver:gone:expired",
        "waiver:soon:expiring",
        "waiver:today:expiring",
    ]
    assert "in 3 days" in conds["manual:ENC-TRANSIT:pentest-report:expiring"].text
    assert "expired on" in conds["waiver:gone:expired"].text
    assert sorted(conditions(snap, warn_days=0)) == [
        "manual:ENC-TRANSIT:dr-report:expired", "waiver:gone:expired", "waiver:today:expiring"]


def test_exit_codes_compose_with_drift() -> None:
    assert compose_exit(0, False) == 0
    assert compose_exit(0, True) == EXIT_DRIFT
    assert compose_exit(1, True) == 1
    assert compose_exit(3, True) == 3
    assert compose_exit(2, True) == 2
    assert compose_exit(1, False) == 1


def test_json_diff_paths() -> None:
    a = {"response": {"Listeners": [{"SslPolicy": "A", "Port": 443}], "odd key": 1}, "gone": True}
    b = {"response": {"Listeners": [{"SslPolicy": "B", "Port": 443}, {"Port": 80}], "odd key": 2}}
    assert json_diff(a, b) == [
        ("$.gone", True, ABSENT),
        ("$.response.Listeners[0].SslPolicy", "A", "B"),
        ("$.response.Listeners[1]", ABSENT, {"Port": 80}),
        ('$.response["odd key"]', 1, 2),
    ]
    assert json_diff({"x": 1}, {"x": 1.0}) == [("$.x", 1, 1.0)]
    users_a = {"users": [{"id": "ann", "last": 1}, {"id": "bob", "last": 1}]}
    users_b = {"users": [{"id": "ann", "last": 2}, {"id": "bob", "last": 2}]}
    assert json_diff(users_a, users_b, focus="bob") == [("$.users[1].last", 1, 2)]
    assert len(json_diff(users_a, users_b, focus="carol")) == 2  # nobody mentioned: everything
    assert json_diff([1, 2], [1, 2]) == []


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
