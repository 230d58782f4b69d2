"""The period's AWS populations from run-to-run evidence: IAM users created and removed, access
keys rotated, certificates issued; each event once, with the records that show it."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from evidence.models import EvidenceRecord, Period
from evidence.period.populations_aws import aws_populations
from evidence.period.runs import RunRef
from evidence.records import EvidenceWriter

PERIOD = Period.parse("2026-Q4")


def _row(user: str, created: str, rotated: str = "N/A") -> dict[str, str]:
    return {"user": user, "arn": f"arn:aws:iam::1:user/{user}", "user_creation_time": created,
            "access_key_1_last_rotated": rotated, "access_key_2_last_rotated": "N/A"}


def _run(out: Path, day: int, rows: list[dict[str, str]], certs: list[dict[str, Any]]) -> RunRef:
    bundle = out / "2026-Q4" / f"run-{day:02d}"
    writer = EvidenceWriter(bundle)
    writer.write(EvidenceRecord(source="aws", service="iam", operation="GetCredentialReport", account="1",
                                region="us-east-1", collected_at="2026-10-01T00:00:00Z",
                                response={"Rows": [{"user": "<root_account>", "arn": "arn:aws:iam::1:root"}, *rows]}))
    for n, cert in enumerate(certs):
        writer.write(EvidenceRecord(source="aws", service="acm", operation="DescribeCertificate", account="1",
                                    region="eu-west-2", subject=str(n), collected_at="2026-10-01T00:00:00Z",
                                    response={"Certificate": cert}))
    return RunRef(f"run-{day:02d}", date(2026, 10, day), f"2026-Q4/run-{day:02d}", "0" * 64)


def test_users_keys_and_certificates_of_the_period(tmp_path: Path) -> None:
    cert = {"CertificateArn": "arn:aws:acm:eu-west-2:1:certificate/c", "DomainName": "app.example.com",
            "NotBefore": "2026-09-01T00:00:00Z", "NotAfter": "2026-12-01T00:00:00Z"}
    renewed = {**cert, "NotBefore": "2026-10-03T00:00:00Z", "NotAfter": "2027-01-03T00:00:00Z"}
    runs = [
        _run(tmp_path, 1, [_row("old", "2025-01-01T00:00:00Z"), _row("gone", "2025-02-01T00:00:00Z")], [cert]),
        _run(tmp_path, 2, [_row("old", "2025-01-01T00:00:00Z", "2026-10-02T08:00:00+00:00"),
                           _row("new", "2026-10-02T09:00:00+00:00")], [cert]),
        _run(tmp_path, 3, [_row("old", "2025-01-01T00:00:00Z", "2026-10-02T08:00:00+00:00"),
                           _row("new", "2026-10-02T09:00:00+00:00")], [renewed]),
    ]
    found = {name: list(csv.reader(io.StringIO("\n".join(",".join(r) for r in [header, *rows]))))
             for name, header, rows in aws_populations(tmp_path, runs, PERIOD)}
    assert [r[:4] for r in found["iam-users-created.csv"][1:]] == [
        ["arn:aws:iam::1:user/new", "new", "2026-10-02", "run-02"]]
    assert [r[:4] for r in found["iam-users-removed.csv"][1:]] == [
        ["arn:aws:iam::1:user/gone", "gone", "2026-10-02", "run-02"]]
    assert [r[:4] for r in found["access-keys-rotated.csv"][1:]] == [
        ["arn:aws:iam::1:user/old", "access_key_1", "2026-10-02", "run-02"]]  # once, though two runs show it
    assert [r[:3] for r in found["certificates-issued.csv"][1:]] == [
        ["arn:aws:acm:eu-west-2:1:certificate/c", "app.example.com", "2026-10-03"]]  # the renewal, not September
    evidence = found["iam-users-removed.csv"][1][4]
    assert evidence.startswith("2026-Q4/run-01/evidence/aws/") and (tmp_path / evidence).is_file()
