"""Secrets AWS returns in responses never reach the bundle."""

from __future__ import annotations

import boto3

from evidence.collectors.aws import REDACTED, jsonable
from tests.conftest import RunFn

SECRET = "origin-shared-secret-7f3a9c"


def test_jsonable_redacts_secret_fields_at_any_depth() -> None:
    value = {"Origins": {"Items": [{"CustomHeaders": {"Items": [{"HeaderName": "X-Origin-Verify",
                                                                   "HeaderValue": SECRET}]}}]},
             "AuthenticateOidcConfig": {"ClientId": "abc", "ClientSecret": SECRET}}
    cleaned = jsonable(value)
    assert SECRET not in repr(cleaned)
    assert cleaned["Origins"]["Items"][0]["CustomHeaders"]["Items"][0] == {
        "HeaderName": "X-Origin-Verify", "HeaderValue": REDACTED}


def test_cloudfront_origin_header_secret_is_not_in_the_bundle(mocked_aws: None, run_evidence: RunFn) -> None:
    cf = boto3.client("cloudfront", region_name="us-east-1")
    cf.create_distribution(DistributionConfig={
        "CallerReference": "x", "Comment": "x", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "o1", "DomainName": "origin.example.com",
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": SECRET}]},
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o1", "ViewerProtocolPolicy": "https-only", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    })
    result = run_evidence({"aws": {"regions": ["eu-west-2"]}}, only={"aws"})
    assert result.bundle is not None
    files = [p for p in result.bundle.rglob("*") if p.is_file()]
    assert any("cloudfront" in p.as_posix() for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
