"""Shard bundles on S3, for engines whose shards share no disk (Kubernetes pods, AWS Batch jobs):
`evidence run --shard K/N --out s3://bucket/prefix` uploads its sealed shard bundle, and
`evidence merge s3://bucket/prefix` takes every complete shard found under the prefix.

    s3://bucket/prefix/<plan, 12 characters>/shard-K-of-N-<run id>/manifest.json ...

A shard's files are uploaded first and its `manifest.json` last, so a shard counts (is found
by `download`) only once all of it is there; one that died half-way is simply missing, and
`merge` then names it as missing rather than merging less.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence.bundle import MANIFEST, MANIFEST_DIGEST


class StoreError(Exception):
    """An S3 location that cannot be written or read (one line naming it; exit code 2)."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        rest = url.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        if not url.startswith("s3://") or not bucket:
            raise StoreError(f"{url}: an S3 location is written s3://bucket/prefix")
        return cls(bucket, prefix.strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def is_s3(location: str | Path) -> bool:
    return str(location).startswith("s3://")


def _client() -> Any:
    import boto3

    return boto3.client("s3")


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            yield p.relative_to(folder).as_posix(), p


def _safe_relative(rel: str) -> bool:
    """Whether an object key's tail is a plain relative path (no `..`, no empty or absolute part):
    a key someone else wrote must never name a file outside the folder it is copied into."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts) and "\\" not in rel


def upload(shard: Path, url: str, client: Any = None) -> str:
    """Upload a sealed shard bundle under `url`, its manifest last; the shard's S3 location."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    where = S3Location.parse(url)
    s3 = client or _client()
    folder = f"{shard.parent.name}/{shard.name}"  # <plan>/<shard-K-of-N-run>
    last = (MANIFEST_DIGEST, MANIFEST)
    ordered = [f for f in _files(shard) if f[0] not in last] + [f for f in _files(shard) if f[0] in last][::-1]
    try:
        for rel, path in ordered:
            s3.upload_file(str(path), where.bucket, where.key(folder, rel))
    except (BotoCoreError, ClientError, Boto3Error, OSError) as exc:
        raise StoreError(f"{where}: the shard could not be uploaded ({exc}); nothing counts until its "
                         f"{MANIFEST} is there") from None
    return f"s3://{where.bucket}/{where.key(folder)}"


def download(url: str, into: Path, client: Any = None) -> list[tuple[str, Path]]:
    """Every complete shard (one whose manifest is there) under `url`, copied into `into`: the
    (S3 location, local folder) of each."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    where = S3Location.parse(url)
    s3 = client or _client()
    root = into.resolve()
    try:
        keys = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=where.bucket, Prefix=where.key() + "/" if where.prefix else "") for obj in page.get("Contents", [])]
        shards = sorted(k[: -len(MANIFEST)] for k in keys if k.endswith("/" + MANIFEST) or k == MANIFEST)
        found: list[tuple[str, Path]] = []
        for base in shards:
            folder = base.removeprefix(where.key() + "/").strip("/")
            if folder and not _safe_relative(folder):
                raise StoreError(f"s3://{where.bucket}/{base}: not a folder name a shard is written under")
            local = into / folder
            for key in (k for k in keys if k.startswith(base)):
                rel = key[len(base):]
                target = (local / rel).resolve()
                if not _safe_relative(rel) or not target.is_relative_to(root):
                    raise StoreError(f"s3://{where.bucket}/{key}: a key that would be written outside the shard's "
                                     "folder; not a shard evidence wrote")
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(where.bucket, key, str(target))
            found.append((f"s3://{where.bucket}/{base.rstrip('/')}", local))
    except (BotoCoreError, ClientError, Boto3Error, OSError) as exc:
        raise StoreError(f"{where}: cannot read the shards ({exc})") from None
    if not found:
        raise StoreError(f"{where}: holds no complete shard (no {MANIFEST} under it)")
    return found


__all__ = ["S3Location", "StoreError", "download", "is_s3", "upload"]
