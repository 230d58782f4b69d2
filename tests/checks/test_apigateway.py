"""API Gateway custom domains (REST and HTTP APIs): the minimum TLS version, on hand-written records."""

from __future__ import annotations

from pathlib import Path

from evidence.checks import apigateway
from evidence.models import Status
from tests.checks.awshelp import REGION
from tests.checks.estate import Estate, by_id


def test_a_domain_both_apis_list_alike_is_judged_once(tmp_path: Path) -> None:
    e = Estate(tmp_path)
    e.add("apigateway.GetDomainNames", {"items": [{"domainName": "api.example.com", "securityPolicy": "TLS_1_0"}]})
    e.add("apigatewayv2.GetDomainNames", {"Items": [
        {"DomainName": "api.example.com", "DomainNameConfigurations": [{"SecurityPolicy": "TLS_1_0"}]},
        {"DomainName": "bare.example.com"},
    ]})
    found = by_id(e.judge(apigateway.domain_tls_min_version))
    assert found[f"arn:aws:apigateway:{REGION}::/domainnames/api.example.com"].status is Status.FAIL
    # no configuration at all: unreadable, an error, as before
    assert found[f"arn:aws:apigateway:{REGION}::/domainnames/bare.example.com"].status is Status.ERROR
