"""`evidence attach`: manual evidence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evidence.catalog import CatalogError, load_catalog

if TYPE_CHECKING:
    pass
from evidence.cli.common import (
    _OUT_HELP,
    _config,
    _fail,
    _out_dir,
)


@click.command(name="attach")
@click.argument("control_id")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--valid-until", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day the evidence is valid (YYYY-MM-DD).")
@click.option("--requirement", default=None, help="The control's manual requirement (when it has several).")
@click.option("--by", default=None, help="Who attaches it (default: the current user).")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path, file_okay=False))
def attach_cmd(
    control_id: str, file: Path, valid_until: Any, requirement: str | None, by: str | None,
    config_path: str | None, out: str | None, catalog_dir: Path | None,
) -> None:
    """Attach manual evidence (pentest report, DR test, training records) to a control: the
    file is stored with its sha256, who attached it and when, and every later bundle includes
    it while it is valid."""
    from evidence.attachments import AttachmentError, attach
    from evidence.models import utc_now

    out_dir = _out_dir(_config(config_path), out)
    until = valid_until.date()
    try:
        stored = attach(out_dir, load_catalog(catalog_dir), control_id, file, until, requirement=requirement, by=by)
    except (CatalogError, AttachmentError) as exc:
        _fail(str(exc))
    a = stored.attachment
    click.echo(
        f"attached {file} to {a.control_id} ({a.requirement}): sha256 {a.sha256}, valid until {a.valid_until}, "
        f"by {a.attached_by} at {a.attached_at}"
    )
    if until < utc_now().date():
        click.echo(f"evidence: warning: already expired on {until}; {a.control_id} stays manual", err=True)
