"""Waivers: `exceptions/*.yaml` validated; a matching failing finding becomes `waived` and its
control passes; an expired waiver stops applying and alerts; waivers go into the bundle."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from evidence.bundle import verify
from evidence.catalog import load_catalog
from evidence.models import Status, utc_now
from evidence.registry import Registry
from evidence.waivers import WaiverError, load_waivers
from tests.history.support import CONFIG_AWS, ONLY, TLS_CHECK, seed_estate, weaken_tls
from tests.test_notify import HttpReceiver, alerts_toml, pipeline, write_config

TODAY = utc_now().date()


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _waiver(resource: str, expires: object, **extra: str) -> str:
    lines = [
        "control: ENC-TRANSIT",
        f"resource: \"{resource}\"",
        "reason: Legacy clients until the March migration",
        "approver: cto@zaptic.example",
        f"expires: {expires}",
        *[f"{k}: {v}" for k, v in extra.items()],
    ]
    return "\n".join(lines) + "\n"


def test_waiver_applies_then_expires_and_alerts(
    mocked_aws: None, registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Acceptance 3: a waiver for the failing listener makes its finding `waived` and the control
    pass (warning while it expires within warn_days); the same waiver expired makes it fail
    again and alerts."""
    estate = seed_estate()
    weaken_tls(estate["https"])
    out = tmp_path / "out"
    exceptions = tmp_path / "exceptions"  # next to evidence.toml: the default folder
    with HttpReceiver() as hook:
        cfg = write_config(tmp_path, CONFIG_AWS + alerts_toml([hook.url]))
        first, _ = pipeline(registry, cfg, out, ONLY)
        assert {v.control_id: v.verdict for v in first.verdicts}["ENC-TRANSIT"] is Status.FAIL

        pattern = estate["https"].rsplit("/", 1)[0] + "/*"  # every listener of that load balancer
        # expiring within warn_days: applies (the control passes) and warns, once
        _write(exceptions, "legacy-listener.yaml", _waiver(pattern, TODAY + timedelta(days=5)))
        sent = len(hook.requests)
        second, _ = pipeline(registry, cfg, out, ONLY)
        verdicts = {v.control_id: v for v in second.verdicts}
        assert verdicts["ENC-TRANSIT"].verdict is Status.PASS
        assert verdicts["ENC-TRANSIT"].counts["waived"] == 1
        waived = [f for f in second.findings if f.status is Status.WAIVED]
        assert [(f.resource_id, f.check_id, f.waiver) for f in waived] == [
            (estate["https"], TLS_CHECK, "legacy-listener")]
        assert second.bundle is not None
        assert (second.bundle / "waivers" / "legacy-listener.yaml").read_text() == (
            exceptions / "legacy-listener.yaml").read_text()
        judging = json.loads((second.bundle / "judging.json").read_text())
        assert [w["id"] for w in judging["waivers"]] == ["legacy-listener"]
        assert "waivers/legacy-listener.yaml" in json.loads((second.bundle / "manifest.json").read_text())["files"]
        assert verify(second.bundle) == []
        assert [r["json"]["title"] for r in hook.requests[sent:]] == [
            f"ENC-TRANSIT: waiver legacy-listener expires on {(TODAY + timedelta(days=5)).isoformat()} (in 5 days)"]
        assert "expires on" in hook.requests[-1]["json"]["message"]
        assert "(in 5 days;" in hook.requests[-1]["json"]["message"]
        sent = len(hook.requests)
        capsys.readouterr()

        _write(exceptions, "legacy-listener.yaml", _waiver(pattern, TODAY - timedelta(days=1)))
        third, _ = pipeline(registry, cfg, out, ONLY)
        assert {v.control_id: v.verdict for v in third.verdicts}["ENC-TRANSIT"] is Status.FAIL
        assert not [f for f in third.findings if f.status is Status.WAIVED]
        assert len(hook.requests) == sent + 1
        alert = hook.requests[-1]["json"]
        assert alert["title"].startswith("ENC-TRANSIT now fails: Listener policy ELBSecurityPolicy-2016-08 allows ")
        assert alert["title"].endswith(
            f"; waiver legacy-listener expired on {(TODAY - timedelta(days=1)).isoformat()}")
        assert f"new failing resource {estate['https']}" in alert["message"]
        assert "was waived" in alert["message"]
        assert (f"waiver legacy-listener for {pattern} expired on {(TODAY - timedelta(days=1)).isoformat()} "
                "(approved by cto@zaptic.example: Legacy clients until the March migration)") in alert["message"]
        assert third.bundle is not None and (third.bundle / "waivers" / "legacy-listener.yaml").is_file()


