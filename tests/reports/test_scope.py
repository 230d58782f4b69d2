"""The cover's scope table: what the run looked at, from the run metadata and the evidence paths."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evidence.reports import load_bundle
from evidence.reports.scope import scope_rows


def test_scope_rows_name_sources_accounts_regions_tenants_and_probes(bundle: Path) -> None:
    assert scope_rows(load_bundle(bundle)) == [
        ("Sources", "aws: collected; manual: collected"),
        ("AWS accounts", "123456789012"),
        ("AWS regions", "eu-west-2"),
        ("GitHub organization", "example"),
        ("Google Workspace tenant", "C0example"),
        ("Probed endpoints", "app.example.com:443, https://app.example.com/login"),
    ]


def test_scope_rows_of_a_bundle_from_before_scope_details(bundle: Path) -> None:
    """An older bundle's manifest named each built-in source's keys: its cover keeps its rows."""
    content = load_bundle(bundle)
    scope = {"only": ["aws", "manual"], "aws_organization": True, "aws_assume_roles": ["arn:aws:iam::1:role/Audit"]}
    hashes = {
        "evidence/aws/222222222222/eu-west-1/s3/ListBuckets-0.json": "0",
        "evidence/aws/_/global/iam/GetAccountSummary-0.json": "0",  # no account: not listed
        "evidence/aws/111111111111/us-east-1/ec2/DescribeInstances-0.json": "0",
        "attachments/pentest.pdf": "0",
    }
    assert scope_rows(dataclasses.replace(content, meta={"scope": scope}, hashes=hashes)) == [
        ("Limited to (--only)", "aws, manual"),
        ("AWS accounts", "111111111111, 222222222222"),
        ("AWS organization", "every member account of the organization"),
        ("AWS roles assumed", "arn:aws:iam::1:role/Audit"),
    ]
    assert scope_rows(dataclasses.replace(content, meta={}, hashes={})) == []
