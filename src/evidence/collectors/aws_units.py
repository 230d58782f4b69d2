"""How AWS collection is sliced and run: a `Unit` is one service's calls in one (account,
region), or once per account for a global service; each runs as a job on a bounded pool
(`Scheduler`) and may fan its per-resource calls out as further jobs of the same unit, which
it never waits for (so the pool cannot deadlock; `Join` runs a step once they are all done).
Listings ask for the API's largest page (`PAGE`), per-resource calls go `CHUNK` to a job.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from evidence.collectors.aws_calls import Caller, Spawn

#: the largest page each listing allows (fewest calls)
PAGE = {
    "s3.ListBuckets": 10000,
    "ec2.DescribeVolumes": 500,
    "ec2.DescribeSecurityGroups": 1000,
    "ec2.DescribeInstances": 1000,
    "rds.DescribeDBInstances": 100,
    "rds.DescribeDBClusters": 100,
    "dynamodb.ListTables": 100,
    "kms.ListKeys": 1000,
    "backup.ListBackupPlans": 1000,
    "backup.ListBackupSelections": 1000,
    "backup.ListRestoreJobs": 1000,
    "elbv2.DescribeLoadBalancers": 400,
    "elbv2.DescribeListeners": 400,
    "elb.DescribeLoadBalancers": 400,
    "shield.ListProtections": 10000,
    "wafv2.ListWebACLs": 100,
    "acm.ListCertificates": 1000,
    "apigateway.GetDomainNames": 500,
}

#: per-resource calls per pool job
CHUNK = 25


@dataclass(frozen=True)
class Unit:
    """A slice of collection: one service's calls in one (account, region)."""

    name: str
    keys: frozenset[str]
    run: Callable[[Caller], None]
    is_global: bool = False
    #: its expected cost relative to a unit of a few calls (what a sharded run balances): the
    #: units that make one call per resource cost more
    cost: float = 1.0


class Join:
    """Runs `then` once, after the job that made it and every job it `add`ed are `done`:
    a join that never blocks a pool thread (the last one to finish does the work)."""

    def __init__(self, then: Callable[[Caller], None]) -> None:
        self._then = then
        self._pending = 1
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self._pending += 1

    def done(self, c: Caller) -> None:
        with self._lock:
            self._pending -= 1
            last = self._pending == 0
        if last:
            self._then(c)


@dataclass(frozen=True)
class Job:
    unit: Unit
    caller: Caller
    fn: Callable[[Caller], None]


class Scheduler:
    """Jobs on a bounded pool; a running job may submit more (it never waits for them)."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._running: dict[Future[None], Job] = {}
        self.submitted = 0

    def submit(self, unit: Unit, caller: Caller, fn: Callable[[Caller], None]) -> None:
        job = Job(unit, caller, fn)
        with self._lock:
            self.submitted += 1
            self._running[self._pool.submit(fn, caller)] = job

    def spawner(self, unit: Unit) -> Spawn:
        """How `unit`'s callers run more jobs of it (`Caller.fork`)."""
        return functools.partial(self.submit, unit)

    def finished(self) -> Iterator[tuple[Job, BaseException | None]]:
        """Each job as it ends, with its unexpected exception; ends when no job is left.

        A job submits its children before it returns, so when the last known job is done
        there is nothing left to wait for.
        """
        while True:
            with self._lock:
                pending = list(self._running)
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                with self._lock:
                    job = self._running.pop(fut)
                yield job, fut.exception()
