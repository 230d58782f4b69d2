"""The population of merged pull requests (`evidence.artifacts.github`): written by `evidence run`,
built again by `evidence evaluate`, and written from what can be read when pages are malformed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from evidence.artifacts.github import POPULATION_CSV, merged_pull_requests_csv
from evidence.checks.github import pull_requests_peer_approved
from evidence.models import Status
from tests.checks.githubrun import ORG, PEER, TOKEN_ENV, Records, one, population, pull, review
from tests.fakes.github import BranchProtection, FakeGitHub


def test_evidence_run_writes_the_population_csv(gh: FakeGitHub, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from evidence.cli import cli

    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant())
    pr = gh.add_pull_request("api", title="Change", user="alice", merged_at="2026-10-05T10:00:00Z")
    gh.add_review("api", pr.number, user="bob")
    config = tmp_path / "evidence.toml"
    config.write_text(f'[github]\norg = "{ORG}"\ntoken_env = "{TOKEN_ENV}"\napi_url = "{gh.api_url}"\n',
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "github", "--period", "2026-Q4",
                                      "--out", str(tmp_path / "out")], catch_exceptions=False)
    bundle = Path(next(line for line in result.output.splitlines() if line.startswith("bundle: "))[8:])
    rows = list(csv.DictReader(io.StringIO((bundle / POPULATION_CSV).read_text(encoding="utf-8"))))
    assert [(r["repo"], r["number"], r["peer_approved"]) for r in rows] == [("zaptic/api", "1", "yes")]
    assert gh.token not in result.output


def test_evaluate_builds_the_population_again_and_names_it_when_it_differs(gh: FakeGitHub, tmp_path: Path) -> None:
    """Issue 12, acceptance 4: `evidence evaluate` rebuilds every declared artifact from the
    bundle's evidence; an edited population file is named, and the command exits 1."""
    from click.testing import CliRunner

    from evidence.cli import cli

    gh.add_repo("api")
    gh.set_branch_protection("api", BranchProtection.compliant())
    pr = gh.add_pull_request("api", title="Change", user="alice", merged_at="2026-10-05T10:00:00Z")
    gh.add_review("api", pr.number, user="bob")
    config = tmp_path / "evidence.toml"
    config.write_text(f'[github]\norg = "{ORG}"\ntoken_env = "{TOKEN_ENV}"\napi_url = "{gh.api_url}"\n',
                      encoding="utf-8")
    ran = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "github", "--period", "2026-Q4",
                                   "--out", str(tmp_path / "out")], catch_exceptions=False)
    bundle = Path(next(line for line in ran.output.splitlines() if line.startswith("bundle: "))[8:])
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["artifacts"] == {"github.merged_pull_requests": POPULATION_CSV}

    same = CliRunner().invoke(cli, ["evaluate", str(bundle)], catch_exceptions=False)
    assert same.exit_code == 0, same.output
    assert "every artifact builds again alike" in same.output

    csv_file = bundle / POPULATION_CSV
    csv_file.write_text(csv_file.read_text(encoding="utf-8").replace(",yes,", ",no,"), encoding="utf-8")
    edited = CliRunner().invoke(cli, ["evaluate", "--no-verify", str(bundle)], catch_exceptions=False)
    assert edited.exit_code == 1
    assert f"artifact DIFFERS: {POPULATION_CSV}: differs from the file built again from the evidence" in edited.output
    assert "re-judged findings DIFFER" not in edited.output  # the findings themselves still match


def test_pulls_page_that_is_an_object_completes_the_run_with_bundle_and_history(
    raw_gh: FakeGitHub, tmp_path: Path
) -> None:
    """Acceptance 2 (GitHub): an `error` finding; the bundle, the population file and the history
    are written (the population hook used to raise AttributeError and lose the run)."""
    from click.testing import CliRunner

    from evidence.cli import cli
    from evidence.history import HISTORY_FILE

    raw_gh.add_repo("api")
    raw_gh.set_branch_protection("api", BranchProtection.compliant())
    raw_gh.inject(f"/repos/{ORG}/api/pulls", 200, times=1, body={"total_count": 1, "pull_requests": [pull(1)]})
    config = tmp_path / "evidence.toml"
    config.write_text(f'[github]\norg = "{ORG}"\ntoken_env = "{TOKEN_ENV}"\napi_url = "{raw_gh.api_url}"\n',
                      encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "github", "--period", "2026-Q4",
                                      "--out", str(out)], catch_exceptions=False)

    assert result.exit_code == 3, result.output
    bundle = Path(next(line for line in result.output.splitlines() if line.startswith("bundle: "))[8:])
    assert (bundle / "findings.json").is_file() and (bundle / "manifest.json").is_file()
    # the header only: nothing readable
    assert (bundle / merged_pull_requests_csv.path).read_text(encoding="utf-8").count("\n") == 1
    assert (out / HISTORY_FILE).is_file()
    findings = [f for f in json.loads((bundle / "findings.json").read_text(encoding="utf-8")) if f["check_id"] == PEER]
    assert [f["status"] for f in findings] == ["error"]
    assert "github.pulls/list" in findings[0]["message"] and findings[0]["evidence"][0] in findings[0]["message"]


def test_population_hook_writes_what_it_can_read(records: Records, tmp_path: Path) -> None:
    """Malformed pages and unreadable pull requests are left out of the file, never a crash;
    the check reports each of them as an `error`."""
    records.repos("api", "web")
    api_page = records.pulls("api", {"pulls": [pull(1)]})
    no_merged_at = pull(3)
    del no_merged_at["merged_at"]
    web_page = records.pulls("web", ["not a pull request", pull(2), no_merged_at, {**pull(4), "number": "4"},
                                     pull(5, merged_at=None)])
    records.reviews("web", 2, [review(10, "bob", "APPROVED", "2026-10-05T09:00:00Z")])

    rows = population(records.index, tmp_path / "folder")
    assert [(r["repo"], r["number"], r["peer_approved"]) for r in rows] == [(f"{ORG}/web", "2", "yes")]

    findings = records.judge(pull_requests_peer_approved)
    page_errors = [f for f in findings if f.resource_id in {f"{ORG}/api", f"{ORG}/web"}]
    assert {(f.resource_id, f.status) for f in page_errors} == {(f"{ORG}/api", Status.ERROR),
                                                                  (f"{ORG}/web", Status.ERROR)}
    assert any(api_page in f.message for f in page_errors) and any("[0]" in f.message for f in page_errors)
    assert one(findings, PEER, f"{ORG}/web#2").status is Status.PASS
    missing = one(findings, PEER, f"{ORG}/web#3")
    assert missing.status is Status.ERROR and "'[2].merged_at'" in missing.message and web_page in missing.message
    assert one(findings, PEER, f"{ORG}/web#4").status is Status.ERROR  # a number that is a string
    closed = one(findings, PEER, f"{ORG}/web#5")
    assert closed.status is Status.NOT_APPLICABLE and "closed without being merged" in closed.message
