"""Secrets planted where they come from (the AWS credentials and session token, a password in an
alert URL) never appear in anything a run at -vv writes: stdout, stderr, the bundle, the
history, the export. (The GitHub token and the Google private key are not planted here yet.)"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

SECRET_KEY = "PLANTEDsecretKEY0123456789abcdefABCDEF01"
SESSION_TOKEN = "PLANTEDsessionTOKEN9876543210zyxwvu"
ALERT_PASSWORD = "PLANTEDalertPASSWORD4242"
PLANTED = (SECRET_KEY, SESSION_TOKEN, ALERT_PASSWORD)


@pytest.fixture
def env(moto_url: str) -> dict[str, str]:
    values = {"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "AKIAPLANTEDACCESS01",
              "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN,
              "AWS_DEFAULT_REGION": "eu-west-2", "AWS_CONFIG_FILE": "/dev/null",
              "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    return {**{k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}, **values}


def _everything(out: Path) -> bytes:
    """Every byte the run left under `out`, with every zip's members read out."""
    chunks: list[bytes] = []
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            chunks.append(data)
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as z:
                    chunks.extend(z.read(name) for name in z.namelist())
    return b"\n".join(chunks)


def test_no_planted_secret_reaches_any_output_at_vv(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "evidence.toml"
    config.write_text(
        '[aws]\nregions = ["eu-west-2"]\n'
        f'[alerts]\nurls = ["json://alerts:{ALERT_PASSWORD}@127.0.0.1:1/hook"]\n', encoding="utf-8")
    evidence = str(Path(sys.executable).with_name("evidence"))
    out = tmp_path / "out"
    ran = subprocess.run([evidence, "-vv", "run", "--only", "aws,manual", "--config", str(config), "--out", str(out)],
                         env=env, capture_output=True, timeout=300, check=False)
    assert ran.returncode in (0, 1, 3, 4), ran.stderr.decode()[-2000:]
    bundle = next(out.glob("*/*/manifest.json")).parent
    exported = subprocess.run([evidence, "-vv", "export", str(bundle), "--output", str(out / "auditor.zip")],
                              env=env, capture_output=True, timeout=120, check=False)
    assert exported.returncode == 0, exported.stderr.decode()[-2000:]
    assert b"DEBUG" in ran.stderr or b"INFO" in ran.stderr  # -vv did log
    written = b"\n".join([ran.stdout, ran.stderr, exported.stdout, exported.stderr, _everything(out)])
    assert (out / "history.sqlite").is_file() and (out / "auditor.zip").is_file()
    leaked = [secret for secret in PLANTED if secret.encode() in written]
    assert leaked == []
