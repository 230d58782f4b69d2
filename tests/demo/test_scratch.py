"""The demo's scratch folders (its CA and its service-account key): removed on SIGTERM, and,
when a demo was killed outright, by the next demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from evidence.demo.scratch import PREFIX, STALE_AFTER_SECONDS, scratch_dir, sweep_stale


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _age(folder: Path) -> None:
    """Make `folder` look left two days ago."""
    then = time.time() - 2 * STALE_AFTER_SECONDS
    os.utime(folder, (then, then))


def test_sweep_removes_only_the_folders_of_processes_that_are_gone(tmp_path: Path) -> None:
    dead = tmp_path / f"{PREFIX}ca-{_dead_pid()}-x1"
    fresh = tmp_path / f"{PREFIX}ca-{_dead_pid()}-x3"  # gone here, but maybe alive in another container
    alive = tmp_path / f"{PREFIX}ca-{os.getpid()}-x2"
    output = tmp_path / "evidence-demo-abc123"  # a demo's own output folder: never swept
    for folder in (dead, fresh, alive, output):
        folder.mkdir()
        (folder / "key.pem").write_text("k")
    for folder in (dead, alive, output):
        _age(folder)
    assert sweep_stale(tmp_path) == [dead]
    assert not dead.exists() and fresh.is_dir() and alive.is_dir() and output.is_dir()


def test_scratch_is_named_for_this_process_and_removed_after() -> None:
    with scratch_dir("ca") as folder:
        assert folder.name.startswith(f"{PREFIX}ca-{os.getpid()}-") and folder.is_dir()
    assert not folder.exists()


def _demo(tmp: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.Popen([str(Path(sys.executable).with_name("evidence")), "demo", "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_scratch(tmp: Path, pid: int, kinds: int = 2, timeout: float = 120) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(tmp.glob(f"{PREFIX}*-{pid}-*"))
        if len(found) >= kinds:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no scratch folders of demo {pid} appeared in {tmp}")


def test_a_killed_demos_key_and_ca_are_removed_by_the_next_demo_and_sigterm_removes_its_own(
    tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    killed = _demo(tmp, tmp_path / "a")
    left = _wait_for_scratch(tmp, killed.pid)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert all(p.is_dir() for p in left)  # SIGKILL cannot be cleaned up after, by anyone but the next demo
    for folder in left:
        _age(folder)
    stopped = _demo(tmp, tmp_path / "b")
    own = _wait_for_scratch(tmp, stopped.pid)
    assert not any(p.exists() for p in left)  # swept when the next demo started
    stopped.send_signal(signal.SIGTERM)
    assert stopped.wait(timeout=60) == 128 + signal.SIGTERM
    assert not any(p.exists() for p in own)
    assert not list(tmp.glob(f"{PREFIX}*"))
