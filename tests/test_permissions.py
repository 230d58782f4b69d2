"""`evidence permissions` grants every AWS operation the collectors call.

`tests/conftest.py` hooks every botocore session of the run and logs each operation made by a
client the AWS collector created; at the end of the session (in each xdist worker) it fails if
one is missing from `PERMISSIONS`. These tests check the policy document itself, run the whole
AWS catalog once so the log is complete even when this file runs alone, and show that an
undeclared call is caught.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from click.testing import CliRunner

from evidence.cli import cli, permissions_document
from evidence.collectors.aws import AwsCollector
from evidence.collectors.aws_permissions import PERMISSIONS
from evidence.config import parse_config
from evidence.registry import Registry
from tests.checks.awshelp import no_default_amis  # noqa: F401  (autouse)
from tests.conftest import AWS_CALLS, RunFn


def test_every_declared_action_is_in_the_printed_policy(registry: Registry) -> None:
    result = CliRunner().invoke(cli, ["permissions", "--source", "aws"])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.output)
    (statement,) = policy["Statement"]
    granted = set(statement["Action"])
    assert granted == {action for actions in PERMISSIONS.values() for action in actions}
    assert permissions_document(registry)["aws"] == policy
    # read-only: nothing that changes anything but the credential report it asks IAM to build
    writes = {a for a in granted if a.split(":")[1].startswith(("Create", "Delete", "Put", "Update", "Modify"))}
    assert writes == set()


def test_every_key_a_check_reads_has_a_permission(registry: Registry) -> None:
    keys = {key for chk in registry.checks.values() if chk.source == "aws" for key in chk.requires}
    assert keys - set(PERMISSIONS) == set()


def test_a_full_aws_run_calls_only_declared_operations(mocked_aws: None, run_evidence: RunFn) -> None:
    from evidence.demo.aws import seed_estate

    seed_estate(boto3.Session(), ["eu-west-2"])
    run_evidence({"aws": {"regions": ["eu-west-2"]}}, only={"aws"})
    assert {("s3", "ListBuckets"), ("iam", "GetCredentialReport"), ("wafv2", "GetWebACL"),
            ("cloudtrail", "GetTrailStatus"), ("kms", "GetKeyRotationStatus")} <= AWS_CALLS.calls
    assert AWS_CALLS.undeclared() == []


def test_an_undeclared_call_is_caught(mocked_aws: None, tmp_path: Path) -> None:
    """A collector client calling an operation nobody declared shows up in `undeclared()`: the
    session-end check would fail the run."""
    collector = AwsCollector(parse_config({}))
    client = boto3.Session().client("ec2", region_name="eu-west-2", config=collector._boto_config)
    assert ("ec2", "DescribeImages") not in AWS_CALLS.calls
    client.describe_images(Owners=["self"])
    try:
        assert "ec2.DescribeImages" in AWS_CALLS.undeclared()
    finally:
        AWS_CALLS.calls.discard(("ec2", "DescribeImages"))
    assert "ec2.DescribeImages" not in AWS_CALLS.undeclared()
    # a test's own set-up calls (plain clients) are not collector calls
    boto3.client("ec2", region_name="eu-west-2").describe_images(Owners=["self"])
    assert ("ec2", "DescribeImages") not in AWS_CALLS.calls
