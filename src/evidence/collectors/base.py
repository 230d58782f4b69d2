"""The collector interface: I/O only, every call recorded, never a verdict.

A collector is a class listed under the `evidence.collectors` entry point. It declares, for
every evidence key it can produce (`service.Operation`), the exact permissions that call
needs (IAM actions, OAuth scopes, token scopes): `evidence permissions` prints them and a
test walks the registry to make sure none is missing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from evidence.config import Config, S, Section
from evidence.models import CollectionError, EvidenceRecord, Period, iso, utc_now
from evidence.records import EvidenceWriter
from evidence.shards import Shard


class CollectorFailure(Exception):
    """A collector could not run at all (no credentials, bad key file, unreachable endpoint).

    `user_error` marks a mistake the user must fix (exit code 2 once the bundle is written).
    """

    def __init__(self, code: str, message: str, remedy: str, *, user_error: bool = False) -> None:
        super().__init__(message)
        self.error = CollectionError(code=code, message=message, remedy=remedy)
        self.user_error = user_error


class Sink:
    """Where a collector puts what it saw, and how it reports progress."""

    def __init__(self, writer: EvidenceWriter, progress: Callable[[str], None] | None = None) -> None:
        self.writer = writer
        self._progress = progress
        self.calls = 0

    def record(self, record: EvidenceRecord) -> str:
        self.calls += 1
        return self.writer.write(record)

    def progress(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def failure(
        self,
        *,
        source: str,
        key: str,
        error: CollectionError,
        account: str = "",
        region: str = "",
        parameters: Mapping[str, object] | None = None,
    ) -> str:
        service, _, operation = key.partition(".")
        return self.writer.write(
            EvidenceRecord(
                source=source,
                service=service,
                operation=operation,
                parameters=dict(parameters or {}),
                account=account,
                region=region,
                collected_at=iso(utc_now()),
                error=error,
            )
        )


class UnrecordedSink(Sink):
    """A sink that keeps nothing: the lookups a shard makes only to plan its work, which
    another shard records (see `evidence.shards`)."""

    def record(self, record: EvidenceRecord) -> str:
        return ""

    def failure(self, **_: Any) -> str:
        return ""


class Collector(ABC):
    """Base class of collectors."""

    #: the plugin's name and the `source` of its findings
    source: ClassVar[str]
    description: ClassVar[str]
    #: what the permissions are called, e.g. "IAM action", "OAuth scope", "token scope"
    permission_kind: ClassVar[str]
    #: evidence key -> the permissions that call needs
    permissions: ClassVar[Mapping[str, tuple[str, ...]]]
    #: the collector's configuration section (`[aws]`; default: its `source`) and its model;
    #: `evidence.config` validates the section with it, with the usual one-line errors
    config_section: ClassVar[str | None] = None
    config_model: ClassVar[type[Section] | None] = None
    #: whether an absent section means the model's defaults, rather than "not configured"
    config_default: ClassVar[bool] = False
    #: the source's name for people ("AWS", "Google Workspace"), in reports
    title: ClassVar[str] = ""
    #: whether its records' `account` names accounts worth listing in the scope (AWS accounts)
    has_accounts: ClassVar[bool] = False
    #: whether it splits its own work between the shards of a sharded run (`evidence run
    #: --shard`); a collector that does not runs whole on one shard of the plan
    shards_itself: ClassVar[bool] = False

    def __init__(self, config: Config, period: Period | None = None) -> None:
        self.config = config
        self.period = period or Period.current()
        #: in a sharded run, which shard this is (set before `collect`, for `shards_itself`)
        self.shard: Shard | None = None
        #: what the plan of a sharded run depends on that only collecting finds out (the AWS
        #: accounts reached), filled in by `collect`
        self.plan_inputs: list[str] = []

    @classmethod
    def section_name(cls) -> str:
        return cls.config_section or cls.source

    def settings(self, model: type[S]) -> S | None:
        """This collector's section of the configuration, as `model`; None when absent."""
        return self.config.section(self.section_name(), model)

    def not_configured(self) -> str | None:
        """Why this collector cannot run with this configuration, or None when it can (by
        default: a declared section that is absent)."""
        if self.config_model is None or self.config_default:
            return None  # no section, or one whose absence means its defaults
        if self.config.sections.get(self.section_name()) is None:
            return f"no [{self.section_name()}] section in the configuration"
        return None

    @classmethod
    def failed_scope(cls, service: str, account: str, region: str) -> str:
        """The resource id of what a failed call without a subject was listing (by default its
        account and region); AWS names it with an ARN."""
        return "/".join(p for p in (account, region) if p) or cls.source

    @classmethod
    def permissions_document(cls, permissions: list[str]) -> dict[str, Any]:
        """What `evidence permissions` prints for this source (AWS: an IAM policy document)."""
        return {"kind": cls.permission_kind, "permissions": permissions}

    @classmethod
    def scope(cls, section: Section | None) -> list[tuple[str, str]]:
        """What this collector looks at under `section`, as (label, value) rows for the
        manifest's scope and the report's cover (never a secret: names, not credentials)."""
        return []

    @abstractmethod
    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        """Collect the evidence keys in `wanted` (a subset of `permissions`) into `sink`.

        A failed call is recorded with `sink.failure(...)`, never dropped; raise
        `CollectorFailure` only when nothing at all can be collected.
        """
