"""AWS units of who can get in and what is logged: CloudTrail's trails and their status, IAM's
account summary and credential report (generated, awaited, and recorded as rows).
"""

from __future__ import annotations

import base64
import csv
import io
import time
from typing import Any

from evidence.collectors.aws_calls import Caller
from evidence.models import CollectionError

#: how long to wait for IAM to generate a credential report
CREDENTIAL_REPORT_TIMEOUT = 120.0


def cloudtrail(c: Caller) -> None:
    """Global: DescribeTrails once per account (multi-region trails show in every region),
    then the status of each multi-region trail, asked in its home region."""
    resp = c.call("cloudtrail", "DescribeTrails", includeShadowTrails=True)
    if resp is None or not c.wants("cloudtrail.GetTrailStatus"):
        return
    for trail in resp.get("trailList", []):
        if not trail.get("IsMultiRegionTrail"):
            continue
        arn = trail.get("TrailARN", trail.get("Name", ""))
        home = trail.get("HomeRegion") or c.region
        c.at(home).call("cloudtrail", "GetTrailStatus", subject=arn, Name=arn)


def decode_credential_report(response: dict[str, Any]) -> dict[str, Any]:
    """GetCredentialReport's base64 CSV as rows (a list of dicts): JSON, and free of secrets
    (the report holds names, ARNs, dates and flags, never a password or a key)."""
    content = response.get("Content", b"")
    if isinstance(content, str):
        content = base64.b64decode(content)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    return {
        "GeneratedTime": response.get("GeneratedTime"),
        "ReportFormat": response.get("ReportFormat"),
        "Rows": rows,
    }


def iam(c: Caller) -> None:
    if c.wants("iam.GetAccountSummary"):
        c.call("iam", "GetAccountSummary")
    if c.wants("iam.GetCredentialReport"):
        _credential_report(c)


def _credential_report(c: Caller) -> None:
    deadline = time.monotonic() + CREDENTIAL_REPORT_TIMEOUT
    delay = 0.25  # the report is usually ready within a second; back off up to 10 s
    while True:
        state = c.call("iam", "GenerateCredentialReport")
        if state is None:
            return
        if state.get("State") == "COMPLETE":
            break
        if time.monotonic() + delay > deadline:
            c.fail("iam", "GetCredentialReport", {}, "", CollectionError(
                code="ReportNotReady",
                message=f"IAM did not finish the credential report within {CREDENTIAL_REPORT_TIMEOUT:.0f}s",
                remedy="run again in a few minutes",
            ))
            return
        time.sleep(delay)
        delay = min(delay * 2, 10.0)
    c.call("iam", "GetCredentialReport", transform=decode_credential_report)
