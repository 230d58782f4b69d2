"""Bundles are untrusted input: a symbolic link anywhere, a path that escapes, a file listed
twice, a manifest that is not JSON or is nested 100,000 deep are each refused with their
reason, by every command that reads a bundle, and nothing outside the bundle is read."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import evidence.bundle as bundle_module
from evidence.bundle import MANIFEST, MANIFEST_DIGEST, not_a_bundle, verify
from evidence.cli import cli
from evidence.config import parse_config
from evidence.registry import Registry
from evidence.runner import Runner
from tests.conftest import PERIOD


@pytest.fixture
def bundle(tmp_path: Path, registry: Registry) -> Path:
    result = Runner(config=parse_config({}), registry=registry, period=PERIOD, out=tmp_path / "out",
                    only={"manual"}, report_formats=("html", "csv")).run()
    assert result.bundle is not None and verify(result.bundle) == []
    return result.bundle


def _reseal(bundle: Path, manifest: dict[str, object] | bytes) -> None:
    """Write a manifest and a matching manifest.sha256, as someone who altered the bundle would."""
    raw = manifest if isinstance(manifest, bytes) else (json.dumps(manifest, indent=2) + "\n").encode()
    (bundle / MANIFEST).write_bytes(raw)
    (bundle / MANIFEST_DIGEST).write_text(f"{hashlib.sha256(raw).hexdigest()}  {MANIFEST}\n")


def _commands(bundle: Path, tmp_path: Path) -> dict[str, list[str]]:
    return {"verify": ["verify", str(bundle)], "evaluate": ["evaluate", str(bundle)],
            "report": ["report", str(bundle), "--format", "csv", "--out", str(tmp_path / "r")],
            "export": ["export", str(bundle), "--output", str(tmp_path / "e.zip")],
            "diff": ["diff", str(bundle), str(bundle)]}


def test_a_link_to_a_file_outside_listed_with_its_hash_is_refused_by_every_command(
    bundle: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0\n")
    (bundle / "evidence").mkdir(exist_ok=True)
    (bundle / "evidence" / "passwd.json").symlink_to(outside)
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"]["evidence/passwd.json"] = {"sha256": hashlib.sha256(outside.read_bytes()).hexdigest(),
                                                 "size": outside.stat().st_size}
    _reseal(bundle, manifest)
    assert verify(bundle) == ["evidence/passwd.json: a symbolic link; a bundle holds only regular files"]
    for name, args in _commands(bundle, tmp_path).items():
        ran = CliRunner().invoke(cli, args)
        assert ran.exit_code != 0, name
        assert "symbolic link" in ran.output, (name, ran.output)
        assert "Traceback" not in ran.output
    assert not (tmp_path / "e.zip").exists()  # nothing packed


def test_a_record_replaced_by_a_link_to_an_identical_copy_is_refused(bundle: Path, tmp_path: Path) -> None:
    victim = next(p for p in bundle.rglob("*.json") if p.name == "controls.json")
    copy = tmp_path / "copy.json"
    shutil.copyfile(victim, copy)
    victim.unlink()
    victim.symlink_to(copy)
    assert verify(bundle) == ["controls.json: a symbolic link; a bundle holds only regular files"]
    os.chmod(copy, 0)  # were it read, the test would see a PermissionError, not the refusal
    assert CliRunner().invoke(cli, ["verify", str(bundle)]).exit_code == 1


def test_a_file_listed_twice_is_refused_even_when_the_last_entry_is_right(bundle: Path) -> None:
    raw = (bundle / MANIFEST).read_text()
    entry = '"controls.json": {'
    assert entry in raw
    twice = raw.replace(entry, '"controls.json": {"sha256": "0000", "size": 1},\n    ' + entry, 1)
    _reseal(bundle, twice.encode())
    problems = verify(bundle)
    assert len(problems) == 1 and "'controls.json' is written twice" in problems[0]
    ran = CliRunner().invoke(cli, ["verify", str(bundle)])  # tampering (1), not "not a bundle" (2)
    assert ran.exit_code == 1 and "written twice" in ran.output


@pytest.mark.parametrize("rel", ["../outside.json", "/etc/passwd", "evidence/../../x", "./controls.json"])
def test_a_listed_path_outside_the_bundle_is_refused_and_never_read(bundle: Path, rel: str) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"][rel] = {"sha256": "0" * 64, "size": 1}
    _reseal(bundle, manifest)
    assert verify(bundle) == [f"{rel}: listed in the manifest with a path outside the bundle"]


def test_a_file_present_but_not_listed_is_named(bundle: Path) -> None:
    (bundle / "planted.json").write_text("{}")
    assert verify(bundle) == ["planted.json: not listed in the manifest"]


@pytest.mark.parametrize(("raw", "says"), [
    (b"not json at all", "unreadable manifest"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"files": []}', "no files object"),
    (b"\xff\xfe\x00", "unreadable manifest"),
])
def test_a_manifest_that_is_not_one_is_not_a_bundle_exit_2(
    bundle: Path, raw: bytes, says: str, tmp_path: Path
) -> None:
    (bundle / MANIFEST).write_bytes(raw)
    reason = not_a_bundle(bundle)
    assert reason is not None and says in reason
    for name, args in _commands(bundle, tmp_path).items():
        ran = CliRunner().invoke(cli, args)
        assert ran.exit_code == 2, (name, ran.output)
        assert says in ran.output and "Traceback" not in ran.output


def test_a_manifest_larger_than_any_real_one_is_refused_unread(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle_module, "MAX_MANIFEST_BYTES", 1000)

    def never(self: Path) -> bytes:
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", never)
    assert "more than any manifest" in (not_a_bundle(bundle) or "")
    assert "more than any manifest" in verify(bundle)[0]


def test_a_manifest_that_is_a_pipe_is_refused_without_waiting_on_it(bundle: Path) -> None:
    (bundle / MANIFEST).unlink()
    os.mkfifo(bundle / MANIFEST)  # reading it would block for ever
    assert "not a regular file" in (not_a_bundle(bundle) or "")
    assert "not a regular file" in verify(bundle)[0]


def test_an_altered_file_is_tampering_exit_1_not_a_non_bundle(bundle: Path) -> None:
    (bundle / "controls.json").write_text("[]\n")
    ran = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert ran.exit_code == 1 and "controls.json: sha256 mismatch" in ran.output
