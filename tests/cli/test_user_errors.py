"""The inputs fuzzing once turned into tracebacks, each now one line naming what to fix, exit 2."""

from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.catalog import default_catalog_dir
from evidence.cli import cli

WAIVER = "control: ENC-REST\nresource: x\nreason: r\napprover: a\nexpires: {}\n"


def _case(tmp_path: Path, name: str) -> tuple[list[str], str]:
    config = tmp_path / "evidence.toml"
    run = ["run", "--only", "manual", "--config", str(config), "--out", str(tmp_path / "out")]
    if name == "deep-toml":
        config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
        return run, "nested too deeply to be a configuration"
    if name == "long-exceptions-dir":
        config.write_text(f'[bundle]\nexceptions_dir = "{"a" * 300}"\n')
        return run, "cannot read the exceptions folder (File name too long); check bundle.exceptions_dir"
    if name == "huge-repeat":
        config.write_text("[alerts]\nrepeat_after_days = 1000000000\n")
        return run, "key 'alerts.repeat_after_days': Input should be less than or equal to 36500"
    if name in ("impossible-date", "deep-yaml"):
        (tmp_path / "exc").mkdir()
        text = WAIVER.format("2026-13-01") if name == "impossible-date" else "a: " + "[" * 3000 + "]" * 3000
        (tmp_path / "exc" / "w.yaml").write_text(text)
        config.write_text('[bundle]\nexceptions_dir = "exc"\n')
        return run, ("a value that does not exist (month must be in 1..12)" if name == "impossible-date"
                     else "nested too deeply to be a waiver")
    catalog = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), catalog)
    if name == "not-utf8-control":
        (catalog / "BAD.toml").write_bytes(b"\xff\xfe id")
        return ["controls", "validate", str(catalog)], "BAD.toml: cannot read as UTF-8 text"
    if name == "path-as-control-id":
        text = (catalog / "DR-TEST.toml").read_text().replace('id = "DR-TEST"', 'id = "../../etc/passwd"', 1)
        (catalog / "DR-TEST.toml").write_text(text)
        return ["controls", "validate", str(catalog)], "key 'id': String should match pattern"
    assert name == "attach-out-is-a-file"
    (tmp_path / "afile").write_text("x")
    return (["attach", "DR-TEST", str(tmp_path / "afile"), "--valid-until", "2027-01-01", "--out",
             str(tmp_path / "afile")], "cannot keep attachments there (Not a directory)")


@pytest.mark.parametrize("name", ["deep-toml", "long-exceptions-dir", "huge-repeat", "impossible-date", "deep-yaml",
                                  "not-utf8-control", "path-as-control-id", "attach-out-is-a-file"])
def test_each_is_one_line_and_exit_2(name: str, tmp_path: Path) -> None:
    args, says = _case(tmp_path, name)
    ran = CliRunner().invoke(cli, args)
    assert ran.exit_code == 2, ran.output
    assert says in ran.output and "Traceback" not in ran.output
    assert len([line for line in ran.output.splitlines() if line.startswith("evidence: error")]) == 1


class _ExpiredSTS(BaseHTTPRequestHandler):
    """An STS endpoint that answers every call as AWS does for an expired session token."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
                b"<Message>The security token included in the request is expired</Message></Error></ErrorResponse>")
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("name", "says"), [
    ("missing-profile", "The config profile (nope) could not be found"),
    ("failing-credential-process", "the AWS credentials could not be loaded (Error when retrieving credentials"),
    ("unparsable-credentials-file", "Unable to parse config file"),
    ("expired-token", "AWS rejected the credentials (ExpiredToken)"),
])
def test_a_broken_aws_credential_chain_is_one_line_and_exit_2(
    name: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every credential-chain failure names its fix in one line, exit 2, and the run still
    writes its bundle (its AWS controls `error`, never a pass)."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    server = None
    if name == "missing-profile":
        monkeypatch.setenv("AWS_PROFILE", "nope")
    elif name == "failing-credential-process":
        (tmp_path / "config").write_text("[default]\ncredential_process = /bin/false\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    elif name == "unparsable-credentials-file":
        (tmp_path / "credentials").write_text("[default\naws_access_key_id = AKIA\n")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    else:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXPIRED")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "expired")
        monkeypatch.setenv("AWS_SESSION_TOKEN", "expired")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _ExpiredSTS)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    config = tmp_path / "evidence.toml"
    config.write_text('[aws]\nregions = ["eu-west-2"]\n')
    try:
        ran = CliRunner().invoke(cli, ["run", "--only", "aws", "--config", str(config), "--out", str(tmp_path / "out")])
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    assert ran.exit_code == 2, ran.output
    errors = [line for line in ran.output.splitlines() if line.startswith("evidence: error")]
    assert len(errors) == 1 and says in errors[0], ran.output
    assert "Traceback" not in ran.output
    assert list((tmp_path / "out").glob("*/*/manifest.json"))  # what was collected is kept
