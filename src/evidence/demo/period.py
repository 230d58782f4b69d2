"""`evidence demo --period`: a simulated quarter. Thirteen weekly runs of the simulated company
(their reference time set through EVIDENCE_NOW, as a backfill would), in which the `app` load
balancer's HTTPS listener is downgraded for two weeks (weeks 6 and 7) and then restored, and an
engineer (`chloe`) leaves: her account is suspended in week 10, so she is in the leavers
population with that day. Then the period bundle, from those runs."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3

from evidence.catalog import load_catalog
from evidence.demo.aws import DEMO_REGIONS, moto_server, seed
from evidence.demo.catalog import DEMO_CATALOG_LABEL, build_demo_catalog
from evidence.demo.company import fake_github, workspace_server
from evidence.demo.endpoints import demo_endpoints
from evidence.demo.run import demo_config, demo_signing_key
from evidence.demo.scratch import scratch_dir
from evidence.history import History, Snapshot
from evidence.models import NOW_VARIABLE, Period
from evidence.period.bundle import plan, write_period_bundle
from evidence.period.coverage import ControlCoverage
from evidence.pipeline import make_runner
from evidence.registry import Registry
from evidence.signing import signer_for

WEAK_POLICY = "ELBSecurityPolicy-2016-08"
WEEKS = 13
DEGRADED_WEEKS = (5, 6)
LEAVER = "chloe@zaptic.example"
LEAVER_SUSPENDED_WEEK = 9


@contextmanager
def _now(value: str) -> Iterator[None]:
    """EVIDENCE_NOW for one simulated run (restored afterwards)."""
    saved = os.environ.get(NOW_VARIABLE)
    os.environ[NOW_VARIABLE] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(NOW_VARIABLE, None)
        else:
            os.environ[NOW_VARIABLE] = saved


def _app_https_listener(elbv2: Any) -> tuple[str, str]:
    """The `app` load balancer's HTTPS listener and its policy."""
    lb = elbv2.describe_load_balancers(Names=["app"])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = next(li for li in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"] if li["Protocol"] == "HTTPS")
    return listener["ListenerArn"], listener["SslPolicy"]


def run_demo_period(
    out: Path | None, period: Period, progress: Callable[[str], None] | None = None
) -> tuple[Path, list[ControlCoverage]]:
    """The simulated quarter's runs, recorded in the history of `out`, and its period bundle."""
    out = out or Path(tempfile.mkdtemp(prefix="evidence-demo-period-"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with (
        moto_server(),
        workspace_server() as (workspace_section, workspace),
        scratch_dir("ca") as ca_dir,
        scratch_dir("catalog") as catalog_scratch,
        demo_endpoints(ca_dir) as endpoints,
        fake_github(period) as github,
    ):
        seed(DEMO_REGIONS)
        config = demo_config(DEMO_REGIONS, workspace_section, probes=endpoints.probes_config(), github=github,
                             out=out)
        config.bundle.signing_key = str(demo_signing_key(out))
        registry = Registry.load()
        catalog_dir = build_demo_catalog(catalog_scratch, registry, unmapped=False)
        history = History.open(out)
        elbv2 = boto3.client("elbv2", region_name=DEMO_REGIONS[0])
        listener, policy = _app_https_listener(elbv2)
        for week in range(WEEKS):
            day = period.start + timedelta(days=7 * week)
            if day > period.end:
                break
            if week in DEGRADED_WEEKS:
                elbv2.modify_listener(ListenerArn=listener, SslPolicy=WEAK_POLICY)
            elif week == DEGRADED_WEEKS[-1] + 1:
                elbv2.modify_listener(ListenerArn=listener, SslPolicy=policy)
            if week == LEAVER_SUSPENDED_WEEK:
                next(u for u in workspace.users if u["primaryEmail"] == LEAVER)["suspended"] = True
            if progress is not None:
                progress(f"week {week + 1} of {WEEKS}: {day}")
            with _now(f"{day.isoformat()}T06:00:00Z"):
                runner = make_runner(config, registry, period, out, catalog_dir=catalog_dir,
                                     catalog_label=DEMO_CATALOG_LABEL)
                runner.report_formats = ()  # the period bundle has its own report
                result = runner.run()
                history.record(Snapshot.from_result(result, out, with_findings=False), result.iter_findings())
        last = min(period.end, period.start + timedelta(days=7 * WEEKS - 1))
        with _now(f"{last.isoformat()}T18:00:00Z"):
            built = plan(out, period, "weekly", load_catalog(catalog_dir))
            bundle, coverage = write_period_bundle(out, built, company=config.bundle.company,
                                                   sign=signer_for(config))
    return bundle, coverage
