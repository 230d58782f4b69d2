"""The `evidence` command line (DESIGN.md, "Command line"); exit codes in `_EPILOG`."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import click

from evidence import __version__
from evidence.bundle import BundleError, verify
from evidence.catalog import CatalogError, load_catalog, validate_catalog
from evidence.config import Config, ConfigError, load_config
from evidence.models import ControlVerdict, Period, Status
from evidence.registry import Registry
from evidence.runner import EXIT_FAIL, EXIT_USAGE, Runner, RunResult, evaluate, exit_code_for

_EPILOG = """\b
Exit codes:
  0  no control fails or errors (controls awaiting manual evidence are reported, not counted)
  1  some control fails
  2  usage or configuration error (one line names what to fix)
  3  some evidence could not be collected (errors), and nothing fails
"""


class UserError(click.ClickException):
    """A mistake the user can fix: one line, exit code 2, no traceback."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"evidence: error: {self.format_message()}", err=True)


def _fail(message: str) -> NoReturn:
    raise UserError(message)


def _config(path: str | None) -> Config:
    try:
        if path is None:
            default = Path("evidence.toml")
            return load_config(default if default.is_file() else None)
        return load_config(Path(path))
    except ConfigError as exc:
        _fail(str(exc))


def _registry() -> Registry:
    reg = Registry.load()
    for err in reg.errors:
        click.echo(f"evidence: warning: {err}", err=True)
    return reg


_COLOURS = {
    Status.PASS: "green",
    Status.FAIL: "red",
    Status.ERROR: "yellow",
    Status.MANUAL: "cyan",
    Status.NOT_APPLICABLE: "white",
    Status.WAIVED: "blue",
}


def print_summary(verdicts: Iterable[ControlVerdict]) -> None:
    rows = list(verdicts)
    header = (
        f"{'control':<20} {'verdict':<15} {'pass':>5} {'fail':>5} {'error':>5} {'n/a':>5} {'manual':>6} {'waived':>6}"
    )
    click.echo(header)
    click.echo("-" * len(header))
    for v in rows:
        c = v.counts
        verdict = click.style(f"{v.verdict.value:<15}", fg=_COLOURS.get(v.verdict))
        click.echo(
            f"{v.control_id:<20} {verdict} {c.get('pass', 0):>5} {c.get('fail', 0):>5} "
            f"{c.get('error', 0):>5} {c.get('not_applicable', 0):>5} {c.get('manual', 0):>6} "
            f"{c.get('waived', 0):>6}"
        )
    totals: dict[str, int] = {}
    for v in rows:
        totals[v.verdict.value] = totals.get(v.verdict.value, 0) + 1
    click.echo("-" * len(header))
    click.echo("controls: " + ", ".join(f"{n} {k}" for k, n in sorted(totals.items())))


def _progress_printer() -> Callable[[str], None]:
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(message: str) -> None:
        now = time.monotonic()
        if tty:
            click.echo(f"\r\033[K{message}", err=True, nl=False)
        elif now - last[0] >= 5:
            click.echo(message, err=True)
        last[0] = now

    return show


def report_run(result: RunResult) -> int:
    if sys.stderr.isatty():
        click.echo("\r\033[K", err=True, nl=False)
    print_summary(result.verdicts)
    calls = sum(result.api_calls.values())
    by_source = ", ".join(f"{k} {v}" for k, v in sorted(result.api_calls.items()))
    click.echo(f"evidence records: {calls} API calls ({by_source})")
    click.echo(f"bundle: {result.bundle}")
    for err in result.plugin_errors:
        click.echo(f"evidence: plugin error: {err}", err=True)
    for err in result.user_errors:
        click.echo(f"evidence: error: {err}", err=True)
    return result.exit_code


def _split(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}


@click.group(epilog=_EPILOG)
@click.version_option(__version__, prog_name="evidence")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Collect, judge and bundle evidence for the controls a security overview states."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        for noisy in ("botocore", "boto3", "urllib3", "googleapiclient", "httpx"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _period(value: str | None) -> Period:
    try:
        return Period.parse(value) if value else Period.current()
    except ValueError as exc:
        _fail(f"--period: {exc}")


def execute(runner: Runner) -> RunResult:
    try:
        return runner.run()
    except (ConfigError, CatalogError) as exc:
        _fail(str(exc))


@cli.command(epilog=_EPILOG)
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--period", default=None, help="Audit period, e.g. 2026-Q4 (default: the current quarter).")
@click.option("--out", default=None, help="Output folder (default: [bundle] out, else ./evidence-out).")
@click.option("--only", default=None, help="Comma-separated sources: aws,google_workspace,github,probe,manual.")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(file_okay=False), help="Catalog folder.")
def run(
    config_path: str | None, period: str | None, out: str | None, only: str | None, catalog_dir: str | None
) -> None:
    """Collect, judge, write a bundle and print the verdicts."""
    cfg = _config(config_path)
    runner = Runner(
        config=cfg,
        registry=_registry(),
        period=_period(period),
        out=Path(out) if out else cfg.resolve(cfg.bundle.out),
        only=_split(only),
        catalog_dir=Path(catalog_dir) if catalog_dir else None,
        progress=_progress_printer(),
    )
    sys.exit(report_run(execute(runner)))


