"""`evidence run`, `demo`, `evaluate`, `verify`: making a bundle, and checking one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from evidence.bundle import BundleError, verify
from evidence.cli.common import (
    _EPILOG,
    _catalog_dir,
    _config,
    _fail,
    _manual_inputs,
    _out_dir,
    _period,
    _progress_printer,
    _registry,
    _split,
    execute,
    print_summary,
    record_and_alert,
    refuse_altered,
    report_run,
    run_causes,
)
from evidence.cli.machine import FORMAT_OPTION, emit, run_doc
from evidence.cli.outputs import FAIL_ON, copy_outputs, gated_exit, human_echo, parse_fail_on, with_copies
from evidence.cli.period import print_coverage
from evidence.config import Config, ConfigError
from evidence.evaluate import artifacts_that_differ, evaluate_into
from evidence.exit_codes import EXIT_FAIL, exit_code_for
from evidence.models import Period
from evidence.period.bundle import is_period_bundle, recompute_differences, verify_runs
from evidence.period.runs import PeriodError
from evidence.pipeline import make_runner


@click.command(epilog=_EPILOG)
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
@click.option("--period", default=None, help="Audit period, e.g. 2026-Q4 (default: the current quarter).")
@click.option("--out", default=None, help="Output folder (default: [bundle] out, else ./evidence-out).")
@click.option("--only", default=None, help="Comma-separated sources: aws,google_workspace,github,probe,manual.")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(file_okay=False), help="Catalog folder.")
@click.option("--shard", default=None, metavar="K/N",
              help="Collect shard K (from 0) of N into a shard bundle for `evidence merge`; auto/N reads K from "
                   "JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX or EVIDENCE_SHARD_INDEX.")
@FORMAT_OPTION
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary; errors only (and the json document).")
@click.option("--fail-on", default=",".join(FAIL_ON), show_default=True, metavar="fail,error,drift",
              help="What makes the exit code non-zero: failing controls (1), errors (3), drift (4).")
@click.option("--soft-fail", is_flag=True, help="Exit 0 whatever the verdicts (2 still means a usage error).")
@click.option("--sarif", "sarif_path", default=None, type=click.Path(path_type=Path, dir_okay=False),
              help="Also copy the bundle's evidence.sarif here (for GitHub code scanning).")
@click.option("--junit", "junit_path", default=None, type=click.Path(path_type=Path, dir_okay=False),
              help="Also copy the bundle's junit.xml here (for CI test reports).")
def run(
    config_path: str | None, period: str | None, out: str | None, only: str | None, catalog_dir: str | None,
    shard: str | None, output_format: str, quiet: bool, fail_on: str, soft_fail: bool, sarif_path: Path | None,
    junit_path: Path | None,
) -> None:
    """Collect, judge, write a bundle and print the verdicts; record the run in the history,
    report drift since the last run and send alerts to [alerts] urls.

    With --shard K/N, collect only shard K's part of the work into a shard bundle under
    OUT/shards/; `evidence merge` judges the plan's shards as one run."""
    gate = parse_fail_on(fail_on)
    if gate is None:
        _fail(f"--fail-on: {fail_on!r} is not a comma-separated list of {', '.join(FAIL_ON)}")
    cfg = _config(config_path, note=not quiet)
    if shard is not None:
        if output_format == "json" or sarif_path or junit_path:
            _fail("--shard collects part of a run: --format json, --sarif and --junit belong on evidence merge's run")
        _run_shard(cfg, out, shard, period, only, catalog_dir)
    if out is not None and out.startswith("s3://"):
        _fail(f"--out {out}: only a shard (--shard K/N) is written to S3; a run, or a merge, writes to a folder")
    out_dir = _out_dir(cfg, out)
    catalog = _catalog_dir(cfg, catalog_dir)
    attachments, waivers, files = _manual_inputs(cfg, out_dir, catalog)
    display = _progress_printer(quiet=quiet)
    runner = make_runner(
        cfg,
        _registry(),
        _period(period),
        out_dir,
        only=_split(only),
        catalog_dir=catalog,
        progress=display,
        attachments=attachments,
        waivers=waivers,
        files=files,
    )
    result = execute(runner)
    echo = human_echo(output_format, quiet)
    # read once, for the summary and the document; nobody reads them with --quiet alone
    causes = run_causes(result) if not quiet or output_format == "json" else {}
    code, outcome = record_and_alert(result, cfg, out_dir, report_run(result, echo, causes), echo=echo,
                                     progress=display)
    copied = copy_outputs(result.bundle, {"evidence.sarif": sarif_path, "junit.xml": junit_path}, echo)
    final = with_copies(gated_exit(code, result.verdicts, outcome.drift.drifted if outcome is not None else False,
                                   gate, soft_fail, result.plugin_errors), copied)
    if output_format == "json":
        history = out_dir / "history.sqlite" if outcome is not None else None
        emit("run", run_doc(result, outcome, final, history, causes))
    sys.exit(final)


