"""Re-judging a stored bundle offline, from its raw evidence: the findings, and the declared
artifacts built again and compared with the bundle's own files."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TextIO

from evidence.artifacts.base import compare_artifacts
from evidence.bundle import load_manifest
from evidence.config import ConfigError
from evidence.judge import Judge, Judging, findings_json_chunks
from evidence.models import ControlVerdict, Finding
from evidence.records import EvidenceIndex
from evidence.registry import Registry


def evaluate_into(bundle: Path, registry: Registry, out: TextIO) -> list[ControlVerdict]:
    """Re-judge a stored bundle from its evidence, writing the re-judged `findings.json` to `out`
    one finding at a time (memory does not grow with the findings); returns the verdicts."""
    load_manifest(bundle)
    path = bundle / "judging.json"
    try:
        judging = Judging.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing; this is not a complete bundle") from None
    judge = Judge(judging, registry.checks, EvidenceIndex.from_bundle(bundle), registry.scope_names())
    out.writelines(findings_json_chunks(judge.findings()))
    return judge.verdicts


def evaluate(bundle: Path, registry: Registry) -> tuple[str, list[Finding], list[ControlVerdict]]:
    """Re-judge a stored bundle from its evidence: (findings.json text, findings, verdicts)."""
    buf = io.StringIO()
    verdicts = evaluate_into(bundle, registry, buf)
    text = buf.getvalue()
    return text, [Finding.model_validate(row) for row in json.loads(text)], verdicts


def artifacts_that_differ(bundle: Path, registry: Registry) -> list[str]:
    """Every declared artifact built again from the bundle's evidence: one line per artifact
    whose file differs from the rebuilt one, is missing, or should not be there."""
    load_manifest(bundle)
    return compare_artifacts(registry.artifacts.values(), bundle, EvidenceIndex.from_bundle(bundle))


__all__ = ["artifacts_that_differ", "evaluate", "evaluate_into"]