@cli.command()
@click.option("--out", default=None, help="Output folder (default: a temporary folder).")
@click.option("--period", default=None, help="Audit period (default: the current quarter).")
def demo(out: str | None, period: str | None) -> None:
    """Run the whole pipeline against a built-in simulated company (no credentials needed)."""
    from evidence.demo import run_demo

    result = run_demo(Path(out) if out else None, _period(period), progress=_progress_printer())
    code = report_run(result)
    click.echo(f"(demo exit code would be {code}: the simulated company fails some controls on purpose)")


@cli.command(name="evaluate")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Write the re-judged findings here.")
def evaluate_cmd(bundle: Path, output: Path | None) -> None:
    """Re-judge a bundle offline from its raw evidence; compare with its findings.json."""
    try:
        text, _, verdicts = evaluate(bundle, _registry())
    except (BundleError, ConfigError) as exc:
        _fail(str(exc))
    if output is not None:
        output.write_text(text, encoding="utf-8")
    print_summary(verdicts)
    stored = (bundle / "findings.json").read_text(encoding="utf-8") if (bundle / "findings.json").is_file() else ""
    if stored == text:
        click.echo("re-judged findings match findings.json byte for byte")
        sys.exit(exit_code_for(verdicts))
    click.echo("re-judged findings DIFFER from findings.json", err=True)
    sys.exit(EXIT_FAIL)


@cli.command(name="verify")
@click.argument("bundle", type=click.Path(path_type=Path))
def verify_cmd(bundle: Path) -> None:
    """Check every file's hash against the manifest; non-zero exit naming any mismatch."""
    problems = verify(bundle)
    if problems:
        for p in problems:
            click.echo(f"MISMATCH {p}", err=True)
        sys.exit(EXIT_FAIL)
    click.echo(f"{bundle}: every file matches the manifest")


@cli.group()
def controls() -> None:
    """The catalog of stated controls."""


@controls.command(name="list")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path))
def controls_list(catalog_dir: Path | None) -> None:
    """Every control with its criteria and evidence."""
    try:
        cat = load_catalog(catalog_dir)
    except CatalogError as exc:
        _fail(str(exc))
    for c in cat.controls.values():
        evidence = f"{len(c.checks)} checks" + (f", manual: {', '.join(m.id for m in c.manual)}" if c.manual else "")
        click.echo(f"{c.id:<20} {','.join(c.criteria):<12} {c.title} ({evidence})")


@controls.command(name="show")
@click.argument("control_id")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path))
def controls_show(control_id: str, catalog_dir: Path | None) -> None:
    """One control in full."""
    try:
        control = load_catalog(catalog_dir).get(control_id)
    except CatalogError as exc:
        _fail(str(exc))
    click.echo(json.dumps(control.model_dump(mode="json"), indent=2, ensure_ascii=False))


@controls.command(name="validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def controls_validate(directory: Path | None) -> None:
    """Check a catalog: schema, statements, known checks and parameters."""
    reg = _registry()
    try:
        cat = load_catalog(directory)
    except CatalogError as exc:
        _fail(str(exc))
    problems = validate_catalog(cat, {cid: c.params for cid, c in reg.checks.items()})
    if problems:
        for p in problems:
            click.echo(f"invalid: {p}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{len(cat.controls)} controls valid")


@cli.group()
def collectors() -> None:
    """Collector plugins."""


@collectors.command(name="list")
def collectors_list() -> None:
    """Collectors and checks found, with the permissions each needs."""
    reg = _registry()
    for source, cls in sorted(reg.collectors.items()):
        click.echo(f"{source}: {cls.description} [{reg.origins.get('collector:' + source, '')}]")
        perms = sorted({p for ps in cls.permissions.values() for p in ps})
        click.echo(f"  {cls.permission_kind}s: {', '.join(perms)}")
        for chk in sorted((c for c in reg.checks.values() if c.source == source), key=lambda c: c.id):
            click.echo(f"  check {chk.id}: {chk.description}")
    orphans = sorted(c.id for c in reg.checks.values() if c.source not in reg.collectors)
    for cid in orphans:
        click.echo(f"check {cid}: no collector for source {reg.checks[cid].source}")
    if reg.errors:
        sys.exit(EXIT_FAIL)


def permissions_document(reg: Registry) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for source, cls in sorted(reg.collectors.items()):
        perms = sorted({p for ps in cls.permissions.values() for p in ps})
        if source == "aws":
            out[source] = {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "EvidenceReadOnly", "Effect": "Allow", "Action": perms, "Resource": "*"}
                ],
            }
        else:
            out[source] = {cls.permission_kind.replace(" ", "_") + "s": perms}
    return out


@cli.command()
@click.option("--source", default=None, help="Only this source (aws prints a bare IAM policy document).")
def permissions(source: str | None) -> None:
    """The least-privilege IAM policy, Google scopes and GitHub token scopes evidence needs."""
    doc = permissions_document(_registry())
    if source is not None:
        if source not in doc:
            _fail(f"--source: unknown source '{source}' (known: {', '.join(doc)})")
        doc = doc[source]
    click.echo(json.dumps(doc, indent=2))


def main() -> None:
    cli(prog_name="evidence")
