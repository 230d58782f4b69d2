"""AWS collector: every API call of every (account, region, service) unit, recorded as evidence.

Accounts are the caller's own, each of `assume_roles`, or (with `organization = true`) every
active account of the AWS Organization reached through `organization_role_name`. Regional
units run once per configured region, global ones (IAM, CloudFront, Organizations) once per
account. Units run concurrently on a bounded pool; botocore's adaptive retry mode absorbs
throttling; every page is written to disk as it arrives. The endpoint comes from the standard
`AWS_ENDPOINT_URL` environment variable, which boto3 honours itself.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.config import Config
from evidence.models import CollectionError, EvidenceRecord, Period, iso, utc_now

log = logging.getLogger(__name__)

#: evidence key -> the IAM actions that call needs (`evidence permissions` prints these)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "sts.GetCallerIdentity": ("sts:GetCallerIdentity",),
    "sts.AssumeRole": ("sts:AssumeRole",),
    "organizations.ListAccounts": ("organizations:ListAccounts",),
    "ec2.DescribeRegions": ("ec2:DescribeRegions",),
    "elbv2.DescribeLoadBalancers": ("elasticloadbalancing:DescribeLoadBalancers",),
    "elbv2.DescribeListeners": ("elasticloadbalancing:DescribeListeners",),
    "elbv2.DescribeSSLPolicies": ("elasticloadbalancing:DescribeSSLPolicies",),
    "elb.DescribeLoadBalancers": ("elasticloadbalancing:DescribeLoadBalancers",),
    "elb.DescribeLoadBalancerPolicies": ("elasticloadbalancing:DescribeLoadBalancerPolicies",),
    "cloudfront.ListDistributions": ("cloudfront:ListDistributions",),
    "apigateway.GetDomainNames": ("apigateway:GET",),
    "apigatewayv2.GetDomainNames": ("apigateway:GET",),
    "acm.ListCertificates": ("acm:ListCertificates",),
    "acm.DescribeCertificate": ("acm:DescribeCertificate",),
}

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "AuthorizationErrorException",
    "Forbidden",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
_ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def jsonable(value: Any) -> Any:
    """A boto3 response as plain JSON (timestamps as ISO-8601, bytes as base64), metadata dropped."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "read"):
        return None
    return value


def remedy_for(key: str, code: str, attempts: int) -> str:
    actions = ", ".join(PERMISSIONS.get(key, ())) or key
    if code in _DENIED:
        return f"grant {actions} to the identity evidence uses (see `evidence permissions`)"
    if code in _THROTTLED:
        return f"throttling outlasted {attempts} attempts; run again later or lower aws.max_workers"
    if code in {"OptInRequired", "InvalidClientTokenId", "AuthFailure"}:
        return "enable the region for this account, or remove it from aws.regions"
    return f"see the AWS error; the call needs {actions}"


@dataclass
class Account:
    id: str
    identity: str
    session: boto3.Session
    lock: threading.Lock = field(default_factory=threading.Lock)
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)


