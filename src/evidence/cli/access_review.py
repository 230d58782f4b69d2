"""`evidence access-review start|complete`: the quarterly access review as evidence
(`evidence.access_review`)."""

from __future__ import annotations

from pathlib import Path

import click

from evidence.cli.common import _OUT_HELP, _catalog_dir, _config, _fail, _out_dir


@click.group(name="access-review")
def access_review_group() -> None:
    """The quarterly user access review: a worksheet from the latest run, then the completed
    worksheet recorded as ACCESS-LIFECYCLE's access-review evidence."""


@access_review_group.command(name="start")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--output", "output", default=None, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the worksheet (default ./access-review-<run-id>.csv).")
def start_cmd(config_path: str | None, out: str | None, output: Path | None) -> None:
    """Write the access review worksheet (CSV) of the latest run: one row per account, with an
    empty decision column (keep or revoke). Refused when the run's population is incomplete."""
    from evidence.access_review import AccessReviewError, start

    out_dir = _out_dir(_config(config_path), out)
    try:
        sheet = start(out_dir)
    except AccessReviewError as exc:
        _fail(str(exc))
    target = output if output is not None else Path(f"access-review-{sheet.run.run_id}.csv")
    try:
        target.write_text(sheet.csv_text(), encoding="utf-8", newline="")
    except OSError as exc:
        _fail(f"{target}: cannot write the worksheet ({exc.strerror or exc})")
    click.echo(f"wrote {target}: {len(sheet.rows)} account(s) of run {sheet.run.run_id}; fill in decision "
               "(keep or revoke) for each, then `evidence access-review complete FILE --by NAME`")


@access_review_group.command(name="complete")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--by", required=True, help="Who reviewed the access (recorded as the evidence's attached_by).")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path, file_okay=False),
              help="Catalog folder (default: [bundle] catalog, else the built-in catalog).")
def complete_cmd(file: Path, by: str, config_path: str | None, out: str | None, catalog_dir: Path | None) -> None:
    """Check a completed worksheet against its run (the latest recorded, its population complete; no
    row added, removed or altered; every row decided) and record it as ACCESS-LIFECYCLE's
    access-review evidence, valid from the run's reference date."""
    from evidence.access_review import AccessReviewError, complete
    from evidence.catalog import CatalogError, load_catalog

    cfg = _config(config_path)
    out_dir = _out_dir(cfg, out)
    try:
        catalog = load_catalog(_catalog_dir(cfg, catalog_dir))
        stored, run, revoked = complete(out_dir, catalog, file, by)
    except (CatalogError, AccessReviewError) as exc:
        _fail(str(exc))
    a = stored.attachment
    click.echo(f"recorded {file} as {a.control_id} ({a.requirement}) for run {run.run_id}: sha256 {a.sha256}, "
               f"{revoked} account(s) to revoke, by {a.attached_by} at {a.attached_at}, valid until {a.valid_until}")
