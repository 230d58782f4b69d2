"""`evidence export BUNDLE`: one zip for the auditor, with a short README.

    README.txt          what the bundle is, how to verify it and re-judge it
    <run-id>/...        the bundle, unchanged

The bundle is verified (every hash) before it is exported; a bundle that does not match its
manifest is never handed over. The zip is deterministic: entries sorted, timestamps taken
from the run, so exporting the same bundle twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path
from typing import Any

from evidence.bundle import MANIFEST, MANIFEST_DIGEST, SIGNATURE, BundleError, bundle_metadata, verify
from evidence.reports.content import manifest_content_digest
from evidence.signing import SignatureCheck


class ExportError(Exception):
    """A bundle that cannot be exported; the message names why."""


def _timestamp(manifest: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    stamp = str(manifest.get("finished_at") or "1980-01-01T00:00:00Z")
    try:
        d, t = stamp.rstrip("Z").split("T")
        y, mo, da = (int(x) for x in d.split("-"))
        h, mi, s = (int(x) for x in t.split(":")[:3])
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)
    return (max(y, 1980), mo, da, h, mi, s)


def readme(manifest: dict[str, Any], manifest_sha256: str) -> str:
    """The README.txt that opens the zip."""
    run_id = manifest.get("run_id") or manifest.get("period_id") or "RUN"
    period: dict[str, Any] = manifest["period"] if isinstance(manifest.get("period"), dict) else {}
    tool: dict[str, Any] = manifest["tool"] if isinstance(manifest.get("tool"), dict) else {}
    signature = manifest.get("signature") if isinstance(manifest.get("signature"), dict) else None
    signed = (
        f"Signed: yes, {signature.get('algorithm', 'Ed25519')} key {signature.get('public_key', '?')}.\n"
        "         Ask the company for its public key through a channel other than this zip, and\n"
        "         check that its fingerprint is the one above."
        if signature else "Signed: no (no signing key was configured); only the hashes can be checked."
    )
    # the distribution is soc2-evidence on the package index (`evidence` there is another
    # project); its command and import package are `evidence`
    version = tool.get("version")
    install = f"pip install 'soc2-evidence=={version}'" if version else "pip install soc2-evidence"
    return f"""SOC 2 evidence bundle
=====================

Company:        {manifest.get('company') or '(not named)'}
Audit period:   {period.get('name', '?')} ({period.get('start', '?')} to {period.get('end', '?')})
Run:            {run_id}, {manifest.get('started_at', '?')} to {manifest.get('finished_at', '?')}
Made by:        {tool.get('name', 'evidence')} {tool.get('version', '?')}
manifest.json:  sha256 {manifest_sha256}
Content digest: {manifest_content_digest(manifest)}
{signed}

Start with {run_id}/report.html (or report.pdf). Every finding links the raw evidence it was
judged from: one JSON file per API call under {run_id}/evidence/. findings.csv and controls.csv
open in a spreadsheet; oscal/assessment-results.json imports into OSCAL tools.

1. Verify (nothing altered since the run)
   {install}   (the tool that made the bundle; its command is `evidence`)
   evidence verify {run_id} --public-key COMPANY_PUBLIC_KEY.pem
   It checks the SHA-256 and size of every file against manifest.json, that no file was added
   or removed, manifest.json against manifest.sha256, and the Ed25519 signature manifest.sig;
   it names any file or signature that is wrong, and prints the content digest above (also on
   the report's cover).

   Without the tool (jq, sha256sum and OpenSSL 3):
     cd {run_id}
     sha256sum -c manifest.sha256
     jq -r '.files | to_entries[] | "\\(.value.sha256)  \\(.key)"' manifest.json | sha256sum -c
     openssl pkeyutl -verify -pubin -inkey COMPANY_PUBLIC_KEY.pem -rawin -in manifest.json -sigfile manifest.sig

2. Re-judge (same findings from the same raw evidence, offline)
   evidence evaluate {run_id}
   It re-runs every check on the stored evidence with the stored catalog and parameters
   (judging.json) and says whether the result matches findings.json byte for byte.

3. Regenerate the reports from the bundle alone
   evidence report {run_id} --out reports-{run_id}
   With the same tool version the files are identical to the bundle's own.

Sampling: findings.csv has one row per resource judged (e.g. every pull request merged in the
period); the evidence column names the files each row was judged from.
"""


def export_bundle(bundle: Path, output: Path, *, verify_signature: SignatureCheck | None = None) -> Path:
    """Write `output` (a zip): README.txt and the verified bundle under its run id (with
    `verify_signature`, its signature must verify too)."""
    problems = verify(bundle, verify_signature=verify_signature)
    if problems:
        raise ExportError(
            f"{bundle}: not exported, the bundle does not verify: " + "; ".join(problems[:5])
            + ("; ..." if len(problems) > 5 else "")
        )
    try:  # its metadata names the zip's folder and fills the README: checked, one safe name
        manifest = bundle_metadata(bundle)
    except BundleError as exc:
        raise ExportError(f"{exc}; it was sealed malformed, not exported") from None
    run_id = str(manifest.get("run_id") or manifest["period_id"])
    raw = (bundle / MANIFEST).read_bytes()
    stamp = _timestamp(manifest)
    names = sorted([*manifest["files"], MANIFEST, MANIFEST_DIGEST, *([SIGNATURE] if (bundle / SIGNATURE).is_file()
                                                                    else [])])
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.partial")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            def entry(arcname: str) -> zipfile.ZipInfo:
                info = zipfile.ZipInfo(arcname, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                return info

            zf.writestr(entry("README.txt"), readme(manifest, hashlib.sha256(raw).hexdigest()).encode("utf-8"))
            for rel in names:
                with (bundle / rel).open("rb") as src, zf.open(entry(f"{run_id}/{rel}"), "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    return output
