"""Secrets planted where they come from never appear in anything a run at -vv writes.

Planted: the AWS secret access key and session token (environment, against moto); the GitHub
token (`$GITHUB_TOKEN`, against the fake GitHub, so it travels in `Authorization: Bearer`);
a Google service account's freshly generated RSA private key and its `private_key_id` (a key
file, against the fake Admin SDK, which verifies the JWT signed with it and issues an OAuth
access token, itself then sent as `Authorization: Bearer`); a password in two alert URLs, one
a loopback webhook that really receives the alerts (as HTTP basic auth), the other unreachable
with a secret in its path as well (a generic webhook's path may be its secret).

Searched, for each of those and for the basic-auth credential, every base64 line of the key and
every access token the fake issued (and any `ya29.` token at all), whole and by halves: the
stdout and stderr of `evidence -vv run`, `-vv export` and `-vv history`; every file of the
output folder (the bundle and its reports, history.sqlite, the export zip and each of its
members, a PDF's streams inflated); and what the webhook received (request line, headers but
the basic-auth one it must get, bodies). Each source is also shown to have really run with its
planted credential (its evidence in the bundle, its fake answering it), and alerts to have been
delivered and to have failed, so the search cannot pass by finding nothing to search."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from evidence.demo.company import DEMO_GITHUB_ORG, DEMO_WORKSPACE_ADMIN, seed_github, workspace_users
from evidence.models import Period
from tests.fakes.github import FakeGitHub
from tests.fakes.google_workspace import FakeWorkspace, make_service_account_info

SECRET_KEY = "PLANTEDsecretKEY0123456789abcdefABCDEF01"
SESSION_TOKEN = "PLANTEDsessionTOKEN9876543210zyxwvu"
ALERT_PASSWORD = "PLANTEDalertPASSWORD4242"
GITHUB_TOKEN = "ghp_PLANTEDgithubTOKEN0123456789abcdef"
GOOGLE_KEY_ID = "PLANTEDgoogleKEYid0123456789abcdef0123"
ALERT_USER = "alerts"
#: a generic webhook's path may itself be its secret (notify.py masks it as it does passwords)
WEBHOOK_PATH_SECRET = "PLANTEDwebhookPATH5151"
#: what an HTTP basic-auth header carries for the alert URL's user and password
ALERT_BASIC = base64.b64encode(f"{ALERT_USER}:{ALERT_PASSWORD}".encode()).decode()
#: the prefix of every access token Google (and the fake) issues
GOOGLE_ACCESS_PREFIX = "ya29."


class Webhook:
    """A loopback HTTP receiver keeping everything each POST brought, its Authorization
    header apart (it must receive the alert URL's credentials: that is how they are used)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.authorizations: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = "".join(f"{k}: {v}\n" for k, v in self.headers.items() if k.lower() != "authorization")
                hook.authorizations.append(self.headers.get("Authorization", ""))
                hook.received.append(f"{self.command} {self.path}\n{headers}\n".encode() + body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, user: str, password: str) -> str:
        return f"json://{user}:{password}@127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """The demo's GitHub organisation, answering only the planted token."""
    with FakeGitHub(org=DEMO_GITHUB_ORG, token=GITHUB_TOKEN) as gh:
        seed_github(gh, Period.current())
        yield gh
        assert not gh.errors


@pytest.fixture
def workspace() -> Iterator[FakeWorkspace]:
    """The demo's Google Workspace, trusting only a freshly generated key with the planted id."""
    info = {**make_service_account_info(""), "private_key_id": GOOGLE_KEY_ID}
    with FakeWorkspace(workspace_users(), customer_id="C01zapt1c", page_size=5, service_account_info=info) as ws:
        yield ws
        ws.assert_served_payloads_valid()


def _key_lines(pem: str) -> list[str]:
    """The private key's base64 lines (each 64 characters, the last maybe shorter)."""
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    assert len(lines) > 20, "a 2048-bit RSA key spans some 25 lines"
    return lines


@pytest.fixture
def env(moto_url: str) -> dict[str, str]:
    values = {"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "AKIAPLANTEDACCESS01",
              "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN,
              "AWS_DEFAULT_REGION": "eu-west-2", "AWS_CONFIG_FILE": "/dev/null",
              "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "GITHUB_TOKEN": GITHUB_TOKEN}
    dropped = {"AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS"}
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **values}


def _pieces(secret: str) -> list[str]:
    """The secret and, when it is long enough, each half of it: a truncated secret leaks too."""
    half = len(secret) // 2
    return [secret, secret[:half], secret[half:]] if len(secret) >= 16 else [secret]


def _inflated(pdf: bytes) -> list[bytes]:
    """A PDF's streams, each inflated when it is Flate-compressed (as is)."""
    streams: list[bytes] = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        try:
            streams.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            streams.append(match.group(1))
    return streams


def _everything(out: Path) -> bytes:
    """Every byte the run left under `out`, with every zip's members read out and every PDF's
    streams inflated."""
    chunks: list[bytes] = []

    def add(name: str, data: bytes) -> None:
        chunks.append(data)
        if name.endswith(".pdf"):
            chunks.extend(_inflated(data))

    for path in sorted(out.rglob("*")):
        if path.is_file():
            add(path.name, path.read_bytes())
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as z:
                    for name in z.namelist():
                        add(name, z.read(name))
    return b"\n".join(chunks)


def test_no_planted_secret_reaches_any_output_at_vv(
    env: dict[str, str], tmp_path: Path, github: FakeGitHub, workspace: FakeWorkspace, webhook: Webhook
) -> None:
    key_file = tmp_path / "service-account.json"
    service_account = workspace.service_account_info()
    key_file.write_text(json.dumps(service_account), encoding="utf-8")
    unreachable = f"json://{ALERT_USER}:{ALERT_PASSWORD}@127.0.0.1:1/hooks/{WEBHOOK_PATH_SECRET}"
    urls = [webhook.url(ALERT_USER, ALERT_PASSWORD), unreachable]
    config = tmp_path / "evidence.toml"
    config.write_text(
        '[aws]\nregions = ["eu-west-2"]\n'
        f'[github]\norg = "{DEMO_GITHUB_ORG}"\napi_url = "{github.api_url}"\n'
        f'[google_workspace]\ncredentials_file = "{key_file}"\ndelegated_admin = "{DEMO_WORKSPACE_ADMIN}"\n'
        f'api_endpoint = "{workspace.api_endpoint}"\n'
        f"[alerts]\nurls = {json.dumps(urls)}\n", encoding="utf-8")
    evidence = str(Path(sys.executable).with_name("evidence"))
    out = tmp_path / "out"
    ran = subprocess.run([evidence, "-vv", "run", "--only", "aws,github,google_workspace,manual",
                          "--config", str(config), "--out", str(out)],
                         env=env, capture_output=True, timeout=300, check=False)
    assert ran.returncode in (0, 1, 3, 4), ran.stderr.decode()[-2000:]
    bundle = next(out.glob("*/*/manifest.json")).parent
    exported = subprocess.run([evidence, "-vv", "export", str(bundle), "--output", str(out / "auditor.zip")],
                              env=env, capture_output=True, timeout=120, check=False)
    assert exported.returncode == 0, exported.stderr.decode()[-2000:]
    listed = subprocess.run([evidence, "-vv", "history", "--config", str(config), "--out", str(out)],
                            env=env, capture_output=True, timeout=120, check=False)
    assert listed.returncode == 0 and bundle.name.encode() in listed.stdout, listed.stderr.decode()[-2000:]

    # every source really ran, with the planted credential
    assert b"DEBUG " in ran.stderr  # -vv did log at debug
    for source in ("aws", "github", "google_workspace"):
        assert any((bundle / "evidence" / source).rglob("*.json")), f"no {source} evidence in the bundle"
    assert github.requests and all(r.authenticated for r in github.requests)
    assert any(r.status == 200 and r.path.startswith("/repos/") for r in github.requests)
    # the fake verifies the JWT's signature with the planted key's public half before it answers 200
    signed = [r for r in workspace.requests if r.path == "/token" and r.status == 200]
    assert signed and all(r.claims and r.claims["iss"] == service_account["client_email"] for r in signed)
    issued = list(workspace.tokens)
    assert issued and all(t.startswith(GOOGLE_ACCESS_PREFIX) for t in issued)
    assert any(r.path.endswith("/users") and r.status == 200 for r in workspace.requests)
    # an alert really went out, authenticated with the alert URL's password; another did not
    assert webhook.received and set(webhook.authorizations) == {f"Basic {ALERT_BASIC}"}
    assert b"Control:" in b"".join(webhook.received)
    assert b"NOT delivered" in ran.stderr

    planted = [SECRET_KEY, SESSION_TOKEN, ALERT_PASSWORD, ALERT_BASIC, WEBHOOK_PATH_SECRET, GITHUB_TOKEN, GOOGLE_KEY_ID,
               GOOGLE_ACCESS_PREFIX, *issued, *_key_lines(service_account["private_key"])]
    written = b"\n".join([ran.stdout, ran.stderr, exported.stdout, exported.stderr, listed.stdout, listed.stderr,
                          _everything(out), *webhook.received])
    assert (out / "history.sqlite").is_file() and (out / "auditor.zip").is_file()
    leaked = [secret for secret in planted if any(piece.encode() in written for piece in _pieces(secret))]
    assert leaked == []
    # ... though where they were used is written, masked
    assert b"json://alerts:****@127.0.0.1:1/" in written
