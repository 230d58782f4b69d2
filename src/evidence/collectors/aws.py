"""AWS collector: every API call of every (account, region, service) unit, recorded as evidence.

Accounts are the caller's own, each of `assume_roles`, or (with `organization = true`) every
active account of the AWS Organization reached through `organization_role_name`. Regional
units run once per configured region (`["all"]`: the account's enabled regions), global ones
(IAM, CloudFront, S3 bucket listing, Shield, CloudTrail's trail list, Organizations) once per
account. Units run concurrently on a bounded pool and may fan their per-resource calls out
as further jobs on the same pool (never waiting on them, so the pool cannot deadlock);
botocore's adaptive retry mode absorbs throttling; every page is written to disk as it
arrives, so memory stays flat as the estate grows. Only the calls the wanted evidence keys
need are made. The endpoint comes from the standard `AWS_ENDPOINT_URL` environment variable,
which boto3 honours itself.

The service units live in `evidence.collectors.aws_services`.
"""

from __future__ import annotations

import base64
import functools
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from evidence.collectors.aws_services import SERVICE_UNITS, Unit, chunks
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
    "elbv2.DescribeLoadBalancerAttributes": ("elasticloadbalancing:DescribeLoadBalancerAttributes",),
    "s3.ListBuckets": ("s3:ListAllMyBuckets",),
    "s3.GetBucketLocation": ("s3:GetBucketLocation",),
    "s3.GetBucketEncryption": ("s3:GetEncryptionConfiguration",),
    "ec2.GetEbsEncryptionByDefault": ("ec2:GetEbsEncryptionByDefault",),
    "ec2.DescribeVolumes": ("ec2:DescribeVolumes",),
    "ec2.DescribeSecurityGroups": ("ec2:DescribeSecurityGroups",),
    "ec2.DescribeInstances": ("ec2:DescribeInstances",),
    "rds.DescribeDBInstances": ("rds:DescribeDBInstances",),
    "rds.DescribeDBClusters": ("rds:DescribeDBClusters",),
    "dynamodb.ListTables": ("dynamodb:ListTables",),
    "dynamodb.DescribeContinuousBackups": ("dynamodb:DescribeContinuousBackups",),
    "kms.ListKeys": ("kms:ListKeys",),
    "kms.DescribeKey": ("kms:DescribeKey",),
    "kms.GetKeyRotationStatus": ("kms:GetKeyRotationStatus",),
    "backup.ListBackupPlans": ("backup:ListBackupPlans",),
    "backup.GetBackupPlan": ("backup:GetBackupPlan",),
    "backup.ListBackupSelections": ("backup:ListBackupSelections",),
    "backup.ListRestoreJobs": ("backup:ListRestoreJobs",),
    "wafv2.ListWebACLs": ("wafv2:ListWebACLs",),
    "wafv2.GetWebACL": ("wafv2:GetWebACL",),
    "wafv2.ListResourcesForWebACL": ("wafv2:ListResourcesForWebACL",),
    "shield.ListProtections": ("shield:ListProtections",),
    "cloudtrail.DescribeTrails": ("cloudtrail:DescribeTrails",),
    "cloudtrail.GetTrailStatus": ("cloudtrail:GetTrailStatus",),
    "iam.GetAccountSummary": ("iam:GetAccountSummary",),
    "iam.GenerateCredentialReport": ("iam:GenerateCredentialReport",),
    "iam.GetCredentialReport": ("iam:GetCredentialReport",),
}

#: marks the collector's clients (`app/evidence` in the User-Agent, so CloudTrail shows who read)
USER_AGENT_APPID = "evidence"

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
#: how an endpoint that lacks an operation answers (AWS never does; emulators such as moto do)
_UNIMPLEMENTED = {"404", "NotImplemented", "NotImplementedError", "InvalidAction", "UnknownOperationException"}


#: response fields that carry secrets: CloudFront origin custom headers (the usual shared secret
#: between a distribution and its origin), OIDC client secrets of ALB listener rules, and any
#: credentials (AssumeRole's are never recorded at all). Their values are replaced, never stored.
SECRET_FIELDS = frozenset({"HeaderValue", "ClientSecret", "SecretAccessKey", "SessionToken", "Password"})
REDACTED = "<redacted by evidence>"


