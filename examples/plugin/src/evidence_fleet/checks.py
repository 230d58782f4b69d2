"""The `fleet.device_protected` check: every device in the export has an encrypted disk and
anti-virus, locks its screen soon enough, and has checked in recently (else its state is
unknown). Its parameters can be overridden per control in evidence.toml:

    [controls.ENDPOINTS]
    max_screen_lock_minutes = 10
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import Params
from evidence.models import Finding, Status

#: what the check judges: each element of the export's `devices` list, named by its serial;
#: every listed device must get a finding (the judge counts)
DEVICES = Inventory("fleet.ListDevices", items="devices", id="serial", resource_type="Device")


class DeviceParams(Params):
    max_screen_lock_minutes: int = Field(15, ge=1, description="Idle minutes before the screen locks.")
    max_days_unseen: int = Field(30, ge=1, description="Days since the device last checked in with the MDM.")


@check(id="fleet.device_protected", source="fleet", params=DeviceParams, inventory=DEVICES,
       description="Every device has an encrypted disk and anti-virus, locks its screen and checks in.")
def device_protected(ctx: CheckContext[DeviceParams]) -> Iterator[Finding]:
    def judge(device: Item) -> Finding:
        p = ctx.params
        seen = datetime.fromisoformat(device.need("last_seen", str).replace("Z", "+00:00"))
        days = (ctx.now - seen).days
        problems = []
        if days > p.max_days_unseen:
            problems.append(f"not seen for {days} days (at most {p.max_days_unseen})")
        if not device.need("disk_encrypted", bool):
            problems.append("disk not encrypted")
        if not device.need("antivirus", bool):
            problems.append("no anti-virus")
        lock = device.need("screen_lock_minutes", int)
        if lock > p.max_screen_lock_minutes:
            problems.append(f"screen locks after {lock} min (at most {p.max_screen_lock_minutes})")
        owner = device.need("owner", str, "")
        who = f" ({owner})" if owner else ""
        return ctx.finding(
            Status.FAIL if problems else Status.PASS, resource_id=device.resource_id, evidence=[device.ev],
            observed="; ".join(problems) or "protected", expected="encrypted, anti-virus, screen lock, checked in",
            message=(f"Device {device.resource_id}{who}: {', '.join(problems)}." if problems
                     else f"Device {device.resource_id}{who} is protected."),
        )

    yield from ctx.each(DEVICES, judge)
