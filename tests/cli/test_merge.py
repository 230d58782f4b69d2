"""`evidence run --shard` and `evidence merge` on the command line: a wrong shard or a folder
with no shards is one line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.cli import cli


@pytest.mark.parametrize(("args", "says"), [
    (["run", "--shard", "auto/4"], "--shard auto/4: none of JOB_COMPLETION_INDEX"),
    (["run", "--shard", "5/4"], "--shard: shard index 5 is not below N=4"),
])
def test_a_wrong_shard_exits_2_naming_it(args: list[str], says: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "EVIDENCE_SHARD_INDEX"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output
    assert not any(tmp_path.iterdir())  # nothing collected, nothing written


def test_merging_a_folder_without_shards_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["merge", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"{tmp_path}: not a shard bundle, and holds none" in result.output


def test_two_shards_through_s3_and_merged_on_the_command_line(mocked_aws: None, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="evidence-shards")
    boto3.client("ec2", region_name="eu-west-2").create_volume(Size=1, AvailabilityZone="eu-west-2a")
    config = tmp_path / "evidence.toml"
    config.write_text('[aws]\nregions = ["eu-west-2"]\n', encoding="utf-8")
    base = ["--config", str(config), "--only", "aws", "--out", "s3://evidence-shards/q4"]
    for k in ("0", "1"):
        monkeypatch.setenv("EVIDENCE_SHARD_INDEX", k)  # as a CI matrix would set it
        ran = CliRunner().invoke(cli, ["run", *base, "--shard", "auto/2"])
        assert ran.exit_code == 0, ran.output
        assert f"shard {k} of 2: " in ran.output and "s3://evidence-shards/q4/" in ran.output
    merged = CliRunner().invoke(cli, ["merge", "s3://evidence-shards/q4", "--config", str(config),
                                      "--out", str(tmp_path / "out")])
    assert "merged 2 shards of plan" in merged.output, merged.output
    assert merged.exit_code in (0, 1, 3)  # the run's verdicts decide; the merge itself worked
    bundle = next((tmp_path / "out").glob("*/*/manifest.json")).parent
    assert (bundle / "report.html").is_file() and (tmp_path / "out" / "history.sqlite").is_file()
    merged_from = json.loads((bundle / "manifest.json").read_text())["merged_from"]
    assert [m["from"].split("/")[-1].split("-of-")[0] for m in merged_from] == ["shard-0", "shard-1"]
    assert all(m["from"].startswith("s3://evidence-shards/q4/") for m in merged_from)
