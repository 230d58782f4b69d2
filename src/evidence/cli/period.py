"""`evidence period PERIOD`: the period bundle (coverage, deviations, populations) from the run
bundles in the output folder, with no API call."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from evidence.bundle import load_manifest
from evidence.catalog import CatalogError, load_catalog
from evidence.cli.common import _OUT_HELP, _catalog_dir, _config, _fail, _out_dir, _period
from evidence.config import ConfigError
from evidence.exit_codes import EXIT_FAIL
from evidence.period.bundle import plan, write_period_bundle
from evidence.period.coverage import SCHEDULES, ControlCoverage
from evidence.period.runs import PeriodError, RunTampered
from evidence.sampling import SampleError
from evidence.signing import signer_for


@click.command(name="period")
@click.argument("period_name", metavar="PERIOD")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--schedule", type=click.Choice(sorted(SCHEDULES)), default="daily", show_default=True,
              help="How often runs are meant to happen: a day without a run (daily), or a week (weekly), is a gap.")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path, file_okay=False))
@click.option("--sample", is_flag=True, help="Also draw a sample of every population (sha256-rank/1, per-event sizes).")
@click.option("--seed", default=None, help="The sample's seed, chosen by the auditor (required with --sample).")
def period_cmd(period_name: str, config_path: str | None, out: str | None, schedule: str,
               catalog_dir: Path | None, sample: bool, seed: str | None) -> None:
    """Build the period bundle from the history and the run bundles (no API calls): per control
    and per day the worst verdict or a gap, each failing resource's episodes against the
    control's remediate_within_days, and the period's populations."""
    if sample and not seed:
        _fail("--sample needs --seed SEED, chosen by the auditor (a date and a dice roll, say)")
    cfg = _config(config_path)
    out_dir = _out_dir(cfg, out)
    period = _period(period_name)
    try:
        catalog = load_catalog(_catalog_dir(cfg, catalog_dir))
        p = plan(out_dir, period, schedule, catalog)
        signer = signer_for(cfg)
        bundle, coverage = write_period_bundle(out_dir, p, company=cfg.bundle.company, sign=signer,
                                               sample_seed=seed if sample else None)
    except RunTampered as exc:  # tampering, as `evidence verify` says it: exit 1, not a usage error
        click.echo(f"evidence: {exc}", err=True)
        sys.exit(EXIT_FAIL)
    except (PeriodError, CatalogError, ConfigError, SampleError) as exc:
        _fail(str(exc))
    click.echo(f"period {period.name}: {p.start} to {p.end}, {len(p.runs)} runs, schedule {schedule}")
    print_coverage(coverage)
    click.echo(f"period bundle: {bundle}")
    for error in load_manifest(bundle).get("report_errors", []):
        click.echo(f"evidence: report failed: {error} (the bundle is sealed without it; run evidence period again)",
                   err=True)


def print_coverage(coverage: list[ControlCoverage]) -> None:
    """Days per verdict for each control, and whether it operated throughout the period."""
    click.echo(f"{'control':<20} {'pass':>5} {'fail':>5} {'error':>5} {'manual':>6} {'gap':>5}  throughout")
    for cov in coverage:
        s = cov.summary()
        click.echo(f"{s['control_id']:<20} {s['days_passed']:>5} {s['days_failed']:>5} {s['days_errored']:>5} "
                   f"{s['days_manual']:>6} {s['days_not_covered']:>5}  {'yes' if s['operated_throughout'] else 'no'}")
