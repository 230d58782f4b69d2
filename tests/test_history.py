"""The history file: schema versions and migrations, runs and findings, and concurrent runs
on one output folder (threads running the real pipeline, and separate processes)."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evidence.config import AlertsConfig
from evidence.drift import after_run, evaluate
from evidence.history import MIGRATIONS, History, HistoryError, Migration, keyed_findings
from evidence.models import Finding, Status
from evidence.registry import Registry
from evidence.runner import Runner, RunResult
from tests.test_drift import TLS_CHECK, make_snapshot, seed_estate
from tests.test_notify import PERIOD, write_config

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def test_a_new_history_is_at_the_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    with History.open(tmp_path) as h:
        assert h.schema_version() == len(MIGRATIONS)
        assert h.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert h.integrity_check() == ["ok"]
        tables = {r[0] for r in h.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"schema_version", "runs", "verdicts", "findings", "waivers", "attachments", "alert_state",
            "alerts", "deliveries", "settings"} <= tables
    with pytest.raises(HistoryError, match="no history here yet"):
        History.open(tmp_path / "elsewhere", create=False)


def test_migrations_upgrade_in_place_and_a_newer_file_is_refused(tmp_path: Path) -> None:
    with History.open(tmp_path) as h:
        h.record(make_snapshot("r1", T0, ["lb-1"]))
    v2 = Migration(2, "runs get a note", ("ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT ''",))
    with History.open(tmp_path, migrations=(*MIGRATIONS, v2)) as h:
        assert h.schema_version() == 2
        assert [r.run_id for r in h.runs()] == ["r1"]
        assert h.conn.execute("SELECT note FROM runs").fetchone()[0] == ""
        described = h.conn.execute("SELECT description FROM schema_version WHERE version = 2").fetchone()[0]
        assert described == "runs get a note"
    with pytest.raises(HistoryError, match="newer release of evidence"):
        History.open(tmp_path)


def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    History.open(tmp_path).close()
    broken = Migration(2, "broken", ("CREATE TABLE half_done (a TEXT)", "THIS IS NOT SQL"))
    with pytest.raises(HistoryError, match="syntax error"):
        History.open(tmp_path, migrations=(*MIGRATIONS, broken))
    with History.open(tmp_path) as h:
        assert h.schema_version() == len(MIGRATIONS)
        assert h.conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0


def test_runs_findings_and_lookups(tmp_path: Path) -> None:
    snap = make_snapshot("20261102T060000Z-aaaaaa", T0, ["lb-1", "lb-2"])
    # two findings with the same key in one run are both kept
    snap.findings.append(snap.findings[0].model_copy(update={"message": "again"}))
    with History.open(tmp_path) as h:
        info = h.record(snap)
        assert h.record(snap) == info  # idempotent
        h.record(make_snapshot("20261103T060000Z-bbbbbb", T0 + timedelta(days=1)))
        h.record(make_snapshot("20261103T070000Z-cccccc", T0 + timedelta(days=1), sources=["aws"]))
        stored = h.snapshot("20261102T060000Z-aaaaaa")
        assert stored.findings == snap.findings
        assert list(keyed_findings(stored.findings))[-1].endswith("#2")
        assert stored.verdicts["ENC-TRANSIT"].verdict is Status.FAIL
        assert h.find("20261102").run_id == "20261102T060000Z-aaaaaa"
        with pytest.raises(HistoryError, match="matches 2 runs"):
            h.find("20261103")
        with pytest.raises(HistoryError, match="no recorded run"):
            h.find("2025")
        latest = h.find("latest")
        assert latest.run_id == "20261103T070000Z-cccccc"
        # the previous run is the last one with the same sources in scope
        assert h.previous(latest) is None
        second = h.find("20261103T06")
        assert h.previous(second) is not None and h.previous(second).run_id == info.run_id  # type: ignore[union-attr]
        assert h.baseline() is None
        assert h.set_baseline("20261102").run_id == info.run_id
        assert h.find("baseline").run_id == info.run_id


def _record_and_evaluate(args: tuple[str, int, int]) -> list[str]:
    """A separate process: record `n` runs (each with a failing control) and decide alerts."""
    out, worker, n = args
    ids: list[str] = []
    with History.open(Path(out)) as h:
        for i in range(n):
            failing = [f"lb-{k}" for k in range(150)]
            snap = make_snapshot(f"w{worker}-r{i}", T0 + timedelta(minutes=worker * n + i), failing)
            info = h.record(snap)
            evaluate(h, info, out=Path(out), alerts=AlertsConfig(urls=[]))
            ids.append(info.run_id)
    return ids


def test_processes_recording_at_once_lose_nothing_and_alert_once(tmp_path: Path) -> None:
    """Acceptance 5 (processes): 4 processes create the file and record 5 runs each at once."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        ids = pool.map(_record_and_evaluate, [(str(tmp_path), w, 5) for w in range(4)])
    with History.open(tmp_path) as h:
        assert sorted(r.run_id for r in h.runs()) == sorted(i for batch in ids for i in batch)
        assert len(h.runs()) == 20
        assert all(h.count_findings(r.run_id) == 150 for r in h.runs())
        assert h.integrity_check() == ["ok"]
        assert h.schema_version() == len(MIGRATIONS)
        # the control failing in every run alerted exactly once, whatever the interleaving
        alerted = [a for a in h.alerts() if "verdict:ENC-TRANSIT:fail" in a["keys"]]
        assert len(alerted) == 1