def _run_shard(
    cfg: Config, out: str | None, text: str, period: str | None, only: str | None, catalog_dir: str | None
) -> NoReturn:
    import shutil
    import tempfile

    from evidence.shard_store import S3Location, StoreError, is_s3, upload
    from evidence.shards import ShardError, parse_shard

    try:
        spec = parse_shard(text)
        if out is not None and is_s3(out):
            S3Location.parse(out)
    except (ShardError, StoreError) as exc:
        _fail(str(exc))
    with tempfile.TemporaryDirectory(prefix="evidence-shard-") as scratch:
        # to S3: sealed in a scratch folder, then uploaded with its manifest last
        out_dir = Path(scratch) if out is not None and is_s3(out) else _out_dir(cfg, out)
        runner = make_runner(cfg, _registry(), _period(period), out_dir, only=_split(only),
                             catalog_dir=_catalog_dir(cfg, catalog_dir), progress=_progress_printer(),
                             shard=spec)
        result = execute(runner)
        where = str(result.bundle)
        if out is not None and is_s3(out) and result.bundle is not None:
            try:
                where = upload(result.bundle, out)
            except StoreError as exc:
                # the evidence is sealed: kept on this machine rather than lost with the scratch folder
                kept = _out_dir(cfg, None) / "shards" / result.bundle.parent.name / result.bundle.name
                try:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copytree(result.bundle, kept)
                except OSError as copy_exc:
                    _fail(f"{exc}; and the shard could not be kept in {kept} ({copy_exc.strerror or copy_exc})")
                _fail(f"{exc}; the sealed shard is kept in {kept}: upload that folder to the prefix, manifest last")
    records = sum(result.api_calls.values())
    click.echo(f"{spec.name.replace('-', ' ')}: {records} evidence records in {where}")
    for line in result.user_errors + result.plugin_errors:
        # the user errors are in the shard's manifest (the merge reports them, with their exit
        # code); a plugin error is the installation's, and the merge's registry reports it too
        click.echo(f"  {line}", err=True)
    # sealed (and uploaded): exit 0, so that the engine does not run the shard again and leave
    # two bundles of it; the merge judges, and reports the shard's errors
    sys.exit(0)


@click.command()
@click.option("--out", default=None, help="Output folder (default: a temporary folder).")
@click.option("--period", is_flag=False, flag_value="", default=None, metavar="[QUARTER]",
              help="Simulate a quarter of weekly runs and build its period bundle (default: the current quarter).")
def demo(out: str | None, period: str | None) -> None:
    """Run the whole pipeline against a built-in simulated company (no credentials needed).

    With --period [QUARTER] (default: the current quarter), simulate the quarter instead: 13
    weekly runs in which one listener degrades for two weeks and a person leaves, then the
    period bundle and its coverage summary."""
    from evidence.demo import missing_extra

    missing = missing_extra()
    if missing is not None:
        _fail(missing)
    from evidence.demo.scratch import exit_on_sigterm, sweep_stale

    exit_on_sigterm()
    sweep_stale()
    if period is not None:
        _demo_period(Path(out) if out else None, _period(period or None))
        return
    from evidence.demo.run import DEMO_PUBLIC_KEY, run_demo

    options: dict[str, Any] = {}
    if out:
        # manual evidence attached to the demo's output folder (`evidence attach ... --out`) is judged too
        options["attachments"], _, options["files"] = _manual_inputs(Config(), Path(out), None, waivers=False)
    result = run_demo(Path(out) if out else None, _period(period), progress=_progress_printer(), **options)
    code = report_run(result)
    if result.bundle is not None:
        code = record_and_alert(result, Config(), result.bundle.parents[1], code, brief=True)[0]
    if result.bundle is not None:
        key = result.bundle.parents[1] / DEMO_PUBLIC_KEY
        click.echo(f"verify: evidence verify {result.bundle} --public-key {key}")
    click.echo(f"(demo exit code would be {code}: the simulated company fails some controls on purpose)")


