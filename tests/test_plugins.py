"""Out-of-tree plugins register through entry points, show in `collectors list` and take part in runs."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.catalog import default_catalog_dir
from evidence.cli import cli
from evidence.config import parse_config
from evidence.models import Period, Status
from evidence.registry import Registry
from evidence.runner import Runner

PLUGIN = '''
from pydantic import Field

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory
from evidence.collectors.base import Collector, Sink
from evidence.config import Section
from evidence.models import EvidenceRecord, Status, iso, utc_now


class WeatherConfig(Section):
    """[weather]: the cities to look at."""

    cities: list[str] = Field(min_length=1)
    units: str = "metric"


class WeatherCollector(Collector):
    source = "weather"
    description = "A pretend weather service"
    permission_kind = "API scope"
    permissions = {"weather.GetForecast": ("forecast:read",)}
    title = "Weather"
    config_model = WeatherConfig

    @classmethod
    def scope(cls, section):
        return [("Cities forecast", ", ".join(section.cities))] if isinstance(section, WeatherConfig) else []

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        for city in self.settings(WeatherConfig).cities:
            sink.record(EvidenceRecord(source="weather", service="weather", operation="GetForecast",
                                       collected_at=iso(utc_now()), subject=city,
                                       response={"city": city, "sunny": False}))


FORECASTS = Inventory("weather.GetForecast", items=None, id="city", resource_type="City")


@check(id="weather.sunny", source="weather", description="It is sunny in every city.", inventory=FORECASTS)
def sunny(ctx: CheckContext):
    for city in ctx.items(FORECASTS):
        ok = city.need("sunny", bool)
        yield ctx.finding(Status.PASS if ok else Status.FAIL, resource_id=city.resource_id,
                          message="sunny" if ok else "raining", observed=ok, expected=True, evidence=[city.ev])
'''


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "weather_plugin.py").write_text(PLUGIN)
    dist = site / "weather_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: weather-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [evidence.collectors]
        weather = weather_plugin:WeatherCollector

        [evidence.checks]
        weather = weather_plugin
        """))
    monkeypatch.syspath_prepend(str(site))
    return site


def _catalog_with_weather(tmp_path: Path) -> Path:
    folder = tmp_path / "controls"
    shutil.copytree(default_catalog_dir(), folder)
    (folder / "WEATHER.toml").write_text(textwrap.dedent("""\
        id = "WEATHER"
        title = "Good weather"
        statement = "It is always sunny."
        criteria = ["CC9.9"]

        [[checks]]
        id = "weather.sunny"
        """))
    return folder


def test_out_of_tree_plugin_is_listed_and_runs(plugin_on_path: Path, tmp_path: Path) -> None:
    listed = CliRunner().invoke(cli, ["collectors", "list"])
    assert listed.exit_code == 0, listed.output
    assert "weather: A pretend weather service" in listed.output
    assert "forecast:read" in listed.output
    assert "check weather.sunny: It is sunny in every city." in listed.output

    registry = Registry.load()
    assert not registry.errors
    result = Runner(
        config=parse_config({"weather": {"cities": ["london"]}}), registry=registry, period=Period.parse("2026-Q4"),
        out=tmp_path / "out", only={"weather"}, catalog_dir=_catalog_with_weather(tmp_path),
    ).run()
    (finding,) = result.findings
    assert (finding.control_id, finding.check_id, finding.status) == ("WEATHER", "weather.sunny", Status.FAIL)
    assert finding.resource_id == "london" and finding.evidence
    assert result.bundle is not None and (result.bundle / finding.evidence[0]).is_file()
    assert [v.control_id for v in result.verdicts] == ["WEATHER"]
    assert result.exit_code == 1


def test_a_plugin_section_is_validated_with_the_plugins_own_model(plugin_on_path: Path, tmp_path: Path) -> None:
    """Issue 12, acceptance 3: an out-of-tree collector brings its own `[weather]` section; a wrong
    type there is the usual one line naming the key, exit 2, before any collection."""
    config = tmp_path / "evidence.toml"
    config.write_text('[weather]\ncities = "london"\n', encoding="utf-8")
    out = tmp_path / "out"
    ran = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "weather", "--out", str(out),
                                   "--catalog", str(_catalog_with_weather(tmp_path))])
    assert ran.exit_code == 2
    assert ran.output.strip().splitlines() == [
        f"evidence: error: {config}: key 'weather.cities': Input should be a valid list (got str)"]
    assert not out.exists() or not any(out.rglob("manifest.json"))
    config.write_text("[weather]\ncities = []\n", encoding="utf-8")
    empty = CliRunner().invoke(cli, ["run", "--config", str(config), "--only", "weather", "--out", str(out)])
    assert empty.exit_code == 2 and "key 'weather.cities'" in empty.output and "at least 1 item" in empty.output


