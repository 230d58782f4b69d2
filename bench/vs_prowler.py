"""Side by side: `evidence run --only aws` and Prowler's equivalent checks on one moto estate.

    .venv/bin/python bench/vs_prowler.py [--sizes 300,1000] [--prowler PATH_TO_prowler]

For each N it starts a moto server on 127.0.0.1 in a process of its own, seeds one account in
eu-west-2 and us-east-1 (per region: N/4 S3 buckets, DynamoDB tables, security groups and KMS
keys; N/20 RDS instances and application load balancers, each with an HTTPS listener; N/10 ACM
certificates), then runs against that same server, each in its own process:

- Prowler (installed into its own venv, `python3 -m venv /tmp/prowler-venv &&
  /tmp/prowler-venv/bin/pip install prowler`; skipped with a message when absent) with the 14
  checks that correspond to evidence's, `--region eu-west-2 us-east-1 --scan-unused-services -M csv`;
- `evidence run --only aws`: every AWS check, every report, history and drift.

It prints both wall times, both peak RSS figures (the child's rusage, and the sum over its process
tree sampled every 20 ms), the requests each made, how long each took to its first request, the
ratios, and the floor: evidence's recorded calls made again by bare boto3 clients with the same
concurrency in a process of their own (what the moto server itself allows).
Nothing but loopback is contacted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from aws_scale import floor_in_child

REGIONS = ["eu-west-2", "us-east-1"]
PROWLER_CHECKS = (
    "elbv2_insecure_ssl_ciphers acm_certificates_with_secure_key_algorithms acm_certificates_expiration_check "
    "s3_bucket_default_encryption rds_instance_storage_encrypted rds_instance_backup_enabled rds_instance_multi_az "
    "dynamodb_tables_pitr_enabled ec2_securitygroup_allow_ingress_from_internet_to_all_ports "
    "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22 "
    "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389 kms_cmk_rotation_enabled "
    "ec2_ebs_default_encryption cloudtrail_multi_region_enabled"
).split()
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_DEFAULT_REGION": "us-east-1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}


def seed_region(region: str, n: int) -> int:
    """The estate of one region; returns how many resources it made."""
    import boto3

    from evidence.demo.certificates import make_certificate

    s = boto3.Session(region_name=region)
    s3, ddb, ec2, kms = s.client("s3"), s.client("dynamodb"), s.client("ec2"), s.client("kms")
    rds, elbv2, acm = s.client("rds"), s.client("elbv2"), s.client("acm")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
               for i, z in enumerate(zones)]
    cert, key = make_certificate("bench.example.com")
    cert_arn = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    quarter, twentieth, tenth = max(1, n // 4), max(1, n // 20), max(1, n // 10)
    jobs: list[Callable[[], Any]] = []
    location: dict[str, Any] = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    for i in range(quarter):
        jobs.append(partial(s3.create_bucket, Bucket=f"bench-{region}-{i}", **location))
        jobs.append(partial(ddb.create_table, TableName=f"t-{i}", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST"))
        jobs.append(kms.create_key)
    for i in range(twentieth):
        jobs.append(partial(rds.create_db_instance, DBInstanceIdentifier=f"db-{i}", Engine="postgres",
                            DBInstanceClass="db.t3.micro", MasterUsername="admin",
                            MasterUserPassword="not-a-secret-bench", AllocatedStorage=20))
    for _ in range(tenth - 1):
        jobs.append(partial(acm.import_certificate, Certificate=cert, PrivateKey=key))
    made = len(jobs) + 1
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: job(), jobs))
    for i in range(quarter):  # one after another: moto's EC2 and ELBv2 backends are not safe against concurrent creates
        ec2.create_security_group(GroupName=f"sg-{i}", Description="bench", VpcId=vpc)
        made += 1
    for i in range(twentieth):
        lb = elbv2.create_load_balancer(Name=f"alb-{i}", Subnets=subnets, Type="application",
                                        Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
        elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-2016-08",
                              Certificates=[{"CertificateArn": cert_arn}],
                              DefaultActions=[{"Type": "fixed-response",
                                               "FixedResponseConfig": {"StatusCode": "200"}}])
        made += 2
    return made


class Counter:
    """WSGI middleware of the moto server: counts the requests a tool makes and notes when its
    first came; `GET /_bench/count` answers `{"total", "first"}`, `POST /_bench/reset` starts over."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.total = 0
        self.first: float | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith("/_bench/"):
            with self.lock:
                if environ["PATH_INFO"] == "/_bench/reset":
                    self.total, self.first = 0, None
                body = json.dumps({"total": self.total, "first": self.first}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with self.lock:
            self.total += 1
            if self.first is None:
                self.first = time.time()
        return self.app(environ, start_response)


def serve() -> None:
    """The moto server, in a process of its own (as a real endpoint is): its port on stdout."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # a log line per request slows the server
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    assert server._server is not None
    server._server.app = Counter(server._server.app)
    print(server.get_host_and_port()[1], flush=True)
    sys.stdin.read()  # until the bench closes it
    server.stop()


def _bench(url: str, action: str) -> dict[str, Any]:
    method = "POST" if action == "reset" else "GET"
    with urllib.request.urlopen(urllib.request.Request(f"{url}/_bench/{action}", method=method), timeout=30) as r:
        answer: dict[str, Any] = json.loads(r.read())
    return answer


def _tree_rss_kb(pid: int) -> int:
    """The summed RSS of `pid` and every process below it (a tool that renders in a child process
    pays for both at once)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def measure(argv: list[str], env: dict[str, str], cwd: Path, url: str) -> dict[str, Any]:
    """Wall time, peak RSS (the child's rusage, and the sampled sum over its process tree), the
    requests the moto server answered for it, its start-up (until its first request) and its
    exit code."""
    _bench(url, "reset")
    started, started_at = time.monotonic(), time.time()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    count = _bench(url, "count")
    return {"wall": round(wall, 2), "rss_mb": round(usage.ru_maxrss / 1024), "tree_rss_mb": round(peak[0] / 1024),
            "requests": count["total"], "startup": round((count["first"] or started_at) - started_at, 2),
            "exit": os.waitstatus_to_exitcode(status), "stderr": err.decode(errors="replace")[-400:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,1000")
    parser.add_argument("--prowler", default=shutil.which("prowler") or "/tmp/prowler-venv/bin/prowler")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    evidence = str(Path(sys.executable).with_name("evidence"))
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        # a fresh server per size: moto keeps its state in the server's process
        server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert server.stdout is not None and server.stdin is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": url}
        env.pop("AWS_PROFILE", None)
        os.environ.update({**CREDENTIALS, "AWS_ENDPOINT_URL": url})
        try:
            resources = sum(seed_region(r, n) for r in REGIONS)
            with tempfile.TemporaryDirectory(prefix=f"vs-prowler-{n}-") as tmp:
                work = Path(tmp)
                row: dict[str, Any] = {"n": n, "resources": resources}
                if Path(args.prowler).is_file():
                    row["prowler"] = measure([args.prowler, "aws", "--checks", *PROWLER_CHECKS, "--region", *REGIONS,
                                              "--scan-unused-services", "-M", "csv", "-o", str(work / "prowler"),
                                              "--no-banner"], env, work, url)
                else:
                    print(f"prowler not found at {args.prowler}: install it in its own venv (see the docstring)")
                (work / "evidence.toml").write_text(f'[aws]\nregions = {json.dumps(REGIONS)}\n', encoding="utf-8")
                row["evidence"] = measure([evidence, "run", "--only", "aws", "--config", str(work / "evidence.toml"),
                                           "--out", str(work / "out")], env, work, url)
                # evidence's recorded calls made again by bare boto3 in a process of their own
                row["floor"] = floor_in_child(work / "out", 16, env)
                rows.append(row)
        finally:
            server.stdin.close()
            server.wait(timeout=60)
        print(_line(row), flush=True)
    print(json.dumps(rows, indent=2))


def _line(row: dict[str, Any]) -> str:
    ev, fl = row["evidence"], row["floor"]
    out = [f"N={row['n']} ({row['resources']} resources)",
           f"  evidence: {ev['wall']} s, peak RSS {ev['rss_mb']} MB (tree {ev['tree_rss_mb']} MB), "
           f"{ev['requests']} requests, first after {ev['startup']} s, exit {ev['exit']}",
           f"  bare-boto3 floor of evidence's {fl['floor_calls']:.0f} calls: {fl['floor_seconds']:.2f} s "
           f"({fl['floor_calls'] / fl['floor_seconds']:.0f} requests/s from this moto server)"]
    if "prowler" in row:
        pr = row["prowler"]
        out += [f"  prowler:  {pr['wall']} s, peak RSS {pr['rss_mb']} MB (tree {pr['tree_rss_mb']} MB), "
                f"{pr['requests']} requests, first after {pr['startup']} s, exit {pr['exit']}",
                f"  evidence is {pr['wall'] / ev['wall']:.1f}x faster at {ev['tree_rss_mb'] / pr['tree_rss_mb']:.2f} "
                f"of its peak memory; it made {ev['requests'] / max(1, pr['requests']):.2f} of Prowler's requests"]
    return "\n".join(out)


if __name__ == "__main__":
    main()
