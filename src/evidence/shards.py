"""Sharded runs: which shard this process is (`--shard K/N`, or `auto/N` from the engine that
started it), and which collection units are its own.

A plan is the work of one run split N ways. Every shard computes the same plan from the same
configuration, catalog and accounts, and keeps the units assigned to its index:

- the units of sources other than AWS, and AWS's global units, go to fixed shards (the i-th of
  them, in sorted order, to shard i mod N);
- AWS's regional units (account x region x service) are balanced by their declared cost:
  the most expensive first, each to the shard with the least work so far (ties: the lowest
  index), so the same units always land on the same shards.

Nothing here calls anything: the AWS collector hands its units in, the runner its sources.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: where the engines that run array jobs say which member a process is, in the order they are read
INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "EVIDENCE_SHARD_INDEX")

_SPEC = re.compile(r"^(?P<index>\d+|auto)/(?P<count>\d+)$")


class ShardError(ValueError):
    """A `--shard` the user has to fix (one line; exit code 2)."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` (from 0) of `count`."""

    index: int
    count: int

    @property
    def name(self) -> str:
        return f"shard-{self.index}-of-{self.count}"

    @property
    def records_discovery(self) -> bool:
        """Whether this shard records what every shard must look up before it can plan (who
        the caller is, the accounts and regions): shard 0 alone, so merged shards never hold
        one record twice."""
        return self.index == 0


def parse_shard(text: str, environ: Mapping[str, str] | None = None) -> Shard:
    """`K/N` (K from 0 to N-1), or `auto/N`: K from the first of `INDEX_VARIABLES` that is set."""
    env = os.environ if environ is None else environ
    match = _SPEC.match(text.strip())
    if match is None:
        raise ShardError(f"--shard {text!r}: write K/N (K from 0 to N-1) or auto/N, e.g. --shard 0/4")
    count = int(match["count"])
    if not 1 <= count <= 10000:
        raise ShardError(f"--shard {text!r}: N must be between 1 and 10000")
    raw = match["index"]
    source = "--shard"
    if raw == "auto":
        found = [(name, env[name]) for name in INDEX_VARIABLES if env.get(name, "").strip()]
        if not found:
            raise ShardError(
                f"--shard auto/{count}: none of {', '.join(INDEX_VARIABLES)} is set; run it as a Kubernetes "
                "Indexed Job or an AWS Batch array job, or set EVIDENCE_SHARD_INDEX (e.g. from a CI matrix)"
            )
        source, raw = found[0]
        if not raw.strip().isdigit():
            raise ShardError(f"{source}={raw!r}: a shard index is a whole number from 0 to {count - 1}")
    index = int(raw)
    if index >= count:
        raise ShardError(f"{source}: shard index {index} is not below N={count} (indices run from 0 to {count - 1})")
    return Shard(index, count)


def assign(units: Iterable[tuple[str, float, bool]], count: int) -> dict[str, int]:
    """unit key -> shard index for `(key, cost, pinned)` units: pinned units to fixed shards (the
    i-th in sorted order to i mod `count`), the others balanced by cost (longest first, each to
    the least loaded shard). The same units give the same assignment, in any order."""
    rows = sorted(set(units))
    load = [0.0] * count
    plan: dict[str, int] = {}
    for i, (key, cost, _) in enumerate(row for row in rows if row[2]):
        plan[key] = i % count
        load[i % count] += cost
    for key, cost, _ in sorted((row for row in rows if not row[2]), key=lambda r: (-r[1], r[0])):
        target = min(range(count), key=lambda k: (load[k], k))
        plan[key] = target
        load[target] += cost
    return plan


def plan_digest(
    config_digest: str, catalog_digest: str, accounts: Iterable[str], count: int, only: Iterable[str] | None = None,
    *, period: str = "", version: str = "",
) -> str:
    """What every shard of one plan shares: the configuration, the catalog, the accounts (and
    each one's regions), N, the sources it is limited to (`--only`), the audit period and the
    tool's version."""
    doc = {"config": config_digest, "catalog": catalog_digest, "accounts": sorted(set(accounts)), "count": count,
           "only": None if only is None else sorted(set(only)), "period": period, "version": version}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()


__all__ = ["INDEX_VARIABLES", "Shard", "ShardError", "assign", "parse_shard", "plan_digest"]
