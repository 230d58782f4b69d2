"""Notifications through apprise against a local HTTP receiver and a local SMTP server
(aiosmtpd), both on loopback; an unreachable URL is a reported, recorded failure that never
loses the run."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from evidence import models as evidence_models
from evidence import runner as evidence_runner
from evidence.bundle import verify
from evidence.cli import _manual_inputs, cli, record_and_alert
from evidence.config import Config, load_config
from evidence.history import History
from evidence.models import Period, utc_now
from evidence.notify import Message, redact, send
from evidence.registry import Registry
from evidence.runner import Runner, RunResult

PERIOD = Period.parse("2026-Q4")


def write_config(folder: Path, data: str) -> Config:
    """An `evidence.toml` in `folder` (so `exceptions/` beside it is its waivers folder)."""
    path = folder / "evidence.toml"
    path.write_text(data, encoding="utf-8")
    return load_config(path)


def alerts_toml(urls: list[str], **extra: int) -> str:
    lines = ["[alerts]", "urls = [" + ", ".join(json.dumps(u) for u in urls) + "]"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def pipeline(registry: Registry, cfg: Config, out: Path, only: set[str]) -> tuple[RunResult, int]:
    """What `evidence run` does (waivers and attachments in, history, drift, alerts out), minus
    the report rendering hooks, which are slow and tested with the reports."""
    attachments, waivers, files = _manual_inputs(cfg, out, None)
    runner = Runner(
        config=cfg, registry=registry, period=PERIOD, out=out, only=only,
        attachments=attachments, waivers=waivers, files=files,
    )
    result = runner.run()
    return result, record_and_alert(result, cfg, out, result.exit_code)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpReceiver:
    """A stdlib HTTP server on loopback collecting the JSON bodies posted to it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append({"path": self.path, "json": json.loads(self.rfile.read(length))})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> HttpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _MailHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


