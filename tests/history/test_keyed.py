"""Findings keyed across runs by control, check, resource, account and region."""

from __future__ import annotations

from pathlib import Path

from evidence.history import keyed_findings
from evidence.models import Finding, Status
from tests.history.support import TLS_CHECK


def test_findings_keyed_by_control_check_resource(tmp_path: Path) -> None:
    f = Finding(control_id="C", check_id=TLS_CHECK, status=Status.FAIL, source="aws", resource_id="arn:x",
                account="1", region="eu-west-2", message="m")
    assert list(keyed_findings([f, f])) == [f"C|{TLS_CHECK}|arn:x|1|eu-west-2", f"C|{TLS_CHECK}|arn:x|1|eu-west-2#2"]
