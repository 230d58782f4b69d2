"""Extra files (attachments, waivers) copied into a partial bundle at their bundle paths."""

from __future__ import annotations

import shutil
from pathlib import Path

from evidence.config import ConfigError


def copy_into_bundle(root: Path, files: dict[str, Path]) -> None:
    """Copy extra files into a partial bundle at their bundle-relative paths."""
    for rel, source in sorted(files.items()):
        target = (root / rel).resolve()
        if Path(rel).is_absolute() or ".." in Path(rel).parts or not target.is_relative_to(root.resolve()):
            raise ConfigError(f"{rel}: a bundle file must stay inside the bundle")
        if target.exists():
            raise ConfigError(f"{rel}: already in the bundle; an extra file never replaces one")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            raise ConfigError(f"{source}: cannot copy into the bundle as {rel} ({exc.strerror or exc})") from None


__all__ = ["copy_into_bundle"]
