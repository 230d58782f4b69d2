"""`evidence report`, `export`: rendering a bundle for the auditor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from evidence.bundle import BundleError
from evidence.cli.common import (
    _config,
    _fail,
    _split,
)
from evidence.exit_codes import EXIT_FAIL
from evidence.reports import FORMATS as REPORT_FORMATS


def _default_target(name: str, option: str) -> Path:
    """`name` in the working folder: one file name, resolved, that stays there (the names are
    made from a bundle's metadata, which is untrusted even once checked)."""
    here = Path.cwd().resolve()
    target = (here / name).resolve()
    if name in ("", ".", "..") or Path(name).name != name or target.parent != here:
        _fail(f"the default output name {name!r} is not a file name in the working folder; give {option} PATH")
    return Path(name)


def _checked_metadata(bundle: Path) -> dict[str, Any] | None:
    """The bundle's manifest when its metadata is well formed, None otherwise (an altered
    manifest, which the verification that comes next refuses, exit 1)."""
    from evidence.bundle import bundle_metadata

    try:
        return bundle_metadata(bundle)
    except BundleError:
        return None


@click.command(name="report")
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
    from evidence.bundle import not_a_bundle
    from evidence.reports import BundleTampered, ReportError, load_bundle, regenerate_in_place, write_reports

    reason = not_a_bundle(bundle)
    if reason is not None:  # exit 2: not a bundle at all; an altered one is exit 1, below
        _fail(reason)
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
            if out is None:  # load_bundle checked the manifest's metadata: its ids are safe names
                meta = content.meta
                target = _default_target(f"report-{meta.get('run_id') or meta['period_id']}", "--out")
            else:
                target = out
            if target.resolve() == bundle.resolve():
                _fail("--out is the bundle itself; use --in-place to write into a bundle")
            written = write_reports(content, target, wanted)
    except BundleTampered as exc:
        click.echo(f"evidence: {exc}", err=True)
        sys.exit(EXIT_FAIL)
    except ReportError as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
    if in_place:
        click.echo(f"re-sealed {bundle / 'manifest.json'}")


@click.command(name="export")
@click.argument("bundle", type=click.Path(path_type=Path, file_okay=False))
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The zip to write (default ./evidence-PERIOD-RUN_ID.zip).")
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Ed25519 public key: the bundle's signature must verify with it (default: the public half "
                   "of [bundle] signing_key, when configured).")
@click.option("--config", "config_path", default=None, help="Configuration file (default ./evidence.toml).")
def export_cmd(bundle: Path, output: Path | None, public_key: Path | None, config_path: str | None) -> None:
    """One zip for the auditor: the verified bundle (hashes, and the signature when signed) and a
    README saying how to verify and re-judge it."""
    from evidence.bundle import SIGNATURE, not_a_bundle
    from evidence.config import ConfigError
    from evidence.reports import ExportError, export_bundle
    from evidence.signing import KeyFileError, load_public_key, signature_check, signer_for

    reason = not_a_bundle(bundle)
    if reason is not None:
        _fail(reason)
    signed = (bundle / SIGNATURE).is_file()
    check = None
    try:
        if public_key is not None:
            check = signature_check(load_public_key(public_key))
        elif signed:
            signer = signer_for(_config(config_path))
            check = signature_check(signer.key.public_key()) if signer is not None else None
    except KeyFileError as exc:
        _fail(f"--public-key: {exc}")
    except ConfigError as exc:  # a [bundle] signing_key that cannot be read
        _fail(str(exc))
    target = output
    if target is None:
        manifest = _checked_metadata(bundle)
        # a manifest that fails the check was altered after sealing (a malformed sealed one is
        # not a bundle, above): export_bundle refuses it, exit 1, before anything is written
        name = (f"evidence-{manifest['period']['name']}-{manifest.get('run_id') or manifest['period_id']}.zip"
                if manifest is not None else "evidence-export.zip")
        target = _default_target(name, "--output")
    try:
        path = export_bundle(bundle, target, verify_signature=check)
    except ExportError as exc:
        click.echo(f"evidence: {exc}", err=True)
        sys.exit(EXIT_FAIL)
    click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
    if signed and check is None:
        click.echo(f"evidence: warning: {SIGNATURE} was not checked; give --public-key KEY to check it", err=True)


# -- history, drift, alerts, waivers, manual evidence (evidence.history/drift/waivers/attachments)
