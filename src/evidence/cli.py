"""The `evidence` command line (DESIGN.md, "Command line"); exit codes in `_EPILOG`."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from evidence import __version__
from evidence.bundle import BundleError, verify
from evidence.catalog import CatalogError, load_catalog, validate_catalog
from evidence.checks.github import write_merged_pull_requests_csv
from evidence.checks.params import describe as describe_params
from evidence.config import Config, ConfigError, load_config
from evidence.models import ControlVerdict, Period, Status
from evidence.registry import Registry
from evidence.report import FORMATS as REPORT_FORMATS
from evidence.report import ReportHook
from evidence.runner import EXIT_FAIL, EXIT_USAGE, Runner, RunResult, evaluate_into, exit_code_for

if TYPE_CHECKING:
    from evidence.drift import Outcome
    from evidence.judge import Attachment, Waiver

_EPILOG = """\b
Exit codes:
  0  no control fails or errors (controls awaiting manual evidence are reported, not counted)
  1  some control fails
  2  usage or configuration error (one line names what to fix)
  3  some evidence could not be collected (errors), and nothing fails
  4  drift (run, drift): since the last run (or the baseline) something went wrong that
     leaves no control failing, e.g. manual evidence or a waiver expired or expires within
     [alerts] warn_days; `evidence drift` exits 4 on any drift, 0 on none
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
    # the HTTP libraries' own debug logs print request headers and bodies (session tokens,
    # AssumeRole's secret key, bearer tokens): never below INFO, whatever -v says
    for noisy in ("botocore", "boto3", "urllib3", "googleapiclient", "google.auth", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.INFO)


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
    """Collect, judge, write a bundle and print the verdicts; record the run in the history,
    report drift since the last run and send alerts to [alerts] urls."""
    cfg = _config(config_path)
    out_dir = _out_dir(cfg, out)
    attachments, waivers, files = _manual_inputs(cfg, out_dir, Path(catalog_dir) if catalog_dir else None)
    runner = Runner(
        config=cfg,
        registry=_registry(),
        period=_period(period),
        out=out_dir,
        only=_split(only),
        catalog_dir=Path(catalog_dir) if catalog_dir else None,
        progress=_progress_printer(),
        attachments=attachments,
        waivers=waivers,
        files=files,
    )
    runner.hooks.append(write_merged_pull_requests_csv)  # github/merged-pull-requests.csv
    # last hook: the reports are rendered from, and their cover digest covers, every other file
    runner.hooks.append(ReportHook(runner.registry.checks))
    result = execute(runner)
    sys.exit(record_and_alert(result, cfg, out_dir, report_run(result)))


@cli.command()
@click.option("--out", default=None, help="Output folder (default: a temporary folder).")
@click.option("--period", default=None, help="Audit period (default: the current quarter).")
def demo(out: str | None, period: str | None) -> None:
    """Run the whole pipeline against a built-in simulated company (no credentials needed)."""
    from evidence.demo import DEMO_PUBLIC_KEY, run_demo

    options: dict[str, Any] = {}
    if out:
        # manual evidence attached to the demo's output folder (`evidence attach ... --out`) is judged too
        options["attachments"], _, options["files"] = _manual_inputs(Config(), Path(out), None, waivers=False)
    result = run_demo(Path(out) if out else None, _period(period), progress=_progress_printer(), **options)
    code = report_run(result)
    if result.bundle is not None:
        code = record_and_alert(result, Config(), result.bundle.parents[1], code, brief=True)
    if result.bundle is not None:
        key = result.bundle.parents[1] / DEMO_PUBLIC_KEY
        click.echo(f"reports: {result.bundle / 'report.html'} (and report.pdf, findings.csv, oscal/)")
        click.echo(f"verify: evidence verify {result.bundle} --public-key {key}")
    click.echo(f"(demo exit code would be {code}: the simulated company fails some controls on purpose)")


