"""The collector interface: I/O only, every call recorded, never a verdict.

A collector is a class listed under the `evidence.collectors` entry point. It declares, for
every evidence key it can produce (`service.Operation`), the exact permissions that call
needs (IAM actions, OAuth scopes, token scopes): `evidence permissions` prints them and a
test walks the registry to make sure none is missing.
"""

from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

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


@dataclass(frozen=True)
class ProgressEvent:
    """Where a run is, for a live display (`evidence.cli.progress`): its `phase` (collect,
    judge, reports, history...), the collection's units `done` out of `total` (the sum of what
    each collector announced: a collector that announces none counts as one unit), the API calls
    and errors recorded so far, and the latest message."""

    phase: str
    done: int = 0
    total: int = 0
    calls: int = 0
    errors: int = 0
    message: str = ""


@runtime_checkable
class ProgressReceiver(Protocol):
    """A `Runner.progress` that takes structured events: besides the collectors' messages
    (`__call__`), every `ProgressEvent` of the run, and `end()` once the run is over (whether it
    succeeded or not), so that it stops any display or thread of its own."""

    def __call__(self, message: str) -> None: ...

    def event(self, event: ProgressEvent) -> None: ...

    def end(self) -> None: ...


#: a collector's own count in a message: `aws 57/114: ...` or `github: acme/api (3/12)`
_FRACTION = re.compile(r"(?:^[\w.-]+ |\()(\d+)/(\d+)(?=[):\s]|$)")


class Tally:
    """The collection's progress summed over its collectors' sinks (thread-safe): each
    collector's units done out of its total, the calls and errors recorded; every change is
    reported to `report` as a `ProgressEvent`, a record at most every `every` seconds."""

    def __init__(
        self, report: Callable[[ProgressEvent], None], *, every: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = report
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._report_lock = threading.Lock()
        self._taken = 0
        self._reported = 0
        self._units: dict[str, tuple[int, int]] = {}
        self._last = float("-inf")
        self.phase = "collect"
        self.calls = 0
        self.errors = 0
        self.message = ""

    def source(self, name: str) -> None:
        """A collector that is about to run: one unit until it announces its own."""
        with self._lock:
            self._units.setdefault(name, (0, 1))

    def finished(self, name: str) -> None:
        """A collector that returned: all its units are done."""
        with self._lock:
            _, total = self._units.get(name, (0, 1))
            self._units[name] = (total, total)
        self.emit()

    def units(self, name: str, done: int, total: int, message: str = "") -> None:
        with self._lock:
            self._units[name] = (max(0, done), max(0, total, done))
            if message:
                self.message = message
        self.emit()

    def said(self, name: str, message: str) -> None:
        """A collector's message; a count in it (`aws 57/114: ...`) is its units."""
        match = _FRACTION.search(message)
        if match is not None:
            self.units(name, int(match[1]), int(match[2]), message)
            return
        with self._lock:
            self.message = message
        self.emit()

    def recorded(self, *, call: bool, error: bool) -> None:
        with self._lock:
            self.calls += call
            self.errors += error
            due = self._clock() - self._last >= self._every
        if due:
            self.emit()

    def snapshot(self) -> ProgressEvent:
        with self._lock:
            done = sum(d for d, _ in self._units.values())
            total = sum(t for _, t in self._units.values())
            return ProgressEvent(phase=self.phase, done=done, total=total, calls=self.calls, errors=self.errors,
                                 message=self.message)

    def emit(self, phase: str | None = None, message: str | None = None, *, throttled: bool = False) -> None:
        """Report the current state (in `phase`, with `message`, when given); `throttled`: only
        if `every` seconds have passed since the last report."""
        with self._lock:
            now = self._clock()
            if throttled and now - self._last < self._every:
                return
            self._last = now
            if phase is not None:
                self.phase = phase
            if message is not None:
                self.message = message
            self._taken += 1
            taken = self._taken
        event = self.snapshot()
        # reported outside the state's lock (a display may print), in the order the states were
        # taken: a thread holding an older state never reports it after a newer one
        with self._report_lock:
            if taken < self._reported:
                return
            self._reported = taken
            self._report(event)


class Sink:
    """Where a collector puts what it saw, and how it reports progress: `progress(message)`, and
    `units(done, total)` when it knows how much of its work is done (a message such as
    `aws 57/114: ...` counts as such too)."""

    def __init__(
        self, writer: EvidenceWriter, progress: Callable[[str], None] | None = None, *,
        tally: Tally | None = None, source: str = "",
    ) -> None:
        self.writer = writer
        self._progress = progress
        self._tally = tally
        self.source = source
        self.calls = 0

    def record(self, record: EvidenceRecord) -> str:
        self.calls += 1
        if self._tally is not None:
            self._tally.recorded(call=True, error=record.error is not None)
        return self.writer.write(record)

    def progress(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)
        if self._tally is not None:
            self._tally.said(self.source, message)

    def units(self, done: int, total: int, message: str = "") -> None:
        """`done` of this collector's `total` units of work are done (the total may grow)."""
        if self._tally is not None:
            self._tally.units(self.source, done, total, message)
        elif message and self._progress is not None:
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
        if self._tally is not None:
            self._tally.recorded(call=False, error=True)
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
        #: the run's output folder, where its history is (set before `collect`)
        self.out: Path | None = None
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
