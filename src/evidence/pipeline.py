"""The pipeline `evidence run` and `evidence demo` share: one function builds it, so both
collect, judge, write the declared artifacts and render every report the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence.config import Config
from evidence.models import Period
from evidence.registry import Registry
from evidence.runner import Runner


def make_runner(config: Config, registry: Registry, period: Period, out: Path, **options: Any) -> Runner:
    """A `Runner` whose last phase renders every report format (html, pdf, csv, oscal) into the
    bundle; `options` are the Runner's other fields (only, catalog_dir, progress, attachments,
    waivers, files, collector_factory, shard, shards)."""
    from evidence.reports import FORMATS

    return Runner(config=config, registry=registry, period=period, out=out, report_formats=tuple(FORMATS),
                  **options)


__all__ = ["make_runner"]
