"""`[people]`: the people collector's configuration section (the HR roster)."""

from __future__ import annotations

from pydantic import Field, PrivateAttr

from evidence.config import Section


class PeopleConfig(Section):
    """`roster`: the HR export (see `evidence.sources.people`), relative to the configuration
    file's folder. `history`: the history file earlier runs were recorded in, whose sightings of
    each leaver's accounts date their removal; by default `history.sqlite` in `[bundle] out`."""

    roster: str = Field(min_length=1)
    history: str | None = None

    #: what the collector read (set once the roster is loaded): the manifest's scope and the
    #: report's cover show them; never part of the configuration as recorded
    _digest: str = PrivateAttr(default="")
    _counts: str = PrivateAttr(default="")

    def loaded(self, digest: str, counts: str) -> None:
        self._digest, self._counts = digest, counts
