"""Manual evidence: `evidence attach CONTROL FILE --valid-until DATE`.

The store lives in the output folder:

    <out>/attachments/files/<sha256>-<name>          the file, content-addressed
    <out>/attachments/records/<when>-<control>-<requirement>-<sha12>-<rand>.json
                                                     who attached it, when, for what, until when

Each record is written atomically (temporary file then rename), so concurrent attaches and
runs never see half a record. A run includes every valid attachment (and, for a requirement
with none valid, the latest expired one so the verdict can say when it expired) as
`evidence.judge.Attachment`s whose `path` is where the runner copies the file inside the
bundle: `attachments/<sha256>-<name>`. A stored file whose content no longer matches its
recorded sha256 is refused, never bundled.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from evidence.catalog import Catalog, Control
from evidence.judge import Attachment
from evidence.models import iso, utc_now

STORE = "attachments"
BUNDLE_FOLDER = "attachments"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class AttachmentError(Exception):
    """Manual evidence that cannot be attached or read back; one line naming what to fix."""


def safe_name(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name).strip("._")
    return cleaned[:100] or "attachment"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment and the stored file it refers to."""

    attachment: Attachment
    file: Path
    original_name: str


@dataclass
class RunAttachments:
    """What a run needs: the attachments to judge, and their files by bundle path."""

    attachments: list[Attachment] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def _requirement(control: Control, requirement: str | None) -> str:
    ids = [m.id for m in control.manual]
    if not ids:
        raise AttachmentError(f"control {control.id} needs no manual evidence (it has no [[manual]] requirement)")
    if requirement is None:
        if len(ids) > 1:
            raise AttachmentError(
                f"control {control.id} has several manual requirements; choose one with --requirement "
                f"({', '.join(ids)})"
            )
        return ids[0]
    if requirement not in ids:
        raise AttachmentError(
            f"--requirement: control {control.id} has no manual requirement '{requirement}' (it has: {', '.join(ids)})"
        )
    return requirement


def attach(
    out: Path,
    catalog: Catalog,
    control_id: str,
    source: Path,
    valid_until: date,
    *,
    requirement: str | None = None,
    by: str | None = None,
) -> StoredAttachment:
    """Copy `source` into the store of output folder `out` and record it."""
    control = catalog.controls.get(control_id)
    if control is None:
        raise AttachmentError(f"unknown control '{control_id}' (known: {', '.join(sorted(catalog.controls))})")
    req = _requirement(control, requirement)
    if not source.is_file():
        raise AttachmentError(f"{source}: no such file")
    who = by if by is not None else getpass.getuser()
    if not who.strip():
        raise AttachmentError("--by: who attaches the evidence must not be empty")
    store = out / STORE
    files = store / "files"
    records = store / "records"
    try:
        files.mkdir(parents=True, exist_ok=True)
        records.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # --out is a file, or a folder that may not be written
        raise AttachmentError(f"{out}: cannot keep attachments there ({exc.strerror or exc}); --out names the "
                              "output folder") from None
    try:
        digest = file_digest(source)
        name = f"{digest}-{safe_name(source.name)}"
        target = files / name
        if not target.is_file() or file_digest(target) != digest:
            tmp = files / f".{name}.{secrets.token_hex(4)}.tmp"
            shutil.copyfile(source, tmp)
            if file_digest(tmp) != digest:
                tmp.unlink(missing_ok=True)
                raise AttachmentError(f"{source}: changed while it was being copied; attach it again")
            os.replace(tmp, target)
    except OSError as exc:
        raise AttachmentError(f"{source}: cannot copy into {files} ({exc.strerror or exc})") from None
    now = utc_now()
    att = Attachment(
        control_id=control.id,
        requirement=req,
        path=f"{BUNDLE_FOLDER}/{name}",
        sha256=digest,
        valid_until=valid_until,
        attached_by=who.strip(),
        attached_at=iso(now),
    )
    record = {
        "schema": "evidence.attachment/1",
        "attachment": att.model_dump(mode="json"),
        "file": f"files/{name}",
        "original_name": source.name,
    }
    stem = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{safe_name(control.id)}-{safe_name(req)}-{digest[:12]}"
    stem += f"-{secrets.token_hex(3)}"
    tmp = records / f".{stem}.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, records / f"{stem}.json")
    return StoredAttachment(att, target, source.name)


def load_attachments(out: Path, *, verify: bool = True) -> list[StoredAttachment]:
    """Every attachment recorded in the store of `out`, oldest first."""
    records = out / STORE / "records"
    if not records.is_dir():
        return []
    found: list[StoredAttachment] = []
    for path in sorted(records.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            att = Attachment.model_validate(data["attachment"])
            file = (out / STORE / str(data["file"])).resolve()
            original = str(data.get("original_name", ""))
        except (OSError, ValueError, KeyError, TypeError, ValidationError, RecursionError) as exc:
            raise AttachmentError(f"{path}: unreadable attachment record ({exc})".replace("\n", " ")[:500]) from None
        if not file.is_relative_to((out / STORE).resolve()):
            raise AttachmentError(f"{path}: its file lies outside the attachment store")
        if not file.is_file():
            raise AttachmentError(f"{path}: its file {file} is missing; attach the evidence again")
        if verify and file_digest(file) != att.sha256:
            raise AttachmentError(
                f"{file}: content does not match its recorded sha256 {att.sha256} (altered since it was attached)"
            )
        found.append(StoredAttachment(att, file, original))
    return found


def for_run(out: Path, today: date, catalog: Catalog | None = None) -> RunAttachments:
    """The attachments a run judges: every valid one, and for a requirement with none valid
    the latest expired one (so its control says when it expired); with their files."""
    stored = load_attachments(out)
    if catalog is not None:
        wanted = {(c.id, m.id) for c in catalog.controls.values() for m in c.manual}
        stored = [s for s in stored if (s.attachment.control_id, s.attachment.requirement) in wanted]
    by_req: dict[tuple[str, str], list[StoredAttachment]] = {}
    for s in stored:
        by_req.setdefault((s.attachment.control_id, s.attachment.requirement), []).append(s)
    chosen: list[StoredAttachment] = []
    for _, items in sorted(by_req.items()):
        valid = [s for s in items if s.attachment.valid_until >= today]
        if valid:
            chosen += valid
        else:
            chosen.append(max(items, key=lambda s: (s.attachment.valid_until, s.attachment.attached_at)))
    run = RunAttachments()
    for s in chosen:
        run.attachments.append(s.attachment)
        run.files[s.attachment.path] = s.file
    return run


def valid(out: Path, today: date) -> list[Attachment]:
    """Attachments still valid on `today`."""
    return [s.attachment for s in load_attachments(out) if s.attachment.valid_until >= today]
