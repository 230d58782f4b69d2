"""Issue 16, acceptance 6, for AWS (the others: test_midpage_faults_http.py): faults in
the middle of paginated listings, injected by a loopback proxy
(tests/faultproxy.py) in front of the fakes: a connection reset, a timeout, a 500 and a truncated
body on page 3, persistently (every retry meets it too). In every collector the pages read before
the fault are kept and judged, what could not be read is an `error` naming the failed call, the
checks of that listing never pass, and other listings judge as they would without the fault. A
fault met only once is healed by the collector's retries: the findings are those of a clean run.

Real clients throughout (boto3, httpx, google-api-python-client), through the real pipeline; the
clients' read timeouts are made short so that a held connection costs about a second.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig

from evidence.catalog import default_catalog_dir
from evidence.collectors import aws_units
from evidence.collectors.aws import AwsCollector
from evidence.collectors.base import Collector
from evidence.config import Config
from evidence.models import Period, Status
from evidence.runner import RunResult
from tests.conftest import RunFn, serve_moto
from tests.faultproxy import Fault, FaultProxy, Request
from tests.midpage_support import (
    FAULTS,
    READ_TIMEOUT,
    REGION,
    assert_listing_errors,
    by_status,
    judged,
    of,
    records,
    verdicts,
)

# --- AWS: DynamoDB ListTables in pages of 2 on moto, through the proxy ------------------------------

TABLES = [f"table-{i}" for i in range(5)]  # pages [0, 1], [2, 3], [4]
AWS_CODES: dict[Fault, tuple[str, ...]] = {
    "reset": ("ConnectionClosedError",), "timeout": ("ReadTimeoutError",), "500": ("500",),
    "truncate": ("IncompleteResponse",),
}


def list_tables_page_3(r: Request) -> bool:
    return r.headers.get("x-amz-target", "").endswith(".ListTables") and b'"table-3"' in r.body


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """One moto server for the module (starting one costs seconds); each test resets it."""
    with serve_moto() as url:
        yield url


@pytest.fixture
def moto_estate(aws_env: None, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Five tables, all with point-in-time recovery: BACKUP-PITR (without its AWS Backup check) passes."""
    moto_url = moto_server
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_url)
    for name in TABLES:
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.update_continuous_backups(TableName=name,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    # moto builds each service's backend on its first call: not inside a test's short timeout
    boto3.client("rds", region_name=REGION, endpoint_url=moto_url).describe_db_instances()
    boto3.client("sts", region_name=REGION, endpoint_url=moto_url).get_caller_identity()
    monkeypatch.setitem(aws_units.PAGE, "dynamodb.ListTables", 2)
    return moto_url


def short_timeouts_aws(_cls: type[Collector], cfg: Config, period: Period) -> Collector:
    collector = AwsCollector(cfg, period)
    collector._boto_config = collector._boto_config.merge(
        BotoConfig(read_timeout=READ_TIMEOUT, connect_timeout=READ_TIMEOUT))
    return collector


def run_aws(run_evidence: RunFn, tmp_path: Path, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch,
            name: str) -> RunResult:
    """BACKUP-PITR with its RDS and DynamoDB checks (moto lacks AWS Backup's ListBackupSelections)."""
    folder = tmp_path / name / "catalog"
    folder.mkdir(parents=True)
    text = (default_catalog_dir() / "BACKUP-PITR.toml").read_text()
    (folder / "BACKUP-PITR.toml").write_text(text.replace('[[checks]]\nid = "aws.backup.plan_with_rule"', ""))
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    return run_evidence({"aws": {"regions": [REGION], "max_attempts": 3}}, only={"aws"}, catalog_dir=folder,
                        collector_factory=short_timeouts_aws)


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:123456789012:table/{name}"


@pytest.mark.parametrize("fault", FAULTS)
def test_aws_a_listing_cut_on_page_3_keeps_pages_1_and_2_and_errors_the_rest(
    fault: Fault, moto_estate: str, run_evidence: RunFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultProxy(moto_estate) as proxy:
        proxy.add(fault, list_tables_page_3, times=None)
        result = run_aws(run_evidence, tmp_path, proxy, monkeypatch, "faulted")
    # botocore retried the page (max_attempts 3) except a truncated body, which it does not retry
    assert len(proxy.faults(fault)) == 1 if fault == "truncate" else len(proxy.faults(fault)) >= 3
    pitr = of(result, "aws.dynamodb.point_in_time_recovery")
    assert_listing_errors(pitr, "dynamodb.ListTables", AWS_CODES[fault], [])
    # pages 1 and 2 were kept and judged; nothing of page 3 was read
    assert by_status(pitr, Status.PASS) == [table_arn(t) for t in TABLES[:4]]
    assert table_arn("table-4") not in {f.resource_id for f in pitr}
    pages = records(result, "aws", "ListTables")
    assert [r["response"]["TableNames"] for r in pages if r["error"] is None] == [TABLES[:2], TABLES[2:4]]
    [failed] = [r for r in pages if r["error"] is not None]
    assert failed["parameters"]["page"] == 3 and failed["error"]["code"] in AWS_CODES[fault]
    # the other listings of the control judge as they would: the control is an error, not a pass
    assert {f.status for f in of(result, "aws.rds.backup_retention")} == {Status.NOT_APPLICABLE}
    assert verdicts(result)["BACKUP-PITR"] is Status.ERROR
    assert result.exit_code == 3


@pytest.mark.parametrize("fault", ["reset", "timeout", "500"])
def test_aws_a_fault_met_once_is_healed_by_the_retries(
    fault: Fault, moto_estate: str, run_evidence: RunFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultProxy(moto_estate) as proxy:
        clean = run_aws(run_evidence, tmp_path, proxy, monkeypatch, "clean")
        proxy.add(fault, list_tables_page_3, times=1)
        healed = run_aws(run_evidence, tmp_path, proxy, monkeypatch, "healed")
    assert len(proxy.faults(fault)) == 1
    assert judged(healed.findings) == judged(clean.findings)
    assert by_status(of(healed, "aws.dynamodb.point_in_time_recovery"), Status.PASS) == [table_arn(t) for t in TABLES]
    assert verdicts(healed)["BACKUP-PITR"] is Status.PASS and healed.exit_code == 0


def test_aws_a_truncated_body_met_once_is_an_error_never_a_short_listing(
    moto_estate: str, run_evidence: RunFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore does not retry a body cut short (it reads without enforcing Content-Length); the
    collector refuses it, so the listing is an error rather than two pages that look complete."""
    with FaultProxy(moto_estate) as proxy:
        proxy.add("truncate", list_tables_page_3, times=1)
        result = run_aws(run_evidence, tmp_path, proxy, monkeypatch, "once")
    assert_listing_errors(of(result, "aws.dynamodb.point_in_time_recovery"), "dynamodb.ListTables",
                          ("IncompleteResponse",), [])
    assert verdicts(result)["BACKUP-PITR"] is Status.ERROR


