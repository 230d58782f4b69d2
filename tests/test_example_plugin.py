"""examples/plugin (issue 17): the example plugin installs with pip as a distribution of its own
(offline: no build isolation, no index) and takes part in a run through its entry points, with
its own section, permissions, inventory, parameters and control."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.catalog import default_catalog_dir
from evidence.cli import cli
from evidence.registry import Registry

PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install` of examples/plugin into a folder of its own: the wheel pip builds with the
    plugin's own build backend (hatchling), its dist-info and entry points."""
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--target", str(site), str(PLUGIN)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return site


@pytest.fixture
def plugin(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(installed))
    yield installed
    for name in [m for m in sys.modules if m == "evidence_fleet" or m.startswith("evidence_fleet.")]:
        del sys.modules[name]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A user's folder: evidence.toml naming the export, and a catalog with the plugin's control."""
    shutil.copy(PLUGIN / "devices.json", tmp_path / "devices.json")
    (tmp_path / "evidence.toml").write_text('[fleet]\nexport_file = "devices.json"\n', encoding="utf-8")
    catalog = tmp_path / "my-controls"
    shutil.copytree(default_catalog_dir(), catalog)
    shutil.copy(PLUGIN / "controls" / "ENDPOINTS.toml", catalog / "ENDPOINTS.toml")
    return tmp_path


def test_the_installed_plugin_declares_its_entry_points(plugin: Path) -> None:
    (dist,) = plugin.glob("evidence_fleet-*.dist-info")
    entry_points = (dist / "entry_points.txt").read_text(encoding="utf-8")
    assert "fleet = evidence_fleet.collector:FleetCollector" in entry_points
    assert "fleet = evidence_fleet.checks" in entry_points
    reg = Registry.load()
    assert not reg.errors
    assert reg.origins["collector:fleet"] == "evidence_fleet.collector:FleetCollector"
    assert reg.checks["fleet.device_protected"].resource_type == "Device"

    listed = CliRunner().invoke(cli, ["collectors", "list"])
    assert listed.exit_code == 0, listed.output
    assert "fleet: Employee devices from a device-management export" in listed.output
    assert "check fleet.device_protected:" in listed.output
    perms = CliRunner().invoke(cli, ["permissions", "--source", "fleet"])
    assert json.loads(perms.output) == {
        "kind": "file access", "permissions": ["read the device-management export named by [fleet] export_file"]}


def test_the_plugins_control_validates_against_its_check(plugin: Path, workdir: Path) -> None:
    done = CliRunner().invoke(cli, ["controls", "validate", str(workdir / "my-controls")])
    assert done.exit_code == 0, done.output


def test_the_plugin_takes_part_in_a_run(plugin: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("EVIDENCE_NOW", "2026-12-07T12:00:00Z")
    ran = CliRunner().invoke(cli, ["run", "--only", "fleet", "--catalog", "my-controls", "--period", "2026-Q4"])
    assert ran.exit_code == 1, ran.output  # a control fails
    assert [line.split()[:2] for line in ran.output.splitlines() if line.startswith("ENDPOINTS")] == [
        ["ENDPOINTS", "fail"]]
    (manifest_path,) = (workdir / "evidence-out").glob("2026-Q4/*/manifest.json")
    bundle = manifest_path.parent
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    rows = [["Device export", "devices.json"]]
    assert manifest["scope"]["details"]["fleet"] == {"title": "Device fleet", "rows": rows}
    findings = {f["resource_id"]: f for f in json.loads((bundle / "findings.json").read_text(encoding="utf-8"))
                if f["check_id"] == "fleet.device_protected"}
    assert {rid: f["status"] for rid, f in findings.items()} == {"C02XK1": "pass", "PF3ZQ9": "fail",
                                                                 "5CG1234": "fail"}
    assert findings["PF3ZQ9"]["message"] == (
        "Device PF3ZQ9 (ben@example.com): disk not encrypted, screen locks after 30 min (at most 15).")
    assert findings["5CG1234"]["observed"] == "not seen for 68 days (at most 30)"
    assert all((bundle / f["evidence"][0]).is_file() for f in findings.values())


def test_a_wrong_key_in_the_plugins_section_is_one_line(plugin: Path, workdir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    (workdir / "evidence.toml").write_text('[fleet]\nexport_file = "devices.json"\nformat = "csv"\n',
                                           encoding="utf-8")
    ran = CliRunner().invoke(cli, ["run", "--only", "fleet", "--catalog", "my-controls"])
    assert ran.exit_code == 2
    assert ran.output.strip().splitlines()[-1] == "evidence: error: evidence.toml: unknown key 'fleet.format'"
