"""How AWS units run: per-resource chunks, a join that runs once after every job it waited for,
and a scheduler whose jobs may submit more jobs of their unit without waiting for them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

from evidence.collectors.aws import AwsCollector
from evidence.collectors.aws_calls import Account, Caller, chunks
from evidence.collectors.aws_units import Join, Scheduler, Unit
from evidence.collectors.base import Sink
from evidence.config import parse_config
from evidence.records import EvidenceWriter


def _caller(
    tmp_path: Path, scheduler: Scheduler | None = None, unit: Unit | None = None, workers: int = 2
) -> Caller:
    session = boto3.Session(aws_access_key_id="unused", aws_secret_access_key="unused", region_name="eu-west-2")
    account = Account(id="123456789012", identity="arn:aws:iam::123456789012:role/evidence", session=session)
    spawn = scheduler.spawner(unit) if scheduler is not None and unit is not None else None
    collector = AwsCollector(parse_config({"aws": {"max_workers": workers}}))
    return Caller(collector, Sink(EvidenceWriter(tmp_path)), account, "eu-west-2", spawn=spawn)


def test_chunks_keep_every_item_in_order() -> None:
    assert list(chunks(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 25)) == []


def test_a_join_runs_its_step_once_after_the_last_job_is_done(tmp_path: Path) -> None:
    caller = _caller(tmp_path)
    ran: list[Caller] = []
    join = Join(ran.append)
    join.add()
    join.add()
    join.done(caller)
    join.done(caller)
    assert ran == []
    join.done(caller)  # the job that made it
    assert ran == [caller]


def test_forked_jobs_run_on_the_pool_and_are_all_finished(tmp_path: Path) -> None:
    seen: list[list[int]] = []
    lock = threading.Lock()

    def per_chunk(c: Caller, chunk: list[int]) -> None:
        with lock:
            seen.append(chunk)

    def run(c: Caller) -> None:
        c.fork_each(list(range(60)), per_chunk, 25)

    unit = Unit("test", frozenset({"test.Op"}), run)
    with ThreadPoolExecutor(max_workers=2) as pool:
        scheduler = Scheduler(pool)
        scheduler.submit(unit, _caller(tmp_path, scheduler, unit), unit.run)
        finished = list(scheduler.finished())
    assert scheduler.submitted == 4  # the unit, and one job per chunk of 25
    assert [exc for _, exc in finished] == [None] * 4
    assert all(job.unit is unit for job, _ in finished)
    assert sorted(seen) == [list(range(0, 25)), list(range(25, 50)), list(range(50, 60))]


def test_without_a_pool_forked_work_runs_inline(tmp_path: Path) -> None:
    seen: list[list[int]] = []
    _caller(tmp_path).fork_each([1, 2, 3], lambda c, chunk: seen.append(chunk), 2)
    assert seen == [[1, 2], [3]]


def test_few_items_are_spread_over_every_worker(tmp_path: Path) -> None:
    """A listing of 20 keys on 16 workers is 10 jobs of two, not one job of 20 calls in a row;
    a long listing still goes at most `size` to a job."""
    few: list[list[int]] = []
    _caller(tmp_path, workers=16).fork_each(list(range(20)), lambda c, chunk: few.append(chunk), 25)
    assert len(few) == 10 and all(len(chunk) == 2 for chunk in few)
    many: list[list[int]] = []
    _caller(tmp_path, workers=16).fork_each(list(range(1000)), lambda c, chunk: many.append(chunk), 25)
    assert len(many) == 40 and sorted(x for chunk in many for x in chunk) == list(range(1000))
