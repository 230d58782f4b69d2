"""`evidence init`: a commented `evidence.toml` for the sources named, filled in with what can
be found out offline or from the configured endpoint (the AWS identity and enabled regions;
whether the GitHub token's variable is set, never its value), and the permissions to grant."""

from __future__ import annotations

import datetime
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import click

from evidence.catalog_text.writing import toml_string, toml_value
from evidence.cli.common import _fail, _registry
from evidence.cli.plugins import permissions_document
from evidence.config import ConfigError, parse_config

#: the sources `init` writes a section for, in the order they are written
SOURCES = ("aws", "github", "google_workspace", "probe")
#: what a user may also type for one of them
_ALIASES = {"probes": "probe", "google": "google_workspace", "gws": "google_workspace"}
#: the region global AWS services are asked in when the environment names none
_HOME_REGION = "us-east-1"
#: what an absent [controls.DATA-RESIDENCY] allows (the catalog's default)
_RESIDENCY_DEFAULT = "eu-west-2"
TOKEN_ENV = "GITHUB_TOKEN"


@dataclass
class AwsFacts:
    """What the AWS credentials in the environment tell about themselves (or why they tell nothing)."""

    account: str = ""
    arn: str = ""
    regions: list[str] = field(default_factory=list)
    region: str = ""
    endpoint: str = ""
    error: str = ""