@cli.command(name="evaluate")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Write the re-judged findings here.")
@click.option("--no-verify", is_flag=True, help="Re-judge even when the bundle's hashes do not verify.")
def evaluate_cmd(bundle: Path, output: Path | None, no_verify: bool) -> None:
    """Re-judge a bundle offline from its raw evidence; compare with its findings.json.

    The bundle is verified first: re-judging altered evidence proves nothing."""
    if not no_verify:
        problems = verify(bundle)
        if problems:
            for p in problems:
                click.echo(f"MISMATCH {p}", err=True)
            click.echo("the bundle does not verify; not re-judged (--no-verify to force)", err=True)
            sys.exit(EXIT_FAIL)
    import filecmp
    import tempfile

    # re-judged findings are written to a file as they are judged and compared file to file,
    # so re-judging a large bundle never holds its findings in memory
    scratch: Path | None = None
    if output is None:
        with tempfile.NamedTemporaryFile(prefix="evidence-evaluate-", suffix=".json", delete=False) as tmp:
            output = scratch = Path(tmp.name)
    try:
        try:
            fh = output.open("w", encoding="utf-8")
        except OSError as exc:
            _fail(f"--output {output}: cannot write ({exc.strerror or exc})")
        with fh:
            verdicts = evaluate_into(bundle, _registry(), fh)
        stored = bundle / "findings.json"
        same = stored.is_file() and filecmp.cmp(stored, output, shallow=False)
    except (BundleError, ConfigError) as exc:
        _fail(str(exc))
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)
    print_summary(verdicts)
    if same:
        click.echo("re-judged findings match findings.json byte for byte")
        sys.exit(exit_code_for(verdicts))
    click.echo("re-judged findings DIFFER from findings.json", err=True)
    sys.exit(EXIT_FAIL)


@cli.command(name="verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The company's Ed25519 public key (PEM or OpenSSH): manifest.sig must be its signature.")
def verify_cmd(bundle: Path, public_key: Path | None) -> None:
    """Check every file's hash against the manifest, and with --public-key the signature;
    exit 1 naming each file or signature that is wrong."""
    from evidence.bundle import SIGNATURE, load_manifest
    from evidence.report import manifest_content_digest
    from evidence.signing import KeyFileError, fingerprint, load_public_key, signature_check

    check = None
    if public_key is not None:
        try:
            key = load_public_key(public_key)
        except KeyFileError as exc:
            _fail(f"--public-key: {exc}")
        check = signature_check(key)
    problems = verify(bundle, verify_signature=check)
    if problems:
        for p in problems:
            click.echo(f"MISMATCH {p}", err=True)
        sys.exit(EXIT_FAIL)
    manifest = load_manifest(bundle)
    click.echo(f"{bundle}: every file matches the manifest ({len(manifest.get('files', {}))} files)")
    if public_key is not None:
        click.echo(f"signature: valid, Ed25519 key {fingerprint(key)}")
    elif (bundle / SIGNATURE).is_file():
        click.echo(f"signature: {SIGNATURE} present but not checked; give --public-key KEY to check it")
    else:
        click.echo("signature: none (the bundle is not signed)")
    click.echo(f"content digest: {manifest_content_digest(manifest)} (the report's cover shows the same)")


@cli.command(name="report")
@click.argument("bundle", type=click.Path(path_type=Path, file_okay=False))
@click.option("--format", "formats", default=",".join(REPORT_FORMATS), show_default=True,
              help="Comma-separated: html, pdf, csv, oscal.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder to write to (default ./report-RUN_ID); its links point back into the bundle.")
@click.option("--in-place", is_flag=True,
              help="Write into the bundle and re-seal its manifest (only an intact, unsigned bundle).")
def report_cmd(bundle: Path, formats: str, out: Path | None, in_place: bool) -> None:
    """Render reports from a bundle alone (no API calls). A sealed bundle is left untouched
    unless --in-place: its reports are listed in its manifest (and covered by its signature)."""
    from evidence.report import ReportError, load_bundle, regenerate_in_place, write_reports

    wanted = sorted(_split(formats) or set())
    unknown = [f for f in wanted if f not in REPORT_FORMATS]
    if unknown or not wanted:
        _fail(f"--format: unknown {', '.join(unknown) or '(empty)'} (choose from {', '.join(REPORT_FORMATS)})")
    if in_place and out is not None:
        _fail("--in-place and --out exclude each other")
    try:
        if in_place:
            written = regenerate_in_place(bundle, wanted)
        else:
            content = load_bundle(bundle)
            target = out or Path(f"report-{content.meta.get('run_id') or bundle.name}")
            if target.resolve() == bundle.resolve():
                _fail("--out is the bundle itself; use --in-place to write into a bundle")
            written = write_reports(content, target, wanted)
    except ReportError as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
    if in_place:
        click.echo(f"re-sealed {bundle / 'manifest.json'}")


