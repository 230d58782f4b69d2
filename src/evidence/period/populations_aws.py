"""The period's AWS populations, from the run bundles' evidence (each event once: the first run
that shows it), each row with the evidence records (paths from the output folder) that show it:

- `iam-users-created.csv`: IAM users created during the period (credential report);
- `iam-users-removed.csv`: users in one run's credential report and not in the next;
- `access-keys-rotated.csv`: access keys created or rotated during the period (a key slot's
  `last_rotated` is the time its current key was made);
- `certificates-issued.csv`: ACM certificates issued, imported or renewed during the period
  (a certificate's `NotBefore`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evidence.models import Period, parse_time
from evidence.period.runs import RunRef
from evidence.records import EvidenceIndex

REPORT = "iam.GetCredentialReport"
CERTIFICATE = "acm.DescribeCertificate"


def _in(period: Period, value: Any) -> str:
    """The date of `value` when it is a time inside the period, else ''."""
    when = parse_time(value)
    return when.date().isoformat() if when is not None and period.start <= when.date() <= period.end else ""


def _pages(index: EvidenceIndex, run: RunRef, key: str) -> Iterator[tuple[str, Any]]:
    for entry in index.entries_for(key):
        if entry.ok:
            ev = index.load(entry)
            yield f"{run.bundle}/{ev.path}", ev.response


def _report_rows(index: EvidenceIndex, run: RunRef) -> dict[str, tuple[dict[str, Any], str]] | None:
    """The users of one run's credential reports (None when it has none, or one failed)."""
    if any(not e.ok for e in index.entries_for(REPORT)):
        return None
    rows: dict[str, tuple[dict[str, Any], str]] = {}
    seen = False
    for path, page in _pages(index, run, REPORT):
        seen = True
        for row in page.get("Rows", []) if isinstance(page, dict) else []:
            if isinstance(row, dict) and isinstance(row.get("arn"), str) and row.get("user") != "<root_account>":
                rows[row["arn"]] = (row, path)
    return rows if seen else None


def aws_populations(out: Path, runs: list[RunRef], period: Period) -> Iterator[tuple[str, list[str], list[list[str]]]]:
    """(file name, header, rows) for each AWS population the runs hold evidence for."""
    created: dict[str, list[str]] = {}
    removed: list[list[str]] = []
    keys: dict[tuple[str, str, str], list[str]] = {}
    certs: dict[tuple[str, str], list[str]] = {}
    before: dict[str, tuple[dict[str, Any], str]] | None = None
    any_report = any_cert = False
    for run in runs:
        index = EvidenceIndex.from_bundle(run.path(out))  # each run's records indexed once
        now = _report_rows(index, run)
        if now is not None:
            any_report = True
            for arn, (row, path) in now.items():
                if (day := _in(period, row.get("user_creation_time"))) and arn not in created:
                    created[arn] = [arn, str(row.get("user", "")), day, run.run_id, path]
                for slot in ("1", "2"):
                    rotated = row.get(f"access_key_{slot}_last_rotated")
                    if (day := _in(period, rotated)) and (arn, slot, str(rotated)) not in keys:
                        keys[(arn, slot, str(rotated))] = [arn, f"access_key_{slot}", day, run.run_id, path]
            for arn, (row, path) in (before or {}).items():
                if arn not in now:
                    removed.append([arn, str(row.get("user", "")), run.day.isoformat(), run.run_id, path])
            before = now
        for path, page in _pages(index, run, CERTIFICATE):
            any_cert = True
            cert = page.get("Certificate", {}) if isinstance(page, dict) else {}
            arn = str(cert.get("CertificateArn", "")) if isinstance(cert, dict) else ""
            if arn and (day := _in(period, cert.get("NotBefore"))) and (arn, day) not in certs:
                certs[(arn, day)] = [arn, str(cert.get("DomainName", "")), day, str(cert.get("NotAfter", "")),
                                     run.run_id, path]
    if any_report:
        yield "iam-users-created.csv", ["arn", "user", "created_on", "first_run", "evidence"], sorted(created.values())
        yield "iam-users-removed.csv", ["arn", "user", "removed_on", "run_id", "evidence"], sorted(removed)
        yield "access-keys-rotated.csv", ["arn", "key", "rotated_on", "first_run", "evidence"], sorted(keys.values())
    if any_cert:
        yield ("certificates-issued.csv", ["arn", "domain", "issued_on", "not_after", "first_run", "evidence"],
               sorted(certs.values()))
