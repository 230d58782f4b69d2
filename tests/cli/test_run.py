"""`evidence demo`: the whole pipeline against the simulated company, over loopback only."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from evidence.bundle import verify
from evidence.cli import cli


def test_demo_prints_summary_and_writes_a_verifiable_bundle(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    bundle_line = next(line for line in result.output.splitlines() if line.startswith("bundle: "))
    bundle = Path(bundle_line.removeprefix("bundle: "))
    assert bundle.is_dir() and bundle.parent.parent == tmp_path
    assert verify(bundle) == []
    controls = {c["control_id"]: c for c in json.loads((bundle / "controls.json").read_text())}
    for cid in ("ENC-TRANSIT", "TLS-CERTS"):
        assert controls[cid]["counts"]["pass"] >= 1, cid
        assert controls[cid]["counts"]["fail"] >= 1, cid
        assert controls[cid]["verdict"] == "fail"
        row = next(line for line in result.output.splitlines() if line.startswith(cid))
        assert "fail" in row
    # nothing is ever reported passing without evidence
    assert controls["PENTEST"]["verdict"] == "manual"
    # the roster's leaver, still in Workspace and GitHub, and the orphan IAM user: both in the summary
    assert controls["ACCESS-LIFECYCLE"]["verdict"] == "fail"
    why = result.output[result.output.index("why ("):]
    assert "chloe@zaptic.example (left on 2026-01-16) still has GitHub account chloe active" in why
    assert "still has Google Workspace account chloe@zaptic.example active" in why
    assert "AWS IAM account legacy-ci is an orphan" in why
