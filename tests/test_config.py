"""Configuration mistakes: one line naming the key or file, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.cli import cli
from evidence.collectors.aws_config import AwsConfig
from evidence.collectors.github_config import GitHubConfig
from evidence.collectors.probe_config import ProbesConfig
from evidence.config import Config, ConfigError, load_config


def _aws(cfg: Config) -> AwsConfig:
    section = cfg.section("aws", AwsConfig)
    assert section is not None
    return section


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[aws]\nregons = ["eu-west-2"]\n', "aws.regons"),
        ("[aws]\nregions = 3\n", "aws.regions"),
        ('[aws]\nregions = ["eu-wset-2"]\n', "did you mean eu-west-2?"),
        ('[aws]\nregions = ["all", "eu-west-2"]\n', '"all" stands alone'),
        ("[aws]\nregions = []\n", "aws.regions"),
        ('[github]\norg = "zaptic"\napi_url = 5\n', "github.api_url"),
        ('[bogus]\nx = 1\n', "bogus"),
        ("[controls.ENC-TRANSIT]\nmin_tsl = \"1.2\"\n", "controls.ENC-TRANSIT.min_tsl"),
        ("[controls.NOPE]\nx = 1\n", "controls.NOPE"),
        ('[controls.TLS-CERTS]\nallow_ec = "false"\n', "controls.TLS-CERTS.allow_ec"),
        ('[controls.TLS-CERTS]\nmin_rsa_bits = "4096"\n', "controls.TLS-CERTS.min_rsa_bits"),
        ("[aws\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_line_exit_2(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "evidence.toml"
    path.write_text(text)
    code, output = _run(["run", "--config", str(path), "--out", str(tmp_path / "out"), "--only", "aws"])
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert named in lines[0] and str(path) in lines[0]
    assert "Traceback" not in output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("manifest.json"))


def test_real_regions_and_all_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "evidence.toml"
    path.write_text('[aws]\nregions = ["eu-west-2", "us-east-1", "ap-southeast-2", "us-gov-west-1"]\n')
    assert _aws(load_config(path)).regions[-1] == "us-gov-west-1"
    path.write_text('[aws]\nregions = ["all"]\n')
    assert _aws(load_config(path)).regions == ["all"]


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, output = _run(["run", "--config", str(missing)])
    assert code == 2
    assert output.strip() == f"evidence: error: {missing}: configuration file not found"


def test_unreadable_config_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(folder)


def test_defaults_need_no_file() -> None:
    cfg = load_config(None)
    assert _aws(cfg).regions == ["eu-west-2"]  # [aws] absent: its defaults
    assert cfg.section("github", GitHubConfig) is None  # [github] absent: not configured


def test_bad_period_is_a_usage_error() -> None:
    code, output = _run(["run", "--period", "2026-Q5"])
    assert code == 2
    assert "--period" in output and "Traceback" not in output


def test_a_wrong_typed_secret_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "evidence.toml"
    path.write_text('[alerts]\nurls = "json://user:supersecretpw@127.0.0.1:9/hook"\n')
    code, output = _run(["run", "--config", str(path), "--only", "manual", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "alerts.urls" in output and "supersecretpw" not in output


def test_probes_absent_is_none_and_an_explicit_empty_list_is_stated(tmp_path: Path) -> None:
    path = tmp_path / "evidence.toml"
    path.write_text("[aws]\nregions = [\"eu-west-2\"]\n")
    assert load_config(path).section("probes", ProbesConfig) is None
    path.write_text("[probes]\ntls_endpoints = []\n")
    probes = load_config(path).section("probes", ProbesConfig)
    assert probes is not None and probes.tls_endpoints == [] and probes.urls == []
    assert probes.stated("tls_endpoints") and not probes.stated("urls")
