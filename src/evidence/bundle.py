"""The bundle an auditor receives: layout, atomic writing, manifest and verification.

    <out>/<period>/<run-id>/
      manifest.json   manifest.sha256   [manifest.sig]
      findings.json   controls.json     judging.json
      evidence/<source>/...

A bundle is built in a hidden sibling folder and renamed into place only when complete, so a
crash never leaves a bundle that looks finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

MANIFEST = "manifest.json"
MANIFEST_DIGEST = "manifest.sha256"
SIGNATURE = "manifest.sig"
_UNLISTED = {MANIFEST, MANIFEST_DIGEST, SIGNATURE}


class BundleError(Exception):
    """A path that is not a readable bundle."""


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(root: Path) -> Iterator[Path]:
    for p in sorted(root.rglob("*")):
        if p.is_file():
            yield p


@dataclass
class PartialBundle:
    """A bundle being written; `commit()` makes it visible."""

    tmp: Path
    final: Path
    #: bundle path -> ((size, mtime, ctime in ns, inode), sha256): each file is read and hashed
    #: once, however many phases (the reports' cover digest, the manifest) need its digest
    _digests: dict[str, tuple[tuple[int, int, int, int], str]] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, out: Path, period: str, run_id: str) -> PartialBundle:
        parent = out / period
        tmp = parent / f".partial-{run_id}"
        for attempt in range(3):  # another run's `discard` may remove the empty period folder in between
            parent.mkdir(parents=True, exist_ok=True)
            try:
                tmp.mkdir()
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        return cls(tmp=tmp, final=parent / run_id)

    def write_text(self, rel: str, text: str) -> None:
        self._digests.pop(rel, None)  # rewritten: hashed again, whatever its times say
        target = self.tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def digest(self, path: Path) -> str:
        """The sha256 of a file of the bundle, hashed again only when its size or mtime changed."""
        info = path.stat()
        key = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        rel = path.relative_to(self.tmp).as_posix()
        known = self._digests.get(rel)
        if known is not None and known[0] == key:
            return known[1]
        sha = file_sha256(path)
        self._digests[rel] = (key, sha)
        return sha

    def seal(self, metadata: dict[str, Any], sign: Any = None) -> None:
        """Write the manifest (every file's sha256 and size), its digest and signature."""
        files = {
            p.relative_to(self.tmp).as_posix(): {"sha256": self.digest(p), "size": p.stat().st_size}
            for p in _files(self.tmp)
            if p.relative_to(self.tmp).as_posix() not in _UNLISTED
        }
        manifest = dict(metadata)
        manifest["files"] = files
        data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
        (self.tmp / MANIFEST).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        (self.tmp / MANIFEST_DIGEST).write_text(f"{digest}  {MANIFEST}\n", encoding="utf-8")
        if sign is not None:
            (self.tmp / SIGNATURE).write_bytes(sign(data))

    def commit(self) -> Path:
        os.replace(self.tmp, self.final)
        return self.final

    def discard(self) -> None:
        """Remove the partial folder, and the period's folder when nothing else is in it (a run
        refused before it collected anything leaves no trace)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        with contextlib.suppress(OSError):  # not empty (other runs' bundles), or already gone
            self.tmp.parent.rmdir()


#: the largest manifest read (a manifest of a million files is about 200 MB; this is a bound
#: against a hostile one, not a limit any real bundle comes near)
MAX_MANIFEST_BYTES = 512 * 2**20


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"{key!r} is written twice")
        out[key] = value
    return out


def parse_manifest(raw: bytes) -> dict[str, Any]:
    """A manifest's JSON: an object whose `files` is an object, with no key written twice
    (JSON readers keep the last of two, so a duplicate could hide a file's true hash); a
    document nested too deeply for the reader is refused, not a crash. ValueError otherwise."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ValueError(f"{len(raw)} bytes, more than any manifest ({MAX_MANIFEST_BYTES} bytes)")
    try:
        data = json.loads(raw, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("nested too deeply to be a manifest") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise ValueError("not a manifest (no files object)")
    return data


def _manifest_bytes(bundle: Path) -> bytes:
    """The manifest's bytes: a regular file (not a link, a pipe or a device), no larger than
    any manifest, looked at before a byte of it is read."""
    path = bundle / MANIFEST
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise BundleError(f"{bundle}: not a bundle (no {MANIFEST})") from None
    except OSError as exc:
        raise BundleError(f"{path}: unreadable manifest ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise BundleError(f"{path}: not a regular file; a bundle holds only regular files")
    if info.st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{path}: unreadable manifest ({info.st_size} bytes, more than any manifest "
                          f"({MAX_MANIFEST_BYTES} bytes))")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{path}: unreadable manifest ({exc.strerror or exc})") from None


def load_manifest(bundle: Path) -> dict[str, Any]:
    try:
        return parse_manifest(_manifest_bytes(bundle))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{bundle / MANIFEST}: unreadable manifest ({exc})") from None


#: a run id (or a period bundle's id): one safe file name, as the runner makes them
#: (`20261130T080000Z-a1b2c3`); it names folders, zip entries and default output files
SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
#: a period's name (`2026-Q4`): a folder name of the output tree and part of default file names
SAFE_PERIOD_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PERIOD_SCHEMA = "evidence.period/1"
SHARD_SCHEMA = "evidence.shard/1"


class PeriodMeta(BaseModel):
    """A manifest's `period`: what the readers (reports, diff, export) take from it."""

    model_config = ConfigDict(extra="allow")

    name: StrictStr = Field(pattern=SAFE_PERIOD_NAME)
    start: date
    end: date

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("an ISO date string (YYYY-MM-DD)")
        return value


def _iso_time(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 timestamp string")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("an ISO 8601 timestamp string") from None
    return value


class ShardMetadata(BaseModel):
    """A shard bundle's manifest metadata (no reference time: the merge judges)."""

    model_config = ConfigDict(extra="allow")

    run_id: StrictStr = Field(pattern=SAFE_ID)
    period: PeriodMeta


class RunMetadata(ShardMetadata):
    """A run bundle's manifest metadata: what every command that reads a bundle relies on."""

    reference_time: StrictStr

    @field_validator("reference_time", mode="before")
    @classmethod
    def _reference_time(cls, value: Any) -> Any:
        return _iso_time(value)


class PeriodBundleMetadata(BaseModel):
    """A period bundle's manifest metadata (it has a period id, not a run id)."""

    model_config = ConfigDict(extra="allow")

    period_id: StrictStr = Field(pattern=SAFE_ID)
    period: PeriodMeta


def metadata_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with a manifest's metadata (the run id, the period, the reference time
    the readers use), or None. Checked by schema: a run, shard or period bundle."""
    schema = manifest.get("schema")
    model: type[BaseModel] = (PeriodBundleMetadata if schema == PERIOD_SCHEMA
                              else ShardMetadata if schema == SHARD_SCHEMA else RunMetadata)
    try:
        model.model_validate({k: v for k, v in manifest.items() if k != "files"})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"]) or "(manifest)"
        return f"{where}: {err['msg']}"
    return None


def bundle_metadata(bundle: Path) -> dict[str, Any]:
    """A bundle's manifest with its metadata checked (see `metadata_problem`); BundleError,
    one line, when it is not a bundle or its metadata is malformed."""
    manifest = load_manifest(bundle)
    problem = metadata_problem(manifest)
    if problem is not None:
        raise BundleError(f"{bundle / MANIFEST}: not a valid bundle manifest ({problem})")
    return manifest


def _sealed_as_is(bundle: Path, raw: bytes) -> bool:
    """Whether manifest.sha256 states the manifest's digest (it was sealed as it is now)."""
    try:
        stated = (bundle / MANIFEST_DIGEST).read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return bool(stated) and stated[0] == hashlib.sha256(raw).hexdigest()


def not_a_bundle(bundle: Path) -> str | None:
    """Why `bundle` is not a bundle at all (no folder, no manifest, a manifest that is not JSON
    with a files object, or one sealed with malformed metadata: a run id that is no safe name,
    no period object, ...), or None. A manifest that is JSON but wrong in a way that hides
    something (a key written twice), or altered since it was sealed, is a bundle that was
    altered: `verify` says so (and every command verifies before it reads the metadata)."""
    if not bundle.is_dir() or bundle.is_symlink():
        return f"{bundle}: not a bundle (not a folder)"
    try:
        raw = _manifest_bytes(bundle)
    except BundleError as exc:
        return str(exc)
    try:
        data = json.loads(raw)
    except RecursionError:
        return f"{bundle / MANIFEST}: unreadable manifest (nested too deeply to be a manifest)"
    except (ValueError, UnicodeDecodeError) as exc:
        return f"{bundle / MANIFEST}: unreadable manifest ({exc})"
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return f"{bundle / MANIFEST}: unreadable manifest (not a manifest (no files object))"
    problem = metadata_problem(data)
    if problem is not None and _sealed_as_is(bundle, raw):
        return f"{bundle / MANIFEST}: not a valid bundle manifest ({problem}); it was sealed malformed"
    return None


def escapes(rel: str) -> bool:
    """Whether a bundle-relative path leaves the bundle (absolute, `..`, not in posix form, empty)."""
    path = Path(rel)
    return path.is_absolute() or ".." in path.parts or rel != path.as_posix() or rel in ("", ".")


def _links(root: Path) -> list[str]:
    """Every symbolic link under `root`, never followed."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            if os.path.islink(os.path.join(folder, name)):
                found.append(Path(folder, name).relative_to(root).as_posix())
    return sorted(found)


def verify(bundle: Path, verify_signature: Any = None, *, outputs: Collection[str] = ()) -> list[str]:
    """Every problem found in a bundle, each naming the file; empty when it is intact.

    `verify_signature(manifest_bytes, signature_bytes)` returns an error string or None.
    `outputs` are files rendered from the others (the reports): one of them missing or rendered
    again is not a problem for whoever reads the bundle to render them (links, paths outside the
    bundle and unlisted files still are).
    """
    problems: list[str] = []
    if not bundle.is_dir() or bundle.is_symlink():
        return [f"{bundle}: not a folder"]
    links = _links(bundle)
    if links:
        # never read through one: a link could point anywhere on the machine
        return [f"{rel}: a symbolic link; a bundle holds only regular files" for rel in links]
    try:
        raw = _manifest_bytes(bundle)
    except BundleError as exc:
        return [str(exc)]
    digest_path = bundle / MANIFEST_DIGEST
    if not digest_path.is_file():
        problems.append(f"{MANIFEST_DIGEST}: missing")
    else:
        stated = digest_path.read_text(encoding="utf-8", errors="replace").split()
        if not stated or stated[0] != hashlib.sha256(raw).hexdigest():
            problems.append(f"{MANIFEST}: sha256 does not match {MANIFEST_DIGEST} (one of them was altered)")
    try:
        files: dict[str, dict[str, Any]] = parse_manifest(raw)["files"]
    except (ValueError, UnicodeDecodeError) as exc:
        return [*problems, f"{MANIFEST}: not a valid manifest ({exc})"]
    escaping = sorted(rel for rel in files if escapes(rel))
    if escaping:
        return [*problems, *(f"{rel}: listed in the manifest with a path outside the bundle" for rel in escaping)]
    if verify_signature is not None:
        sig_path = bundle / SIGNATURE
        if not sig_path.is_file():
            problems.append(f"{SIGNATURE}: missing")
        else:
            err = verify_signature(raw, sig_path.read_bytes())
            if err:
                problems.append(f"{SIGNATURE}: {err}")
    present = {p.relative_to(bundle).as_posix() for p in _files(bundle)} - _UNLISTED
    for rel in sorted(set(files) - present - set(outputs)):
        problems.append(f"{rel}: listed in the manifest but missing")
    for rel in sorted(present - set(files)):
        problems.append(f"{rel}: not listed in the manifest")
    for rel in sorted((set(files) & present) - set(outputs)):
        p = bundle / rel
        meta = files[rel]
        if not isinstance(meta, dict):
            problems.append(f"{rel}: its manifest entry is not a sha256 and size")
        elif p.stat().st_size != meta.get("size") or file_sha256(p) != meta.get("sha256"):
            problems.append(f"{rel}: sha256 mismatch (altered since the bundle was sealed)")
    return problems
