"""`evidence init` (issue 17): a commented evidence.toml the project's own loader accepts, with
what the configured AWS endpoint says about itself, the GitHub token's presence (never its
value) and the permissions to grant; an existing file is kept unless --force."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.cli import cli
from evidence.cli.common import NO_CONFIG_NOTE
from evidence.collectors.aws_config import AwsConfig
from evidence.collectors.github_config import GitHubConfig
from evidence.collectors.google_workspace_config import GoogleWorkspaceConfig
from evidence.collectors.probe_config import ProbesConfig
from evidence.config import load_config

SECRET = "ghp_init_test_never_written_0123456789"
#: a commented-out key or section header, as init writes them ready to uncomment
COMMENTED = re.compile(r"^# (\[[A-Za-z_.-]+\]|[a-z_]+ = .*)$")


def _uncomment_all(text: str) -> str:
    return "\n".join(COMMENTED.sub(r"\1", line) for line in text.splitlines()) + "\n"


@pytest.fixture
def aws_at(aws_env: None, moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return moto_url


def test_init_detects_the_aws_identity_and_regions_and_writes_a_valid_file(
    aws_at: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    path = tmp_path / "evidence.toml"
    done = CliRunner().invoke(cli, ["init", "--config", str(path), "--sources", "aws,github",
                                    "--github-org", "acme", "--company", "Acme Ltd"])
    assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    assert SECRET not in done.output and SECRET not in text
    assert "aws: account 123456789012 (arn:aws:sts::123456789012:user/moto)" in done.output
    assert re.search(r"; \d+ enabled regions", done.output)
    assert "github: GITHUB_TOKEN is set" in done.output
    assert f"# and endpoint (AWS_ENDPOINT_URL={aws_at})" in text
    assert "eu-west-2" in text and "[google_workspace]" not in text and "[probes]" not in text

    cfg = load_config(path)
    assert cfg.bundle.company == "Acme Ltd"
    assert cfg.section("aws", AwsConfig) == AwsConfig(regions=["all"])
    assert cfg.section("github", GitHubConfig) == GitHubConfig(org="acme", token_env="GITHUB_TOKEN")
    # the permissions printed are `evidence permissions`' own, for the sources named only
    policy = CliRunner().invoke(cli, ["permissions", "--source", "aws"])
    indented = "\n".join(f"    {line}" for line in policy.output.rstrip("\n").splitlines())
    assert indented in done.output
    assert "classic: repo" in done.output and "admin.directory.user.readonly" not in done.output


def test_every_commented_key_is_a_valid_key_once_uncommented(aws_at: str, tmp_path: Path) -> None:
    path = tmp_path / "evidence.toml"
    done = CliRunner().invoke(cli, ["init", "--config", str(path)])
    assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    # as written: github, google_workspace and probes wait for values only the user knows
    cfg = load_config(path)
    assert set(cfg.sections) == {"aws"}
    assert "to fill in and uncomment in" in done.output and "[github] org" in done.output
    assert "github: GITHUB_TOKEN is not set" in done.output
    full = tmp_path / "full.toml"
    full.write_text(_uncomment_all(text), encoding="utf-8")
    cfg = load_config(full)
    assert cfg.section("github", GitHubConfig) is not None
    assert cfg.section("google_workspace", GoogleWorkspaceConfig) is not None
    assert cfg.section("probes", ProbesConfig) is not None
    assert cfg.controls == {"DATA-RESIDENCY": {"allowed_regions": ["eu-west-2"]}}
    assert cfg.alerts.urls and cfg.bundle.signing_key and cfg.bundle.company
    aws = cfg.section("aws", AwsConfig)
    assert aws is not None and aws.organization and aws.assume_roles == [
        "arn:aws:iam::123456789012:role/EvidenceAudit"]


def test_init_without_working_aws_credentials_still_writes_the_file(
    aws_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    path = tmp_path / "evidence.toml"
    done = CliRunner().invoke(cli, ["init", "--config", str(path), "--sources", "aws,probes"])
    assert done.exit_code == 0, done.output
    assert "aws: no working credentials (EndpointConnectionError" in done.output
    assert "[aws] has the defaults" in done.output
    cfg = load_config(path)
    assert cfg.section("aws", AwsConfig) == AwsConfig(regions=["all"])
    assert "probe (network access):" in done.output


def test_init_keeps_an_existing_file_unless_forced(aws_env: None, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    path = tmp_path / "evidence.toml"
    path.write_text("[bundle]\ncompany = \"mine\"\n", encoding="utf-8")
    kept = CliRunner().invoke(cli, ["init", "--config", str(path), "--sources", "github"])
    assert kept.exit_code == 2
    assert kept.output.strip().splitlines() == [
        f"evidence: error: {path} exists; keep it, or overwrite it with --force"]
    assert path.read_text(encoding="utf-8") == "[bundle]\ncompany = \"mine\"\n"
    forced = CliRunner().invoke(cli, ["init", "--config", str(path), "--sources", "github", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "# [github]" in path.read_text(encoding="utf-8")


def test_an_unknown_source_is_one_line(tmp_path: Path) -> None:
    done = CliRunner().invoke(cli, ["init", "--config", str(tmp_path / "e.toml"), "--sources", "aws,gitlab"])
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == [
        "evidence: error: --sources: unknown source 'gitlab' (known: aws, github, google_workspace, probe)"]
    assert not (tmp_path / "e.toml").exists()


def test_the_written_file_is_toml_with_no_line_past_120(aws_at: str, tmp_path: Path) -> None:
    path = tmp_path / "evidence.toml"
    CliRunner().invoke(cli, ["init", "--config", str(path)])
    assert max(len(line) for line in path.read_text(encoding="utf-8").splitlines()) <= 120


def test_a_run_with_no_evidence_toml_says_so_in_one_line_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = CliRunner().invoke(cli, ["run", "--only", "manual", "--out", str(tmp_path / "out")])
    assert ran.output.splitlines()[0] == NO_CONFIG_NOTE
    (tmp_path / "evidence.toml").write_text("[bundle]\ncompany = \"Acme\"\n")
    again = CliRunner().invoke(cli, ["run", "--only", "manual", "--out", str(tmp_path / "o2")])
    assert NO_CONFIG_NOTE not in again.output


def test_a_company_name_outside_the_basic_plane_is_written_as_valid_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = CliRunner().invoke(cli, ["init", "--sources", "github", "--company", "Acme 🚀 \"Ltd\""])
    assert ran.exit_code == 0, ran.output
    import tomllib

    assert tomllib.loads((tmp_path / "evidence.toml").read_text(encoding="utf-8"))["bundle"]["company"] == \
        'Acme 🚀 "Ltd"'
