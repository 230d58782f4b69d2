"""`evidence run --shard` and `evidence merge` on the command line: a wrong shard or a folder
with no shards is one line and exit code 2."""

from __future__ import annotations

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
