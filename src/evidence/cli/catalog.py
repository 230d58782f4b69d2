"""`evidence controls list|show|validate`: the catalog."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from evidence.catalog import CatalogError, load_catalog, validate_catalog
from evidence.checks.params import describe as describe_params
from evidence.cli.common import (
    _fail,
    _registry,
)
from evidence.cli.machine import FORMAT_OPTION, emit
from evidence.exit_codes import EXIT_USAGE


@click.group()
def controls() -> None:
    """The catalog of stated controls."""


@controls.command(name="list")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path))
@FORMAT_OPTION
def controls_list(catalog_dir: Path | None, output_format: str) -> None:
    """Every control with its criteria and evidence."""
    try:
        cat = load_catalog(catalog_dir)
    except CatalogError as exc:
        _fail(str(exc))
    if output_format == "json":
        emit("controls", {"catalog_digest": cat.digest, "controls": [
            {"id": c.id, "title": c.title, "section": c.section, "statement": c.statement, "criteria": list(c.criteria),
             "checks": [{"id": r.id, "params": dict(r.params)} for r in c.checks], "manual": [m.id for m in c.manual],
             "remediate_within_days": c.remediate_within_days} for c in cat.controls.values()]})
        return
    for c in cat.controls.values():
        evidence = f"{len(c.checks)} checks" + (f", manual: {', '.join(m.id for m in c.manual)}" if c.manual else "")
        click.echo(f"{c.id:<20} {','.join(c.criteria):<12} {c.title} ({evidence})")


@controls.command(name="show")
@click.argument("control_id")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="The control as JSON (as stored in the catalog).")
def controls_show(control_id: str, catalog_dir: Path | None, as_json: bool) -> None:
    """One control in full, with every parameter of its checks (type, bounds, default, description)."""
    try:
        control = load_catalog(catalog_dir).get(control_id)
    except CatalogError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(control.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    reg = _registry()
    click.echo(f"{control.id}: {control.title}")
    click.echo(f"  SOC 2: {', '.join(control.criteria)}")
    click.echo(f"  statement: \"{control.statement.strip()}\"")
    for ref in control.checks:
        chk = reg.checks.get(ref.id)
        if chk is None:
            click.echo(f"  check {ref.id}: not installed")
            continue
        click.echo(f"  check {ref.id} ({chk.source}): {chk.description}")
        for n, inv in enumerate(chk.inventory.chain()):
            click.echo(f"    {'judges' if n == 0 else '  then'}: {inv.describe()}")
        for p in describe_params(chk.param_model):
            value = ref.params.get(p.name, p.default)
            set_here = " (set by the catalog)" if p.name in ref.params else ""
            bounds = f", {p.bounds}" if p.bounds else ""
            click.echo(f"    {p.name}: {p.type}{bounds}; default {json.dumps(p.default)}; "
                       f"value {json.dumps(value)}{set_here}")
            if p.description:
                click.echo(f"        {p.description}")
    for req in control.manual:
        click.echo(f"  manual {req.id}: {req.description} (valid {req.valid_for_days} days)")


@controls.command(name="validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def controls_validate(directory: Path | None) -> None:
    """Check a catalog: schema, statements, known checks and parameters."""
    reg = _registry()
    try:
        cat = load_catalog(directory)
    except CatalogError as exc:
        _fail(str(exc))
    problems = validate_catalog(cat, {cid: c.param_model for cid, c in reg.checks.items()})
    if problems:
        for p in problems:
            click.echo(f"invalid: {p}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{len(cat.controls)} controls valid")
