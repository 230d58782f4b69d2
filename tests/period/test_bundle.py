"""Issue 13: a month of daily runs (EVIDENCE_NOW) becomes a period bundle: coverage per day,
deviations against the control's SLA, populations; verified and recomputed from the runs."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

import evidence.reports.pdf as pdf_module
from evidence.bundle import load_manifest, verify
from evidence.catalog import default_catalog_dir
from evidence.cli import cli
from evidence.config import parse_config
from evidence.history import History, Snapshot
from evidence.models import Period
from evidence.period.report import render_period_pdf
from evidence.registry import Registry
from evidence.runner import Runner
from tests.fakes.google_workspace import FakeWorkspace, make_user
from tests.history.support import REGION, STRONG, seed_estate, weaken_tls

PERIOD = Period.parse("2026-Q4")
ADMIN = "admin@zaptic.example"
LEAVER = "lee@zaptic.example"
DAYS = [d for d in range(1, 31) if d != 20]  # day 20 has no run
CONTROLS = ("ENC-TRANSIT", "WORKFORCE-IDENTITY")


def _user(email: str, **fields: object) -> dict[str, object]:
    return make_user(email, isEnrolledIn2Sv=True, isEnforcedIn2Sv=True, creationTime="2025-01-01T00:00:00Z",
                     lastLoginTime="2026-09-30T00:00:00Z", **fields)


@dataclass
class Month:
    out: Path
    catalog: Path
    listener: str


def _catalog(folder: Path, sla: int | None = None) -> Path:
    folder.mkdir(parents=True)
    for cid in CONTROLS:
        text = (default_catalog_dir() / f"{cid}.toml").read_text(encoding="utf-8")
        if sla is not None and cid == "ENC-TRANSIT":
            text = text.replace("\n[[checks]]", f"\nremediate_within_days = {sla}\n\n[[checks]]", 1)
        (folder / f"{cid}.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Month]:
    """29 daily runs in October 2026: the HTTPS listener downgraded on days 10-12, a user
    suspended on day 15, no run on day 20."""
    base = tmp_path_factory.mktemp("month")
    out, catalog = base / "out", _catalog(base / "catalog")
    registry = Registry.load()
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                           "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
            mp.setenv(name, value)
        people = [_user(ADMIN, isAdmin=True), _user("cto@zaptic.example", isAdmin=True), _user(LEAVER)]
        with mock_aws(), FakeWorkspace(people, page_size=5) as ws:
            estate = seed_estate()
            key = base / "sa.json"
            key.write_text(json.dumps(ws.service_account_info()), encoding="utf-8")
            config = parse_config({"aws": {"regions": [REGION]}, "google_workspace": {
                "customer_id": "my_customer", "credentials_file": str(key), "delegated_admin": ADMIN,
                "api_endpoint": ws.api_endpoint}})
            elbv2 = boto3.client("elbv2", region_name=REGION)
            for day in DAYS:
                if day == 10:
                    weaken_tls(estate["https"])
                if day == 13:
                    elbv2.modify_listener(ListenerArn=estate["https"], SslPolicy=STRONG)
                if day == 15:
                    next(u for u in ws.users if u["primaryEmail"] == LEAVER)["suspended"] = True
                mp.setenv("EVIDENCE_NOW", f"2026-10-{day:02d}T06:00:00Z")
                result = Runner(config=config, registry=registry, period=PERIOD, out=out,
                                only={"aws", "google_workspace"}, catalog_dir=catalog).run()
                History.open(out).record(Snapshot.from_result(result, out, with_findings=False),
                                         result.iter_findings())
    yield Month(out, catalog, estate["https"])


def _period(month: Month, catalog: Path, *extra: str) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVIDENCE_NOW", "2026-10-30T18:00:00Z")
        ran = CliRunner().invoke(cli, ["period", "2026-Q4", "--out", str(month.out), "--catalog", str(catalog),
                                       *extra], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    [line] = [line for line in ran.output.splitlines() if line.startswith("period bundle: ")]
    return Path(line.removeprefix("period bundle: "))


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_coverage_deviations_and_leavers_of_a_month(month: Month, tmp_path: Path) -> None:
    bundle = _period(month, month.catalog, "--sample", "--seed", "dice-4-2-6")
    coverage = _rows(bundle / "coverage.csv")
    assert list(coverage[0]) == ["control_id", "date", "verdict", "run_ids"]
    transit = {r["date"]: r["verdict"] for r in coverage if r["control_id"] == "ENC-TRANSIT"}
    assert sorted(d for d, v in transit.items() if v == "fail") == ["2026-10-10", "2026-10-11", "2026-10-12"]
    assert len(transit) == 30  # 1 to 30 October: the period so far
    for control in CONTROLS:
        day20 = [r for r in coverage if r["control_id"] == control and r["date"] == "2026-10-20"]
        assert day20 == [{"control_id": control, "date": "2026-10-20", "verdict": "gap", "run_ids": ""}]
    summary = {c["control_id"]: c for c in json.loads((bundle / "coverage.json").read_text())["controls"]}
    assert summary["ENC-TRANSIT"]["days_failed"] == 3 and summary["ENC-TRANSIT"]["days_not_covered"] == 1
    assert summary["ENC-TRANSIT"]["longest_gap_days"] == 1 and not summary["ENC-TRANSIT"]["operated_throughout"]

    [episode] = [r for r in _rows(bundle / "deviations.csv") if r["resource_id"] == month.listener]
    assert episode == {"control_id": "ENC-TRANSIT", "check_id": "aws.elbv2.listener_tls_min_version",
                       "resource_id": month.listener, "first_failed": "2026-10-10", "fixed_on": "2026-10-13",
                       "days": "3", "within_sla": "yes", "waiver": ""}
    strict = _period(month, _catalog(tmp_path / "strict", sla=1))
    [late] = [r for r in _rows(strict / "deviations.csv") if r["resource_id"] == month.listener]
    assert late["within_sla"] == "no" and late["days"] == "3"

    leavers = _rows(bundle / "populations/workspace-leavers.csv")
    assert [(r["email"], r["left_on"], r["how"]) for r in leavers] == [(LEAVER, "2026-10-15", "suspended")]
    assert all((month.out / p).is_file() for p in leavers[0]["evidence"].split(";"))
    drift = {(r["control_id"], r["changed_on"], r["from"], r["to"])
             for r in _rows(bundle / "populations/drift-events.csv")}
    assert {("ENC-TRANSIT", "2026-10-10", "pass", "fail"), ("ENC-TRANSIT", "2026-10-13", "fail", "pass")} <= drift
    [sampled] = _rows(bundle / "samples/workspace-leavers.csv")
    assert (sampled["email"], sampled["sample_seed"], sampled["sample_algorithm"]) == (
        LEAVER, "dice-4-2-6", "sha256-rank/1")

    # the report: one day cell per day and control, the three failing days in ENC-TRANSIT's strip
    html = (bundle / "report.html").read_text(encoding="utf-8")
    strip = html.split('id="control-ENC-TRANSIT"')[1].split('id="control-')[0]
    assert strip.count('<i class="d ') == 30 and strip.count('<i class="d fail"') == 3
    assert strip.count('<i class="d gap" title="2026-10-20: No run"') == 1
    assert (bundle / "report.pdf").read_bytes().startswith(b"%PDF")

    # the period's own OSCAL document, valid for compliance-trestle, spanning the period covered
    trestle_ar = pytest.importorskip("trestle.oscal.assessment_results")
    model = trestle_ar.AssessmentResults.oscal_read(bundle / "oscal/assessment-results.json")
    [result] = model.results
    assert result.start.isoformat().startswith("2026-10-01") and result.end.isoformat().startswith("2026-10-30")
    states = {f.title.split(":")[0]: f.target.status.state.value for f in result.findings}
    assert states == {"ENC-TRANSIT": "not-satisfied", "WORKFORCE-IDENTITY": "not-satisfied"}  # day 20: a gap


def test_verify_names_a_changed_byte_in_the_period_or_a_run_and_evaluate_recomputes(
    month: Month, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(month.out, out)
    bundle = _period(Month(out, month.catalog, month.listener), month.catalog)
    assert CliRunner().invoke(cli, ["verify", str(bundle)]).exit_code == 0
    same = CliRunner().invoke(cli, ["evaluate", str(bundle)])
    assert same.exit_code == 0, same.output
    assert "match byte for byte" in same.output

    coverage = bundle / "coverage.csv"
    coverage.write_text(coverage.read_text(encoding="utf-8").replace(",fail,", ",pass,", 1), encoding="utf-8")
    changed = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert changed.exit_code == 1 and "coverage.csv" in changed.output

    coverage_json = bundle / "coverage.json"
    coverage_json.write_text(coverage_json.read_text(encoding="utf-8").replace('"days_failed": 3',
                                                                             '"days_failed": 0'), encoding="utf-8")
    recomputed = CliRunner().invoke(cli, ["evaluate", "--no-verify", str(bundle)])
    assert recomputed.exit_code == 1 and "coverage.json: differs" in recomputed.output

    shutil.rmtree(bundle)
    bundle = _period(Month(out, month.catalog, month.listener), month.catalog)
    run_bundle = sorted((out / "2026-Q4").glob("2026*"))[4]
    (run_bundle / "controls.json").write_text(
        (run_bundle / "controls.json").read_text(encoding="utf-8") + " ", encoding="utf-8")
    tampered = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert tampered.exit_code == 1
    assert f"{run_bundle.relative_to(out).as_posix()}/controls.json" in tampered.output


def _pdftotext(pdf: Path) -> str:
    """The PDF's text in content order (-raw: a wrapped identifier's pieces stay together)."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing: CI must install poppler-utils")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _bundle_files(bundle: Path) -> dict[str, str]:
    return {p.relative_to(bundle).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(bundle.rglob("*")) if p.suffix in (".csv", ".json") and p.parent.name != "oscal"}


