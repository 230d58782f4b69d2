"""The inputs fuzzing once turned into tracebacks, each now one line naming what to fix, exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.catalog import default_catalog_dir
from evidence.cli import cli

WAIVER = "control: ENC-REST\nresource: x\nreason: r\napprover: a\nexpires: {}\n"


def _case(tmp_path: Path, name: str) -> tuple[list[str], str]:
    config = tmp_path / "evidence.toml"
    run = ["run", "--only", "manual", "--config", str(config), "--out", str(tmp_path / "out")]
    if name == "deep-toml":
        config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
        return run, "nested too deeply to be a configuration"
    if name == "long-exceptions-dir":
        config.write_text(f'[bundle]\nexceptions_dir = "{"a" * 300}"\n')
        return run, "cannot read the exceptions folder (File name too long); check bundle.exceptions_dir"
    if name == "huge-repeat":
        config.write_text("[alerts]\nrepeat_after_days = 1000000000\n")
        return run, "key 'alerts.repeat_after_days': Input should be less than or equal to 36500"
    if name in ("impossible-date", "deep-yaml"):
        (tmp_path / "exc").mkdir()
        text = WAIVER.format("2026-13-01") if name == "impossible-date" else "a: " + "[" * 3000 + "]" * 3000
        (tmp_path / "exc" / "w.yaml").write_text(text)
        config.write_text('[bundle]\nexceptions_dir = "exc"\n')
        return run, ("a value that does not exist (month must be in 1..12)" if name == "impossible-date"
                     else "nested too deeply to be a waiver")
    catalog = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), catalog)
    if name == "not-utf8-control":
        (catalog / "BAD.toml").write_bytes(b"\xff\xfe id")
        return ["controls", "validate", str(catalog)], "BAD.toml: cannot read as UTF-8 text"
    if name == "path-as-control-id":
        text = (catalog / "DR-TEST.toml").read_text().replace('id = "DR-TEST"', 'id = "../../etc/passwd"', 1)
        (catalog / "DR-TEST.toml").write_text(text)
        return ["controls", "validate", str(catalog)], "key 'id': String should match pattern"
    assert name == "attach-out-is-a-file"
    (tmp_path / "afile").write_text("x")
    return (["attach", "DR-TEST", str(tmp_path / "afile"), "--valid-until", "2027-01-01", "--out",
             str(tmp_path / "afile")], "cannot keep attachments there (Not a directory)")


@pytest.mark.parametrize("name", ["deep-toml", "long-exceptions-dir", "huge-repeat", "impossible-date", "deep-yaml",
                                  "not-utf8-control", "path-as-control-id", "attach-out-is-a-file"])
def test_each_is_one_line_and_exit_2(name: str, tmp_path: Path) -> None:
    args, says = _case(tmp_path, name)
    ran = CliRunner().invoke(cli, args)
    assert ran.exit_code == 2, ran.output
    assert says in ran.output and "Traceback" not in ran.output
    assert len([line for line in ran.output.splitlines() if line.startswith("evidence: error")]) == 1
