"""How the AWS collector scales: API calls, wall time and memory against the estate's size.

    .venv/bin/python bench/aws_scale.py [--sizes 100,400,1600] [--workers 16] [--cli]

For each N it starts a fresh moto server on 127.0.0.1 (port 0), seeds 2 accounts (the
caller's, and one reached by AssumeRole: moto hands out the target account's credentials) x 3
regions with N resources of each kind per (account, region) -- S3 buckets, EBS volumes,
security groups, EC2 instances, RDS DB instances, DynamoDB tables, KMS keys, application load
balancers -- and N IAM users per account, then runs the real pipeline for `--only aws` in a
child process (the Runner without the report hooks by default; `--cli` runs `evidence run
--only aws` itself, reports included) and prints:

- wall seconds of the run,
- AWS API calls made (HTTP requests from the collector's clients, retries included, counted
  at the server by their `app/evidence` User-Agent),
- the minimum that estate needs: one call per listing page (at the largest page each API
  allows, as this endpoint serves it) plus one per resource where no wider call exists,
- their ratio, and the run process's peak RSS (its own VmHWM).

Not collected by pytest (no `test_` prefix); nothing but loopback is contacted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

CALLER = "123456789012"
OTHER = "210987654321"
ROLE = f"arn:aws:iam::{OTHER}:role/EvidenceAudit"
REGIONS = ["eu-west-2", "eu-west-1", "us-east-1"]
HOME = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_DEFAULT_REGION": "eu-west-2"}

#: listing -> its largest page as this endpoint (moto) serves it; None: one page whatever the size
#: (AWS pages DescribeVolumes at 500, DescribeSecurityGroups/DescribeInstances at 1000; moto does not)
MOTO_PAGE: dict[str, int | None] = {
    "s3.ListBuckets": 10000, "ec2.DescribeVolumes": None, "ec2.DescribeSecurityGroups": None,
    "ec2.DescribeInstances": None, "rds.DescribeDBInstances": 100, "dynamodb.ListTables": 100,
    "kms.ListKeys": None, "elbv2.DescribeLoadBalancers": 400,
}


def pages(items: int, key: str) -> int:
    size = MOTO_PAGE[key]
    return 1 if size is None else max(1, math.ceil(items / size))


def minimum_calls(n: int, keys: int | None = None, accounts: int = 2, regions: int = 3) -> dict[str, int]:
    """The fewest calls the seeded estate needs, by evidence key (see the module docstring).
    `keys`: KMS keys actually present in all (a create retried under load can add one)."""
    out: dict[str, int] = {}

    def add(key: str, count: int) -> None:
        out[key] = out.get(key, 0) + count

    cells = accounts * regions
    add("sts.GetCallerIdentity", accounts)  # who we are in each account
    add("sts.AssumeRole", accounts - 1)
    add("ec2.DescribeRegions", accounts)  # DATA-RESIDENCY: which regions exist
    for _ in range(accounts):  # global services, once per account
        buckets = n * regions
        add("s3.ListBuckets", pages(buckets, "s3.ListBuckets"))
        add("s3.GetBucketLocation", buckets)  # moto's ListBuckets has no BucketRegion (AWS's has: 0 there)
        add("s3.GetBucketEncryption", buckets)
        # a fresh credential report: the first GenerateCredentialReport answers STARTED, a later one COMPLETE
        add("iam.GenerateCredentialReport", 2)
        for key in ("iam.GetAccountSummary", "iam.GetCredentialReport", "cloudfront.ListDistributions",
                    "shield.ListProtections", "wafv2.ListWebACLs", "cloudtrail.DescribeTrails"):
            add(key, 1)
    for _ in range(cells):  # regional services, once per (account, region)
        for key in ("ec2.GetEbsEncryptionByDefault", "rds.DescribeDBClusters", "backup.ListBackupPlans",
                    "backup.ListRestoreJobs", "wafv2.ListWebACLs", "elb.DescribeLoadBalancers",
                    "apigateway.GetDomainNames", "apigatewayv2.GetDomainNames", "acm.ListCertificates"):
            add(key, 1)
        add("ec2.DescribeVolumes", pages(2 * n, "ec2.DescribeVolumes"))  # + each instance's root volume
        add("ec2.DescribeSecurityGroups", pages(n + 2, "ec2.DescribeSecurityGroups"))
        add("ec2.DescribeInstances", pages(n, "ec2.DescribeInstances"))
        add("rds.DescribeDBInstances", pages(n, "rds.DescribeDBInstances"))
        add("dynamodb.ListTables", pages(n, "dynamodb.ListTables"))
        add("dynamodb.DescribeContinuousBackups", n)
        add("kms.ListKeys", pages(n, "kms.ListKeys"))
        add("elbv2.DescribeLoadBalancers", pages(n, "elbv2.DescribeLoadBalancers"))
        add("elbv2.DescribeListeners", n)  # ENC-TRANSIT: no call lists every load balancer's listeners
        add("elbv2.DescribeLoadBalancerAttributes", n)
    total_keys = n * cells if keys is None else keys
    add("kms.DescribeKey", total_keys)
    add("kms.GetKeyRotationStatus", total_keys)  # every seeded key is customer-managed and symmetric
    return out


def count_keys() -> int:
    """KMS keys actually in the estate."""
    total = 0
    for account in (CALLER, OTHER):
        session, cfg = _session(account)
        for region in REGIONS:
            kms = session.client("kms", region_name=region, config=cfg)
            total += sum(len(page["Keys"]) for page in kms.get_paginator("list_keys").paginate())
    return total


# --- the moto server, and counting the collector's requests --------------------------------


class CountingApp:
    """WSGI middleware: counts requests whose User-Agent carries `app/evidence`, by target."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.total = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "app/evidence" in environ.get("HTTP_USER_AGENT", ""):
            with self.lock:
                self.total += 1
        return self.app(environ, start_response)