def test_the_period_pdf_is_typeset_by_typst_with_every_control_and_deviation_and_is_reproducible(
    month: Month,
) -> None:
    bundle = _period(month, month.catalog)
    pdf = (bundle / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    manifest = load_manifest(bundle)
    assert "report_errors" not in manifest
    text = _pdftotext(bundle / "report.pdf")
    assert (manifest["company"] or "Unnamed company") in text
    assert "Coverage, day by day" in text and "operated throughout" in text
    for control in CONTROLS:
        assert control in text, control
    assert "not throughout" in text  # day 20 has no run: neither control operated throughout
    # the listener's ARN wraps in its column, and reads whole from the PDF (no zero-width spaces)
    assert month.listener in "".join(text.split()) and "\u200b" not in text
    assert manifest["period_id"] in text  # the footer

    # the same files and manifest give the same bytes: dated when the bundle was built, not now
    files = _bundle_files(bundle)
    assert render_period_pdf(files, manifest) == pdf
    assert render_period_pdf(files, manifest) == pdf


def test_a_typesetter_that_segfaults_costs_the_period_bundle_only_its_pdf(
    month: Month, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    shutil.copytree(month.out, out)
    crash = "import ctypes; ctypes.string_at(0)"  # a read of address 0: SIGSEGV
    monkeypatch.setattr(pdf_module, "TYPESETTER", (sys.executable, "-c", crash))
    with caplog.at_level(logging.ERROR, logger="evidence.report"):
        bundle = _period(Month(out, month.catalog, month.listener), month.catalog)
    assert not (bundle / "report.pdf").exists()
    assert (bundle / "report.html").is_file() and (bundle / "coverage.csv").is_file()
    assert load_manifest(bundle)["report_errors"] == ["pdf: ReportError: Typst crashed (SIGSEGV)"]
    with pytest.MonkeyPatch.context() as mp:  # and the command says so, in one line
        mp.setenv("EVIDENCE_NOW", "2026-10-30T18:00:00Z")
        again = CliRunner().invoke(cli, ["period", "2026-Q4", "--out", str(out), "--catalog", str(month.catalog)])
    assert again.exit_code == 0
    assert "evidence: report failed: pdf: ReportError: Typst crashed (SIGSEGV)" in again.output
    assert any("pdf report could not be rendered" in r.getMessage() for r in caplog.records)
    assert verify(bundle) == []
    assert CliRunner().invoke(cli, ["verify", str(bundle)]).exit_code == 0