def test_valid_files_single_and_list(tmp_path: Path) -> None:
    catalog = load_catalog()
    _write(tmp_path, "one.yaml", _waiver("arn:aws:*", "2027-01-31", check=TLS_CHECK))
    _write(tmp_path, "several.yml", "- " + _waiver("a*", "2027-01-31").replace("\n", "\n  ").rstrip() + "\n"
           + "- " + _waiver("b*", "2027-02-28", id="named").replace("expires", "expiry").replace("\n", "\n  "))
    _write(tmp_path, "notes.txt", "not a waiver")
    found = load_waivers(tmp_path, catalog)
    assert [(w.id, w.resource, w.expires.isoformat(), w.check_id) for w in found.waivers] == [
        ("one", "arn:aws:*", "2027-01-31", TLS_CHECK),
        ("several-1", "a*", "2027-01-31", None),
        ("named", "b*", "2027-02-28", None),
    ]
    assert sorted(found.files) == ["waivers/one.yaml", "waivers/several.yml"]
    assert load_waivers(tmp_path / "none", catalog).waivers == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_waiver("x", "2027-01-31", owner="me"), "unknown key 'owner'"),
        (_waiver("x", "2027-01-31").replace("approver: cto@zaptic.example\n", ""), "missing key 'approver'"),
        (_waiver("x", "2027-01-31").replace("reason: Legacy clients until the March migration", "reason: ' '"),
         "key 'reason': must not be empty"),
        (_waiver("x", "next week"), "key 'expires': must be a date, YYYY-MM-DD"),
        (_waiver("x", "2027-01-31 10:00:00"), "key 'expires': must be a date, YYYY-MM-DD"),
        (_waiver("x", "2027-01-31").replace("expires:", "until:"), "unknown key 'until'"),
        (_waiver("x", "2027-01-31").replace("expires: 2027-01-31", "expires: 2027-01-31\nexpiry: 2027-01-31"),
         "either 'expires' or 'expiry'"),
        (_waiver("x", "2027-01-31").replace("ENC-TRANSIT", "NO-SUCH"), "key 'control': unknown control 'NO-SUCH'"),
        (_waiver("x", "2027-01-31", check="aws.acm.certificate_key_strength"),
         "control ENC-TRANSIT has no check 'aws.acm.certificate_key_strength'"),
        ("control: [unclosed\n", "not valid YAML"),
        ("- just a string\n- also: odd\n", "waiver 1: expected a mapping"),
    ],
)
def test_invalid_waivers_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "bad.yaml", text)
    with pytest.raises(WaiverError) as err:
        load_waivers(tmp_path, load_catalog())
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", _waiver("x", "2027-01-31", id="same"))
    _write(tmp_path, "b.yaml", _waiver("y", "2027-01-31", id="same"))
    with pytest.raises(WaiverError, match="duplicate waiver id 'same'"):
        load_waivers(tmp_path, load_catalog())


def test_a_bad_waiver_stops_the_run_before_any_api_call(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from evidence.cli import cli

    _write(tmp_path / "exceptions", "bad.yaml", _waiver("x", "someday"))
    cfg = tmp_path / "evidence.toml"
    cfg.write_text('[aws]\nregions = ["eu-west-2"]\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "bad.yaml: key 'expires': must be a date" in result.output
    assert not (tmp_path / "out").exists()
