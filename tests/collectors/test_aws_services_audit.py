"""The AWS units of who can get in and what is logged: a multi-region trail's status asked in
its home region, and the credential report's CSV recorded as rows."""

from __future__ import annotations

import base64
from pathlib import Path

from evidence.collectors.aws_services_audit import decode_credential_report
from tests.checks.awshelp import ACCOUNT, StubbedAccount

US, IE = "us-east-1", "eu-west-1"


def test_status_of_multi_region_trails_only_asked_in_their_home_region(tmp_path: Path) -> None:
    everywhere = f"arn:aws:cloudtrail:{IE}:{ACCOUNT}:trail/org"
    acct = StubbedAccount(tmp_path)
    acct.stub("cloudtrail", US).add_response("describe_trails", {"trailList": [
        {"Name": "org", "TrailARN": everywhere, "IsMultiRegionTrail": True, "HomeRegion": IE},
        {"Name": "local", "TrailARN": f"arn:aws:cloudtrail:{US}:{ACCOUNT}:trail/local", "IsMultiRegionTrail": False},
    ]}, {"includeShadowTrails": True})
    acct.stub("cloudtrail", IE).add_response("get_trail_status", {"IsLogging": True}, {"Name": everywhere})
    index = acct.run("cloudtrail", {"cloudtrail.DescribeTrails", "cloudtrail.GetTrailStatus"}, region=US)
    acct.verify()
    assert [(e.region, e.subject) for e in index.entries_for("cloudtrail.GetTrailStatus")] == [(IE, everywhere)]


def test_credential_report_is_recorded_as_rows() -> None:
    csv_text = ("user,arn,mfa_active\n<root_account>,arn:aws:iam::123456789012:root,true\n"
                "alice,arn:aws:iam::1:user/alice,false\n")
    for content in (csv_text.encode(), base64.b64encode(csv_text.encode()).decode()):
        decoded = decode_credential_report(
            {"Content": content, "ReportFormat": "text/csv", "GeneratedTime": "2026-11-30T08:00:00Z"})
        assert decoded == {
            "GeneratedTime": "2026-11-30T08:00:00Z",
            "ReportFormat": "text/csv",
            "Rows": [{"user": "<root_account>", "arn": "arn:aws:iam::123456789012:root", "mfa_active": "true"},
                     {"user": "alice", "arn": "arn:aws:iam::1:user/alice", "mfa_active": "false"}],
        }