@cli.command(name="export")
@click.argument("bundle", type=click.Path(path_type=Path, file_okay=False))
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The zip to write (default ./evidence-PERIOD-RUN_ID.zip).")
def export_cmd(bundle: Path, output: Path | None) -> None:
    """One zip for the auditor: the verified bundle and a README saying how to verify and re-judge it."""
    from evidence.bundle import load_manifest
    from evidence.export import ExportError, export_bundle

    try:
        manifest = load_manifest(bundle)
    except BundleError as exc:
        _fail(str(exc))
    period = (manifest.get("period") or {}).get("name", "period")
    target = output or Path(f"evidence-{period}-{manifest.get('run_id') or bundle.name}.zip")
    try:
        path = export_bundle(bundle, target)
    except ExportError as exc:
        click.echo(f"evidence: {exc}", err=True)
        sys.exit(EXIT_FAIL)
    click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")


# -- history, drift, alerts, waivers, manual evidence (evidence.history/drift/waivers/attachments)


def _out_dir(cfg: Config, out: str | None) -> Path:
    return Path(out) if out else cfg.resolve(cfg.bundle.out)


def _manual_inputs(
    cfg: Config, out_dir: Path, catalog_dir: Path | None, *, waivers: bool = True
) -> tuple[list[Attachment], list[Waiver], dict[str, Path]]:
    """Attachments to judge (from the output folder's store) and waivers (from the exceptions
    folder), validated before any API call; with the files to copy into the bundle."""
    from evidence.attachments import AttachmentError, for_run
    from evidence.models import utc_now
    from evidence.notify import unusable
    from evidence.waivers import WaiverError, WaiverSet, load_waivers

    bad = unusable(cfg.alerts.urls)
    if bad:
        _fail(f"{cfg.path or 'configuration'}: key 'alerts.urls': not a notification URL apprise can use: "
              f"{', '.join(bad)} (see https://appriseit.com/services/)")
    try:
        catalog = load_catalog(catalog_dir)
        found = load_waivers(cfg.resolve(cfg.bundle.exceptions_dir), catalog) if waivers else WaiverSet()
        atts = for_run(out_dir, utc_now().date(), catalog)
    except (CatalogError, WaiverError, AttachmentError) as exc:
        _fail(str(exc))
    return atts.attachments, found.waivers, {**atts.files, **found.files}


def _print_outcome(outcome: Outcome, brief: bool = False) -> None:
    from evidence.drift import render_drift, render_outcome

    lines = render_drift(outcome.drift)
    out, err = render_outcome(outcome)
    if brief:
        # the demo's first run: every condition is new, so the detail is the summary above again
        controls = len({c.control_id for c in outcome.drift.new})
        click.echo(f"{lines[0]}: {controls} controls with new conditions (details: evidence drift --out DIR)")
        click.echo(out[0] if out else f"alerts: {len(outcome.alerts)}")
    else:
        for line in lines + out:
            click.echo(line)
    for line in err:
        click.echo(line, err=True)


def record_and_alert(result: RunResult, cfg: Config, out_dir: Path, code: int, brief: bool = False) -> int:
    """After a run: record it in `<out>/history.sqlite`, report drift since the last run, send
    alerts; returns `code` composed with drift (`evidence.drift.compose_exit`). A failed
    notification is reported and recorded and does not change the code."""
    from evidence.drift import DriftError, after_run, compose_exit
    from evidence.history import HISTORY_FILE, HistoryError

    try:
        outcome = after_run(result, cfg.alerts, out=out_dir)
    except (HistoryError, DriftError) as exc:
        click.echo(f"evidence: error: the run was not recorded in the history: {exc}", err=True)
        return EXIT_USAGE
    _print_outcome(outcome, brief=brief)
    click.echo(f"history: {out_dir / HISTORY_FILE}")
    return compose_exit(code, outcome.drift.drifted)


_OUT_HELP = "Output folder holding the bundles and history.sqlite (default: [bundle] out)."


@cli.command(name="diff")
@click.argument("a")
@click.argument("b")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--max-fields", default=20, show_default=True, type=click.IntRange(min=1),
              help="Evidence fields shown per changed record.")