def test_a_plugin_without_its_section_is_not_configured(plugin_on_path: Path, tmp_path: Path) -> None:
    result = Runner(
        config=parse_config({}), registry=Registry.load(), period=Period.parse("2026-Q4"), out=tmp_path / "out",
        only={"weather"}, catalog_dir=_catalog_with_weather(tmp_path),
    ).run()
    (finding,) = result.findings
    assert finding.status is Status.ERROR
    assert finding.message.startswith("weather evidence was not collected: no [weather] section in the "
                                      "configuration. Remedy: configure weather in evidence.toml")
    why = "not collected: no [weather] section in the configuration"
    assert result.manifest["scope"]["sources"] == {"weather": why}


def test_a_plugins_scope_is_in_the_manifest_and_on_the_report_cover(plugin_on_path: Path, tmp_path: Path) -> None:
    """Issue 12, acceptance 3: the collector says what it looked at; the manifest records it and
    the report's cover shows it, with no source-specific code in the core."""
    from evidence.pipeline import make_runner

    result = make_runner(
        parse_config({"weather": {"cities": ["london", "leeds"]}}), Registry.load(), Period.parse("2026-Q4"),
        tmp_path / "out", only={"weather"}, catalog_dir=_catalog_with_weather(tmp_path),
    ).run()
    assert result.bundle is not None
    manifest = json.loads((result.bundle / "manifest.json").read_text(encoding="utf-8"))
    rows = [["Cities forecast", "london, leeds"]]
    assert manifest["scope"]["details"] == {"weather": {"title": "Weather", "rows": rows}}
    cover = (result.bundle / "report.html").read_text(encoding="utf-8")
    assert "Cities forecast" in cover and "london, leeds" in cover


def test_a_plugin_that_fails_to_load_is_reported_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "broken"
    dist = site / "broken_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[evidence.checks]\nbroken = no_such_module_here\n")
    monkeypatch.syspath_prepend(str(site))
    registry = Registry.load()
    assert [e.name for e in registry.errors] == ["broken"]
    assert "ModuleNotFoundError" in registry.errors[0].error
    listed = CliRunner().invoke(cli, ["collectors", "list"])
    assert listed.exit_code != 0
    assert "plugin 'broken'" in listed.output
    result = Runner(
        config=parse_config({}), registry=registry, period=Period.parse("2026-Q4"), out=tmp_path / "out",
        only={"manual"},
    ).run()
    assert result.plugin_errors and result.exit_code != 0


LAZY_PLUGIN = '''
from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory
from evidence.collectors.base import Collector, Sink
from evidence.models import EvidenceRecord, Status, iso, utc_now


class AtlasCollector(Collector):
    source = "atlas"
    description = "A pretend list of cities"
    permission_kind = "API scope"
    permissions = {"atlas.ListCities": ("cities:read",)}

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        sink.record(EvidenceRecord(source="atlas", service="atlas", operation="ListCities",
                                   collected_at=iso(utc_now()),
                                   response={"cities": [{"name": n} for n in ("york", "lugo", "avila")]}))


CITIES = Inventory("atlas.ListCities", items="cities", id="name", resource_type="City")


@check(id="atlas.walled", source="atlas", description="Every city has walls.", inventory=CITIES)
def walled(ctx: CheckContext):
    first = ctx.items(CITIES)[0]  # judges only the first listed city
    yield ctx.finding(Status.PASS, resource_id=first.resource_id, message="walled", evidence=[first.ev])
'''


def test_a_plugin_check_that_leaves_listed_resources_unjudged_gets_an_error_for_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    dist = site / "atlas_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "atlas_plugin.py").write_text(LAZY_PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: atlas-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[evidence.collectors]\natlas = atlas_plugin:AtlasCollector\n\n[evidence.checks]\natlas = atlas_plugin\n"
    )
    monkeypatch.syspath_prepend(str(site))
    folder = tmp_path / "controls"
    folder.mkdir()
    (folder / "WALLS.toml").write_text('id = "WALLS"\ntitle = "Walls"\nstatement = "Walled."\ncriteria = ["CC9.9"]\n'
                                       '[[checks]]\nid = "atlas.walled"\n')
    registry = Registry.load()
    assert not registry.errors
    result = Runner(
        config=parse_config({}), registry=registry, period=Period.parse("2026-Q4"), out=tmp_path / "out",
        only={"atlas"}, catalog_dir=folder,
    ).run()
    got = {f.resource_id: f for f in result.findings}
    assert got["york"].status is Status.PASS
    for city in ("lugo", "avila"):
        assert got[city].status is Status.ERROR
        assert "not judged by atlas.walled" in got[city].message
        assert got[city].evidence and got[city].evidence[0].startswith("evidence/atlas/")
    assert [v.verdict for v in result.verdicts] == [Status.ERROR]
    assert result.exit_code == 3
