"""What judging needs besides the evidence: the catalog, effective parameters, sources,
manual attachments and waivers. Stored in every bundle as `judging.json`, so a bundle
re-judges offline exactly as it was judged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evidence.catalog import Catalog


class Attachment(BaseModel):
    """Manual evidence attached to a control (`evidence attach`)."""

    model_config = ConfigDict(extra="forbid")

    control_id: str
    requirement: str
    path: str
    sha256: str
    valid_until: date
    attached_by: str = ""
    attached_at: str = ""


class Waiver(BaseModel):
    """An accepted exception: findings of `control_id` whose resource matches `resource`
    (an fnmatch pattern) are `waived` until `expires`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    control_id: str
    resource: str
    reason: str
    approver: str
    expires: date
    check_id: str | None = None


class Judging(BaseModel):
    """Everything judging needs besides the evidence; stored in the bundle as `judging.json`."""

    model_config = ConfigDict(extra="forbid")

    reference_time: datetime
    catalog: Catalog
    #: control id -> check id -> effective parameters
    params: dict[str, dict[str, dict[str, Any]]]
    #: sources judged in this run -> None when configured, else why they could not be collected
    sources: dict[str, str | None]
    attachments: list[Attachment] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    #: check id -> why the check is unavailable (its plugin failed to load, or its collector
    #: does not provide the evidence it reads)
    unavailable: dict[str, str] = Field(default_factory=dict)