def diff_cmd(a: str, b: str, config_path: str | None, out: str | None, max_fields: int) -> None:
    """What changed from run A to run B: verdicts, findings new/resolved/changed, and for a
    changed finding the evidence fields that differ. A and B are bundle folders or run ids
    (or `latest`, `baseline`, a unique prefix) recorded in the output folder's history."""
    from evidence.drift import DriftError, diff_runs, render_diff, snapshot_from_bundle
    from evidence.history import History, HistoryError, Snapshot

    def resolve(ref: str) -> tuple[Snapshot, Path | None]:
        path = Path(ref)
        if path.is_dir():
            return snapshot_from_bundle(path), path
        out_dir = _out_dir(_config(config_path), out)
        with History.open(out_dir, create=False) as history:
            info = history.find(ref)
            bundle = Path(info.bundle) if Path(info.bundle).is_absolute() else out_dir / info.bundle
            if (bundle / "manifest.json").is_file():
                return snapshot_from_bundle(bundle), bundle
            click.echo(f"evidence: warning: bundle {bundle} not found; evidence records not compared", err=True)
            return history.snapshot(info), None

    try:
        (snap_a, bundle_a), (snap_b, bundle_b) = resolve(a), resolve(b)
    except (DriftError, HistoryError) as exc:
        _fail(str(exc))
    for line in render_diff(diff_runs(snap_a, snap_b), bundle_a, bundle_b, max_fields=max_fields):
        click.echo(line)


@cli.command(name="drift")
@click.option("--against", type=click.Choice(["last", "baseline"]), default="last", show_default=True,
              help="Compare the latest run with the previous run of the same sources, or with the baseline.")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
@click.option("--no-notify", is_flag=True, help="Only report; decide and send no alerts.")
def drift_cmd(against: str, config_path: str | None, out: str | None, no_notify: bool) -> None:
    """Drift of the latest recorded run and its alerts (an alert already sent is not sent
    again before [alerts] repeat_after_days). Exit 0: no drift; 4: drift; 2: usage error."""
    from evidence.drift import EXIT_DRIFT, DriftError, evaluate
    from evidence.history import History, HistoryError

    cfg = _config(config_path)
    out_dir = _out_dir(cfg, out)
    try:
        with History.open(out_dir, create=False) as history:
            outcome = evaluate(
                history, history.find("latest"), out=out_dir, alerts=cfg.alerts, against=against,
                notify=not no_notify,
            )
    except (HistoryError, DriftError) as exc:
        _fail(str(exc))
    _print_outcome(outcome)
    sys.exit(EXIT_DRIFT if outcome.drift.drifted else 0)


@cli.command()
@click.argument("run_ref", required=False)
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
def baseline(run_ref: str | None, config_path: str | None, out: str | None) -> None:
    """Show the baseline `evidence drift --against baseline` compares with, or set it to RUN_REF
    (a run id, a unique prefix, or `latest`)."""
    from evidence.history import History, HistoryError

    out_dir = _out_dir(_config(config_path), out)
    try:
        with History.open(out_dir, create=False) as history:
            info = history.set_baseline(run_ref) if run_ref else history.baseline()
    except HistoryError as exc:
        _fail(str(exc))
    if info is None:
        click.echo("no baseline set (evidence baseline RUN)")
        return
    click.echo(f"baseline: {info.run_id} ({info.period}, {info.reference_time.isoformat()})")


@cli.command(name="history")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--out", default=None, help=_OUT_HELP)
def history_cmd(config_path: str | None, out: str | None) -> None:
    """Runs recorded in the output folder's history, oldest first."""
    from evidence.history import History, HistoryError
    from evidence.models import iso

    out_dir = _out_dir(_config(config_path), out)
    try:
        with History.open(out_dir, create=False) as history:
            runs, base = history.runs(), history.baseline()
    except HistoryError as exc:
        _fail(str(exc))
    for r in runs:
        mark = "  (baseline)" if base is not None and base.run_id == r.run_id else ""
        click.echo(
            f"{r.run_id}  {r.period}  {iso(r.reference_time)}  exit {r.exit_code}  sources {r.scope_key}  "
            f"{r.bundle}{mark}"
        )


@cli.command(name="attach")
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
        click.echo(f"  needs ({cls.permission_kind}): {', '.join(perms)}")
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
            out[source] = {"kind": cls.permission_kind, "permissions": perms}
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
