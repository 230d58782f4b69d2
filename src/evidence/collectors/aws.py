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

The accounts are found in `aws_accounts`, calls are made and recorded in `aws_calls`, units
are scheduled in `aws_units`, and the service units live in `aws_services`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from evidence.collectors.aws_accounts import Accounts
from evidence.collectors.aws_calls import Account, Caller, boto_config, reject_incomplete
from evidence.collectors.aws_config import AwsConfig
from evidence.collectors.aws_permissions import PERMISSIONS
from evidence.collectors.aws_services import SERVICE_UNITS
from evidence.collectors.aws_units import Scheduler, Unit
from evidence.collectors.base import Collector, Sink, UnrecordedSink
from evidence.config import Config, Section
from evidence.models import CollectionError, Period
from evidence.shards import assign
from evidence.sources.aws import scope_arn

log = logging.getLogger(__name__)

UNITS: tuple[Unit, ...] = SERVICE_UNITS


class AwsCollector(Collector):
    """Collects AWS evidence across accounts and regions."""

    source = "aws"
    description = "AWS APIs (read-only) across the configured accounts and regions"
    permission_kind = "IAM action"
    permissions = PERMISSIONS
    title = "AWS"
    has_accounts = True
    config_section = "aws"
    config_model = AwsConfig
    #: no [aws] section: the default credentials chain and region
    config_default = True
    #: the region global services are called in
    home_region = "us-east-1"
    #: a sharded run splits the (account, region, service) units between its shards
    shards_itself = True

    def __init__(
        self,
        config: Config,
        period: Period | None = None,
        session_factory: Callable[..., boto3.Session] | None = None,
    ) -> None:
        super().__init__(config, period)
        #: the [aws] section (its defaults when the configuration has none)
        self.aws = self.settings(AwsConfig) or AwsConfig()
        self._session_factory = session_factory or _sessions_sharing_models()
        self._boto_config = boto_config(self.aws)

    @classmethod
    def failed_scope(cls, service: str, account: str, region: str) -> str:
        return scope_arn(service, account, region) if account else super().failed_scope(service, account, region)

    @classmethod
    def permissions_document(cls, permissions: list[str]) -> dict[str, Any]:
        """A bare IAM policy document, ready to attach to the role evidence uses."""
        return {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "EvidenceReadOnly", "Effect": "Allow", "Action": permissions, "Resource": "*"}],
        }

    @classmethod
    def scope(cls, section: Section | None) -> list[tuple[str, str]]:
        if not isinstance(section, AwsConfig):
            return []
        rows = [("AWS regions", ", ".join(section.regions))]
        if section.organization:
            rows.append(("AWS organization", "every member account of the organization"))
        if section.assume_roles:
            rows.append(("AWS roles assumed", ", ".join(section.assume_roles)))
        return rows

    def client(self, account: Account, service: str, region: str) -> Any:
        key = (service, region)
        with account.lock:
            if key not in account.clients:
                client = account.session.client(service, region_name=region, config=self._boto_config)
                meta = getattr(client, "meta", None)  # a real botocore client (tests may hand in others)
                if meta is not None:
                    meta.events.register("before-parse", reject_incomplete)
                account.clients[key] = client
            return account.clients[key]

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        scope = Accounts(self, self._session_factory, self.home_region)
        # every shard looks its accounts and regions up to plan; one records them
        lookups = sink if self.shard is None or self.shard.records_discovery else UnrecordedSink(sink.writer)
        accounts, unreachable = scope.reachable(lookups)
        self.plan_inputs = sorted({a.id for a in accounts} | {f"unreachable:{a}" for a, _ in unreachable})
        for account_id, role in unreachable if lookups is sink else []:
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
            regions = scope.regions(lookups, account, wanted)
            # the regions a shard found are part of its plan: shards that found different ones
            # (a region enabled meanwhile, a lookup that failed) are of different plans, and do
            # not merge, rather than leave units nobody collected
            self.plan_inputs.append(f"{account.id}:{','.join(regions)}")
            for unit in units:
                for region in ([self.home_region] if unit.is_global else regions):
                    jobs.append((unit, account, region))
        if self.shard is not None:
            plan = assign(((_unit_key(*job), job[0].cost, job[0].is_global) for job in jobs), self.shard.count)
            jobs = [job for job in jobs if plan[_unit_key(*job)] == self.shard.index]
        with ThreadPoolExecutor(max_workers=self.aws.max_workers, thread_name_prefix="aws") as pool:
            scheduler = Scheduler(pool)
            for unit, account, region in jobs:
                caller = Caller(self, sink, account, region, wanted, scheduler.spawner(unit))
                scheduler.submit(unit, caller, unit.run)
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


def _sessions_sharing_models() -> Callable[..., boto3.Session]:
    """boto3 sessions (one per account: its credentials) that share one botocore loader, so that
    each service's model is read and held once for the run, not once per account: an estate of
    two accounts built every client's model twice (a third of the collection's time went into
    creating clients) and held it twice."""
    import botocore.session

    shared: list[Any] = []

    def make(**credentials: Any) -> boto3.Session:
        core = botocore.session.Session()
        session = boto3.Session(botocore_session=core, **credentials)
        # after boto3 has set its own up: clients read the shared loader (its cache), while
        # boto3 adds its resource models to a loader of this session's only
        if shared:
            core.register_component("data_loader", shared[0])
        else:
            shared.append(core.get_component("data_loader"))
        return session

    return make


def _unit_key(unit: Unit, account: Account, region: str) -> str:
    """How a sharded run's plan names a unit: `account/region/unit`."""
    return f"{account.id}/{region}/{unit.name}"
