"""`evidence merge`: a plan's shard bundles judged as one run."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import click

from evidence.bundle import verify
from evidence.cli.common import (
    _catalog_dir,
    _config,
    _fail,
    _manual_inputs,
    _out_dir,
    _progress_printer,
    _registry,
    execute,
    record_and_alert,
    report_run,
)
from evidence.exit_codes import EXIT_ERRORS
from evidence.models import Period, sha256_of
from evidence.pipeline import make_runner


@click.command(name="merge")
@click.argument("partials", nargs=-1, required=True)
@click.option("--config", "config_path", default=None, help="The configuration the shards ran with.")
@click.option("--out", default=None, help="Output folder (default: [bundle] out, else ./evidence-out).")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(file_okay=False), help="Catalog folder.")
def merge_cmd(partials: tuple[str, ...], config_path: str | None, out: str | None, catalog_dir: str | None) -> None:
    """Judge a plan's shard bundles as one run. PARTIALS are shard folders, folders holding
    them, or an S3 prefix the shards were written to (s3://bucket/prefix: every shard whose
    manifest is there). Every shard must be there once, of one plan, unaltered. The merged
    bundle is verified, reported on, recorded in the history and checked for drift like any
    run's."""
    with tempfile.TemporaryDirectory(prefix="evidence-merge-") as scratch:
        _merge(partials, Path(scratch), config_path, out, catalog_dir)


def _merge(partials: tuple[str, ...], scratch: Path, config_path: str | None, out: str | None,
           catalog_dir: str | None) -> NoReturn:
    from evidence.merge import MergeError, load_shards
    from evidence.shard_store import StoreError, download, is_s3

    folders: list[Path] = []
    origins: dict[Path, str] = {}
    try:
        for n, given in enumerate(partials):
            if is_s3(given):
                for url, local in download(given, scratch / str(n)):
                    folders.append(local)
                    origins[local] = url
            else:
                folders.append(Path(given))
        shards = load_shards(folders, origins)
    except (MergeError, StoreError) as exc:
        _fail(str(exc))
    if out is not None and is_s3(out):
        _fail(f"--out {out}: a merge writes its bundle and history to a folder")
    cfg = _config(config_path)
    plan = shards[0].manifest.get("plan", {})
    if sha256_of(cfg.public_dict()) != plan.get("config_digest"):
        _fail(f"{cfg.path or 'configuration'}: not the configuration the shards of plan {shards[0].plan[:12]} ran "
              "with; merge with that one (--config)")
    out_dir = _out_dir(cfg, out)
    catalog = _catalog_dir(cfg, catalog_dir)
    attachments, waivers, files = _manual_inputs(cfg, out_dir, catalog)
    try:
        period = Period.model_validate(shards[0].manifest["period"])
    except (KeyError, ValueError):
        _fail(f"{shards[0].label}: its manifest names no period")
    only = plan.get("only")  # the sources the shards were limited to (--only), and so the merge
    display = _progress_printer()
    runner = make_runner(cfg, _registry(), period, out_dir, catalog_dir=catalog, progress=display,
                         attachments=attachments, waivers=waivers, files=files, shards=shards,
                         only=set(only) if isinstance(only, list) else None)
    from evidence.catalog import CatalogError
    from evidence.run_catalog import load_checked_catalog

    try:
        digest = load_checked_catalog(runner.registry, catalog).digest
    except CatalogError as exc:
        _fail(str(exc))
    if digest != plan.get("catalog_digest"):
        _fail(f"the catalog is not the one the shards of plan {shards[0].plan[:12]} ran with (--catalog)")
    try:
        result = execute(runner)
    except MergeError as exc:  # found while taking the records in: two shards with the same record
        _fail(str(exc))
    assert result.bundle is not None
    problems = verify(result.bundle)
    if problems:
        click.echo(f"the merged bundle does not verify: {problems[0]}", err=True)
        sys.exit(EXIT_ERRORS)
    click.echo(f"merged {len(shards)} shards of plan {shards[0].plan[:12]}")
    sys.exit(record_and_alert(result, cfg, out_dir, report_run(result), progress=display)[0])


__all__ = ["merge_cmd"]