@contextmanager
def moto(url_env: dict[str, str]) -> Iterator[tuple[str, CountingApp]]:
    from moto.server import ThreadedMotoServer

    os.environ.update(CREDENTIALS)
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # same estate, seconds less per backend
    os.environ["MOTO_RDS_SNAPSHOT_LIMIT"] = "1000000"  # each DB instance keeps an automated snapshot
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    assert server._server is not None
    counter = CountingApp(server._server.app)
    server._server.app = counter
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto's state lives in this process, not in the server: start every size from nothing
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=60).read()
    os.environ["AWS_ENDPOINT_URL"] = url
    url_env.update(os.environ)
    try:
        yield url, counter
    finally:
        server.stop()


# --- seeding -------------------------------------------------------------------------------


def _session(account: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 10})
    base = boto3.Session()
    if account == CALLER:
        return base, cfg
    creds = base.client("sts", region_name=HOME, config=cfg).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"]), cfg


def seed_cell(pool: ThreadPoolExecutor, account: str, region: str, n: int) -> list[Any]:
    """Queue N resources of each kind in (account, region); returns the futures."""
    session, cfg = _session(account)
    c = {s: session.client(s, region_name=region, config=cfg)
         for s in ("s3", "ec2", "rds", "dynamodb", "kms", "elbv2")}
    vpc = c["ec2"].create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [c["ec2"].create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    tag = f"{account[-4:]}-{region}"
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    makers: list[Callable[[int], Any]] = [
        lambda i: c["s3"].create_bucket(Bucket=f"bench-{tag}-{i}", **location),
        lambda i: c["ec2"].create_volume(Size=1, AvailabilityZone=f"{region}a", Encrypted=True),
        lambda i: c["ec2"].create_security_group(GroupName=f"sg-{i}", Description="bench", VpcId=vpc),
        lambda i: c["rds"].create_db_instance(
            DBInstanceIdentifier=f"db-{i}", DBInstanceClass="db.t3.micro", Engine="postgres",
            MasterUsername="app", MasterUserPassword="bench-only-" + "x" * 8, AllocatedStorage=20,
            StorageEncrypted=True, BackupRetentionPeriod=7, MultiAZ=True),
        lambda i: c["dynamodb"].create_table(
            TableName=f"table-{i:05d}", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST"),
        lambda i: c["kms"].create_key(),
        lambda i: c["elbv2"].create_load_balancer(Name=f"alb-{i}", Subnets=subnets, Scheme="internet-facing",
                                                  Type="application"),
    ]
    # one job per kind, creating its N resources in turn: moto's backends are not safe against
    # concurrent creates of one kind (e.g. security groups), and the kinds still run side by side
    jobs: list[Callable[[], Any]] = [partial(_create_each, make, n) for make in makers]
    jobs.append(lambda: c["ec2"].run_instances(ImageId="ami-12c6146b", MinCount=n, MaxCount=n))
    return [pool.submit(job) for job in jobs]


#: what a create answers when a retried request had already succeeded
_EXISTS = {"EntityAlreadyExists", "BucketAlreadyOwnedByYou", "BucketAlreadyExists", "DBInstanceAlreadyExists",
           "ResourceInUseException", "DuplicateLoadBalancerName", "InvalidGroup.Duplicate"}


def _create_each(make: Callable[[int], Any], n: int) -> None:
    """`make(0)` ... `make(n - 1)`, each tolerating "already exists" and moto's bare 500s."""
    for i in range(n):
        _idempotent(partial(make, i))


def _idempotent(job: Callable[[], Any], attempts: int = 5) -> None:
    """A create that tolerates "already exists" (a retried request had succeeded) and moto
    answering a bare HTTP 500 page under load (retried here)."""
    from botocore.exceptions import ClientError
    from botocore.parsers import ResponseParserError

    for attempt in range(attempts):
        try:
            job()
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _EXISTS:
                raise
            return
        except ResponseParserError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def seed_users(pool: ThreadPoolExecutor, account: str, n: int) -> list[Any]:
    session, cfg = _session(account)
    iam = session.client("iam", region_name=HOME, config=cfg)
    return [pool.submit(_create_each, lambda i: iam.create_user(UserName=f"user-{i}"), n)]


def seed(n: int, threads: int) -> float:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures: list[Any] = []
        for account in (CALLER, OTHER):
            futures += seed_users(pool, account, n)
            for region in REGIONS:
                futures += seed_cell(pool, account, region, n)
        for fut in futures:
            fut.result()
    return time.monotonic() - started


# --- the run, in a child process -------------------------------------------------------------


def child(config: str, out: str) -> None:
    """Runs the real pipeline for `--only aws` (no report hooks) and prints a JSON summary."""
    from evidence.config import load_config
    from evidence.models import Period
    from evidence.registry import Registry
    from evidence.runner import Runner

    if os.environ.get("AWS_SCALE_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start()
    # RSS over time, to tell the collection's peak from the judging's (the last progress
    # message of the AWS collector marks the end of collection)
    samples: list[tuple[float, float]] = []
    last_progress = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.monotonic(), _current_rss_mb()))
            time.sleep(0.1)

    def progress(_: str) -> None:
        last_progress[0] = time.monotonic()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    result = Runner(config=load_config(Path(config)), registry=Registry.load(), period=Period.current(),
                    out=Path(out), only={"aws"}, progress=progress).run()
    done.set()
    sampler.join()
    collect_peak = max((m for t, m in samples if t <= last_progress[0]), default=0.0)
    judge_peak = max((m for t, m in samples if t > last_progress[0]), default=0.0)
    by_key: dict[str, int] = {}
    assert result.bundle is not None
    for path in (result.bundle / "evidence" / "aws").rglob("*.json"):
        key = f"{path.parent.name}.{path.name.split('-', 1)[0]}"
        by_key[key] = by_key.get(key, 0) + 1
    print(json.dumps({"seconds": time.monotonic() - started, "records": result.api_calls.get("aws", 0),
                      "findings": result.finding_count, "by_key": by_key, "rss_mb": peak_rss_mb(),
                      "collect_rss_mb": collect_peak, "judge_rss_mb": judge_peak,
                      "collect_seconds": last_progress[0] - started, **_traced()}))


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's own high-water RSS (VmHWM). getrusage on the parent's side would count
    the pages the child shared with the bench (and its moto server) between fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cli_with_peak(peak_file: str, argv: list[str]) -> None:
    """`evidence ...` in this process, writing its peak RSS to `peak_file` on the way out."""
    import atexit

    atexit.register(lambda: Path(peak_file).write_text(str(peak_rss_mb())))
    from evidence.cli import main as evidence_main

    sys.argv = ["evidence", *argv]
    evidence_main()


def _traced() -> dict[str, float]:
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {}
    current, peak = tracemalloc.get_traced_memory()
    return {"traced_mb": current / 2**20, "traced_peak_mb": peak / 2**20}


def run_once(env: dict[str, str], work: Path, workers: int, cli: bool) -> dict[str, Any]:
    config = work / "evidence.toml"
    config.write_text(
        f'[aws]\nregions = {json.dumps(REGIONS)}\nassume_roles = ["{ROLE}"]\nmax_workers = {workers}\n'
        f'[bundle]\nout = "{work / "out"}"\n'
    )
    peak_file = work / "peak-rss"
    if cli:
        argv = [sys.executable, __file__, "--cli-child", str(peak_file), "run", "--only", "aws", "--config",
                str(config), "--out", str(work / "out")]
    else:
        argv = [sys.executable, __file__, "--child", str(config), str(work / "out")]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
    streams: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda name=name, f=f: streams.__setitem__(name, f.read()))
               for name, f in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = streams.get("out", b""), streams.get("err", b"")
    summary: dict[str, Any] = {"wall": wall, "exit": proc.returncode, "rusage_maxrss_mb": usage.ru_maxrss / 1024}
    if peak_file.exists():
        summary["rss_mb"] = float(peak_file.read_text())
    if not cli:
        lines = [ln for ln in stdout.decode().splitlines() if ln.startswith("{")]
        if not lines:
            raise SystemExit(f"run failed ({proc.returncode}): {stderr.decode()[-2000:]}")
        summary.update(json.loads(lines[-1]))
    return summary


