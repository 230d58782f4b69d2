"""`evidence catalog from-text|validate`: a catalog drafted from the company's own overview."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

from evidence.catalog import CatalogError, default_catalog_dir, load_catalog, validate_catalog
from evidence.catalog_diff import diff_catalogs
from evidence.catalog_text import NoPromisesError, RulesError, draft_from_file, explain, load_rules, write_catalog
from evidence.cli.catalog import controls_validate
from evidence.cli.common import _fail, _registry
from evidence.exit_codes import EXIT_USAGE


@click.group(name="catalog")
def catalog_group() -> None:
    """Your own catalog: draft it from your security overview, check it."""


@catalog_group.command(name="from-text")
@click.argument("overview", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the drafted controls (one TOML file each).")
@click.option("--explain", "show_explain", is_flag=True,
              help="Show which rule matched which words, and list the sentences no rule maps.")
@click.option("--rules", "rules_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your own rules file (start from a copy of the shipped rules.toml).")
@click.option("--force", is_flag=True, help="Replace the controls (*.toml) already in --out.")
def from_text_cmd(overview: Path, out: Path, show_explain: bool, rules_file: Path | None, force: bool) -> None:
    """Draft a catalog from a security overview (text, or a local HTML file).

    Each sentence that makes a testable promise becomes a control quoting it, with its SOC 2
    criteria, the checks that evidence it and the parameters its words state ("TLS 1.2" ->
    min_tls = "1.2"), by the rules in rules.toml: no network, no model. A promise no rule maps
    becomes a manual control quoting it (STMT-...), listed at the end of --explain."""
    try:
        rules = load_rules(rules_file)
    except RulesError as exc:
        _fail(str(exc))
    existing = sorted(out.glob("*.toml")) if out.is_dir() else []
    if existing and not force:
        _fail(f"{out} already holds {len(existing)} controls (*.toml): choose an empty folder, or --force to "
              "replace them")
    reg = _registry()
    check_params = {cid: c.param_model for cid, c in reg.checks.items()}
    try:
        drafted = draft_from_file(overview, rules=rules, check_params=check_params)
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{overview}: cannot read as UTF-8 text ({exc})")
    except NoPromisesError as exc:
        _fail(f"{overview}: {exc}")
    except RulesError as exc:
        _fail(str(exc))
    # drafted and checked apart, then put in place: a draft that fails, or a folder that cannot be
    # written, leaves the controls already in --out as they were
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".from-text-", dir=out) as scratch:
            write_catalog(drafted.drafts, Path(scratch), overview.name)
            try:
                problems = validate_catalog(load_catalog(Path(scratch)), check_params)
            except CatalogError as exc:
                problems = [str(exc)]
            if not problems:
                for path in existing:
                    path.unlink()
                for path in sorted(Path(scratch).glob("*.toml")):
                    path.replace(out / path.name)
    except OSError as exc:
        _fail(f"{out}: cannot write the catalog there ({exc.strerror or exc})")
    if show_explain:
        click.echo(explain(drafted), nl=False)
        click.echo()
    click.echo(f"{len(drafted.drafts)} controls drafted in {out}: {len(drafted.mapped)} by rules, "
               f"{len(drafted.unmapped)} manual (no rule maps their sentence)")
    if problems:  # a rule that names an unknown check or a parameter it does not take: nothing written
        for p in problems:
            click.echo(f"invalid: {p}", err=True)
        click.echo(f"evidence: error: the draft does not validate; {out} is left as it was", err=True)
        sys.exit(EXIT_USAGE)


CATALOG_README = """# This company's catalog of stated controls

One TOML file per control: a promise from the company's own security overview, and how
`evidence` proves it. Edit the statements to quote your own text, change the parameters to the
values you promise, remove what you do not claim, add what you do. `evidence catalog validate
DIR` checks the folder; `evidence controls show ID` lists every parameter a check takes.

    id = "ENC-TRANSIT"                 # letters, digits, dots, dashes, underscores
    title = "Encryption in transit"
    statement = "Our web servers encrypt data in transit ... (TLS 1.2) ..."   # quoted verbatim
    section = "Security Overview / Servers and Networking"                    # where it is stated
    criteria = ["CC6.7"]               # the SOC 2 criteria it serves
    remediate_within_days = 30         # a failing resource older than this is a deviation

    [[checks]]                         # each check that evidences the promise
    id = "aws.elbv2.listener_tls_min_version"
    params = { min_tls = "1.2" }       # the values your text states

    [[manual]]                         # evidence a person attaches (evidence attach)
    id = "pentest-report"
    description = "Third-party penetration test report"
    valid_for_days = 365

Use it with `[bundle] catalog = "<this folder>"` in evidence.toml, or `--catalog <this folder>`.
The report, the manifest and the OSCAL document then name this folder and the catalog's digest.
`evidence catalog from-text OVERVIEW --out DIR` drafts a catalog from an overview instead, and
`evidence catalog diff A B` shows what changed between two catalogs.
"""


@catalog_group.command(name="init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the controls (*.toml) already in DIRECTORY.")
def init_catalog(directory: Path, force: bool) -> None:
    """Copy the built-in catalog into DIRECTORY (in your repository) to edit, with a README on
    the control format; use it with `[bundle] catalog = "DIRECTORY"` or `--catalog DIRECTORY`."""
    existing = sorted(directory.glob("*.toml")) if directory.is_dir() else []
    if existing and not force:
        _fail(f"{directory} already holds {len(existing)} controls (*.toml): choose an empty folder, or --force")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path in existing:
            path.unlink()
        sources = sorted(default_catalog_dir().glob("*.toml"))
        for source in sources:
            shutil.copyfile(source, directory / source.name)
        (directory / "README.md").write_text(CATALOG_README, encoding="utf-8")
    except OSError as exc:
        _fail(f"{directory}: cannot write the catalog there ({exc.strerror or exc})")
    click.echo(f"{len(sources)} controls copied to {directory} (README.md explains the format)")
    click.echo(f'use it: [bundle] catalog = "{directory}" in evidence.toml, or --catalog {directory}')


@catalog_group.command(name="diff")
@click.argument("a", type=click.Path(file_okay=False, path_type=Path))
@click.argument("b", type=click.Path(file_okay=False, path_type=Path))
def diff_catalog(a: Path, b: Path) -> None:
    """What changed from catalog A to catalog B: controls added (+) or removed (-), and for a
    control in both (~) its statement, title, criteria, checks, parameters and manual evidence."""
    try:
        before, after = load_catalog(a), load_catalog(b)
    except CatalogError as exc:
        _fail(str(exc))
    changes = diff_catalogs(before, after)
    for change in changes:
        click.echo(change.line())
    added = sum(1 for c in changes if c.kind == "added")
    removed = sum(1 for c in changes if c.kind == "removed")
    changed = len({c.control_id for c in changes if c.kind == "changed"})
    click.echo(f"controls: {added} added, {removed} removed, {changed} changed"
               f" (catalog digest {before.digest[:12]} → {after.digest[:12]})")


# `evidence catalog validate [DIR]` is `evidence controls validate [DIR]`
catalog_group.add_command(controls_validate, name="validate")
