"""Which shard a process is, and how a plan's units are split between shards."""

from __future__ import annotations

import pytest

from evidence.shards import Shard, ShardError, assign, parse_shard, plan_digest


def test_an_explicit_shard_and_each_engines_index() -> None:
    assert parse_shard("2/4", {}) == Shard(2, 4)
    assert parse_shard("auto/4", {"JOB_COMPLETION_INDEX": "3"}) == Shard(3, 4)
    assert parse_shard("auto/4", {"AWS_BATCH_JOB_ARRAY_INDEX": "1"}) == Shard(1, 4)
    assert parse_shard("auto/4", {"EVIDENCE_SHARD_INDEX": "0"}) == Shard(0, 4)
    # Kubernetes first when several are set (a Batch job never sets the Kubernetes variable)
    assert parse_shard("auto/4", {"EVIDENCE_SHARD_INDEX": "0", "JOB_COMPLETION_INDEX": "2"}) == Shard(2, 4)


@pytest.mark.parametrize(("text", "env", "says"), [
    ("auto/4", {}, "none of JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, EVIDENCE_SHARD_INDEX is set"),
    ("4/4", {}, "shard index 4 is not below N=4"),
    ("auto/2", {"EVIDENCE_SHARD_INDEX": "7"}, "EVIDENCE_SHARD_INDEX: shard index 7 is not below N=2"),
    ("auto/2", {"EVIDENCE_SHARD_INDEX": "one"}, "a shard index is a whole number"),
    ("1-of-4", {}, "write K/N"),
    ("0/0", {}, "N must be between 1 and 10000"),
])
def test_a_wrong_shard_is_one_line_naming_the_fix(text: str, env: dict[str, str], says: str) -> None:
    with pytest.raises(ShardError, match=says):
        parse_shard(text, env)


def test_assignment_is_deterministic_balanced_and_pins_fixed_units() -> None:
    units = [(f"a/r{i}/kms", 4.0, False) for i in range(6)] + [(f"a/r{i}/ec2", 1.0, False) for i in range(8)]
    units += [("a/us-east-1/s3", 4.0, True), ("source:github", 1.0, True)]
    plan = assign(units, 4)
    assert plan == assign(list(reversed(units)), 4)  # the order units are found in does not matter
    assert set(plan) == {u[0] for u in units} and set(plan.values()) == {0, 1, 2, 3}
    # pinned: the i-th in sorted order on shard i mod N
    assert (plan["a/us-east-1/s3"], plan["source:github"]) == (0, 1)
    load = [sum(c for k, c, _ in units if plan[k] == s) for s in range(4)]
    assert max(load) - min(load) <= 4.0  # no shard more than one big unit ahead


def test_the_plan_digest_changes_with_each_of_its_inputs() -> None:
    base = plan_digest("c", "k", ["1", "2"], 4)
    assert base == plan_digest("c", "k", ["2", "1"], 4)
    assert len({base, plan_digest("x", "k", ["1", "2"], 4), plan_digest("c", "x", ["1", "2"], 4),
                plan_digest("c", "k", ["1"], 4), plan_digest("c", "k", ["1", "2"], 3),
                plan_digest("c", "k", ["1", "2"], 4, ["aws"]), plan_digest("c", "k", ["1", "2"], 4, period="2026-Q4"),
                plan_digest("c", "k", ["1", "2"], 4, version="0.2.0")}) == 8
