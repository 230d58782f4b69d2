"""Shard bundles: what `evidence run --shard K/N` writes, and how `evidence merge` checks them and
takes their evidence in.

A shard bundle holds the evidence records of the units its shard owns and a sealed manifest
(every file's sha256) that says which shard of which plan it is:

    <out>/shards/<plan digest, 12 characters>/shard-K-of-N-<run id>/
      manifest.json  manifest.sha256  evidence/...

`merge` takes the plan's shards only when they are all there, each exactly once, of one plan,
and none altered; then their records go into one ordinary bundle, judged as one run is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from evidence import __version__
from evidence.bundle import SHARD_SCHEMA, BundleError, PartialBundle, file_sha256, load_manifest, verify
from evidence.models import EvidenceRecord, iso, sha256_of, utc_now
from evidence.records import EvidenceWriter
from evidence.shards import Shard, plan_digest

#: the manifest schema of a shard bundle


class MergeError(Exception):
    """Shards that cannot be merged, one line naming the shard (exit code 2)."""


class _ShardInfo(BaseModel):
    index: int = Field(ge=0)
    count: int = Field(ge=1, le=10000)
    plan: str = Field(min_length=12)


class _Scope(BaseModel):
    sources: dict[str, str]


class _ShardManifest(BaseModel):
    """What `merge` reads of a shard's manifest (the rest is the bundle's, checked by `verify`)."""

    shard: _ShardInfo
    plan: dict[str, Any]
    period: dict[str, Any]
    scope: _Scope
    api_calls: dict[str, int]
    user_errors: list[str]


@dataclass(frozen=True)
class ShardBundle:
    path: Path
    manifest: dict[str, Any]
    #: where it came from, when not from `path` itself (its S3 location): what messages name
    origin: str = ""

    @property
    def label(self) -> str:
        return self.origin or str(self.path)

    @property
    def shard(self) -> Shard:
        info = self.manifest["shard"]
        return Shard(int(info["index"]), int(info["count"]))

    @property
    def plan(self) -> str:
        return str(self.manifest["shard"]["plan"])


def shard_folder(out: Path, plan: str, shard: Shard, run_id: str) -> Path:
    """Where a shard bundle goes: under `<out>/shards/<plan>/`, never among the run bundles."""
    return out / "shards" / plan[:12] / f"{shard.name}-{run_id}"


def find_shards(paths: Iterable[Path]) -> list[Path]:
    """The shard bundles `paths` name: each is a shard bundle, or a folder holding them (a plan's
    folder, or `<out>/shards`)."""
    found: list[Path] = []
    for path in paths:
        if (path / "manifest.json").is_file():
            found.append(path)
            continue
        inner = sorted(p.parent for p in path.rglob("manifest.json")) if path.is_dir() else []
        if not inner:
            raise MergeError(f"{path}: not a shard bundle, and holds none")
        found.extend(inner)
    return found


def load_shards(paths: Sequence[Path], origins: Mapping[Path, str] | None = None) -> list[ShardBundle]:
    """The shard bundles of one plan, in shard order; a missing, repeated, foreign or altered
    shard raises `MergeError` naming it (by its `origins` entry when it has one: an S3 copy is
    named by its S3 location)."""
    shards: list[ShardBundle] = []
    for path in find_shards(paths):
        name = (origins or {}).get(path, str(path))
        try:
            manifest = load_manifest(path)
        except BundleError as exc:
            raise MergeError(f"{name}: {exc}") from None
        if manifest.get("schema") != SHARD_SCHEMA:
            raise MergeError(f"{name}: not a shard bundle (its manifest is not {SHARD_SCHEMA})")
        try:
            _ShardManifest.model_validate(manifest)
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise MergeError(f"{name}: its manifest's {'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None
        if not 0 <= manifest["shard"]["index"] < manifest["shard"]["count"]:
            raise MergeError(f"{name}: claims to be shard {manifest['shard']['index']} of {manifest['shard']['count']}")
        problems = verify(path)
        if problems:
            raise MergeError(f"{name}: altered since its shard sealed it ({problems[0]}); run that shard again")
        shards.append(ShardBundle(path, manifest, (origins or {}).get(path, "")))
    if not shards:
        raise MergeError("no shard bundles given")
    first = shards[0]
    for other in shards[1:]:
        if other.plan != first.plan or other.shard.count != first.shard.count:
            raise MergeError(
                f"{other.label}: shard {other.shard.index} of {other.shard.count} of plan {other.plan[:12]}, not of "
                f"plan {first.plan[:12]} ({first.label}): the shards ran with different configurations, catalogs, "
                "accounts or N"
            )
    by_index: dict[int, ShardBundle] = {}
    for s in shards:
        if s.shard.index in by_index:
            raise MergeError(f"shard {s.shard.index} of {s.shard.count} given twice: {by_index[s.shard.index].label} "
                             f"and {s.label}")
        by_index[s.shard.index] = s
    missing = [k for k in range(first.shard.count) if k not in by_index]
    if missing:
        raise MergeError(
            f"plan {first.plan[:12]}: shard{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} of "
            f"{first.shard.count} missing; merge never makes a smaller bundle"
        )
    return [by_index[k] for k in range(first.shard.count)]


def adopt(
    shards: Sequence[ShardBundle], writer: EvidenceWriter
) -> tuple[dict[str, str | None], dict[str, int], list[str]]:
    """Every shard's evidence records into `writer`'s bundle; returns each source's status (None:
    collected by its shard), the calls made per source summed over the shards, and the shards'
    user errors (each once)."""
    status: dict[str, str | None] = {}
    calls: dict[str, int] = {}
    owner: dict[str, str] = {}
    errors: list[str] = []
    for s in shards:
        errors.extend(e for e in s.manifest["user_errors"] if e not in errors)
        for source, text in s.manifest.get("scope", {}).get("sources", {}).items():
            reason = None if text == "collected" else str(text).removeprefix("not collected: ")
            # the shard that owns a source says how it went; the others only that it was not theirs
            if source not in status or (status[source] or "").startswith("collected by shard"):
                status[source] = reason
        for source, n in s.manifest.get("api_calls", {}).items():
            calls[source] = calls.get(source, 0) + int(n)
        for rel in sorted(r for r in s.manifest.get("files", {}) if r.startswith("evidence/")):
            if rel in owner:
                raise MergeError(f"{rel}: recorded by two shards ({owner[rel]} and {s.label}); the plan was not "
                                 "split exactly")
            owner[rel] = s.label
            data = (s.path / rel).read_bytes()
            try:
                record = EvidenceRecord.model_validate_json(data)
            except ValidationError as exc:
                raise MergeError(f"{s.label}/{rel}: not an evidence record ({exc.errors()[0]['msg']})") from None
            writer.adopt(rel, record, data)
    return status, calls, errors


def seal_shard(
    runner: Any, catalog: Any, collectors: Mapping[str, Any], partial: PartialBundle,
    run_id: str, started: Any, sources: Mapping[str, str | None], calls: Mapping[str, int], user_errors: list[str],
) -> tuple[Path, dict[str, Any]]:
    """Seal a sharded run's evidence as a shard bundle and move it into place: its folder and
    manifest. `runner` is the `Runner` (its shard, config, period, out)."""
    shard: Shard = runner.shard
    config_digest = sha256_of(runner.config.public_dict())
    accounts = sorted({a for c in collectors.values() for a in c.plan_inputs})
    only = sorted(runner.only) if runner.only is not None else None
    plan = plan_digest(config_digest, catalog.digest, accounts, shard.count, only, period=runner.period.name,
                       version=__version__)
    manifest: dict[str, Any] = {
        "schema": SHARD_SCHEMA,
        "tool": {"name": "evidence", "version": __version__},
        "run_id": run_id,
        "period": runner.period.model_dump(mode="json"),
        "started_at": iso(started),
        "finished_at": iso(utc_now()),
        "shard": {"index": shard.index, "count": shard.count, "plan": plan},
        "plan": {"config_digest": config_digest, "catalog_digest": catalog.digest, "accounts": accounts,
                 "only": only},
        "scope": {"sources": {k: ("collected" if v is None else f"not collected: {v}")
                              for k, v in sorted(sources.items())}},
        "api_calls": dict(calls),
        "user_errors": user_errors,
    }
    partial.seal(manifest)
    partial.final = shard_folder(runner.out, plan, shard, run_id)
    partial.final.parent.mkdir(parents=True, exist_ok=True)
    return partial.commit(), manifest


def merged_from(shards: Sequence[ShardBundle]) -> list[dict[str, Any]]:
    """What a merged bundle's manifest says of its shards: each one's run and manifest digest."""
    return [{"shard": s.shard.index, "of": s.shard.count, "plan": s.plan, "run_id": s.manifest.get("run_id"),
             "from": s.label, "manifest_sha256": file_sha256(s.path / "manifest.json")} for s in shards]


__all__ = ["SHARD_SCHEMA", "MergeError", "ShardBundle", "adopt", "find_shards", "load_shards", "merged_from",
           "seal_shard", "shard_folder"]
