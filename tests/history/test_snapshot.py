"""A recorded run loaded for drift: the failing findings only, the rest looked up by key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evidence.history import History
from evidence.models import Finding, Status
from tests.history.support import T0, TLS_CHECK, make_snapshot


def test_drift_loads_failing_findings_only_and_looks_up_the_rest(tmp_path: Path) -> None:
    run_id = "20261102T060000Z-aaaaaa"
    snap = make_snapshot(run_id, T0, ["lb-1", "lb-2"])
    passing = Finding(control_id="ENC-TRANSIT", check_id=TLS_CHECK, status=Status.PASS, source="aws",
                      resource_id="lb-3", account="1", region="eu-west-2", message="fine")
    streamed = [*snap.findings, passing, snap.findings[0].model_copy(update={"message": "again"})]
    with History.open(tmp_path) as h:
        # findings streamed into the history (a generator), not held by the snapshot
        h.record(dataclasses.replace(snap, findings=[]), (f for f in streamed))
        full = h.snapshot(run_id)
        assert full.findings == streamed
        part = h.snapshot(run_id, statuses=(Status.FAIL, Status.ERROR))
        assert [f.resource_id for f in part.findings] == ["lb-1", "lb-2", "lb-1"]
        # the keys are the run's own (the repeated one keeps its #2), and the rest is looked up
        assert list(part.keyed) == [k for k, f in full.keyed.items() if f.status is Status.FAIL]
        assert list(part.keyed)[-1].endswith("#2")
        key = next(k for k, f in full.keyed.items() if f.resource_id == "lb-3")
        assert key not in part.keyed and part.find(key) == passing
        assert part.find("no|such|finding") is None
        # only what drift reads is loaded; the whole finding is read when an alert describes it
        first = next(iter(part.keyed))
        assert part.keyed[first].message == "lb-1 allows TLSv1" and part.keyed[first].observed is None
        assert part.whole(first) == full.keyed[first] and full.keyed[first].observed == "TLSv1"
