"""`evidence diff`: the verdict change, the changed finding and the evidence field that decided it."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from evidence.cli import cli
from evidence.history import ABSENT, diff_runs, json_diff, snapshot_from_bundle
from evidence.registry import Registry
from tests.history.support import CONFIG_AWS, ONLY, STRONG, TLS_CHECK, WEAK, seed_estate, weaken_tls
from tests.test_notify import pipeline, write_config


def test_diff_shows_the_evidence_field_that_changed(
    mocked_aws: None, registry: Registry, tmp_path: Path
) -> None:
    """Acceptance 2: `evidence diff A B` names the verdict change, the changed finding and the
    JSON path of the evidence record whose value decided it, by bundle path and by run id."""
    estate = seed_estate()
    out = tmp_path / "out"
    cfg = write_config(tmp_path, CONFIG_AWS)
    first, _ = pipeline(registry, cfg, out, ONLY)
    weaken_tls(estate["https"])
    second, _ = pipeline(registry, cfg, out, ONLY)
    assert first.bundle is not None and second.bundle is not None
    runner = CliRunner()
    for a, b in ((str(first.bundle), str(second.bundle)), (first.run_id, second.run_id[:18])):
        result = runner.invoke(cli, ["diff", a, b, "--out", str(out)])
        assert result.exit_code == 0, result.output
        text = result.output
        assert "controls whose verdict changed: 1\n  ENC-TRANSIT          pass → fail" in text
        assert "findings new: 0" in text and "findings resolved: 0" in text
        assert f"  ~ ENC-TRANSIT {TLS_CHECK} {estate['https']}\n      status: \"pass\" → \"fail\"" in text
        assert re.search(
            r"evidence evidence/aws/\d+/eu-west-2/elbv2/DescribeListeners-[0-9a-f]+\.json:\n"
            rf"        \$\.response\.Listeners\[\d\]\.SslPolicy: \"{STRONG}\" → \"{WEAK}\"",
            text,
        ), text
        assert "collected_at" not in text
    # the other listener, the SSL policies listing and the unchanged controls are not reported as changes
    with diff_runs(snapshot_from_bundle(first.bundle), snapshot_from_bundle(second.bundle)) as d:
        assert [c.after.resource_id for c in d.changed() if c.after.control_id == "ENC-TRANSIT"] == [estate["https"]]
        assert [c.control_id for c in d.verdicts] == ["ENC-TRANSIT"]


def test_json_diff_paths() -> None:
    a = {"response": {"Listeners": [{"SslPolicy": "A", "Port": 443}], "odd key": 1}, "gone": True}
    b = {"response": {"Listeners": [{"SslPolicy": "B", "Port": 443}, {"Port": 80}], "odd key": 2}}
    assert json_diff(a, b) == [
        ("$.gone", True, ABSENT),
        ("$.response.Listeners[0].SslPolicy", "A", "B"),
        ("$.response.Listeners[1]", ABSENT, {"Port": 80}),
        ('$.response["odd key"]', 1, 2),
    ]
    assert json_diff({"x": 1}, {"x": 1.0}) == [("$.x", 1, 1.0)]
    users_a = {"users": [{"id": "ann", "last": 1}, {"id": "bob", "last": 1}]}
    users_b = {"users": [{"id": "ann", "last": 2}, {"id": "bob", "last": 2}]}
    assert json_diff(users_a, users_b, focus="bob") == [("$.users[1].last", 1, 2)]
    assert len(json_diff(users_a, users_b, focus="carol")) == 2  # nobody mentioned: everything
    assert json_diff([1, 2], [1, 2]) == []
