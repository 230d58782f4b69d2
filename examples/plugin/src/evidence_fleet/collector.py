"""The `fleet` collector: reads a device-management export (JSON) named by `[fleet] export_file`
and records it as the evidence key `fleet.ListDevices`. It only reads a local file: no network.

The export is what most MDMs (Jamf, Kandji, Intune, Fleet) can write, reduced to:

    {"devices": [{"serial": "C02XK1", "owner": "ana@example.com", "disk_encrypted": true,
                  "antivirus": true, "screen_lock_minutes": 5, "last_seen": "2026-12-01T09:30:00Z"}]}
"""

from __future__ import annotations

import json
from typing import ClassVar

from pydantic import Field

from evidence.collectors.base import Collector, CollectorFailure, Sink
from evidence.config import Section
from evidence.models import EvidenceRecord, iso, utc_now

KEY = "fleet.ListDevices"


class FleetConfig(Section):
    """`[fleet]`: where the export is. Unknown keys and wrong types are one-line errors."""

    export_file: str = Field(min_length=1, description="The export (JSON), relative to evidence.toml.")


class FleetCollector(Collector):
    source = "fleet"
    description = "Employee devices from a device-management export (a local JSON file)"
    #: what `evidence permissions` and `collectors list` print: what to grant this collector
    permission_kind = "file access"
    permissions: ClassVar[dict[str, tuple[str, ...]]] = {
        KEY: ("read the device-management export named by [fleet] export_file",),
    }
    title = "Device fleet"
    #: `[fleet]`, validated with FleetConfig before any collection; absent: not configured
    config_model = FleetConfig

    @classmethod
    def scope(cls, section: Section | None) -> list[tuple[str, str]]:
        """What the manifest's scope and the report's cover say this collector looked at."""
        return [("Device export", section.export_file)] if isinstance(section, FleetConfig) else []

    def collect(self, sink: Sink, wanted: frozenset[str]) -> None:
        section = self.settings(FleetConfig)
        if section is None or KEY not in wanted:
            return
        path = self.config.resolve(section.export_file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CollectorFailure("FileNotFound", f"{path}: no such file",
                                   "export the devices from your MDM to [fleet] export_file",
                                   user_error=True) from None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CollectorFailure("Unreadable", f"{path}: not a JSON export ({type(exc).__name__})",
                                   "export the devices as JSON: {\"devices\": [...]}", user_error=True) from None
        sink.progress(f"fleet: read {path.name}")
        sink.record(EvidenceRecord(source="fleet", service="fleet", operation="ListDevices",
                                   parameters={"export_file": section.export_file},
                                   collected_at=iso(utc_now()), response=data))
