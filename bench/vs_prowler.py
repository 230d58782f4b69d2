"""Side by side: `evidence run --only aws` and Prowler's equivalent checks on one moto estate.

    .venv/bin/python bench/vs_prowler.py [--sizes 300,1000] [--prowler PATH_TO_prowler]

For each N it starts a moto server on 127.0.0.1, seeds one account in eu-west-2 and us-east-1
(per region: N/4 S3 buckets, DynamoDB tables, security groups and KMS keys; N/20 RDS instances
and application load balancers, each with an HTTPS listener; N/10 ACM certificates), then runs
against that same server, each in its own process:

- Prowler (installed into its own venv, `python3 -m venv /tmp/prowler-venv &&
  /tmp/prowler-venv/bin/pip install prowler`; skipped with a message when absent) with the 14
  checks that correspond to evidence's, `--region eu-west-2 us-east-1 --scan-unused-services -M csv`;
- `evidence run --only aws`: every AWS check, every report, history and drift.

It prints both wall times, both peak RSS figures (the child's rusage) and the ratios.
Nothing but loopback is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

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
        jobs.append(partial(ec2.create_security_group, GroupName=f"sg-{i}", Description="bench", VpcId=vpc))
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
    for i in range(twentieth):  # one after another: moto's ELBv2 backend is not safe against concurrent creates
        lb = elbv2.create_load_balancer(Name=f"alb-{i}", Subnets=subnets, Type="application",
                                        Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
        elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-2016-08",
                              Certificates=[{"CertificateArn": cert_arn}],
                              DefaultActions=[{"Type": "fixed-response",
                                               "FixedResponseConfig": {"StatusCode": "200"}}])
        made += 2
    return made


def measure(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Wall time and peak RSS of a child process (its rusage), and its exit code."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return {"wall": round(time.monotonic() - started, 1), "rss_mb": round(usage.ru_maxrss / 1024),
            "exit": os.waitstatus_to_exitcode(status), "stderr": err.decode(errors="replace")[-400:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,1000")
    parser.add_argument("--prowler", default=shutil.which("prowler") or "/tmp/prowler-venv/bin/prowler")
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    evidence = str(Path(sys.executable).with_name("evidence"))
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
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
                                              "--no-banner"], env, work)
                else:
                    print(f"prowler not found at {args.prowler}: install it in its own venv (see the docstring)")
                (work / "evidence.toml").write_text(f'[aws]\nregions = {json.dumps(REGIONS)}\n', encoding="utf-8")
                row["evidence"] = measure([evidence, "run", "--only", "aws", "--config", str(work / "evidence.toml"),
                                           "--out", str(work / "out")], env, work)
                rows.append(row)
        finally:
            server.stop()
        ev = row["evidence"]
        line = f"N={n} ({resources} resources): evidence {ev['wall']} s / {ev['rss_mb']} MB (exit {ev['exit']})"
        if "prowler" in row:
            pr = row["prowler"]
            line += (f"; prowler {pr['wall']} s / {pr['rss_mb']} MB (exit {pr['exit']}); "
                     f"evidence is {pr['wall'] / ev['wall']:.1f}x faster at {ev['rss_mb'] / pr['rss_mb']:.2f} of its "
                     "memory")
        print(line, flush=True)
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
