"""Runs and findings in the history, and concurrent runs on one output folder (threads running
the real pipeline, and separate processes)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from evidence.config import AlertsConfig
from evidence.history import MIGRATIONS, History, HistoryError, after_run, evaluate, keyed_findings
from evidence.models import Status
from evidence.notify import Delivery, Message
from evidence.registry import Registry
from evidence.runner import Runner, RunResult
from tests.history.support import T0, make_snapshot, seed_estate
from tests.test_notify import PERIOD, HttpReceiver, alerts_toml, write_config


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


def _delivered(messages: Sequence[Message], urls: Sequence[str]) -> list[Delivery]:
    """A sender every message reaches (an alert counts as sent only once delivered)."""
    return [Delivery(m.key, u, True) for m in messages for u in urls]


def _record_and_evaluate(args: tuple[str, int, int]) -> list[str]:
    """A separate process: record `n` runs (each with a failing control), decide and send alerts."""
    out, worker, n = args
    ids: list[str] = []
    with History.open(Path(out)) as h:
        for i in range(n):
            failing = [f"lb-{k}" for k in range(150)]
            snap = make_snapshot(f"w{worker}-r{i}", T0 + timedelta(minutes=worker * n + i), failing)
            info = h.record(snap)
            evaluate(h, info, out=Path(out), alerts=AlertsConfig(urls=["json://127.0.0.1:9/hook"]),
                     sender=_delivered)
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
        assert [d.ok for d in h.deliveries() if d.alert_id == alerted[0]["id"]] == [True]


def test_two_runs_started_together_on_one_folder(mocked_aws: None, registry: Registry, tmp_path: Path) -> None:
    """Acceptance 5: two runs of the real pipeline started together on one folder both land in
    the history, with every finding, and SQLite's integrity check passes."""
    seed_estate()
    out = tmp_path / "out"
    hook = HttpReceiver()
    cfg = write_config(tmp_path, '[aws]\nregions = ["eu-west-2"]\n' + alerts_toml([hook.url]))
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
    with hook:
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
        assert keys and len(keys) == len(set(keys))
        titles = [r["json"]["title"] for r in hook.requests]
        assert titles and len(titles) == len(set(titles)) == len(h.alerts())
    raw = sqlite3.connect(out / "history.sqlite")
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
