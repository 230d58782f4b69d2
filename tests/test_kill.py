"""SIGKILL at any moment of `evidence run`: the output folder holds complete bundles only (each
one verifies and holds its evidence), the history stays consistent, and the next run works.

20 kill points, drawn from a fixed seed across the length of a whole run (start-up, collection
against a moto server, judging, reports, sealing, the history), each in a new process."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from evidence.bundle import load_manifest, verify

KILLS = 20


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> dict[str, str]:
    env = {"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-2",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    session = boto3.Session(region_name="eu-west-2")
    for i in range(20):
        session.client("s3").create_bucket(Bucket=f"kill-{i}",
                                           CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        session.client("ec2").create_volume(Size=1, AvailabilityZone="eu-west-2a", Encrypted=bool(i % 2))
    return {**os.environ, **env}


def _run(env: dict[str, str], config: Path, out: Path) -> subprocess.Popen[bytes]:
    evidence = str(Path(sys.executable).with_name("evidence"))
    return subprocess.Popen([evidence, "run", "--only", "aws,manual", "--config", str(config), "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _consistent(out: Path) -> int:
    """Every visible bundle is complete; the history is intact and names bundles that exist."""
    bundles = [p for p in out.glob("*/*") if p.is_dir() and not p.name.startswith(".")]
    for bundle in bundles:
        assert verify(bundle) == [], bundle
        manifest = load_manifest(bundle)
        records = [r for r in manifest["files"] if r.startswith("evidence/")]
        assert len(records) == sum(manifest["api_calls"].values()) > 0, bundle
    history = out / "history.sqlite"
    if history.exists():
        with sqlite3.connect(history) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            for (path,) in db.execute("SELECT bundle FROM runs"):
                assert (out / path).is_dir() or Path(path).is_dir(), path
    return len(bundles)


def test_kills_at_twenty_points_leave_complete_bundles_and_a_working_history(
    endpoint: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "evidence.toml"
    config.write_text('[aws]\nregions = ["eu-west-2"]\n', encoding="utf-8")
    out = tmp_path / "out"
    started = time.monotonic()
    assert _run(endpoint, config, out).wait(timeout=300) in (0, 1, 3)
    whole = time.monotonic() - started
    assert _consistent(out) == 1
    rng = random.Random(20261207)
    for _ in range(KILLS):
        proc = _run(endpoint, config, out)
        time.sleep(rng.uniform(0.05, whole * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        _consistent(out)
    assert _run(endpoint, config, out).wait(timeout=300) in (0, 1, 3)  # the next run works
    assert _consistent(out) >= 2