def jsonable(value: Any) -> Any:
    """A boto3 response as plain JSON (timestamps as ISO-8601, bytes as base64), metadata dropped,
    secret fields redacted."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if k in SECRET_FIELDS and v not in (None, "") else jsonable(v))
            for k, v in value.items()
            if k != "ResponseMetadata"
        }
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
    if code in _UNIMPLEMENTED:
        return f"the AWS endpoint does not implement {key}; run against AWS itself (or an emulator that has it)"
    return f"see the AWS error; the call needs {actions}"


@dataclass
class Account:
    id: str
    identity: str
    session: boto3.Session
    lock: threading.Lock = field(default_factory=threading.Lock)
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)


#: a transform of a raw response into what is recorded (must stay JSON and hold no secret)
Transform = Callable[[dict[str, Any]], dict[str, Any]]


class Caller:
    """Makes AWS calls for one (account, region) and records each one, or its failure.

    `wanted` is the set of evidence keys the run's checks need: units ask `wants(key)` and
    skip every call nobody will judge. `fork` runs more work for the same unit on the pool.
    """

    def __init__(
        self,
        collector: AwsCollector,
        sink: Sink,
        account: Account,
        region: str,
        wanted: frozenset[str] = frozenset(),
        scheduler: Scheduler | None = None,
        unit: Unit | None = None,
    ) -> None:
        self.collector = collector
        self.sink = sink
        self.account = account
        self.region = region
        self.wanted = wanted
        self.scheduler = scheduler
        self.unit = unit

    def wants(self, key: str) -> bool:
        return key in self.wanted

    def at(self, region: str) -> Caller:
        """The same caller in another region (bucket-level calls go to the bucket's region)."""
        if region == self.region:
            return self
        return Caller(self.collector, self.sink, self.account, region, self.wanted, self.scheduler, self.unit)

    def fork(self, fn: Callable[[Caller], None], region: str | None = None) -> None:
        """Run `fn` as another job of this unit on the pool (inline when there is no pool)."""
        caller = self.at(region) if region else self
        if self.scheduler is None or self.unit is None:
            fn(caller)
        else:
            self.scheduler.submit(self.unit, caller, fn)

    def fork_each(self, items: list[Any], fn: Callable[[Caller, list[Any]], None], size: int = 25) -> None:
        """Fan per-resource calls out in chunks of `size`, each chunk one job."""
        for chunk in chunks(items, size):
            self.fork(functools.partial(_apply, fn, chunk))

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

    def fail(self, service: str, op: str, params: Mapping[str, Any], subject: str, error: CollectionError) -> None:
        """Record that `service.op` could not be collected, with the cause and the remedy."""
        # the failure is a finding with its remedy; the log line is for -v
        log.info("aws %s.%s in %s/%s failed: %s", service, op, self.account.id, self.region, error.code)
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
                error=error,
            )
        )

    def _fail(self, service: str, op: str, params: Mapping[str, Any], subject: str, exc: Exception) -> None:
        key = f"{service}.{op}"
        code, message = error_code(exc)
        self.fail(
            service, op, params, subject,
            CollectionError(code=code, message=message,
                            remedy=remedy_for(key, code, self.collector.config.aws.max_attempts)),
        )

    def call(
        self,
        service: str,
        op: str,
        subject: str = "",
        *,
        answers: frozenset[str] = frozenset(),
        transform: Transform | None = None,
        **params: Any,
    ) -> dict[str, Any] | None:
        """One call; its response, or None when it failed (the failure is recorded).

        `answers` are error codes that are the API's way of answering (e.g. S3's
        `ServerSideEncryptionConfigurationNotFoundError` means "no default encryption"): they
        are recorded as a response `{"Error": {"Code", "Message"}}`, not as a failure.
        """
        try:
            response: dict[str, Any] = getattr(self.client(service), xform_name(op))(**params)
        except ClientError as exc:
            code, message = error_code(exc)
            if code in answers:
                answer: dict[str, Any] = {"Error": {"Code": code, "Message": message}}
                self._record(service, op, params, subject, answer)
                return answer
            self._fail(service, op, params, subject, exc)
            return None
        except (BotoCoreError, NotImplementedError) as exc:
            self._fail(service, op, params, subject, exc)
            return None
        recorded = transform(response) if transform is not None else response
        self._record(service, op, params, subject, recorded)
        return recorded

    def pages(
        self,
        service: str,
        op: str,
        subject: str = "",
        *,
        page_size: int | None = None,
        answers: frozenset[str] = frozenset(),
        **params: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every page of a paginated call, each recorded as it arrives (`page_size`: the API's
        largest page, so the fewest calls)."""
        client = self.client(service)
        method = xform_name(op)
        n = 0
        shown = {**params, **({"page_size": page_size} if page_size else {})}
        try:
            if client.can_paginate(method):
                config = {"PageSize": page_size} if page_size else {}
                for page in client.get_paginator(method).paginate(**params, PaginationConfig=config):
                    n += 1
                    self._record(service, op, {**shown, "page": n}, subject, page)
                    yield page
                return
            page = getattr(client, method)(**params)
            n = 1
            self._record(service, op, {**shown, "page": n}, subject, page)
            yield page
        except ClientError as exc:
            code, message = error_code(exc)
            if code in answers and n == 0:
                answer: dict[str, Any] = {"Error": {"Code": code, "Message": message}}
                self._record(service, op, {**shown, "page": 1}, subject, answer)
                yield answer
                return
            self._fail(service, op, {**shown, "page": n + 1}, subject, exc)
        except (BotoCoreError, NotImplementedError) as exc:
            self._fail(service, op, {**shown, "page": n + 1}, subject, exc)

    def marker_pages(
        self, service: str, op: str, *, marker_in: str, marker_out: str, subject: str = "", **params: Any
    ) -> Iterator[dict[str, Any]]:
        """Pages of a call botocore has no paginator for (e.g. WAFv2's `NextMarker`)."""
        marker: str | None = None
        while True:
            call_params = dict(params, **({marker_in: marker} if marker else {}))
            page = self.call(service, op, subject, **call_params)
            if page is None:
                return
            yield page
            marker = page.get(marker_out) or None
            if marker is None:
                return


def _apply(fn: Callable[[Caller, list[Any]], None], chunk: list[Any], caller: Caller) -> None:
    fn(caller, chunk)


def error_code(exc: Exception) -> tuple[str, str]:
    """(code, message) of a failed call."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return str(err.get("Code", "ClientError")), str(err.get("Message", str(exc)))
    if isinstance(exc, NotImplementedError):
        return "NotImplemented", str(exc)
    return type(exc).__name__, str(exc)


@dataclass(frozen=True)
class Job:
    unit: Unit
    caller: Caller
    fn: Callable[[Caller], None]


class Scheduler:
    """Jobs on a bounded pool; a running job may submit more (it never waits for them)."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._running: dict[Future[None], Job] = {}
        self.submitted = 0

    def submit(self, unit: Unit, caller: Caller, fn: Callable[[Caller], None]) -> None:
        job = Job(unit, caller, fn)
        with self._lock:
            self.submitted += 1
            self._running[self._pool.submit(fn, caller)] = job

    def finished(self) -> Iterator[tuple[Job, BaseException | None]]:
        """Each job as it ends, with its unexpected exception; ends when no job is left.

        A job submits its children before it returns, so when the last known job is done
        there is nothing left to wait for.
        """
        while True:
            with self._lock:
                pending = list(self._running)
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                with self._lock:
                    job = self._running.pop(fut)
                yield job, fut.exception()


UNITS: tuple[Unit, ...] = SERVICE_UNITS


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
            user_agent_appid=USER_AGENT_APPID,
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
            caller = Caller(self, sink, base, self.home_region)
            for page in caller.pages("organizations", "ListAccounts", page_size=20):
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

    def regions(self, sink: Sink, account: Account, wanted: frozenset[str] = frozenset()) -> list[str]:
        """The account's regions in scope. `["all"]` asks EC2 for the enabled ones; the same
        call is made (and recorded) when a check wants to know which regions exist."""
        configured = self.config.aws.regions
        if configured != ["all"] and "ec2.DescribeRegions" not in wanted:
            return list(configured)
        resp = Caller(self, sink, account, self.home_region).call(
            "ec2", "DescribeRegions", AllRegions=False
        )
        if configured != ["all"]:
            return list(configured)
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
            regions = self.regions(sink, account, wanted)
            for unit in units:
                for region in ([self.home_region] if unit.is_global else regions):
                    jobs.append((unit, account, region))
        with ThreadPoolExecutor(max_workers=self.config.aws.max_workers, thread_name_prefix="aws") as pool:
            scheduler = Scheduler(pool)
            for unit, account, region in jobs:
                scheduler.submit(unit, Caller(self, sink, account, region, wanted, scheduler, unit), unit.run)
            for done, (job, exc) in enumerate(scheduler.finished(), start=1):
                unit, account, region = job.unit, job.caller.account, job.caller.region
                if exc is not None:
                    # an unexpected failure inside a unit: every key it owed is an error, never silence
                    log.error("aws unit %s in %s/%s raised", unit.name, account.id, region, exc_info=exc)
                    for key in sorted(unit.keys & wanted):
                        sink.failure(
                            source="aws", key=key, account=account.id, region=region,
                            error=CollectionError(
                                code=type(exc).__name__, message=str(exc),
                                remedy="this is a bug in evidence's AWS collector; please report it",
                            ),
                        )
                sink.progress(f"aws {done}/{scheduler.submitted}: {unit.name} {account.id} {region}")
