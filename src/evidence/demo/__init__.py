"""`evidence demo`: the whole pipeline against a simulated company on loopback.

AWS is a moto server started in-process and reached over HTTP through the standard
`AWS_ENDPOINT_URL`; Google Workspace is a local fake Admin SDK (token endpoint included) read by
the real Google clients with a generated service-account key; GitHub is a local fake REST server
whose token is put in `EVIDENCE_DEMO_GITHUB_TOKEN` for the demo only; the company's websites are
real TLS/HTTP servers on 127.0.0.1. Nothing leaves the machine and no credentials are needed.
Some of the simulated company's resources comply and some do not, so the demo shows every verdict.

The demo needs the `demo` extra (`pip install 'soc2-evidence[demo]'`: moto's server); this module
imports nothing, so `missing_extra()` can say so before anything else is loaded. Modules:

* `run` — `run_demo`, what `evidence demo` calls;
* `aws` — the moto server and the AWS estate seeded into it;
* `company` — the people and repositories, and the fake servers that hold them;
* `github/`, `workspace`, `workspace_fields` — the fake GitHub and Google Workspace servers;
* `endpoints`, `certificates` — the TLS/HTTP endpoints and the certificates they present.
"""

from __future__ import annotations

import importlib.util

#: importable modules the demo needs beyond evidence's own dependencies (moto[server])
DEMO_MODULES = ("moto", "flask", "flask_cors")
MISSING_EXTRA = "evidence demo needs the demo extra: pip install 'soc2-evidence[demo]'"


def missing_extra() -> str | None:
    """What to install when a module the demo needs is missing (one line), else None. Looks the
    modules up without importing them."""
    for name in DEMO_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return MISSING_EXTRA
    return None


__all__ = ["MISSING_EXTRA", "missing_extra"]
