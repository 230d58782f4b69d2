"""The artifact type, its decorator, and building and comparing artifacts over a bundle."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from evidence.records import EvidenceIndex

log = logging.getLogger(__name__)

#: what the runner itself writes into a bundle: no artifact may replace it
RESERVED_FILES = frozenset({"manifest.json", "manifest.sha256", "manifest.sig", "findings.json", "controls.json",
                            "judging.json", "config.json", "checks.json", "report.html", "report.pdf",
                            "findings.csv", "controls.csv"})
RESERVED_FOLDERS = frozenset({"evidence", "oscal", "attachments", "waivers"})

#: builds the artifact's bytes from the evidence, or None when the evidence holds nothing for it
Build = Callable[[EvidenceIndex], bytes | None]


@dataclass(frozen=True)
class Artifact:
    """A file of the bundle built from its evidence alone (so that anyone can rebuild it)."""

    id: str
    #: bundle-relative path, e.g. `github/merged-pull-requests.csv`
    path: str
    source: str
    description: str
    build: Build

    def __post_init__(self) -> None:
        rel = PurePosixPath(self.path)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"artifact {self.id}: path {self.path!r} must be relative, inside the bundle")
        if rel.parts[0] in RESERVED_FOLDERS or (len(rel.parts) == 1 and rel.name in RESERVED_FILES):
            raise ValueError(f"artifact {self.id}: path {self.path!r} is the bundle's own; choose another")


def artifact(*, id: str, path: str, source: str, description: str) -> Callable[[Build], Artifact]:
    """Declare an artifact: the decorated function becomes an `Artifact` (nothing is registered
    globally: the module is listed under the `evidence.artifacts` entry point)."""

    def wrap(fn: Build) -> Artifact:
        return Artifact(id=id, path=path, source=source, description=description, build=fn)

    return wrap


@dataclass(frozen=True)
class ArtifactResult:
    """One artifact built over an index: its bytes, nothing to write, or why it failed."""

    artifact: Artifact
    data: bytes | None = None
    error: str = ""


def build_artifacts(artifacts: Iterable[Artifact], index: EvidenceIndex) -> list[ArtifactResult]:
    """Every artifact built over `index`, in id order. An artifact that raises is an error of its
    own (recorded and counted by the caller), never the loss of the run."""
    out: list[ArtifactResult] = []
    for art in sorted(artifacts, key=lambda a: a.id):
        try:
            out.append(ArtifactResult(art, art.build(index)))
        except Exception as exc:  # reported by the caller (manifest, exit code), never silent
            log.exception("artifact %s could not be built", art.id)
            out.append(ArtifactResult(art, error=f"{type(exc).__name__}: {exc}"))
    return out


def write_artifacts(results: Iterable[ArtifactResult], folder: Path) -> list[str]:
    """Write the built artifacts into a (partial) bundle; returns the errors, one line each."""
    errors: list[str] = []
    for res in results:
        if res.error:
            errors.append(f"artifact {res.artifact.id} ({res.artifact.path}): {res.error}")
        elif res.data is not None:
            target = folder / res.artifact.path
            try:
                if not isinstance(res.data, bytes):
                    raise TypeError(f"its build returned {type(res.data).__name__}, not bytes")
                if target.exists():
                    raise FileExistsError("another file of the bundle is already there")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(res.data)
            except (OSError, TypeError) as exc:  # recorded like a build failure: the run keeps its evidence
                errors.append(f"artifact {res.artifact.id} ({res.artifact.path}): {type(exc).__name__}: {exc}")
    return errors


def compare_artifacts(artifacts: Iterable[Artifact], bundle: Path, index: EvidenceIndex) -> list[str]:
    """Each artifact built again from the bundle's evidence, compared with the bundle's file:
    one line per artifact that differs, is missing, or should not be there."""
    problems: list[str] = []
    for res in build_artifacts(artifacts, index):
        path = res.artifact.path
        stored = bundle / path
        if res.error:
            problems.append(f"{path}: could not be built again ({res.error})")
        elif res.data is None:
            if stored.exists():
                problems.append(f"{path}: in the bundle, but its evidence builds no such file")
        elif not stored.is_file():
            problems.append(f"{path}: missing from the bundle")
        elif stored.read_bytes() != res.data:
            problems.append(f"{path}: differs from the file built again from the evidence")
    return problems
