"""Sharded runs merged: 4 shards of a 3-account x 3-region estate judge to the findings of one
unsharded run, and a missing, repeated, foreign or altered shard stops the merge, named."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from evidence.bundle import verify
from evidence.config import parse_config
from evidence.merge import MergeError, load_shards
from evidence.registry import Registry
from evidence.runner import Runner, RunResult
from evidence.shard_store import StoreError, download, upload
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


@pytest.fixture(scope="module")
def shards(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunResult, list[Path]]]:
    """One unsharded run and 4 shards of the same estate, made once for the module (moto stays
    up for its tests; each test that alters a shard alters a copy)."""
    tmp = tmp_path_factory.mktemp("shards")
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            env.delenv(key, raising=False)
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-2",
                           "MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "AWS_CONFIG_FILE": "/dev/null",
                           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
            env.setenv(key, value)
        _seed()
        whole = _run(registry, tmp / "whole")
        folders = []
        for k in range(4):
            part = _run(registry, tmp / "sharded", shard=Shard(k, 4))
            assert part.bundle is not None and not part.user_errors
            folders.append(part.bundle)
        yield whole, folders


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
    _, made = shards
    folders = [Path(shutil.copytree(f, tmp_path / "copies" / f.parent.name / f.name)) for f in made]
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


def test_shards_on_s3_merge_to_the_same_findings_as_from_folders(
    shards: tuple[RunResult, list[Path]], registry: Registry, tmp_path: Path
) -> None:
    _, folders = shards
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="evidence-shards")
    urls = [upload(f, "s3://evidence-shards/q4") for f in folders]
    assert urls[0] == f"s3://evidence-shards/q4/{folders[0].parent.name}/{folders[0].name}"
    found = download("s3://evidence-shards/q4", tmp_path / "copies")
    assert [url for url, _ in found] == urls
    from_s3 = load_shards([local for _, local in found], {local: url for url, local in found})
    from_folders = load_shards(folders)
    assert [s.label for s in from_s3] == urls
    a = _run(registry, tmp_path / "merged-s3", shards=from_s3)
    b = _run(registry, tmp_path / "merged-folders", shards=from_folders)
    assert _judged(a) == _judged(b)
    assert a.bundle is not None and b.bundle is not None
    assert _calls(a.bundle) == _calls(b.bundle)


def test_a_shard_whose_manifest_never_reached_s3_does_not_count(
    shards: tuple[RunResult, list[Path]], tmp_path: Path
) -> None:
    _, folders = shards
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="evidence-half")
    for f in folders:
        upload(f, "s3://evidence-half/q4")
    plan_folder = f"{folders[3].parent.name}/{folders[3].name}"
    s3.delete_object(Bucket="evidence-half", Key=f"q4/{plan_folder}/manifest.json")  # died before its last upload
    found = download("s3://evidence-half/q4", tmp_path / "copies")
    assert len(found) == 3
    with pytest.raises(MergeError, match="shard 3 of 4 missing"):
        load_shards([local for _, local in found])


def test_an_s3_key_that_would_land_outside_the_shard_folder_is_refused(
    shards: tuple[RunResult, list[Path]], tmp_path: Path
) -> None:
    _, folders = shards
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="evidence-hostile")
    upload(folders[0], "s3://evidence-hostile/q4")
    base = f"q4/{folders[0].parent.name}/{folders[0].name}/"
    s3.put_object(Bucket="evidence-hostile", Key=base + "../../../escaped.txt", Body=b"x")
    with pytest.raises(StoreError, match="a key that would be written outside the shard's folder"):
        download("s3://evidence-hostile/q4", tmp_path / "copies")
    assert not list(tmp_path.rglob("escaped.txt"))


def test_a_shard_manifest_that_claims_too_much_is_refused(shards: tuple[RunResult, list[Path]],
                                                          tmp_path: Path) -> None:
    _, made = shards
    copy = Path(shutil.copytree(made[0], tmp_path / "s" / made[0].name))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["shard"]["index"] = 5
    raw = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (copy / "manifest.json").write_bytes(raw)
    (copy / "manifest.sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n")
    with pytest.raises(MergeError, match="claims to be shard 5 of 4"):
        load_shards([copy])
    manifest["api_calls"] = {"aws": "many"}
    raw = json.dumps(manifest).encode()
    (copy / "manifest.json").write_bytes(raw)
    (copy / "manifest.sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  manifest.json\n")
    with pytest.raises(MergeError, match=re.escape("its manifest's api_calls.aws")):
        load_shards([copy])


def test_a_collector_that_fails_on_every_shard_merges_into_errors_never_a_pass(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials at all: each shard records the AWS collector's failure, naming itself, and
    the merge judges them as errors (with the shards' one-line user error), never a pass."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    folders = []
    for k in range(2):
        part = _run(registry, tmp_path / "sharded", shard=Shard(k, 2))
        assert part.bundle is not None and part.user_errors
        folders.append(part.bundle)
    merged = _run(registry, tmp_path / "merged", shards=load_shards(folders))
    statuses = {f.status.value for f in merged.iter_findings() if f.source == "aws"}
    assert statuses == {"error"}
    assert merged.user_errors and "no-such-profile" in merged.user_errors[0]
    assert merged.exit_code == 2
