"""Machine output: `--format json` documents valid against the schemas shipped in the package
and carrying every documented field; `--quiet`, `--fail-on`, `--soft-fail`, `--sarif`, `--junit`."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from click.testing import CliRunner

from evidence.cli import cli
from evidence.cli.machine import KINDS, schema_path

ROOT = Path(__file__).parents[2]


def _validate(kind: str, text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["schema"] == f"evidence.{kind}/1"
    assert set(doc) == set(schema["properties"])  # every documented field, and nothing else
    return doc


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A moto estate with one unencrypted-by-policy bucket in us-east-1 (DATA-RESIDENCY fails)
    and a config on eu-west-2; returns the config."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="abroad")
    config = tmp_path / "evidence.toml"
    config.write_text('[aws]\nregions = ["eu-west-2"]\n[bundle]\ncompany = "Acme"\n', encoding="utf-8")
    return config


def _run(config: Path, out: Path, *extra: str) -> Any:
    return CliRunner().invoke(cli, ["run", "--only", "aws,manual", "--config", str(config), "--out", str(out),
                                    *extra])


def test_run_json_is_the_only_thing_on_stdout_and_validates(aws: Path, tmp_path: Path) -> None:
    ran = _run(aws, tmp_path / "out", "--format", "json")
    assert ran.exit_code == 1, ran.stderr
    doc = _validate("run", ran.stdout)
    assert doc["exit_code"] == 1 and doc["verdicts"]["fail"] >= 1
    residency = next(c for c in doc["controls"] if c["control_id"] == "DATA-RESIDENCY")
    assert residency["verdict"] == "fail" and "abroad" in json.dumps(residency["causes"])
    assert all(c["causes"] for c in doc["controls"] if c["verdict"] in ("fail", "error", "manual"))
    assert Path(doc["reports"]["html"]).is_file() and Path(doc["reports"]["sarif"]).is_file()
    assert doc["drift"]["reference_run_id"] is None and doc["history"].endswith("history.sqlite")
    assert "control" in ran.stderr and "why" in ran.stderr  # the human summary moved to stderr


def test_quiet_prints_nothing_but_errors(aws: Path, tmp_path: Path) -> None:
    ran = _run(aws, tmp_path / "out", "--quiet")
    assert ran.exit_code == 1 and ran.stdout == ""
    assert "evidence: no evidence.toml" not in ran.stderr


def test_fail_on_and_soft_fail_gate_the_exit_code(aws: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(aws, out, "--quiet").exit_code == 1  # DATA-RESIDENCY fails (and moto lacks ListRestoreJobs: errors)
    assert _run(aws, out, "--quiet", "--fail-on", "error,drift").exit_code == 3
    assert _run(aws, out, "--quiet", "--fail-on", "drift").exit_code == 0  # nothing changed since the last run
    assert _run(aws, out, "--quiet", "--soft-fail").exit_code == 0
    bad = _run(aws, out, "--quiet", "--fail-on", "fail,sometimes")
    assert bad.exit_code == 2 and "--fail-on" in bad.stderr


def test_sarif_and_junit_are_copied_where_ci_wants_them(aws: Path, tmp_path: Path) -> None:
    ran = _run(aws, tmp_path / "out", "--sarif", str(tmp_path / "ci" / "e.sarif"), "--junit", str(tmp_path / "j.xml"))
    assert ran.exit_code == 1
    bundle = next((tmp_path / "out").glob("*/*/manifest.json")).parent
    assert (tmp_path / "ci" / "e.sarif").read_bytes() == (bundle / "evidence.sarif").read_bytes()
    assert (tmp_path / "j.xml").read_bytes() == (bundle / "junit.xml").read_bytes()
    blocked = _run(aws, tmp_path / "out", "--quiet", "--sarif", str(tmp_path / "j.xml" / "x.sarif"))
    assert blocked.exit_code == 2 and "cannot write" in blocked.stderr


def test_drift_diff_history_controls_collectors_permissions_json_validate(aws: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(aws, out, "--quiet").exit_code == 1
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="abroad-too")
    assert _run(aws, out, "--quiet").exit_code == 1
    runner = CliRunner()
    drift = runner.invoke(cli, ["drift", "--out", str(out), "--no-notify", "--format", "json"])
    assert drift.exit_code == 4, drift.stderr
    assert "abroad-too" in json.dumps(_validate("drift", drift.stdout)["new"])
    history = _validate("history", runner.invoke(cli, ["history", "--out", str(out), "--format", "json"]).stdout)
    first, second = (r["run_id"] for r in history["runs"])
    diff = runner.invoke(cli, ["diff", first, second, "--out", str(out), "--format", "json"])
    assert diff.exit_code == 0, diff.stderr
    assert any(f["resource_id"].endswith("abroad-too") for f in _validate("diff", diff.stdout)["new"])
    controls = _validate("controls", runner.invoke(cli, ["controls", "list", "--format", "json"]).stdout)
    assert {c["id"] for c in controls["controls"]} >= {"ENC-TRANSIT", "DATA-RESIDENCY"}
    collectors = _validate("collectors", runner.invoke(cli, ["collectors", "list", "--format", "json"]).stdout)
    assert "s3:ListAllMyBuckets" in next(c for c in collectors["collectors"] if c["source"] == "aws")["permissions"]
    perms = _validate("permissions", runner.invoke(cli, ["permissions", "--format", "json"]).stdout)
    assert perms["sources"]["aws"]["Version"] == "2012-10-17"


def test_every_schema_ships_in_the_wheel(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in KINDS:
        assert f"evidence/schemas/{kind}.schema.json" in names
        jsonschema.Draft202012Validator.check_schema(json.loads(schema_path(kind).read_text(encoding="utf-8")))


def test_a_plugin_that_failed_to_load_is_never_gated_away_and_fail_on_must_name_something() -> None:
    from evidence.cli.outputs import gated_exit, parse_fail_on
    from evidence.models import ControlVerdict, Status

    passing = [ControlVerdict(control_id="X", title="x", statement="s", criteria=["CC1.1"], verdict=Status.PASS,
                              counts={"pass": 1}, checks=[])]
    assert gated_exit(3, passing, False, {"fail"}, soft_fail=True, plugin_errors=["weather: ImportError"]) == 3
    assert gated_exit(3, passing, False, {"drift"}, soft_fail=False, plugin_errors=["weather: ImportError"]) == 3
    assert gated_exit(0, passing, False, {"fail"}, soft_fail=True) == 0
    assert parse_fail_on("") is None and parse_fail_on(" , ") is None and parse_fail_on("fail") == frozenset({"fail"})


def test_a_copy_ci_asked_for_and_could_not_get_is_never_gated_away() -> None:
    from evidence.cli.outputs import with_copies

    assert with_copies(0, None) == 0 and with_copies(1, None) == 1
    assert with_copies(0, 3) == 3  # the report it names failed: even under --soft-fail or --fail-on fail
    assert with_copies(1, 3) == 1  # a failing control still says 1
    assert with_copies(0, 2) == 2 and with_copies(1, 2) == 2  # the path cannot be written: usage
    assert with_copies(2, 3) == 2  # the history could not be recorded: usage stands
