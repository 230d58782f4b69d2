"""`evidence collectors list`, `permissions`: the plugins and what they need."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from evidence.cli.common import (
    _fail,
    _registry,
)
from evidence.cli.machine import FORMAT_OPTION, emit
from evidence.exit_codes import EXIT_FAIL
from evidence.registry import Registry


@click.group()
def collectors() -> None:
    """Collector plugins."""


@collectors.command(name="list")
@FORMAT_OPTION
def collectors_list(output_format: str) -> None:
    """Collectors and checks found, with the permissions each needs."""
    reg = _registry()
    if output_format == "json":
        emit("collectors", {
            "collectors": [{
                "source": source, "description": cls.description, "origin": reg.origins.get("collector:" + source, ""),
                "permission_kind": cls.permission_kind,
                "permissions": sorted({p for ps in cls.permissions.values() for p in ps}),
                "checks": [{"id": c.id, "description": c.description}
                           for c in sorted((c for c in reg.checks.values() if c.source == source), key=lambda c: c.id)],
            } for source, cls in sorted(reg.collectors.items())],
            "orphan_checks": sorted(c.id for c in reg.checks.values() if c.source not in reg.collectors),
            "errors": [str(e) for e in reg.errors],
        })
        sys.exit(EXIT_FAIL if reg.errors else 0)
    for source, cls in sorted(reg.collectors.items()):
        click.echo(f"{source}: {cls.description} [{reg.origins.get('collector:' + source, '')}]")
        perms = sorted({p for ps in cls.permissions.values() for p in ps})
        click.echo(f"  needs ({cls.permission_kind}): {', '.join(perms)}")
        for chk in sorted((c for c in reg.checks.values() if c.source == source), key=lambda c: c.id):
            click.echo(f"  check {chk.id}: {chk.description}")
    orphans = sorted(c.id for c in reg.checks.values() if c.source not in reg.collectors)
    for cid in orphans:
        click.echo(f"check {cid}: no collector for source {reg.checks[cid].source}")
    if reg.errors:
        sys.exit(EXIT_FAIL)


def permissions_document(reg: Registry) -> dict[str, Any]:
    """source -> what its collector needs, in the form the source grants it."""
    return {source: cls.permissions_document(sorted({p for ps in cls.permissions.values() for p in ps}))
            for source, cls in sorted(reg.collectors.items())}


@click.command()
@click.option("--source", default=None, help="Only this source (aws prints a bare IAM policy document).")
@FORMAT_OPTION
def permissions(source: str | None, output_format: str) -> None:
    """The least-privilege IAM policy, Google scopes and GitHub token scopes evidence needs
    (text: the documents themselves, ready to paste; json: them under `sources`, with the schema)."""
    doc = permissions_document(_registry())
    if source is not None:
        if source not in doc:
            _fail(f"--source: unknown source '{source}' (known: {', '.join(doc)})")
    if output_format == "json":
        emit("permissions", {"sources": {source: doc[source]} if source is not None else doc})
        return
    click.echo(json.dumps(doc[source] if source is not None else doc, indent=2))