class Caller:
    """Makes AWS calls for one (account, region) and records each one, or its failure."""

    def __init__(self, collector: AwsCollector, sink: Sink, account: Account, region: str) -> None:
        self.collector = collector
        self.sink = sink
        self.account = account
        self.region = region

    def client(self, service: str) -> Any:
        return self.collector.client(self.account, service, self.region)

    def _record(self, service: str, op: str, params: Mapping[str, Any], subject: str, response: Any) -> None:
        self.sink.record(
            EvidenceRecord(
                source="aws",
                service=service,
                operation=op,
                parameters=jsonable(dict(params)),
                account=self.account.id,
                region=self.region,
                identity=self.account.identity,
                subject=subject,
                collected_at=iso(utc_now()),
                response=jsonable(response),
            )
        )

    def _fail(self, service: str, op: str, params: Mapping[str, Any], subject: str, exc: Exception) -> None:
        key = f"{service}.{op}"
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
            message = str(exc.response.get("Error", {}).get("Message", str(exc)))
        else:
            code = type(exc).__name__
            message = str(exc)
        log.warning("aws %s in %s/%s failed: %s", key, self.account.id, self.region, code)
        self.sink.record(
            EvidenceRecord(
                source="aws",
                service=service,
                operation=op,
                parameters=jsonable(dict(params)),
                account=self.account.id,
                region=self.region,
                identity=self.account.identity,
                subject=subject,
                collected_at=iso(utc_now()),
                error=CollectionError(
                    code=code,
                    message=message,
                    remedy=remedy_for(key, code, self.collector.config.aws.max_attempts),
                ),
            )
        )

    def call(self, service: str, op: str, subject: str = "", **params: Any) -> dict[str, Any] | None:
        """One call; its response, or None when it failed (the failure is recorded)."""
        try:
            response: dict[str, Any] = getattr(self.client(service), xform_name(op))(**params)
        except (ClientError, BotoCoreError) as exc:
            self._fail(service, op, params, subject, exc)
            return None
        self._record(service, op, params, subject, response)
        return response

    def pages(self, service: str, op: str, subject: str = "", **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, each recorded as it arrives."""
        client = self.client(service)
        method = xform_name(op)
        n = 0
        try:
            if client.can_paginate(method):
                for page in client.get_paginator(method).paginate(**params):
                    n += 1
                    self._record(service, op, {**params, "page": n}, subject, page)
                    yield page
                return
            page = getattr(client, method)(**params)
            n = 1
            self._record(service, op, {**params, "page": n}, subject, page)
            yield page
        except (ClientError, BotoCoreError) as exc:
            self._fail(service, op, {**params, "page": n + 1}, subject, exc)


@dataclass(frozen=True)
class Unit:
    """A slice of collection: one service's calls in one (account, region)."""

    name: str
    keys: frozenset[str]
    run: Callable[[Caller], None]
    is_global: bool = False


# --- units -------------------------------------------------------------------------------


def _elbv2(c: Caller) -> None:
    policies: set[str] = set()
    for page in c.pages("elbv2", "DescribeLoadBalancers"):
        for lb in page.get("LoadBalancers", []):
            arn = lb["LoadBalancerArn"]
            for lpage in c.pages("elbv2", "DescribeListeners", subject=arn, LoadBalancerArn=arn):
                for listener in lpage.get("Listeners", []):
                    if listener.get("SslPolicy"):
                        policies.add(listener["SslPolicy"])
    if policies:
        # only the policies in use, in one call: their protocols decide, not their names
        for _ in c.pages("elbv2", "DescribeSSLPolicies", Names=sorted(policies)):
            pass


def _elb(c: Caller) -> None:
    for page in c.pages("elb", "DescribeLoadBalancers"):
        for lb in page.get("LoadBalancerDescriptions", []):
            secure = [
                d for d in lb.get("ListenerDescriptions", [])
                if d.get("Listener", {}).get("Protocol", "").upper() in {"HTTPS", "SSL"}
            ]
            if secure:
                name = lb["LoadBalancerName"]
                c.call("elb", "DescribeLoadBalancerPolicies", subject=name, LoadBalancerName=name)


def _cloudfront(c: Caller) -> None:
    for _ in c.pages("cloudfront", "ListDistributions"):
        pass


def _apigateway(c: Caller) -> None:
    for _ in c.pages("apigateway", "GetDomainNames"):
        pass


def _apigatewayv2(c: Caller) -> None:
    for _ in c.pages("apigatewayv2", "GetDomainNames"):
        pass


def _acm(c: Caller) -> None:
    for page in c.pages("acm", "ListCertificates", Includes={"keyTypes": _ALL_KEY_TYPES}):
        for summary in page.get("CertificateSummaryList", []):
            arn = summary["CertificateArn"]
            c.call("acm", "DescribeCertificate", subject=arn, CertificateArn=arn)


UNITS: tuple[Unit, ...] = (
    Unit(
        "elbv2",
        frozenset({"elbv2.DescribeLoadBalancers", "elbv2.DescribeListeners", "elbv2.DescribeSSLPolicies"}),
        _elbv2,
    ),
    Unit("elb", frozenset({"elb.DescribeLoadBalancers", "elb.DescribeLoadBalancerPolicies"}), _elb),
    Unit("cloudfront", frozenset({"cloudfront.ListDistributions"}), _cloudfront, is_global=True),
    Unit("apigateway", frozenset({"apigateway.GetDomainNames"}), _apigateway),
    Unit("apigatewayv2", frozenset({"apigatewayv2.GetDomainNames"}), _apigatewayv2),
    Unit("acm", frozenset({"acm.ListCertificates", "acm.DescribeCertificate"}), _acm),
)


class AwsCollector(Collector):
    """Collects AWS evidence across accounts and regions."""

    source = "aws"
    description = "AWS APIs (read-only) across the configured accounts and regions"
    permission_kind = "IAM action"
    permissions = PERMISSIONS
    #: the region global services are called in
    home_region = "us-east-1"

    def __init__(
        self,
        config: Config,
        period: Period | None = None,
        session_factory: Callable[..., boto3.Session] | None = None,
    ) -> None:
        super().__init__(config, period)
        self._session_factory = session_factory or boto3.Session
        self._boto_config = BotoConfig(
            retries={"mode": "adaptive", "max_attempts": config.aws.max_attempts},
            max_pool_connections=max(10, config.aws.max_workers),
            connect_timeout=10,
            read_timeout=60,
        )

    def client(self, account: Account, service: str, region: str) -> Any:
        key = (service, region)
        with account.lock:
            if key not in account.clients:
                account.clients[key] = account.session.client(
                    service, region_name=region, config=self._boto_config
                )
            return account.clients[key]

    # --- scope -------------------------------------------------------------------------

    def _identity(self, sink: Sink, session: boto3.Session, account_hint: str = "") -> Account | None:
        probe = Account(id=account_hint, identity="", session=session)
        caller = Caller(self, sink, probe, "")
        try:
            resp = self.client(probe, "sts", self.home_region).get_caller_identity()
        except NoCredentialsError:
            raise CollectorFailure(
                "NoCredentials",
                "no AWS credentials found",
                "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role exists",
                user_error=True,
            ) from None
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"} and not account_hint:
                raise CollectorFailure(
                    code, f"AWS rejected the credentials ({code})",
                    "refresh or replace the AWS credentials evidence runs with", user_error=True,
                ) from None
            caller._fail("sts", "GetCallerIdentity", {}, account_hint, exc)
            return None
        except BotoCoreError as exc:
            caller._fail("sts", "GetCallerIdentity", {}, account_hint, exc)
            return None
        account = Account(id=str(resp["Account"]), identity=str(resp["Arn"]), session=session)
        Caller(self, sink, account, "")._record("sts", "GetCallerIdentity", {}, "", resp)
        return account

    def _assume(self, sink: Sink, base: Account, role_arn: str) -> Account | None:
        account_id = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        try:
            resp = self.client(base, "sts", self.home_region).assume_role(
                RoleArn=role_arn, RoleSessionName="evidence"
            )
        except (ClientError, BotoCoreError) as exc:
            target = Account(id=account_id, identity=base.identity, session=base.session)
            Caller(self, sink, target, "")._fail("sts", "AssumeRole", {"RoleArn": role_arn}, role_arn, exc)
            return None
        creds = resp["Credentials"]
        session = self._session_factory(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        # the credentials themselves are never recorded: only who we became
        Caller(self, sink, Account(id=account_id, identity=base.identity, session=base.session), "")._record(
            "sts", "AssumeRole", {"RoleArn": role_arn}, role_arn,
            {"AssumedRoleUser": resp.get("AssumedRoleUser", {})},
        )
        return self._identity(sink, session, account_id)

    def accounts(self, sink: Sink) -> tuple[list[Account], list[tuple[str, str]]]:
        """Reachable accounts, and (account id, role) pairs that could not be reached."""
        try:
            base_session = self._session_factory()
        except (BotoCoreError, NoRegionError) as exc:
            raise CollectorFailure(type(exc).__name__, str(exc), "check the AWS configuration",
                                   user_error=True) from None
        base = self._identity(sink, base_session)
        if base is None:
            raise CollectorFailure("GetCallerIdentity", "cannot identify the AWS caller",
                                   "check network access to AWS STS and the credentials")
        cfg = self.config.aws
        roles = list(cfg.assume_roles)
        if cfg.organization:
            caller = Caller(self, sink, base, "")
            for page in caller.pages("organizations", "ListAccounts"):
                for acct in page.get("Accounts", []):
                    if acct.get("Status") == "ACTIVE" and acct["Id"] != base.id:
                        roles.append(f"arn:aws:iam::{acct['Id']}:role/{cfg.organization_role_name}")
        accounts = [base] if (cfg.include_caller_account or not roles) else []
        unreachable: list[tuple[str, str]] = []
        for role in roles:
            acct_or_none = self._assume(sink, base, role)
            if acct_or_none is None:
                unreachable.append((role.split(":")[4] if role.count(":") >= 5 else role, role))
            elif all(a.id != acct_or_none.id for a in accounts):
                accounts.append(acct_or_none)
        return accounts, unreachable

    def regions(self, sink: Sink, account: Account) -> list[str]:
        wanted = self.config.aws.regions
        if wanted != ["all"]:
            return list(wanted)
        resp = Caller(self, sink, account, self.home_region).call(
            "ec2", "DescribeRegions", AllRegions=False
        )
        if resp is None:
            return [self.home_region]
        return sorted(r["RegionName"] for r in resp.get("Regions", []))

    # --- collection ----------------------------------------------------------------------

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        accounts, unreachable = self.accounts(sink)
        for account_id, role in unreachable:
            for key in sorted(wanted):
                sink.failure(
                    source="aws", key=key, account=account_id, parameters={"RoleArn": role},
                    error=CollectionError(
                        code="AccountUnreachable",
                        message=f"could not assume {role}",
                        remedy=f"let the evidence identity assume {role} (sts:AssumeRole and the role's trust policy)",
                    ),
                )
        units = [u for u in UNITS if u.keys & wanted]
        jobs: list[tuple[Unit, Account, str]] = []
        for account in accounts:
            regions = self.regions(sink, account)
            for unit in units:
                for region in ([self.home_region] if unit.is_global else regions):
                    jobs.append((unit, account, region))
        total = len(jobs)
        with ThreadPoolExecutor(max_workers=self.config.aws.max_workers, thread_name_prefix="aws") as pool:
            futures = {
                pool.submit(unit.run, Caller(self, sink, account, region)): (unit, account, region)
                for unit, account, region in jobs
            }
            for done, fut in enumerate(as_completed(futures), start=1):
                unit, account, region = futures[fut]
                exc = fut.exception()
                if exc is not None:
                    # an unexpected failure inside a unit: every key it owed is an error, never silence
                    for key in sorted(unit.keys & wanted):
                        sink.failure(
                            source="aws", key=key, account=account.id, region=region,
                            error=CollectionError(
                                code=type(exc).__name__, message=str(exc),
                                remedy="this is a bug in evidence's AWS collector; please report it",
                            ),
                        )
                sink.progress(f"aws {done}/{total}: {unit.name} {account.id} {region}")
