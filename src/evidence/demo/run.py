"""`evidence demo`'s entry point: `run_demo` starts the simulated company on loopback (moto for
AWS, the fake Google Workspace and GitHub, the TLS/HTTP endpoints), builds the pipeline on it and
runs it, signing the bundle with a demo key kept beside it."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from evidence.config import Config, parse_config
from evidence.demo.aws import DEMO_REGIONS, moto_server, seed
from evidence.demo.catalog import DEMO_CATALOG_LABEL, build_demo_catalog
from evidence.demo.company import fake_github, fake_workspace
from evidence.demo.endpoints import demo_endpoints
from evidence.demo.scratch import scratch_dir
from evidence.models import Period
from evidence.pipeline import make_runner
from evidence.registry import Registry
from evidence.runner import RunResult


def demo_config(regions: list[str], google_workspace: dict[str, str] | None = None,
                probes: dict[str, Any] | None = None, github: dict[str, str] | None = None,
                out: Path | None = None) -> Config:
    """The simulated company's evidence.toml; with `out`, its HR roster too (one leaver whose
    Workspace account and GitHub membership were never removed; an IAM user nobody owns), the
    offboarding judged against the history in `out`."""
    data: dict[str, Any] = {"aws": {"regions": regions}, "bundle": {"company": "Zaptic (simulated)"}}
    if google_workspace is not None:
        data["google_workspace"] = google_workspace
    if probes is not None:
        data["probes"] = probes
    if github is not None:
        data["github"] = github
    if out is not None:
        data["people"] = {"roster": str(demo_roster()), "history": str(out / "history.sqlite")}
        data["controls"] = {"ACCESS-LIFECYCLE": {"service_accounts": ["deploy-bot"]}}
    return parse_config(data)


def demo_roster() -> Path:
    """The simulated company's HR export (`[people] roster`)."""
    return Path(str(resources.files("evidence.demo"))) / "data" / "people.csv"


DEMO_SIGNING_KEY = "demo-signing-key.pem"
DEMO_PUBLIC_KEY = "demo-signing-key.pub.pem"


def demo_signing_key(out: Path) -> Path:
    """An Ed25519 key pair for signing demo bundles, kept beside them in `out` (made once, reused
    by later demos there); returns the private key's path. It signs simulated evidence only."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = out / DEMO_SIGNING_KEY, out / DEMO_PUBLIC_KEY
    if not private.is_file():
        out.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return private


def run_demo(
    out: Path | None, period: Period, progress: Callable[[str], None] | None = None, **runner_options: Any
) -> RunResult:
    """`runner_options` go to the `Runner` (e.g. attachments, waivers, files)."""
    out = out or Path(tempfile.mkdtemp(prefix="evidence-demo-"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with (
        moto_server(),
        fake_workspace() as workspace,
        scratch_dir("ca") as ca_dir,
        scratch_dir("catalog") as catalog_dir,
        demo_endpoints(ca_dir) as endpoints,
        fake_github(period) as github,
    ):
        seed(DEMO_REGIONS)
        registry = Registry.load()
        runner = make_runner(
            demo_config(DEMO_REGIONS, workspace, probes=endpoints.probes_config(), github=github, out=out),
            registry,
            period,
            out,
            progress=progress,
            # Zaptic's catalog as a company makes its own: drafted from its overview by from-text
            catalog_dir=build_demo_catalog(catalog_dir, registry, unmapped=False),
            catalog_label=DEMO_CATALOG_LABEL,
            **runner_options,
        )
        runner.config.bundle.signing_key = str(demo_signing_key(out))
        return runner.run()
