"""The access review as evidence (issue 19, acceptance 4): `evidence access-review start` writes a
worksheet from the latest run; `complete` refuses a worksheet whose population was edited or that
lacks a decision, and records a complete one as ACCESS-LIFECYCLE's access-review evidence; the next
run checks every `revoke` was carried out. Through the real pipeline, the fake Workspace and the
fake GitHub."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result

from evidence.access_review import population
from evidence.attachments import for_run, load_attachments
from evidence.catalog import load_catalog
from evidence.cli import cli
from evidence.config import AlertsConfig, load_config
from evidence.history import History
from evidence.history.outcome import after_run
from evidence.models import Period, Status
from evidence.registry import Registry
from evidence.runner import Runner, RunResult
from evidence.sources.people import REVIEW_COLUMNS, review_row_digest
from tests.checks.peoplerun import (
    ADMIN,
    CONTROL,
    ORPHAN_GITHUB,
    ORPHAN_WORKSPACE,
    Company,
    at,
    catalog_with,
    findings,
    github,
    no_sleep,
    statuses,
    user,
)
from tests.fakes.github import FakeGitHub
from tests.fakes.google_workspace import FakeWorkspace

__all__ = ["github"]  # the fixture, used by the tests below

REVOCATIONS = "people.access_review_revocations"
ONLY = {"google_workspace", "github", "aws", "people", "manual"}
ANN, BOB = "ann@zaptic.example", "bob@zaptic.example"
WS, GH = "Google Workspace", "GitHub"


class ReviewCompany(Company):
    """A company whose runs judge the attachments in its output folder's store, as `evidence run`
    does (the helper's own runs judge a fixed stand-in review)."""

    def run(self, now: str, *, only: Iterable[str], controls: dict[str, object] | None = None,
            record: bool = True) -> RunResult:
        self.monkeypatch.setenv("EVIDENCE_NOW", now)
        config = load_config(self.config_file(controls))
        stored = for_run(self.out, date.fromisoformat(now[:10]), load_catalog(self.catalog))
        runner = Runner(config=config, registry=self.registry, period=Period.parse("2026-Q4"), out=self.out,
                        only=set(only), catalog_dir=self.catalog, collector_factory=no_sleep,
                        attachments=stored.attachments, files=stored.files)
        result = runner.run()
        if record:
            after_run(result, AlertsConfig(), notify=False)
        return result


@pytest.fixture
def workspace() -> Iterator[FakeWorkspace]:
    with FakeWorkspace([user(ADMIN, isAdmin=True), user(ANN), user(BOB)]) as ws:
        yield ws
        ws.assert_served_payloads_valid()


@pytest.fixture
def company(tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch, workspace: FakeWorkspace,
            github: FakeGitHub, mocked_aws: None) -> ReviewCompany:
    github.add_member("ann-gh")
    github.add_member("bobby")
    co = ReviewCompany(tmp_path / "company", registry, monkeypatch, workspace, github)
    co.sections["bundle"]["catalog"] = "controls"
    co.sections["aws"] = {"regions": ["us-east-1"]}  # the IAM credential report: part of the population
    # one IAM user, without a console password or an access key: a report that is not empty, and no
    # account to review in it
    boto3.client("iam", region_name="us-east-1").create_user(UserName="retired")
    catalog_with(co.catalog, {ORPHAN_WORKSPACE: {}, ORPHAN_GITHUB: {}, REVOCATIONS: {}})
    co.roster(f"{ADMIN},active,,,,", f"{ANN},active,,ann-gh,,", f"{BOB},active,,bobby,,")
    return co


def invoke(co: Company, *args: str) -> Result:
    return CliRunner().invoke(cli, ["access-review", *args, "--config", str(co.folder / "evidence.toml")])


def start(co: Company, target: Path) -> list[dict[str, str]]:
    result = invoke(co, "start", "--output", str(target))
    assert result.exit_code == 0, result.output
    return read(target)


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(REVIEW_COLUMNS), lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
    return path


def decide(rows: list[dict[str, str]], revoke: Iterable[str] = ()) -> list[dict[str, str]]:
    revoked = set(revoke)
    return [{**r, "decision": "revoke" if r["account"] in revoked else "keep"} for r in rows]


def manual_status(result: RunResult) -> Status:
    return next(f.status for f in result.findings if f.control_id == CONTROL and f.check_id == "manual.access-review")


def test_start_writes_one_row_per_account_of_the_latest_run(
    company: ReviewCompany, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = company.run(at("2026-11-09"), only=ONLY)
    monkeypatch.chdir(tmp_path)
    result = invoke(company, "start")
    assert result.exit_code == 0, result.output
    sheet = tmp_path / f"access-review-{first.run_id}.csv"  # the default --output
    rows = read(sheet)

    assert sheet.read_text(encoding="utf-8").splitlines()[0] == ",".join(REVIEW_COLUMNS)
    assert [(r["system"], r["account"], r["person"]) for r in rows] == [
        (WS, ADMIN, ADMIN), (WS, ANN, ANN), (WS, BOB, BOB), (GH, "ann-gh", ANN), (GH, "bobby", BOB),
    ]
    by_account = {r["account"]: r for r in rows}
    assert by_account[ADMIN]["admin_or_owner"] == "super admin"
    assert by_account[ANN]["admin_or_owner"] == "no"
    assert by_account[ANN]["last_activity"] == "2026-11-01T09:00:00.000Z"
    assert {r["run_id"] for r in rows} == {first.run_id}
    assert all(r["decision"] == "" and r["note"] == "" for r in rows)
    assert all(r["row_digest"] == review_row_digest(r) for r in rows)


def test_start_without_a_recorded_run_is_exit_2(company: ReviewCompany, tmp_path: Path) -> None:
    company.config_file()
    result = invoke(company, "start", "--output", str(tmp_path / "sheet.csv"))
    assert result.exit_code == 2
    assert "no run recorded" in result.output


Edit = Callable[[list[dict[str, str]]], tuple[list[dict[str, str]], str]]


def _changed_account(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    rows[4]["account"] = "bobby2"  # line 6: the header is line 1
    return rows, "line 6 (GitHub account bobby2)"


def _added_row(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    extra = {**rows[3], "account": "mallory"}
    extra["row_digest"] = review_row_digest(extra)  # a well-made digest does not make it the run's
    return [*rows, extra], "line 7 (GitHub account mallory)"


def _removed_row(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    return rows[:4], "GitHub account bobby"


def _altered_field(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    rows[1]["person"] = BOB
    return rows, f"line 3 (Google Workspace account {ANN}): person altered"


def _altered_digest(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], str]:
    rows[2]["row_digest"] = "0" * 64
    return rows, f"line 4 (Google Workspace account {BOB}): row_digest altered"


@pytest.mark.parametrize("edit", [_changed_account, _added_row, _removed_row, _altered_field, _altered_digest])
def test_an_edited_row_is_refused_naming_it(company: ReviewCompany, tmp_path: Path, edit: Edit) -> None:
    company.run(at("2026-11-09"), only=ONLY)
    rows = decide(start(company, tmp_path / "sheet.csv"))
    edited, named = edit(rows)
    result = invoke(company, "complete", str(write(tmp_path / "done.csv", edited)), "--by", "Carol")

    assert result.exit_code == 2, result.output
    assert named in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not load_attachments(company.out)


@pytest.mark.parametrize(("decision", "named"),
                         [("", "no decision"), ("maybe", "decision 'maybe' is not keep or revoke")])
def test_a_row_without_a_keep_or_revoke_decision_is_refused(
    company: ReviewCompany, tmp_path: Path, decision: str, named: str,
) -> None:
    company.run(at("2026-11-09"), only=ONLY)
    rows = decide(start(company, tmp_path / "sheet.csv"))
    rows[3]["decision"] = decision
    result = invoke(company, "complete", str(write(tmp_path / "done.csv", rows)), "--by", "Carol")

    assert result.exit_code == 2, result.output
    assert f"line 5 (GitHub account ann-gh): {named}" in result.output
    assert not load_attachments(company.out)


def test_a_completed_review_satisfies_the_manual_requirement(company: ReviewCompany, tmp_path: Path) -> None:
    first = company.run(at("2026-11-09"), only=ONLY)
    assert manual_status(first) is Status.MANUAL
    assert statuses(first, REVOCATIONS) == {"access-review": Status.NOT_APPLICABLE}
    done = write(tmp_path / "done.csv", decide(start(company, tmp_path / "sheet.csv")))
    company.monkeypatch.setenv("EVIDENCE_NOW", at("2026-11-20"))  # completed eleven days after the run
    result = invoke(company, "complete", str(done), "--by", "Carol")
    assert result.exit_code == 0, result.output

    [stored] = load_attachments(company.out)
    a = stored.attachment
    assert (a.control_id, a.requirement, a.attached_by) == (CONTROL, "access-review", "Carol")
    assert a.sha256 in result.output
    assert a.valid_until.isoformat() == "2027-02-09"  # 92 days from the run's date, not from completion
    second = company.run(at("2026-11-10"), only=ONLY)
    assert manual_status(second) is Status.PASS
    assert statuses(second, REVOCATIONS) == {"access-review": Status.PASS}


def test_a_revoke_not_carried_out_fails_the_next_run_naming_the_account(
    company: ReviewCompany, tmp_path: Path, github: FakeGitHub,
) -> None:
    company.run(at("2026-11-09"), only=ONLY)
    rows = decide(start(company, tmp_path / "sheet.csv"), revoke=(BOB, "bobby"))
    done = write(tmp_path / "q4-review.csv", rows)
    assert invoke(company, "complete", str(done), "--by", "Carol").exit_code == 0
    github.members.pop("bobby")  # carried out in GitHub; bob's Workspace account is left active

    second = company.run(at("2026-11-10"), only=ONLY)
    found = findings(second, REVOCATIONS)
    assert {rid: f.status for rid, f in found.items()} == {
        f"{WS}:{BOB}": Status.FAIL, f"{GH}:bobby": Status.PASS, "access-review": Status.FAIL,
    }
    message = found[f"{WS}:{BOB}"].message
    assert BOB in message and "q4-review.csv" in message and "Carol" in message
    assert f"{WS}:{BOB}" in found["access-review"].message
    assert next(v.verdict for v in second.verdicts if v.control_id == CONTROL) is Status.FAIL


# --- the population must be complete, and the latest ------------------------------------------------


def test_start_refuses_a_run_that_did_not_collect_a_system(company: ReviewCompany, tmp_path: Path) -> None:
    run = company.run(at("2026-11-09"), only=ONLY - {"github"})
    result = invoke(company, "start", "--output", str(tmp_path / "sheet.csv"))

    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert f"run {run.run_id} does not hold the whole population" in result.output
    assert "the run did not collect the GitHub members listing; run `evidence run` with github configured" \
        in result.output
    assert not (tmp_path / "sheet.csv").exists()


def test_start_refuses_an_empty_listing(company: ReviewCompany, tmp_path: Path, github: FakeGitHub) -> None:
    github.members.clear()
    company.run(at("2026-11-09"), only=ONLY)
    result = invoke(company, "start", "--output", str(tmp_path / "sheet.csv"))

    assert result.exit_code == 2, result.output
    assert "the GitHub members listing holds no accounts at all" in result.output


def test_complete_refuses_a_worksheet_of_a_run_with_gaps(company: ReviewCompany, tmp_path: Path) -> None:
    company.run(at("2026-11-09"), only=ONLY)
    partial = company.run(at("2026-11-10"), only=ONLY - {"github"})  # the latest: no GitHub listing
    with History.open(company.out) as history:
        run = history.find(partial.run_id)
    rows, gaps = population(company.out, run)  # a worksheet made by hand from the partial run
    assert gaps and all(r["system"] != GH for r in rows)
    result = invoke(company, "complete", str(write(tmp_path / "done.csv", decide(rows))), "--by", "Carol")

    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "the run did not collect the GitHub members listing" in result.output
    assert not load_attachments(company.out)


def test_complete_refuses_a_worksheet_of_an_older_run_naming_both(company: ReviewCompany, tmp_path: Path) -> None:
    first = company.run(at("2026-11-09"), only=ONLY)
    done = write(tmp_path / "done.csv", decide(start(company, tmp_path / "sheet.csv")))
    second = company.run(at("2026-11-10"), only=ONLY)
    result = invoke(company, "complete", str(done), "--by", "Carol")

    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert f"the worksheet is of run {first.run_id}, but the latest run recorded is {second.run_id}" in result.output
    assert not load_attachments(company.out)


def test_start_refuses_a_run_without_the_roster(company: ReviewCompany, tmp_path: Path) -> None:
    run = company.run(at("2026-11-09"), only=ONLY - {"people"})
    result = invoke(company, "start", "--output", str(tmp_path / "sheet.csv"))

    assert result.exit_code == 2, result.output
    assert f"run {run.run_id} does not hold the whole population" in result.output
    assert "the run did not collect the people roster; run `evidence run` with people configured" in result.output
    assert not (tmp_path / "sheet.csv").exists()