def test_two_runs_started_together_on_one_folder(mocked_aws: None, registry: Registry, tmp_path: Path) -> None:
    """Acceptance 5: two runs of the real pipeline started together on one folder both land in
    the history, with every finding, and SQLite's integrity check passes."""
    seed_estate()
    out = tmp_path / "out"
    cfg = write_config(tmp_path, '[aws]\nregions = ["eu-west-2"]\n')
    start = threading.Barrier(2)
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            result = Runner(config=cfg, registry=registry, period=PERIOD, out=out, only={"aws", "manual"}).run()
            after_run(result, cfg.alerts, out=out)
            results.append(result)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 2
    with History.open(out, create=False) as h:
        assert sorted(r.run_id for r in h.runs()) == sorted(r.run_id for r in results)
        for r in results:
            assert h.count_findings(r.run_id) == len(r.findings)
            stored = h.snapshot(r.run_id)
            assert {k: v.verdict for k, v in stored.verdicts.items()} == {v.control_id: v.verdict for v in r.verdicts}
        assert h.integrity_check() == ["ok"]
        # the same failing controls were alerted once, not once per run
        keys = [k for a in h.alerts() for k in a["keys"]]
        assert len(keys) == len(set(keys))
    raw = sqlite3.connect(out / "history.sqlite")
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()


def test_a_busy_history_waits_then_names_the_file(tmp_path: Path) -> None:
    with History.open(tmp_path) as holder, History.open(tmp_path, timeout=0.2) as other:
        with holder.write():
            with pytest.raises(HistoryError, match=r"history\.sqlite: cannot start writing"):
                other.record(make_snapshot("r1", T0))
        assert other.record(make_snapshot("r1", T0)).run_id == "r1"


def test_findings_keyed_by_control_check_resource(tmp_path: Path) -> None:
    f = Finding(control_id="C", check_id=TLS_CHECK, status=Status.FAIL, source="aws", resource_id="arn:x",
                account="1", region="eu-west-2", message="m")
    assert list(keyed_findings([f, f])) == [f"C|{TLS_CHECK}|arn:x|1|eu-west-2", f"C|{TLS_CHECK}|arn:x|1|eu-west-2#2"]


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


def test_a_resource_that_passed_before_is_said_to_have_passed(tmp_path: Path) -> None:
    from tests.test_drift import Recorder

    sender = Recorder()
    config = AlertsConfig(urls=["json://127.0.0.1:9/hook"])
    with History.open(tmp_path) as h:
        before = make_snapshot("r1", T0)  # lb-3 passes, among other passing findings
        before.findings.append(Finding(control_id="ENC-TRANSIT", check_id=TLS_CHECK, status=Status.PASS,
                                       source="aws", resource_id="lb-3", account="1", region="eu-west-2",
                                       message="fine"))
        evaluate(h, h.record(before), out=tmp_path, alerts=config, sender=sender)
        after = make_snapshot("r2", T0 + timedelta(days=1), ["lb-3"])
        outcome = evaluate(h, h.record(after), out=tmp_path, alerts=config, sender=sender)
    assert len(outcome.alerts) == 1
    assert "new failing resource lb-3" in sender.sent[-1].body and "; was pass)" in sender.sent[-1].body
