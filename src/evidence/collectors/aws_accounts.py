"""Which AWS accounts and regions the collector reaches, and as whom.

Accounts are the caller's own, each of `assume_roles`, or (with `organization = true`) every
active account of the AWS Organization reached through `organization_role_name`. Every
identity call and role assumption is recorded (an assumed role's credentials never are);
credentials AWS rejects for the caller itself stop the run as the user's to fix.
"""

from __future__ import annotations

from collections.abc import Callable

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    CredentialRetrievalError,
    InvalidConfigError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from evidence.collectors.aws_calls import Account, Caller, Clients
from evidence.collectors.base import CollectorFailure, Sink
from evidence.sources.aws import DESCRIBE_REGIONS, arn_account, role_arn, split_key

#: what AWS answers when it does not accept the credentials themselves
_REJECTED = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
                       "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure"})
#: botocore's failures to load credentials at all
_CHAIN_FAILURES = (CredentialRetrievalError, PartialCredentialsError, TokenRetrievalError, SSOTokenLoadError,
                   UnauthorizedSSOTokenError, ConfigParseError, InvalidConfigError)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class Accounts:
    """Finds the accounts (and their regions) in scope, recording each call it makes."""

    def __init__(
        self, collector: Clients, session_factory: Callable[..., boto3.Session], home_region: str
    ) -> None:
        self.collector = collector
        self.session_factory = session_factory
        #: the region STS, Organizations and DescribeRegions are called in
        self.home_region = home_region

    def identity(self, sink: Sink, session: boto3.Session, account_hint: str = "") -> Account | None:
        """Who `session` is (GetCallerIdentity, recorded); None when that failed (recorded too)."""
        probe = Account(id=account_hint, identity="", session=session)
        caller = Caller(self.collector, sink, probe, "")
        try:
            resp = self.collector.client(probe, "sts", self.home_region).get_caller_identity()
        except NoCredentialsError:
            raise CollectorFailure(
                "NoCredentials",
                "no AWS credentials found",
                "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role exists",
                user_error=True,
            ) from None
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _REJECTED and not account_hint:
                raise CollectorFailure(
                    code, f"AWS rejected the credentials ({code})",
                    "refresh or replace the AWS credentials evidence runs with", user_error=True,
                ) from None
            caller._fail("sts", "GetCallerIdentity", {}, account_hint, exc)
            return None
        except _CHAIN_FAILURES as exc:
            if account_hint:  # an assumed account's own session: recorded as that account's failure
                caller._fail("sts", "GetCallerIdentity", {}, account_hint, exc)
                return None
            # the credential chain itself (a credential_process that fails, an SSO token that
            # expired, a credentials file that cannot be read): the user's to fix, one line
            raise CollectorFailure(
                type(exc).__name__, f"the AWS credentials could not be loaded ({_first_line(exc)})",
                "fix the credential source named (run `aws sso login`, repair credential_process or the "
                "credentials file), or set AWS_PROFILE to a working profile", user_error=True,
            ) from None
        except BotoCoreError as exc:
            caller._fail("sts", "GetCallerIdentity", {}, account_hint, exc)
            return None
        account = Account(id=str(resp["Account"]), identity=str(resp["Arn"]), session=session)
        Caller(self.collector, sink, account, "")._record("sts", "GetCallerIdentity", {}, "", resp)
        return account

    def assume(self, sink: Sink, base: Account, role: str) -> Account | None:
        """The account `role` (an ARN) reaches from `base`; None when it cannot be assumed."""
        account_id = arn_account(role)
        try:
            resp = self.collector.client(base, "sts", self.home_region).assume_role(
                RoleArn=role, RoleSessionName="evidence"
            )
        except (ClientError, BotoCoreError) as exc:
            target = Account(id=account_id, identity=base.identity, session=base.session)
            Caller(self.collector, sink, target, "")._fail("sts", "AssumeRole", {"RoleArn": role}, role, exc)
            return None
        creds = resp["Credentials"]
        session = self.session_factory(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        # the credentials themselves are never recorded: only who we became
        Caller(self.collector, sink, Account(id=account_id, identity=base.identity, session=base.session),
               "")._record("sts", "AssumeRole", {"RoleArn": role}, role,
                           {"AssumedRoleUser": resp.get("AssumedRoleUser", {})})
        return self.identity(sink, session, account_id)

    def reachable(self, sink: Sink) -> tuple[list[Account], list[tuple[str, str]]]:
        """Reachable accounts, and (account id, role) pairs that could not be reached."""
        try:
            base_session = self.session_factory()
        except (BotoCoreError, NoRegionError) as exc:
            raise CollectorFailure(type(exc).__name__, str(exc), "check the AWS configuration",
                                   user_error=True) from None
        base = self.identity(sink, base_session)
        if base is None:
            raise CollectorFailure("GetCallerIdentity", "cannot identify the AWS caller",
                                   "check network access to AWS STS and the credentials")
        cfg = self.collector.aws
        roles = list(cfg.assume_roles)
        if cfg.organization:
            caller = Caller(self.collector, sink, base, self.home_region)
            for page in caller.pages("organizations", "ListAccounts", page_size=20):
                for acct in page.get("Accounts", []):
                    if acct.get("Status") == "ACTIVE" and acct["Id"] != base.id:
                        roles.append(role_arn(acct["Id"], cfg.organization_role_name))
        accounts = [base] if (cfg.include_caller_account or not roles) else []
        unreachable: list[tuple[str, str]] = []
        for role in roles:
            acct_or_none = self.assume(sink, base, role)
            if acct_or_none is None:
                unreachable.append((arn_account(role, default=role), role))
            elif all(a.id != acct_or_none.id for a in accounts):
                accounts.append(acct_or_none)
        return accounts, unreachable

    def regions(self, sink: Sink, account: Account, wanted: frozenset[str] = frozenset()) -> list[str]:
        """The account's regions in scope. `["all"]` asks EC2 for the enabled ones; the same
        call is made (and recorded) when a check wants to know which regions exist."""
        configured = self.collector.aws.regions
        if configured != ["all"] and DESCRIBE_REGIONS not in wanted:
            return list(configured)
        resp = Caller(self.collector, sink, account, self.home_region).call(
            *split_key(DESCRIBE_REGIONS), AllRegions=False
        )
        if configured != ["all"]:
            return list(configured)
        if resp is None:
            return [self.home_region]
        return sorted(r["RegionName"] for r in resp.get("Regions", []))
