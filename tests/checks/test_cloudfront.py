"""CloudFront distributions: viewer HTTPS only and minimum TLS, on hand-written records."""

from __future__ import annotations

from pathlib import Path

from evidence.checks import cloudfront
from evidence.models import Status
from tests.checks.awshelp import ACCOUNT
from tests.checks.estate import Estate, distribution


def test_behaviors_beyond_the_default_are_judged(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/EMIXED"
    dist = distribution(arn, [{"PathPattern": "/static/*", "ViewerProtocolPolicy": "allow-all"}])
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Quantity": 1, "Items": [dist]}}, region="us-east-1")
    (finding,) = e.judge(cloudfront.viewer_https_only)
    assert finding.status is Status.FAIL
    assert finding.observed == {"default": "redirect-to-https", "/static/*": "allow-all"}


def test_an_account_without_distributions_is_not_applicable(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("cloudfront.ListDistributions", {"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False,
                                                                "Quantity": 0}}, region="us-east-1")
    (finding,) = e.judge(cloudfront.viewer_https_only)
    assert finding.status is Status.NOT_APPLICABLE


def test_distributions_counted_but_not_listed_are_an_error(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    page = e.add("cloudfront.ListDistributions", {"DistributionList": {"Quantity": 2}}, region="us-east-1")
    (finding,) = e.judge(cloudfront.viewer_https_only)
    assert finding.status is Status.ERROR
    assert "DistributionList.Items" in finding.message and finding.evidence == [page]
