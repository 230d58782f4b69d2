"""Judging's serialisation: `findings.json` written piece by piece is the same bytes as whole."""

from __future__ import annotations

import json

import pytest

from evidence.judge import findings_json, findings_json_chunks
from evidence.models import Finding, Status


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_findings_json_equals_one_dump(count: int) -> None:
    findings = [
        Finding(control_id="ENC-TRANSIT", check_id="c", status=Status.FAIL, source="aws", resource_id=f"r{i}",
                message="m", observed={"protocols": ["TLSv1", {"nested": "é"}]}, expected=None, evidence=["e"])
        for i in range(count)
    ]
    whole = json.dumps([f.model_dump(mode="json") for f in findings], indent=2, sort_keys=True,
                       ensure_ascii=False) + "\n"
    assert "".join(findings_json_chunks(iter(findings))) == whole
    assert findings_json(findings) == whole