class SmtpReceiver:
    """A plain SMTP server (aiosmtpd) on loopback, optionally requiring AUTH (without TLS)."""

    def __init__(self, *, login: tuple[str, str] | None = None) -> None:
        self.handler = _MailHandler()
        self.login = login
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if login is not None:
            kwargs = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.login is not None
            and (data.login.decode(), data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def url(self) -> str:
        query = "smtp=127.0.0.1&mode=insecure&from=evidence@zaptic.example&to=security@zaptic.example"
        if self.login is not None:
            user, password = self.login
            return f"mailto://{user}:{password}@127.0.0.1:{self.port}?{query}"
        return f"mailto://127.0.0.1:{self.port}?{query}"

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def body_of(msg: EmailMessage) -> str:
    parts = [p for p in msg.walk() if p.get_content_type() == "text/plain"] or list(msg.walk())
    payload = parts[0].get_payload(decode=True)
    return payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as r:
        yield r


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as r:
        yield r


MESSAGE = Message(
    "ENC-TRANSIT", "evidence: ENC-TRANSIT fail: pass → fail", "Control: ENC-TRANSIT\nResources:\n  - arn:x\n"
)


def test_json_and_mail_each_receive_the_message(http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver) -> None:
    deliveries = send([MESSAGE], [http_receiver.url, smtp_receiver.url()])
    assert [d.ok for d in deliveries] == [True, True], deliveries
    assert len(http_receiver.requests) == 1
    posted = http_receiver.requests[0]
    assert posted["path"] == "/hook"
    assert posted["json"]["title"] == MESSAGE.title
    assert "arn:x" in posted["json"]["message"]
    assert len(smtp_receiver.messages) == 1
    mail = smtp_receiver.messages[0]
    assert "ENC-TRANSIT" in str(email.header.make_header(email.header.decode_header(mail["Subject"])))
    assert mail["To"] == "security@zaptic.example"
    assert "arn:x" in body_of(mail)


def test_mail_with_login_on_plain_smtp_and_password_never_shown() -> None:
    with SmtpReceiver(login=("alerts", "s3cret-pw")) as server:
        deliveries = send([MESSAGE], [server.url()])
        assert deliveries[0].ok, deliveries
        assert len(server.messages) == 1
        assert "s3cret-pw" not in deliveries[0].target
        assert "s3cret-pw" not in redact(server.url())
        # a wrong password is a failed delivery naming nothing secret
        bad = server.url().replace("s3cret-pw", "wrong-pw")
        failed = send([MESSAGE], [bad])
        assert not failed[0].ok
        assert "wrong-pw" not in failed[0].target + failed[0].error
        assert len(server.messages) == 1


def test_alert_urls_are_redacted_in_the_bundle_config(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, alerts_toml([
        "mailto://alerts:s3cret-pw@smtp.example.com:25?from=e@example.com&to=s@example.com",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#security",
        "json://hooks.example.com/evidence?token=abc123",
    ]))
    text = json.dumps(cfg.public_dict())
    for secret in ("s3cret-pw", "TIiajkdnlazkcOXrIdevi7FQ", "abc123"):
        assert secret not in text
    assert cfg.alerts.urls[0].startswith("mailto://alerts:s3cret-pw@")  # the real URL is still used to send


def test_an_unusable_alert_url_stops_the_run_before_any_api_call(tmp_path: Path) -> None:
    write_config(tmp_path, alerts_toml(["jsn://127.0.0.1:9/hook"]))
    result = CliRunner().invoke(
        cli, ["run", "--config", str(tmp_path / "evidence.toml"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "key 'alerts.urls': not a notification URL apprise can use: jsn://(unparsable URL)" in result.output
    assert not (tmp_path / "out").exists()


def test_unreachable_and_invalid_urls_are_failed_deliveries() -> None:
    closed = free_port()
    deliveries = send([MESSAGE], [f"json://127.0.0.1:{closed}/hook", "nosuchscheme://x", "mailto://"])
    assert [d.ok for d in deliveries] == [False, False, False]
    assert "connection" in deliveries[0].error.lower()
    assert deliveries[0].target == f"json://127.0.0.1:{closed}/…"  # a webhook path may be its secret
    assert "not a notification URL" in deliveries[1].error


def test_one_delivery_per_message_and_url(http_receiver: HttpReceiver) -> None:
    other = Message("PENTEST", "evidence: PENTEST manual", "body\n")
    deliveries = send([MESSAGE, other], [http_receiver.url])
    assert [(d.key, d.ok) for d in deliveries] == [("ENC-TRANSIT", True), ("PENTEST", True)]
    assert [r["json"]["title"] for r in http_receiver.requests] == [MESSAGE.title, other.title]
    assert send([], [http_receiver.url]) == []


def test_unreachable_url_is_reported_and_the_run_is_complete(
    tmp_path: Path, http_receiver: HttpReceiver, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    """Acceptance 6: the failure is printed and recorded; bundle and history are complete; the
    alert that reached nobody is sent on the next run once the URL works, and only once."""
    out = tmp_path / "out"
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF-1.4 pentest report")
    runner = CliRunner()
    yesterday = (utc_now().date() - timedelta(days=1)).isoformat()
    attached = runner.invoke(
        cli, ["attach", "PENTEST", str(report), "--valid-until", yesterday, "--out", str(out), "--by", "alice"]
    )
    assert attached.exit_code == 0, attached.output
    closed = free_port()
    write_config(tmp_path, alerts_toml([f"json://127.0.0.1:{closed}/hook"]))
    cfg_path = str(tmp_path / "evidence.toml")
    result = runner.invoke(cli, ["run", "--config", cfg_path, "--out", str(out), "--only", "manual"])
    # nothing fails (controls awaiting manual evidence are not counted), but expired manual evidence is drift
    assert result.exit_code == 4, result.output
    assert "alerts: 1 not delivered (will retry)" in result.stdout.splitlines()
    assert f"    not delivered to json://127.0.0.1:{closed}/…" in result.stdout.splitlines()
    assert f"alert PENTEST NOT delivered to json://127.0.0.1:{closed}/…" in result.stderr
    assert "it stays pending and will be sent again on the next run" in result.stderr
    bundles = [b for b in out.glob("*/*") if (b / "manifest.json").is_file()]
    assert len(bundles) == 1
    assert verify(bundles[0]) == []
    with History.open(out, create=False) as history:
        runs = history.runs()
        assert [r.run_id for r in runs] == [bundles[0].name]
        assert history.count_findings(runs[0].run_id) == len(json.loads((bundles[0] / "findings.json").read_text()))
        assert len(history.snapshot(runs[0]).verdicts) == len(json.loads((bundles[0] / "controls.json").read_text()))
        deliveries = history.deliveries(runs[0].run_id)
        assert [(d.control_id, d.ok) for d in deliveries] == [("PENTEST", False)]
        assert "connection" in deliveries[0].error.lower()
        assert history.integrity_check() == ["ok"]
        assert _alerted(history) == {"manual:PENTEST:pentest-report:expired": None}  # pending

    # the URL works now: the alert that reached no one goes out, once
    cfg = write_config(tmp_path, alerts_toml([http_receiver.url]))
    capsys.readouterr()
    _, code = pipeline(registry, cfg, out, {"manual"})
    printed = capsys.readouterr().out
    assert code == 0, printed  # no new drift against the previous run
    assert "alerts: 1 sent" in printed.splitlines()
    assert len(http_receiver.requests) == 1
    assert "PENTEST" in http_receiver.requests[0]["json"]["title"]
    assert "reached no one" in http_receiver.requests[0]["json"]["message"]
    _, code = pipeline(registry, cfg, out, {"manual"})
    assert code == 0
    assert len(http_receiver.requests) == 1


def _alerted(history: History) -> dict[str, str | None]:
    """When each active condition was last alerted (None: pending, never delivered)."""
    return {k: st.last_alerted_run for k, st in history.alert_states().items() if st.active}


def _expired_pentest(tmp_path: Path, out: Path) -> str:
    """Manual evidence for PENTEST that expired yesterday: a `--only manual` run alerts about
    it (and nothing else). Returns the subject that alert has."""
    report = tmp_path / "pentest.pdf"
    report.write_bytes(b"%PDF-1.4 pentest report")
    yesterday = (utc_now().date() - timedelta(days=1)).isoformat()
    attached = CliRunner().invoke(
        cli, ["attach", "PENTEST", str(report), "--valid-until", yesterday, "--out", str(out), "--by", "alice"]
    )
    assert attached.exit_code == 0, attached.output
    return f"PENTEST: manual evidence pentest-report expired on {yesterday}"


def test_an_alert_with_no_url_stays_pending_and_is_sent_on_the_first_run_with_one(
    tmp_path: Path, registry: Registry, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acceptance 4 (no URL): nothing is marked as alerted while no URL is configured; the first
    run with a working URL sends the alert, the next does not, until repeat_after_days."""
    out = tmp_path / "out"
    subject = _expired_pentest(tmp_path, out)
    cfg = write_config(tmp_path, "")
    _, code = pipeline(registry, cfg, out, {"manual"})
    printed = capsys.readouterr()
    assert code == 4
    lines = printed.out.splitlines()
    assert "alerts: 1 pending (no [alerts] urls configured; they will be sent once one is)" in lines
    assert f"  {subject}" in lines
    assert "already alerted" not in printed.out and printed.err == ""
    with History.open(out, create=False) as history:
        assert _alerted(history) == {"manual:PENTEST:pentest-report:expired": None}
        assert history.alerts() == [] and history.deliveries() == []

    # still no URL: still pending, not "already alerted"
    pipeline(registry, cfg, out, {"manual"})
    assert "alerts: 1 pending (no [alerts] urls configured" in capsys.readouterr().out

    with HttpReceiver() as hook:
        cfg = write_config(tmp_path, alerts_toml([hook.url]))
        second, code = pipeline(registry, cfg, out, {"manual"})
        lines = capsys.readouterr().out.splitlines()
        assert code == 0  # nothing new since the previous run: it is the alert that was pending
        assert "alerts: 1 sent" in lines
        assert f"    sent to {hook.url.removesuffix('hook')}…" in lines
        assert [r["json"]["title"] for r in hook.requests] == [subject]
        message = hook.requests[0]["json"]["message"]
        assert "expired on" in message and "reached no one" in message
        with History.open(out, create=False) as history:
            assert _alerted(history) == {"manual:PENTEST:pentest-report:expired": second.run_id}
            assert [(d.control_id, d.ok) for d in history.deliveries()] == [("PENTEST", True)]

        # sent once: the next run does not send it again ...
        _, code = pipeline(registry, cfg, out, {"manual"})
        assert "alerts: none to send (1 condition(s) already alerted)" in capsys.readouterr().out.splitlines()
        assert len(hook.requests) == 1

        # ... until repeat_after_days (7) have passed: then one reminder
        later = utc_now() + timedelta(days=8)
        monkeypatch.setattr(evidence_runner, "utc_now", lambda: later)
        monkeypatch.setattr(evidence_models, "utc_now", lambda: later)
        pipeline(registry, cfg, out, {"manual"})
        assert "alerts: 1 sent" in capsys.readouterr().out.splitlines()
        assert [r["json"]["title"] for r in hook.requests] == [subject, subject]
        assert "reminder" in hook.requests[1]["json"]["message"]


def test_a_pending_alert_is_sent_by_evidence_drift_once_a_url_works(tmp_path: Path, registry: Registry) -> None:
    """Acceptance 4 (closed port): an alert whose only URL refuses the connection stays pending;
    `evidence drift` with a working URL sends it, once."""
    out = tmp_path / "out"
    subject = _expired_pentest(tmp_path, out)
    cfg = write_config(tmp_path, alerts_toml([f"json://127.0.0.1:{free_port()}/hook"]))
    pipeline(registry, cfg, out, {"manual"})
    with History.open(out, create=False) as history:
        assert _alerted(history) == {"manual:PENTEST:pentest-report:expired": None}
        assert [d.ok for d in history.deliveries()] == [False]
    with HttpReceiver() as hook:
        write_config(tmp_path, alerts_toml([hook.url]))
        args = ["drift", "--config", str(tmp_path / "evidence.toml"), "--out", str(out)]
        result = CliRunner().invoke(cli, args)
        assert "alerts: 1 sent" in result.stdout.splitlines(), result.output
        assert [r["json"]["title"] for r in hook.requests] == [subject]
        again = CliRunner().invoke(cli, args)
        assert "alerts: none to send (1 condition(s) already alerted)" in again.stdout.splitlines(), again.output
        assert len(hook.requests) == 1
