"""Sharded runs merged: 4 shards of a 3-account x 3-region estate judge to the findings of one
unsharded run, and a missing, repeated, foreign or altered shard stops the merge, named."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest

from evidence.bundle import verify
from evidence.config import parse_config
from evidence.merge import MergeError, load_shards
from evidence.registry import Registry
from evidence.runner import Runner, RunResult
from evidence.shards import Shard
from tests.checks.awshelp import ACCOUNT, no_default_amis  # noqa: F401  (autouse)
from tests.conftest import PERIOD

OTHERS = ("210987654321", "310987654321")
REGIONS = ["eu-west-2", "us-east-1", "eu-west-1"]
CONFIG = {"aws": {"regions": REGIONS, "assume_roles": [f"arn:aws:iam::{a}:role/EvidenceAudit" for a in OTHERS]}}


def _session_in(account: str) -> boto3.Session:
    if account == ACCOUNT:
        return boto3.Session()
    creds = boto3.client("sts", region_name="eu-west-2").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"])


def _seed() -> None:
    for n, account in enumerate((ACCOUNT, *OTHERS)):
        session = _session_in(account)
        session.client("s3", region_name="eu-west-2").create_bucket(
            Bucket=f"bucket-{account}", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        for region in REGIONS:
            ec2 = session.client("ec2", region_name=region)
            ec2.create_volume(Size=1, AvailabilityZone=f"{region}a", Encrypted=bool(n % 2))
            session.client("kms", region_name=region).create_key()
            session.client("dynamodb", region_name=region).create_table(
                TableName=f"t-{n}", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


def _run(registry: Registry, out: Path, **options: object) -> RunResult:
    return Runner(config=parse_config(CONFIG), registry=registry, period=PERIOD, out=out, only={"aws"},
                  **options).run()  # type: ignore[arg-type]


def _calls(bundle: Path) -> set[str]:
    """A bundle's calls as account/region/service/Operation-parameters. Two things differ between
    runs on the one moto server whoever shards: the restore-job window starts from the clock (its
    parameters' digest is left out), and IAM's credential report is polled until ready (a second
    poll, `.2.json`, only in the first run to ask for it)."""
    out = set()
    for p in (bundle / "evidence").rglob("*.json"):
        rel = re.sub(r"\.\d+\.json$", ".json", p.relative_to(bundle).as_posix())
        out.add(rel.rsplit("-", 1)[0] if "ListRestoreJobs" in rel else rel)
    return out


def _judged(result: RunResult) -> list[tuple[str, str, str, str, str]]:
    return sorted((f.control_id, f.check_id, f.resource_id, f.status.value, f.message) for f in result.iter_findings())


@pytest.fixture
def shards(mocked_aws: None, registry: Registry, tmp_path: Path) -> tuple[RunResult, list[Path]]:
    _seed()
    whole = _run(registry, tmp_path / "whole")
    folders = []
    for k in range(4):
        part = _run(registry, tmp_path / "sharded", shard=Shard(k, 4))
        assert part.bundle is not None and not part.user_errors
        folders.append(part.bundle)
    return whole, folders


def test_four_shards_merged_judge_as_one_unsharded_run(
    shards: tuple[RunResult, list[Path]], registry: Registry, tmp_path: Path
) -> None:
    whole, folders = shards
    assert whole.bundle is not None
    records = [_calls(f) for f in folders]
    assert all(records), "every shard collected something"
    assert sum(len(r) for r in records) == len(set().union(*records))  # no call recorded by two shards
    assert set().union(*records) == _calls(whole.bundle)  # and together, every call of the unsharded run
    merged = _run(registry, tmp_path / "merged", shards=load_shards(folders))
    assert merged.bundle is not None and verify(merged.bundle) == []
    assert _judged(merged) == _judged(whole)
    assert {v.control_id: v.verdict for v in merged.verdicts} == {v.control_id: v.verdict for v in whole.verdicts}
    assert [m["shard"] for m in merged.manifest["merged_from"]] == [0, 1, 2, 3]
    # the parent folder of a plan's shards is enough
    assert [s.path for s in load_shards([folders[0].parent])] == folders


def test_a_missing_repeated_foreign_or_altered_shard_is_named(
    shards: tuple[RunResult, list[Path]], registry: Registry, tmp_path: Path
) -> None:
    _, folders = shards
    with pytest.raises(MergeError, match="shard 2 of 4 missing"):
        load_shards([folders[0], folders[1], folders[3]])
    with pytest.raises(MergeError, match=f"shard 1 of 4 given twice: {folders[1]} and {folders[1]}"):
        load_shards([*folders, folders[1]])
    other = _run(registry, tmp_path / "other-plan", shard=Shard(3, 5))
    assert other.bundle is not None
    with pytest.raises(MergeError, match=f"{other.bundle}: shard 3 of 5 of plan"):
        load_shards([*folders[:3], other.bundle])
    record = next((folders[2] / "evidence").rglob("*.json"))
    data = bytearray(record.read_bytes())
    data[-3] ^= 1
    record.write_bytes(bytes(data))
    with pytest.raises(MergeError, match=f"{folders[2]}: altered since its shard sealed it"):
        load_shards(folders)
