"""A run, phase by phase: collect (concurrently, streamed into a partial bundle), judge, write
the declared artifacts, render the reports, seal, commit. Re-judging a stored bundle is
`evidence.evaluate`.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence import __version__
from evidence.artifacts.base import build_artifacts, write_artifacts
from evidence.bundle import PartialBundle
from evidence.bundle_files import copy_into_bundle
from evidence.catalog import Catalog
from evidence.collectors.base import Collector, CollectorFailure, ProgressReceiver, Sink, Tally
from evidence.config import Config, ConfigError
from evidence.exit_codes import exit_code_for
from evidence.judge import (
    Attachment,
    Judge,
    Judging,
    Waiver,
    controls_json,
    findings_json_chunks,
    read_findings,
)
from evidence.merge import ShardBundle, adopt, merged_from, seal_shard
from evidence.models import (
    CollectionError,
    ControlVerdict,
    Finding,
    Period,
    iso,
    reference_now,
    sha256_of,
    utc_now,
)
from evidence.records import EvidenceIndex, EvidenceWriter
from evidence.registry import Registry
from evidence.reports.phase import render_into_bundle
from evidence.run_catalog import check_sources, load_checked_catalog, resolve_params, validate_overrides
from evidence.shards import Shard, assign
from evidence.signing import Signer, signer_for

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_id: str
    period: Period
    verdicts: list[ControlVerdict]
    manifest: dict[str, Any]
    #: the run's `findings.json` (in the partial bundle until it is sealed, then in the bundle)
    findings_file: Path
    bundle: Path | None = None
    user_errors: list[str] = field(default_factory=list)
    plugin_errors: list[str] = field(default_factory=list)
    #: reports that could not be rendered (`<format>: <why>`); the bundle holds everything else
    report_errors: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    #: the run's evidence index (artifacts and reports read evidence through it, not the folder)
    index: EvidenceIndex | None = None

    def iter_findings(self) -> Iterator[Finding]:
        """The run's findings, streamed from `findings.json` (never all held in memory)."""
        return read_findings(self.findings_file)

    @property
    def finding_count(self) -> int:
        """How many findings the run made (from its verdicts' counts)."""
        return sum(sum(v.counts.values()) for v in self.verdicts)

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the run, read back from `findings.json` (prefer `iter_findings`)."""
        return list(self.iter_findings())

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.verdicts, self.user_errors, self.plugin_errors)


def new_run_id() -> str:
    return f"{reference_now().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@dataclass
class Runner:
    config: Config
    registry: Registry
    period: Period
    out: Path
    only: set[str] | None = None
    catalog_dir: Path | None = None
    #: how the manifest and reports name the catalog (default: its folder, or "built-in")
    catalog_label: str | None = None
    #: the collectors' progress messages; a `ProgressReceiver` (`evidence.cli.progress`) gets
    #: every phase of the run as a `ProgressEvent` too, and `end()` when the run is over
    progress: Callable[[str], None] | None = None
    attachments: list[Attachment] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)
    #: the reports rendered into the bundle (its last phase, after every other file): html, pdf...
    report_formats: tuple[str, ...] = ()
    collector_factory: Callable[[type[Collector], Config, Period], Collector] | None = None
    #: extra files copied into the bundle (and so hashed in its manifest): bundle path -> source,
    #: e.g. `attachments/<sha256>-<name>` for manual evidence, `waivers/<file>.yaml`
    files: dict[str, Path] = field(default_factory=dict)
    #: a sharded run: collect this shard's units only, into a shard bundle (`evidence.merge`)
    shard: Shard | None = None
    #: a merge: the plan's shard bundles (checked by `load_shards`), whose evidence is judged
    #: instead of collecting any
    shards: Sequence[ShardBundle] = ()
    #: signs manifest.json when `[bundle] signing_key` is set (loaded before any API call)
    _signer: Signer | None = field(default=None, init=False, repr=False)
    #: the run's progress, when `progress` takes events
    _tally: Tally | None = field(default=None, init=False, repr=False)

    def run(self) -> RunResult:
        receiver = self.progress if isinstance(self.progress, ProgressReceiver) else None
        self._tally = Tally(receiver.event) if receiver is not None else None
        try:
            return self._run_whole()
        finally:
            if receiver is not None:
                receiver.end()  # also on an error: a display stops before the error is reported

    def _phase(self, phase: str, message: str = "") -> None:
        """Announce a phase of the run (collect, judge, reports, seal, done)."""
        if self._tally is not None:
            self._tally.emit(phase, message)

    def _run_whole(self) -> RunResult:
        try:
            reference_now()
        except ValueError as exc:  # a mistake in EVIDENCE_NOW, before any API call
            raise ConfigError(str(exc)) from None
        started = utc_now()
        catalog = load_checked_catalog(self.registry, self.catalog_dir)
        validate_overrides(catalog, self.config, self.registry)
        sources = check_sources(catalog, self.registry)
        if self.only is not None:
            unknown = self.only - sources
            if unknown:
                raise ConfigError(
                    f"--only: unknown source {', '.join(sorted(unknown))} (known: {', '.join(sorted(sources))})"
                )
            sources = set(self.only)
        self._signer = signer_for(self.config)
        run_id = new_run_id()
        partial = PartialBundle.create(self.out, self.period.name, run_id)
        try:
            return self._run(catalog, sources, run_id, partial, started)
        except BaseException:
            partial.discard()
            raise

    def _collectors(self, sources: set[str]) -> tuple[dict[str, Collector], dict[str, str | None]]:
        status: dict[str, str | None] = {}
        collectors: dict[str, Collector] = {}
        owner = self._source_shards(sources)
        for source in sorted(sources - {"manual"}):
            cls = self.registry.collectors.get(source)
            if cls is None:
                status[source] = "no collector plugin is installed for this source"
                continue
            if self.shard is not None and owner.get(source, self.shard.index) != self.shard.index:
                status[source] = f"collected by shard {owner[source]} of {self.shard.count}"
                continue
            make = self.collector_factory or (lambda c, cfg, per: c(cfg, per))
            coll = make(cls, self.config, self.period)
            coll.shard = self.shard
            coll.out = self.out  # where the run's history is (the people collector reads it)
            reason = coll.not_configured()
            status[source] = reason
            if reason is None:
                collectors[source] = coll
        if "manual" in sources and self.shard is None:
            status["manual"] = None  # a sharded run's manual evidence is judged when the shards merge
        return collectors, status

    def _source_shards(self, sources: set[str]) -> dict[str, int]:
        """In a sharded run, the fixed shard of each source whose collector does not split its
        own work (see `evidence.shards.assign`)."""
        if self.shard is None:
            return {}
        whole = [s for s in sorted(sources - {"manual"})
                 if s in self.registry.collectors and not self.registry.collectors[s].shards_itself]
        plan = assign(((f"source:{s}", 1.0, True) for s in whole), self.shard.count)
        return {s: plan[f"source:{s}"] for s in whole}

    def _wanted(self, catalog: Catalog, source: str) -> frozenset[str]:
        coll = self.registry.collectors.get(source)
        keys: set[str] = set()
        for control in catalog.controls.values():
            for ref in control.checks:
                chk = self.registry.checks.get(ref.id)
                if chk is not None and chk.source == source:
                    keys |= set(chk.requires)
                elif chk is not None and coll is not None:  # another source's check reads what this one collects
                    keys |= chk.reads_of(coll.permissions)
        return frozenset(keys)

    def _collect(
        self, catalog: Catalog, collectors: dict[str, Collector], writer: EvidenceWriter
    ) -> tuple[list[str], dict[str, int]]:
        user_errors: list[str] = []
        calls: dict[str, int] = {}
        # a shard names itself in a collector-wide failure: several shards' failures never share a path
        where = {"shard": self.shard.name} if self.shard is not None else None

        tally = self._tally
        for source in sorted(collectors):
            if tally is not None:
                tally.source(source)
        self._phase("collect", f"from {', '.join(sorted(collectors))}" if collectors else "nothing to collect")

        def one(source: str, coll: Collector) -> None:
            # a receiver of events gets the collectors' messages through the tally
            sink = Sink(writer, None if tally is not None else self.progress, tally=tally, source=source)
            wanted = self._wanted(catalog, source) & frozenset(coll.permissions)
            try:
                coll.collect(sink, wanted)
            except CollectorFailure as exc:
                if exc.user_error:
                    user_errors.append(f"{source}: {exc.error.message}; {exc.error.remedy}")
                for key in sorted(wanted):
                    sink.failure(source=source, key=key, error=exc.error, parameters=where)
            except Exception as exc:
                log.exception("collector %s failed", source)
                err = CollectionError(
                    code=type(exc).__name__, message=str(exc),
                    remedy=f"the {source} collector failed unexpectedly; see the log and report it",
                )
                for key in sorted(wanted):
                    sink.failure(source=source, key=key, error=err, parameters=where)
            calls[source] = sink.calls
            if tally is not None:
                tally.finished(source)

        with ThreadPoolExecutor(max_workers=max(1, len(collectors)), thread_name_prefix="collector") as pool:
            for fut in [pool.submit(one, s, c) for s, c in sorted(collectors.items())]:
                fut.result()
        return user_errors, calls

    def _unavailable(self, catalog: Catalog) -> dict[str, str]:
        """Checks the catalog names that cannot be judged: no plugin, or evidence nobody collects."""
        out: dict[str, str] = {}
        for control in catalog.controls.values():
            for ref in control.checks:
                chk = self.registry.checks.get(ref.id)
                if chk is None:
                    out[ref.id] = "; ".join(str(e) for e in self.registry.errors) or "no plugin provides it"
                    continue
                collector = self.registry.collectors.get(chk.source)
                missing = [k for k in chk.requires if collector is not None and k not in collector.permissions]
                if missing:
                    out[ref.id] = f"the {chk.source} collector does not collect {', '.join(missing)}"
        return out

    def _run(
        self, catalog: Catalog, sources: set[str], run_id: str, partial: PartialBundle, started: Any
    ) -> RunResult:
        writer = EvidenceWriter(partial.tmp)
        if self.shards:  # a merge: the shards' evidence, nothing collected; their user errors stand
            self._phase("collect", f"reading {len(self.shards)} shard bundles")
            source_status, calls, user_errors = adopt(self.shards, writer)
            if "manual" in sources:
                source_status["manual"] = None
        else:
            collectors, source_status = self._collectors(sources)
            user_errors, calls = self._collect(catalog, collectors, writer)
        if self.shard is not None:  # a shard bundle: the merge judges
            self._phase("seal", f"shard {self.shard.name}")
            folder, shard_manifest = seal_shard(self, catalog, collectors, partial, run_id, started, source_status,
                                                calls, user_errors)
            return RunResult(run_id=run_id, period=self.period, verdicts=[], manifest=shard_manifest,
                             findings_file=folder / "findings.json", bundle=folder, user_errors=user_errors,
                             plugin_errors=[str(e) for e in self.registry.errors], api_calls=calls)
        self._phase("judge")
        reference = reference_now()
        judging = Judging(
            reference_time=reference,
            catalog=catalog,
            params=resolve_params(catalog, self.config, self.registry),
            sources=source_status,
            attachments=self.attachments,
            waivers=self.waivers,
            unavailable=self._unavailable(catalog),
        )
        index = writer.index()
        judge = Judge(judging, self.registry.checks, index, self.registry.scope_names())
        with (partial.tmp / "findings.json").open("w", encoding="utf-8") as out:
            # judged and written one finding at a time: memory does not grow with the findings
            out.writelines(findings_json_chunks(self._counted(judge.findings())))
        verdicts = judge.verdicts
        partial.write_text("controls.json", controls_json(verdicts))
        partial.write_text("judging.json", judging.model_dump_json(indent=2) + "\n")
        partial.write_text("config.json", json.dumps(self.config.public_dict(), indent=2, sort_keys=True) + "\n")
        copy_into_bundle(partial.tmp, self.files)
        manifest: dict[str, Any] = {
            "schema": "evidence.manifest/1",
            "tool": {"name": "evidence", "version": __version__},
            "run_id": run_id,
            "period": self.period.model_dump(mode="json"),
            "started_at": iso(started),
            "finished_at": iso(utc_now()),
            "reference_time": iso(reference),
            "company": self.config.bundle.company,
            "scope": {
                "sources": {k: ("collected" if v is None else f"not collected: {v}")
                            for k, v in sorted(source_status.items())},
                "only": sorted(self.only) if self.only is not None else None,
                # what each collected source looked at, in its collector's own words
                "details": self._scope_details(source_status, index),
            },
            "api_calls": calls,
            "config_digest": sha256_of(self.config.public_dict()),
            "catalog_digest": catalog.digest,
            # which catalog judged the run: the built-in one, or the company's own folder
            "catalog_source": self.catalog_label or (str(self.catalog_dir) if self.catalog_dir else "built-in"),
            "plugin_errors": [str(e) for e in self.registry.errors],
        }
        if self.shards:
            manifest["merged_from"] = merged_from(self.shards)
        result = RunResult(
            run_id=run_id, period=self.period, verdicts=verdicts, manifest=manifest,
            findings_file=partial.tmp / "findings.json",
            user_errors=user_errors, plugin_errors=[str(e) for e in self.registry.errors], api_calls=calls,
            index=index,
        )
        if self._signer is not None:
            manifest["signature"] = self._signer.describe()
        self._phase("reports", ", ".join(("artifacts", *self.report_formats)))
        self._artifacts(result, index, partial.tmp)
        if self.report_formats:
            # the last phase: the reports are rendered from, and their cover digest covers, every other file
            errors = render_into_bundle(
                partial.tmp, manifest, self.registry.checks, self.report_formats, digest=partial.digest
            )
            if errors:  # said, and recorded; the verdicts and the exit code stand
                manifest["report_errors"] = result.report_errors = errors
        if self._tally is not None:
            self._tally.emit(message="sealing the bundle")
        partial.seal(manifest, sign=self._signer)
        result.bundle = partial.commit()
        result.findings_file = result.bundle / "findings.json"
        index.root = result.bundle
        self._phase("done", f"{result.finding_count:,} findings")
        return result

    def _counted(self, findings: Iterator[Finding]) -> Iterator[Finding]:
        """`findings` as they are judged, counted in the judge phase's progress."""
        for n, finding in enumerate(findings, start=1):
            if self._tally is not None and n % 256 == 0:  # the display shows a few a second at most
                self._tally.emit(message=f"{n:,} findings", throttled=True)
            yield finding


    def _scope_details(self, source_status: dict[str, str | None], index: EvidenceIndex) -> dict[str, Any]:
        """source -> its title, the accounts its evidence names (for a collector that has
        accounts) and its collector's (label, value) rows, for every source that was collected."""
        out: dict[str, Any] = {}
        for source, reason in sorted(source_status.items()):
            cls = self.registry.collectors.get(source)
            if cls is None or reason is not None:
                continue
            detail: dict[str, Any] = {"title": cls.title or source}
            if cls.has_accounts:
                detail["accounts"] = sorted({e.account for e in index.entries if e.source == source and e.account})
            try:
                detail["rows"] = [[str(label), str(value)]
                                  for label, value in cls.scope(self.config.sections.get(cls.section_name()))]
            except Exception as exc:  # a plugin's summary must not cost the run its evidence
                log.exception("collector %s could not summarise its scope", source)
                detail["rows"] = [["Scope", f"could not be summarised ({type(exc).__name__})"]]
            out[source] = detail
        return out

    def _artifacts(self, result: RunResult, index: EvidenceIndex, folder: Path) -> None:
        """Every declared artifact built from the run's evidence and written into the bundle; one
        that cannot be built is recorded in the manifest and counted like a plugin error."""
        built = build_artifacts(self.registry.artifacts.values(), index)
        errors = write_artifacts(built, folder)
        result.manifest["artifacts"] = {r.artifact.id: r.artifact.path for r in built if r.data is not None}
        if errors:
            result.manifest["artifact_errors"] = errors
            result.plugin_errors.extend(errors)
