"""The demo's private scratch folders (its CA, its service-account key), named for the process
that made them. A demo stopped by SIGTERM or Ctrl-C removes its own on the way out; one killed
outright (SIGKILL) cannot, so each demo first removes those whose process is gone and that
were left a day ago or more."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "evidence-demo-scratch-"
#: how old a dead process's scratch folder must be before a demo removes it
STALE_AFTER_SECONDS = 24 * 3600
_NAME = re.compile(rf"^{re.escape(PREFIX)}[a-z]+-(\d+)-")


@contextmanager
def scratch_dir(kind: str) -> Iterator[Path]:
    """A private temporary folder for this process (`kind`: a lowercase word), removed after."""
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{kind}-{os.getpid()}-") as folder:
        yield Path(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_stale(where: Path | None = None) -> list[Path]:
    """Remove the scratch folders left by demos whose process no longer exists; returns them."""
    root = where or Path(tempfile.gettempdir())
    removed: list[Path] = []
    for path in sorted(root.glob(f"{PREFIX}*")):
        match = _NAME.match(path.name)
        if match is None or not path.is_dir() or path.is_symlink() or _alive(int(match.group(1))):
            continue
        # a process in another PID namespace (a container sharing /tmp) looks gone: only folders
        # untouched for a day are taken for a killed demo's
        if time.time() - path.stat().st_mtime < STALE_AFTER_SECONDS:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def exit_on_sigterm() -> None:
    """SIGTERM ends the process as Ctrl-C would, through every `with` block (scratch removed,
    fake servers stopped); only from the main thread, where signal handlers live."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


__all__ = ["PREFIX", "STALE_AFTER_SECONDS", "exit_on_sigterm", "scratch_dir", "sweep_stale"]