def floor_in_child(bundle_root: Path, workers: int, env: dict[str, str]) -> dict[str, float]:
    """`floor` in a process of its own, as the run was: in this one it would share Python's lock
    with the moto server, and the floor would be slower than it is."""
    code = ("import json, sys, pathlib; sys.path.insert(0, sys.argv[1]); import aws_scale; "
            "print(json.dumps(aws_scale.floor(pathlib.Path(sys.argv[2]), int(sys.argv[3]))))")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(bundle_root), str(workers)],
                          env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def floor(bundle_root: Path, workers: int) -> dict[str, float]:
    """The collection floor: every call the run recorded, made again with bare boto3 clients
    (one per account, service and region, pools sized to the workers) on `workers` threads,
    against the same server: no recording, hashing, scheduling or judging."""
    from botocore import xform_name

    from evidence.records import EvidenceIndex

    bundle = next(bundle_root.glob("*/*/manifest.json")).parent
    index = EvidenceIndex.from_bundle(bundle)
    calls: list[tuple[str, str, str, str, dict[str, Any]]] = []
    for entry in index.entries:
        if entry.source != "aws" or not entry.ok:
            continue
        record = index.load(entry).record
        # a listing's page number and size are evidence's bookkeeping, not the API's parameters:
        # the floor asks for the page as a bare call would (without them, botocore rejects the call
        # before sending it, and the floor would time no request at all)
        params = {k: v for k, v in record.parameters.items()
                  if not k.startswith("_") and k not in ("page", "page_size")}
        calls.append((record.account, record.service, record.region or HOME, record.operation, params))
    sessions = {account: _session(account) for account in {c[0] for c in calls}}
    clients: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def client(account: str, service: str, region: str) -> Any:
        with lock:
            key = (account, service, region)
            if key not in clients:
                session, cfg = sessions[account]
                clients[key] = session.client(service, region_name=region,
                                              config=cfg.merge(type(cfg)(max_pool_connections=max(10, workers))))
            return clients[key]

    from botocore.exceptions import ParamValidationError

    unsent = [0]

    def call(c: tuple[str, str, str, str, dict[str, Any]]) -> None:
        account, service, region, operation, params = c
        try:
            getattr(client(account, service, region), xform_name(operation))(**params)
        except ParamValidationError:  # refused before sending: counted, so the floor says what it timed
            with lock:
                unsent[0] += 1
        except Exception:  # the floor times the calls; what they answer does not matter here
            pass

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(call, calls))
    return {"floor_seconds": time.monotonic() - started, "floor_calls": float(len(calls) - unsent[0]),
            "floor_unsent": float(unsent[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,400,1600", help="comma-separated N (default 100,400,1600)")
    parser.add_argument("--workers", type=int, default=16, help="aws.max_workers of the run (default 16)")
    parser.add_argument("--seed-threads", type=int, default=16)
    parser.add_argument("--cli", action="store_true", help="run `evidence run --only aws` itself (reports too)")
    parser.add_argument("--per", choices=("cell", "estate"), default="cell",
                        help="N resources of each kind per (account, region) (default), or in the whole estate "
                        "(N/6 per cell, rounded up)")
    parser.add_argument("--detail", action="store_true", help="records made vs minimum, by operation")
    parser.add_argument("--keep", type=Path, default=None, help="copy each size's output folder to KEEP/n<N>")
    parser.add_argument("--floor", action="store_true",
                        help="also replay the run's recorded calls with bare boto3 clients (the collection floor)")
    parser.add_argument("--shards", type=int, default=0, metavar="N",
                        help="instead: collect the estate as 1 shard and as N shards at once (separate processes), "
                        "merge each, and print per-shard and merge figures and the projected time on N machines")
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--cli-child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.cli_child:
        _cli_with_peak(args.cli_child[0], args.cli_child[1:])
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.shards:
        from aws_scale_shards import sharded_main

        sharded_main(sizes, args)
        return
    header = (f"{'N':>6} {'resources':>9} {'seed s':>7} {'wall s':>7} {'collect s':>9} {'calls':>7} {'minimum':>7} "
              f"{'ratio':>6} {'peak MB':>8} {'collect MB':>10} {'judge MB':>8} {'records':>7} {'findings':>8}")
    print(header)
    rows: list[dict[str, Any]] = []
    for size in sizes:
        n = size if args.per == "cell" else math.ceil(size / (2 * len(REGIONS)))
        env: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix=f"aws-scale-{n}-") as tmp, moto(env) as (_, counter):
            seeded = seed(n, args.seed_threads)
            keys = count_keys()
            counter.total = 0
            summary = run_once(env, Path(tmp), args.workers, args.cli)
            calls = counter.total
            if args.floor:
                summary.update(floor_in_child(Path(tmp) / "out", args.workers, env))
            if args.keep is not None:  # the output folder (bundle, history) to look at afterwards
                shutil.copytree(Path(tmp) / "out", args.keep / f"n{size}", dirs_exist_ok=True)
        want = minimum_calls(n, keys)
        minimum = sum(want.values())
        resources = 2 * 3 * n * 8 + 2 * n
        row = {"n": size, "per_cell": n, "resources": resources, "seed": seeded, "calls": calls, "minimum": minimum,
               "ratio": calls / minimum, **summary}
        rows.append(row)
        if args.detail and "by_key" in row:
            for key in sorted(set(want) | set(row["by_key"])):
                made, least = row["by_key"].get(key, 0), want.get(key, 0)
                print(f"    {key:<42} made {made:>6}  minimum {least:>6}" + ("" if made == least else "  <--"))
        print(f"{size:>6} {resources:>9} {seeded:>7.1f} {row['wall']:>7.1f} {row.get('collect_seconds', 0):>9.1f} "
              f"{calls:>7} {minimum:>7} {row['ratio']:>6.3f} {row.get('rss_mb', 0):>8.0f} "
              f"{row.get('collect_rss_mb', 0):>10.0f} {row.get('judge_rss_mb', 0):>8.0f} "
              f"{row.get('records', '-'):>7} {row.get('findings', '-'):>8}", flush=True)
        if "floor_seconds" in row and row.get("collect_seconds"):
            print(f"       collection {row['collect_seconds']:.1f} s vs bare boto3 floor {row['floor_seconds']:.1f} s "
                  f"for the same {row['floor_calls']:.0f} calls: x{row['collect_seconds'] / row['floor_seconds']:.2f}",
                  flush=True)
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        collection = (f" (collection x{last['collect_rss_mb'] / first['collect_rss_mb']:.2f})"
                      if first.get("collect_rss_mb") else "")
        print(f"\nmemory growth N={first['n']}->{last['n']}: x{last['rss_mb'] / first['rss_mb']:.2f}{collection}")
        for a, b in itertools.pairwise(rows):
            print(f"wall growth N={a['n']}->{b['n']} (x{b['n'] / a['n']:.0f} resources): x{b['wall'] / a['wall']:.2f}")


if __name__ == "__main__":
    main()
