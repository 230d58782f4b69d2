"""Drift: against the real pipeline on moto (the estate changes between runs), and how it
composes with the run's exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.cli import cli
from evidence.history import EXIT_DRIFT, History, compose_exit, compute_drift, render_drift
from evidence.models import Finding, Status
from evidence.registry import Registry
from tests.history.support import (
    CONFIG_AWS,
    ONLY,
    REGION,
    T0,
    TLS_CHECK,
    WEAK,
    make_snapshot,
    seed_estate,
    weaken_tls,
)
from tests.test_notify import HttpReceiver, SmtpReceiver, alerts_toml, body_of, pipeline, write_config


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
    root MFA...) go to the HTTP receiver only: the SMTP server is configured from the second run
    on, as apprise paces e-mail to one message every few seconds (an alert reaching one URL is
    sent: the new URL does not get the earlier alerts again)."""
    estate = seed_estate()
    out = tmp_path / "out"
    with HttpReceiver() as hook, SmtpReceiver() as mail:
        first, _ = pipeline(registry, write_config(tmp_path, CONFIG_AWS + alerts_toml([hook.url])), out, ONLY)
        assert {v.control_id: v.verdict for v in first.verdicts}["ENC-TRANSIT"] is Status.PASS
        assert hook.requests
        assert not [r for r in hook.requests if r["json"]["title"].startswith("ENC-TRANSIT")]
        cfg = write_config(tmp_path, CONFIG_AWS + alerts_toml([hook.url, mail.url()]))
        before = (len(hook.requests), len(mail.messages))
        assert before[1] == 0
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
        weak = next(f for f in second.findings if f.resource_id == estate["https"] and f.check_id == TLS_CHECK)
        assert weak.message.startswith(f"Listener policy {WEAK} allows")
        assert posted["title"] == f"ENC-TRANSIT now fails: {weak.message.rstrip('.')} ({REGION}, account {account})"
        assert f"  ENC-TRANSIT now fails: {weak.message.rstrip('.')}" in printed
        assert "alerts: 1 sent" in printed
        assert [line.split()[0] for line in _drift_section(printed) if not line.startswith("    ")] == ["ENC-TRANSIT"]

        result = CliRunner().invoke(cli, ["drift", "--config", str(tmp_path / "evidence.toml"), "--out", str(out)])
        assert result.exit_code == EXIT_DRIFT, result.output
        section = _drift_section(result.output)
        assert section == [
            "  ENC-TRANSIT          pass → fail",
            f"    failing resource {estate['https']} ({TLS_CHECK}): "
            + next(f.message for f in second.findings if f.resource_id == estate["https"] and f.check_id == TLS_CHECK),
        ]
        assert "alerts: none to send (" in result.output and "condition(s) already alerted)" in result.output
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


def test_exit_codes_compose_with_drift() -> None:
    assert compose_exit(0, False) == 0
    assert compose_exit(0, True) == EXIT_DRIFT
    assert compose_exit(1, True) == 1
    assert compose_exit(3, True) == 3
    assert compose_exit(2, True) == 2
    assert compose_exit(1, False) == 1


def test_drift_of_an_erroring_control_says_what_could_not_be_checked() -> None:
    snap = make_snapshot("r1", T0, control="AUDIT-LOG")
    snap.findings = [
        Finding(control_id="AUDIT-LOG", check_id="aws.cloudtrail.multi_region", status=Status.ERROR, source="aws",
                resource_id="aws", message=f"Could not collect cloudtrail:DescribeTrails: AccessDenied ({i}).")
        for i in range(3)
    ]
    snap.verdicts["AUDIT-LOG"] = snap.verdicts["AUDIT-LOG"].model_copy(update={"verdict": Status.ERROR})
    lines = render_drift(compute_drift(snap, None, "last", 14))
    assert lines[1:] == [
        "  AUDIT-LOG            error",
        "    could not be checked: aws (aws.cloudtrail.multi_region): "
        "Could not collect cloudtrail:DescribeTrails: AccessDenied (0).",
        "    ... and 2 more errors (findings.json)",
    ]
