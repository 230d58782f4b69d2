"""Plugin discovery through Python entry points.

`evidence.collectors` entries name a `Collector` subclass; `evidence.checks` entries name a
module, every `Check` defined at its top level is taken; `evidence.artifacts` entries name a
module, every `Artifact` defined at its top level is taken. The built-in plugins register the
same way. A plugin that fails to load is kept in `errors`: the run reports it and exits
non-zero rather than quietly judging less evidence.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from evidence.artifacts.base import Artifact
from evidence.checks.base import Check
from evidence.collectors.base import Collector

COLLECTORS_GROUP = "evidence.collectors"
CHECKS_GROUP = "evidence.checks"
ARTIFACTS_GROUP = "evidence.artifacts"


@dataclass(frozen=True)
class PluginError:
    group: str
    name: str
    value: str
    error: str

    def __str__(self) -> str:
        return f"plugin '{self.name}' ({self.group} = {self.value}) failed to load: {self.error}"


@dataclass
class Registry:
    collectors: dict[str, type[Collector]] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    errors: list[PluginError] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Registry:
        reg = cls()
        for ep in sorted(entry_points(group=COLLECTORS_GROUP), key=lambda e: e.name):
            reg._load_collector(ep)
        for ep in sorted(entry_points(group=CHECKS_GROUP), key=lambda e: e.name):
            reg._load_checks(ep)
        for ep in sorted(entry_points(group=ARTIFACTS_GROUP), key=lambda e: e.name):
            reg._load_artifacts(ep)
        return reg

    def _fail(self, ep: EntryPoint, error: str) -> None:
        self.errors.append(PluginError(ep.group, ep.name, ep.value, error))

    def _load_collector(self, ep: EntryPoint) -> None:
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported, never silent
            self._fail(ep, f"{type(exc).__name__}: {exc}")
            return
        if not (inspect.isclass(obj) and issubclass(obj, Collector)):
            self._fail(ep, "not a subclass of evidence.collectors.base.Collector")
            return
        self.add_collector(obj, origin=ep.value)

    def _load_checks(self, ep: EntryPoint) -> None:
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported, never silent
            self._fail(ep, f"{type(exc).__name__}: {exc}")
            return
        found = _checks_in(obj)
        if not found:
            self._fail(ep, "defines no checks")
        for chk in found:
            if chk.id in self.checks:
                self._fail(ep, f"duplicate check id '{chk.id}' (also in {self.origins[chk.id]})")
                continue
            self.add_check(chk, origin=ep.value)

    def _load_artifacts(self, ep: EntryPoint) -> None:
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported, never silent
            self._fail(ep, f"{type(exc).__name__}: {exc}")
            return
        found = [v for v in vars(obj).values() if isinstance(v, Artifact)] if isinstance(obj, ModuleType) else (
            [obj] if isinstance(obj, Artifact) else [])
        if not found:
            self._fail(ep, "defines no artifacts")
        for art in found:
            clash = next((a for a in self.artifacts.values() if a.id == art.id or a.path == art.path), None)
            if clash is not None:
                self._fail(ep, f"artifact {art.id} ({art.path}) clashes with {clash.id} ({clash.path})")
                continue
            self.add_artifact(art, origin=ep.value)

    def add_artifact(self, art: Artifact, origin: str = "") -> None:
        self.artifacts[art.id] = art
        self.origins[f"artifact:{art.id}"] = origin or art.build.__module__

    def add_collector(self, cls: type[Collector], origin: str = "") -> None:
        self.collectors[cls.source] = cls
        self.origins[f"collector:{cls.source}"] = origin or cls.__module__

    def add_check(self, chk: Check, origin: str = "") -> None:
        self.checks[chk.id] = chk
        self.origins[chk.id] = origin or chk.fn.__module__

    def scope_names(self) -> dict[str, Callable[[str, str, str], str]]:
        """source -> how its collector names the scope of a failed call without a subject."""
        return {source: cls.failed_scope for source, cls in self.collectors.items()}

    def collector_for(self, key: str, source: str) -> type[Collector] | None:
        cls = self.collectors.get(source)
        if cls is not None and key in cls.permissions:
            return cls
        return None


def _checks_in(obj: object) -> list[Check]:
    if isinstance(obj, Check):
        return [obj]
    if isinstance(obj, ModuleType):
        return [v for v in vars(obj).values() if isinstance(v, Check)]
    if isinstance(obj, list | tuple):
        return [v for v in obj if isinstance(v, Check)]
    return []