def detect_aws() -> AwsFacts:
    """sts:GetCallerIdentity and ec2:DescribeRegions with the standard credential chain and
    endpoint (`AWS_ENDPOINT_URL` is honoured by boto3 itself); quick timeouts, few retries."""
    import boto3
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import BotoCoreError, ClientError

    facts = AwsFacts(endpoint=os.environ.get("AWS_ENDPOINT_URL", ""))
    quick = BotoConfig(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"})
    try:
        session = boto3.session.Session()
        facts.region = session.region_name or ""
        ident = session.client("sts", region_name=facts.region or _HOME_REGION, config=quick).get_caller_identity()
        facts.account, facts.arn = str(ident.get("Account", "")), str(ident.get("Arn", ""))
    except (BotoCoreError, ClientError) as exc:
        facts.error = _one_line(exc)
        return facts
    try:
        found = session.client("ec2", region_name=facts.region or _HOME_REGION, config=quick).describe_regions()
        facts.regions = sorted(str(r["RegionName"]) for r in found.get("Regions", []))
    except (BotoCoreError, ClientError) as exc:
        facts.error = f"ec2:DescribeRegions: {_one_line(exc)}"
    return facts


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


def _wrap(prefix: str, items: list[str], width: int = 96) -> list[str]:
    """`items` as comment lines starting with `prefix`, comma-separated, at most `width` wide."""
    lines, line = [], prefix
    for item in items:
        piece = item if line == prefix else f", {item}"
        if len(line) + len(piece) > width and line != prefix:
            lines.append(line + ",")
            line, piece = "#   ", item
        line += piece
    lines.append(line)
    return lines


def render(sources: list[str], aws: AwsFacts | None, *, company: str | None, github_org: str | None,
           token_set: bool, today: datetime.date) -> str:
    """The text of evidence.toml. Commented-out keys are valid keys, ready to uncomment; a
    section whose required values cannot be known is written commented out, whole."""
    out = [
        f"# evidence.toml, written by `evidence init` on {today.isoformat()} for: {', '.join(sources)}.",
        "# Every key is optional unless marked; an unknown key or a wrong type is one line naming it.",
        "# Secrets are never written here: tokens are named by environment variable, keys by file.",
        "",
        "[bundle]",
        "# the company named on the reports' cover",
        f"company = {toml_string(company)}" if company else '# company = "Example Ltd"',
        "# where bundles and history.sqlite are written (relative to this file's folder)",
        'out = "evidence-out"',
        "# waivers (*.yaml), relative to this file's folder",
        'exceptions_dir = "exceptions"',
        "# an Ed25519 private key (PEM) to sign each manifest: openssl genpkey -algorithm ed25519",
        '# signing_key = "signing.pem"',
        "",
        "[alerts]",
        "# where drift alerts go (apprise URLs: Slack, e-mail, a JSON webhook); none: alerts wait",
        '# urls = ["json://127.0.0.1:9000/hook"]',
        "# warn of manual evidence or waivers expiring within this many days",
        "# warn_days = 14",
        "",
    ]
    controls: list[str] = []
    if "aws" in sources:
        out += _aws_section(aws or AwsFacts())
        residency = [aws.region if aws and aws.account and aws.region else _RESIDENCY_DEFAULT]
        controls += [
            "# the regions your data may live in (DATA-RESIDENCY; default eu-west-2)",
            "# [controls.DATA-RESIDENCY]",
            f"# allowed_regions = {toml_value(residency)}",
        ]
    if "github" in sources:
        out += _github_section(github_org, token_set)
    if "google_workspace" in sources:
        out += [
            "# Google Workspace: a service account with domain-wide delegation for the scope printed by",
            "# `evidence permissions --source google_workspace`. Fill in both keys, then uncomment.",
            "# [google_workspace]",
            '# credentials_file = "service-account.json"   # (required) its JSON key, relative to this file',
            '# delegated_admin = "admin@example.com"       # (required) a super admin it acts as',
            '# customer_id = "my_customer"',
            "",
        ]
    if "probe" in sources:
        out += [
            "# Live probes of your public endpoints (TLS versions, certificate, headers, security.txt).",
            "# List yours, then uncomment. An empty list states that there is nothing to probe.",
            "# [probes]",
            '# tls_endpoints = ["app.example.com:443"]',
            '# urls = ["https://app.example.com/login"]',
            "",
        ]
    if controls:
        out += ["# Any catalog parameter can be overridden per control (`evidence controls show ID`).", *controls,
                ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _aws_section(aws: AwsFacts) -> list[str]:
    lines = ["# AWS: the standard credential chain (environment, profile, instance or task role)"]
    if aws.endpoint:
        lines.append(f"# and endpoint (AWS_ENDPOINT_URL={aws.endpoint})")
    if aws.account:
        lines.append(f"# found account {aws.account} as {aws.arn} (sts:GetCallerIdentity)")
    else:
        lines.append(f"# could not be used when this file was written ({aws.error or 'not tried'})")
    if aws.regions:
        lines += _wrap(f"# {len(aws.regions)} enabled regions (ec2:DescribeRegions): ", aws.regions)
    lines += [
        "[aws]",
        "# every enabled region, so that DATA-RESIDENCY sees everything; a list collects faster,",
        f"# e.g. {toml_value(list(dict.fromkeys([aws.region or _RESIDENCY_DEFAULT, _HOME_REGION])))}",
        'regions = ["all"]',
        "# roles to assume, one per account (the role's policy: `evidence permissions --source aws`)",
        f'# assume_roles = ["arn:aws:iam::{aws.account or "123456789012"}:role/EvidenceAudit"]',
        "# every member account of the AWS Organization, through the role named below",
        "# organization = true",
        '# organization_role_name = "EvidenceAudit"',
        "",
    ]
    return lines


def _github_section(org: str | None, token_set: bool) -> list[str]:
    token = (f"{TOKEN_ENV} is set" if token_set else
             f"{TOKEN_ENV} is not set: export a token with the scopes printed below")
    lines = ["# GitHub: the organisation's settings, repositories and pull requests.", f"# {token}."]
    if org:
        lines += ["[github]", f"org = {toml_string(org)}"]
        prefix = ""
    else:
        lines += ["# Name your organisation (or use --github-org), then uncomment.", "# [github]",
                  '# org = "your-org"   # (required) the organisation\'s login']
        prefix = "# "
    lines += [
        f'{prefix}token_env = "{TOKEN_ENV}"   # the variable holding the token, never the token itself',
        '# api_url = "https://github.example.com/api/v3"   # GitHub Enterprise Server',
        "",
    ]
    return lines


def _parse_sources(value: str) -> list[str]:
    wanted = {_ALIASES.get(s.strip(), s.strip()) for s in value.split(",") if s.strip()}
    unknown = sorted(wanted - set(SOURCES))
    if unknown:
        _fail(f"--sources: unknown source '{unknown[0]}' (known: {', '.join(SOURCES)})")
    if not wanted:
        _fail(f"--sources: name at least one of {', '.join(SOURCES)}")
    return [s for s in SOURCES if s in wanted]


def _print_permissions(sources: list[str]) -> None:
    doc = permissions_document(_registry())
    click.echo("Permissions to grant (also: evidence permissions [--source SOURCE]):")
    for source in sources:
        grant = doc.get(source)
        if grant is None:
            continue
        if source == "aws":
            click.echo("  aws: attach this IAM policy to the user or role evidence runs as:")
            for line in json.dumps(grant, indent=2).splitlines():
                click.echo(f"    {line}")
        else:
            click.echo(f"  {source} ({grant.get('kind', '')}):")
            for perm in grant.get("permissions", []):
                click.echo(f"    - {perm}")


@click.command(name="init")
@click.option("--sources", default=",".join(SOURCES), show_default=True,
              help="Comma-separated sources to write a section for.")
@click.option("--config", "config_path", default="evidence.toml", show_default=True,
              type=click.Path(dir_okay=False), help="The file to write.")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option("--company", default=None, help="The company named on the reports' cover ([bundle] company).")
@click.option("--github-org", default=None, help="The GitHub organisation ([github] org).")
def init_cmd(sources: str, config_path: str, force: bool, company: str | None, github_org: str | None) -> None:
    """Write a commented evidence.toml for the sources named, detecting what it can (the AWS
    account and enabled regions from the configured credentials and endpoint; whether
    GITHUB_TOKEN is set), and print the permissions to grant."""
    chosen = _parse_sources(sources)
    path = Path(config_path)
    if path.exists() and not force:
        _fail(f"{path} exists; keep it, or overwrite it with --force")
    aws = detect_aws() if "aws" in chosen else None
    token_set = bool(os.environ.get(TOKEN_ENV))
    text = render(chosen, aws, company=company, github_org=github_org, token_set=token_set,
                  today=datetime.date.today())
    try:
        parse_config(tomllib.loads(text), path)  # what is written loads as it is
    except (ConfigError, tomllib.TOMLDecodeError) as exc:
        _fail(f"the configuration evidence init made is not valid ({exc}); please report this")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{path}: cannot write ({exc.strerror})")
    click.echo(f"wrote {path} for: {', '.join(chosen)}")
    if aws is not None:
        if aws.account:
            regions = f"{len(aws.regions)} enabled regions" if aws.regions else f"regions unknown ({aws.error})"
            click.echo(f"  aws: account {aws.account} ({aws.arn}); {regions}")
        else:
            click.echo(f"  aws: no working credentials ({aws.error}); [aws] has the defaults")
    todo: list[str] = []
    if "github" in chosen:
        click.echo(f"  github: {TOKEN_ENV} is {'set' if token_set else 'not set'}")
        if not github_org:
            todo.append("[github] org")
    if "google_workspace" in chosen:
        todo.append("[google_workspace] credentials_file and delegated_admin")
    if "probe" in chosen:
        todo.append("[probes] tls_endpoints and urls")
    if todo:
        click.echo(f"  to fill in and uncomment in {path}: " + "; ".join(todo))
    _print_permissions(chosen)
    run = "evidence run" if path == Path("evidence.toml") else f"evidence run --config {path}"
    click.echo(f"Next: review {path}, then `{run}`.")