@click.command(name="evaluate")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Write the re-judged findings here.")
@click.option("--no-verify", is_flag=True, help="Re-judge even when the bundle's hashes do not verify.")
def evaluate_cmd(bundle: Path, output: Path | None, no_verify: bool) -> None:
    """Re-judge a bundle offline from its raw evidence; compare with its findings.json, and build
    every declared artifact (population files) again, naming any that differ.

    The bundle is verified first: re-judging altered evidence proves nothing."""
    if is_period_bundle(bundle):
        _evaluate_period(bundle, no_verify)
    from evidence.bundle import not_a_bundle

    reason = not_a_bundle(bundle)
    if reason is not None:
        _fail(reason)
    if not no_verify:
        refuse_altered(verify(bundle), "the bundle does not verify; not re-judged (--no-verify to force)")
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
        artifacts = artifacts_that_differ(bundle, _registry())
    except (BundleError, ConfigError) as exc:
        _fail(str(exc))
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)
    print_summary(verdicts)
    for problem in artifacts:
        click.echo(f"artifact DIFFERS: {problem}", err=True)
    if same and not artifacts:
        click.echo("re-judged findings match findings.json byte for byte, and every artifact builds again alike")
        sys.exit(exit_code_for(verdicts))
    if not same:
        click.echo("re-judged findings DIFFER from findings.json", err=True)
    sys.exit(EXIT_FAIL)


@click.command(name="verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The company's Ed25519 public key (PEM or OpenSSH): manifest.sig must be its signature.")
def verify_cmd(bundle: Path, public_key: Path | None) -> None:
    """Check every file's hash against the manifest, and with --public-key the signature;
    exit 1 naming each file or signature that is wrong."""
    from evidence.bundle import SIGNATURE, load_manifest, not_a_bundle
    from evidence.reports import manifest_content_digest
    from evidence.signing import KeyFileError, fingerprint, load_public_key, signature_check

    reason = not_a_bundle(bundle)
    if reason is not None:  # exit 2: not a bundle at all, which is not the same as an altered one (exit 1)
        _fail(reason)
    check = None
    if public_key is not None:
        try:
            key = load_public_key(public_key)
        except KeyFileError as exc:
            _fail(f"--public-key: {exc}")
        check = signature_check(key)
    problems = verify(bundle, verify_signature=check)
    period = is_period_bundle(bundle)
    if period and not problems:
        # a period bundle also vouches for every run bundle it draws on
        try:
            problems = verify_runs(bundle, verify_signature=check)
        except PeriodError as exc:
            problems = [str(exc)]
    refuse_altered(problems)
    manifest = load_manifest(bundle)
    click.echo(f"{bundle}: every file matches the manifest ({len(manifest.get('files', {}))} files)")
    if period:
        click.echo(f"runs: all {len(manifest['runs'])} run bundles it draws on match their pinned manifests")
    if public_key is not None:
        click.echo(f"signature: valid, Ed25519 key {fingerprint(key)}")
    elif (bundle / SIGNATURE).is_file():
        click.echo(f"signature: {SIGNATURE} present but not checked; give --public-key KEY to check it")
    else:
        click.echo("signature: none (the bundle is not signed)")
    click.echo(f"content digest: {manifest_content_digest(manifest)} (the report's cover shows the same)")


def _evaluate_period(bundle: Path, no_verify: bool) -> None:
    """A period bundle: coverage.json and deviations.csv computed again from its run bundles."""
    if not no_verify:
        try:
            problems = verify(bundle) or verify_runs(bundle)
        except PeriodError as exc:
            problems = [str(exc)]
        refuse_altered(problems, "the period bundle does not verify; not recomputed (--no-verify to force)")
    try:
        differ = recompute_differences(bundle)
    except PeriodError as exc:
        _fail(str(exc))
    for line in differ:
        click.echo(f"DIFFERS {line}", err=True)
    if differ:
        sys.exit(EXIT_FAIL)
    click.echo("coverage.json and deviations.csv computed again from the run bundles match byte for byte")
    sys.exit(0)


def _demo_period(out: Path | None, period: Period) -> None:
    from evidence.demo.period import run_demo_period

    bundle, coverage = run_demo_period(out, period, progress=_progress_printer())
    click.echo(f"period {period.name}: weekly runs of the simulated company, period bundle {bundle}")
    print_coverage(coverage)
    click.echo(f"report: {bundle / 'report.html'} (and report.pdf, coverage.csv, deviations.csv, populations/)")
    click.echo(f"verify: evidence verify {bundle}")
