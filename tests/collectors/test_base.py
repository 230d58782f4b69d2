"""What every collector inherits: its configuration section, and "not configured"."""

from __future__ import annotations

from typing import ClassVar

from evidence.collectors.aws import AwsCollector
from evidence.collectors.aws_config import AwsConfig
from evidence.collectors.base import Collector, Sink
from evidence.config import Config, Section, SectionSpec, parse_config


class ToyConfig(Section):
    city: str


class Toy(Collector):
    source: ClassVar[str] = "toy"
    description: ClassVar[str] = "toy"
    permission_kind: ClassVar[str] = "none"
    permissions: ClassVar[dict[str, tuple[str, ...]]] = {"toy.List": ()}
    config_model: ClassVar[type[Section] | None] = ToyConfig

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:  # pragma: no cover - never collected here
        raise AssertionError


def test_a_declared_section_that_is_absent_is_not_configured_and_present_is_read() -> None:
    specs = {"toy": SectionSpec(ToyConfig)}
    assert Toy(parse_config({}, sections=specs)).not_configured() == "no [toy] section in the configuration"
    toy = Toy(parse_config({"toy": {"city": "leeds"}}, sections=specs))
    assert toy.not_configured() is None
    section = toy.settings(ToyConfig)
    assert section is not None and section.city == "leeds"


def test_aws_without_its_section_runs_on_its_defaults_even_from_a_bare_config() -> None:
    for config in (Config(), parse_config({})):
        aws = AwsCollector(config)
        assert aws.not_configured() is None
        assert aws.aws == AwsConfig()
