"""What every report is rendered from: a bundle folder, read and checked against its manifest.

Everything is read from the bundle folder (findings.json, controls.json, judging.json,
checks.json, the evidence files and the manifest's run metadata), so `evidence report`
reproduces what `evidence run` wrote, byte for byte, with the same tool version. Nothing in
the output depends on the clock or the machine.

The cover cannot show the digest of `manifest.json` (the reports are written before the
manifest that lists them). It shows the *content digest* instead: the SHA-256 of the canonical
JSON object that maps every file of the bundle except the reports and the manifest files to its
SHA-256. `evidence verify` prints the same digest from the manifest, so a reader can tie a
printed report to the bundle it came from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evidence.bundle import (
    MANIFEST,
    MANIFEST_DIGEST,
    SIGNATURE,
    BundleError,
    bundle_metadata,
    file_sha256,
    verify,
)
from evidence.checks.base import Check
from evidence.json_depth import TooDeep, check_depth
from evidence.judge import Judging, stream_findings
from evidence.models import ControlVerdict, Finding, sha256_of

FORMATS = ("html", "pdf", "csv", "oscal", "sarif", "junit")
OUTPUTS: dict[str, tuple[str, ...]] = {
    "html": ("report.html",),
    "pdf": ("report.pdf",),
    "csv": ("findings.csv", "controls.csv"),
    "oscal": ("oscal/assessment-results.json",),
    "sarif": ("evidence.sarif",),
    "junit": ("junit.xml",),
}
def written_reports(bundle: Path, report_errors: Collection[str] = ()) -> dict[str, list[Path]]:
    """Each report format's files in `bundle`, none for a format that failed (`<format>: why`)
    or whose files are not there."""
    failed = {e.split(":", 1)[0] for e in report_errors}
    return {fmt: [bundle / n for n in names] if fmt not in failed and all((bundle / n).is_file() for n in names)
            else [] for fmt, names in OUTPUTS.items()}


#: files the reports are written to: never inputs of a report, never in the content digest
REPORT_FILES = frozenset(name for names in OUTPUTS.values() for name in names)
#: the checks as they were at run time (id, source, description, ...), written by `ReportHook`
CHECKS_FILE = "checks.json"
_NOT_INPUTS = REPORT_FILES | {MANIFEST, MANIFEST_DIGEST, SIGNATURE}


class ReportError(Exception):
    """A bundle the reports cannot be rendered from; the message names the file."""


class BundleTampered(ReportError):
    """A bundle that does not verify: altered since it was sealed (exit 1, as `evidence verify`)."""


class CheckInfo(BaseModel):
    """What the report says about a check; `checks.json` keeps it so reports need no plugins."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    description: str
    requires: list[str] = Field(default_factory=list)
    resource_type: str = ""


def checks_json(checks: Mapping[str, Check]) -> str:
    """The exact bytes of `checks.json`."""
    rows = [
        CheckInfo(
            id=c.id, source=c.source, description=c.description, requires=list(c.requires),
            resource_type=c.resource_type,
        ).model_dump(mode="json")
        for c in sorted(checks.values(), key=lambda c: c.id)
    ]
    return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def content_digest(hashes: Mapping[str, str]) -> str:
    """SHA-256 of `{path: sha256}` over a bundle's files, reports and manifest files excluded."""
    return sha256_of({p: h for p, h in hashes.items() if p not in _NOT_INPUTS})


def manifest_content_digest(manifest: Mapping[str, Any]) -> str:
    """The content digest from a manifest's file list (what `evidence verify` prints)."""
    files: Mapping[str, Mapping[str, Any]] = manifest.get("files", {})
    return content_digest({p: str(meta.get("sha256", "")) for p, meta in files.items()})


@dataclass(frozen=True)
class BundleContent:
    """Everything a report shows, read from a bundle folder."""

    root: Path
    meta: dict[str, Any]
    verdicts: list[ControlVerdict]
    judging: Judging
    checks: dict[str, CheckInfo]
    #: every input file of the bundle (not a report, not a manifest file) -> sha256
    hashes: dict[str, str]

    def iter_findings(self) -> Iterator[Finding]:
        """The bundle's findings in `findings.json` order, parsed one at a time (a large bundle's
        findings are never all in memory)."""
        return stream_findings(self.root / "findings.json", ReportError)

    @property
    def findings(self) -> list[Finding]:
        """Every finding, in memory (prefer `iter_findings`)."""
        return list(self.iter_findings())

    @property
    def content_digest(self) -> str:
        return content_digest(self.hashes)


def _read_json(root: Path, rel: str) -> Any:
    path = root / rel
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: missing; this is not a complete bundle") from None
    except RecursionError:
        raise ReportError(f"{path}: unreadable (nested too deeply)") from None
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: unreadable ({exc})") from None


def _input_hashes(root: Path, digest: Callable[[Path], str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            if rel not in _NOT_INPUTS:
                out[rel] = digest(p)
    return out


def load_bundle(
    root: Path, metadata: Mapping[str, Any] | None = None, *, digest: Callable[[Path], str] = file_sha256
) -> BundleContent:
    """Read a bundle. `metadata` is the run metadata of a bundle still being written (the hook);
    without it the sealed manifest is read and every input file must match it. `digest` hashes
    a file (a bundle being written passes its own, which remembers what it hashed for the
    manifest)."""
    stored = metadata is None
    if metadata is None:
        # a stored bundle is untrusted: verified whole (links, paths, duplicates, hashes) before
        # any file of it is read, and the manifest's hashes are then the inputs' hashes
        # the reports themselves are outputs: one missing or rendered again is no reason to refuse
        problems = verify(root, outputs=REPORT_FILES)
        if problems:
            raise BundleTampered(
                f"{root}: does not verify ({'; '.join(problems[:5])}{'; ...' if len(problems) > 5 else ''}); run "
                "evidence verify, reports are not rendered from an altered bundle"
            )
        try:  # every report reads its metadata (run id, period, reference time): checked once, here
            manifest = bundle_metadata(root)
        except BundleError as exc:
            raise ReportError(f"{exc}; it was sealed malformed") from None
        hashes = {rel: str(m["sha256"]) for rel, m in sorted(manifest["files"].items()) if rel not in _NOT_INPUTS}
        metadata = manifest
    else:
        hashes = _input_hashes(root, digest)
    meta = {k: v for k, v in metadata.items() if k != "files"}
    try:
        verdicts = [ControlVerdict.model_validate(v) for v in _read_json(root, "controls.json")]
        judging = Judging.model_validate(_read_json(root, "judging.json"))
        checks: dict[str, CheckInfo] = {}
        if (root / CHECKS_FILE).is_file():
            checks = {c["id"]: CheckInfo.model_validate(c) for c in _read_json(root, CHECKS_FILE)}
    except ValidationError as exc:
        raise ReportError(f"{root}: a bundle file does not fit its schema ({exc.errors()[0]['msg']})") from None
    except (KeyError, TypeError, RecursionError) as exc:
        raise ReportError(f"{root}: a bundle file does not fit its schema ({type(exc).__name__}: {exc})") from None
    findings = root / "findings.json"
    if not findings.is_file():
        raise ReportError(f"{findings}: missing; this is not a complete bundle")
    if stored:
        try:
            check_depth(findings)  # before any streamed parse, which a deep document would choke
        except (OSError, TooDeep) as exc:
            raise ReportError(f"{findings}: unreadable ({exc})") from None
    return BundleContent(root, meta, verdicts, judging, checks, hashes)
