"""Bundles for the report, OSCAL, signing and export tests, and the check that an HTML report
loads nothing.

`shared_demo_bundle` runs the real demo once per test session (across pytest-xdist workers,
under a file lock) and returns its signed bundle; tests copy it before altering anything.
`make_bundle` writes a small bundle with every status, manual evidence and a waiver, through
the same report hook and seal the runner uses.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from evidence.bundle import PartialBundle
from evidence.catalog import Catalog, load_catalog
from evidence.judge import Attachment, Judging, Waiver, controls_json, findings_json
from evidence.models import ControlVerdict, EvidenceRecord, Finding, Status, iso, verdict_of
from evidence.records import EvidenceWriter
from evidence.registry import Registry
from evidence.reports import render_into_bundle
from tests.conftest import PERIOD

REFERENCE = datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012"


def shared_demo_bundle(factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bundle, public key) of one `evidence demo` run shared by the whole session."""
    from evidence.demo.run import DEMO_PUBLIC_KEY, run_demo

    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this session
    out = base / "report-demo"
    marker = base / "report-demo.done"
    with (base / "report-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.is_file():
            result = run_demo(out, PERIOD)
            assert result.bundle is not None
            marker.write_text(str(result.bundle), encoding="utf-8")
    return Path(marker.read_text(encoding="utf-8")), out / DEMO_PUBLIC_KEY


def _finding(control: str, check: str, status: Status, resource: str, **kw: Any) -> Finding:
    base: dict[str, Any] = {
        "source": "aws", "resource_type": "AWS::ElasticLoadBalancingV2::Listener", "account": ACCOUNT,
        "region": "eu-west-2", "observed": {"protocols": ["TLSv1.2"]}, "expected": "every protocol >= TLSv1.2",
        "message": f"{resource} is {status.value}.",
    }
    base.update(kw)
    return Finding(control_id=control, check_id=check, status=status, resource_id=resource, **base)


def make_bundle(out: Path, registry: Registry, *, passing: int = 3, run_id: str = "20261130T080000Z-abc123",
                sign: Any = None, extra_meta: dict[str, Any] | None = None,
                formats: tuple[str, ...] = ("html", "csv", "oscal")) -> Path:
    """A sealed bundle: every status, an attached and an expired manual evidence, a waiver,
    an unassessed control, hostile text; `passing` passing findings on ENC-TRANSIT. The PDF is
    only rendered when `formats` names it (it is the slow one)."""
    full = load_catalog()
    ids = ["ENC-TRANSIT", "TLS-CERTS", "PENTEST", "DR-TEST", "AUDIT-LOG", "FIREWALL", "ROOT-ACCOUNT"]
    controls = {i: full.controls[i] for i in ids}
    # a control the catalog names no evidence for yet
    controls["AUDIT-LOG"] = controls["AUDIT-LOG"].model_copy(update={"checks": [], "manual": []})
    catalog = Catalog(controls=controls)
    partial = PartialBundle.create(out, PERIOD.name, run_id)
    writer = EvidenceWriter(partial.tmp)

    def record(service: str, operation: str, page: int = 0, error: bool = False) -> str:
        from evidence.models import CollectionError

        return writer.write(EvidenceRecord(
            source="aws", service=service, operation=operation, account=ACCOUNT, region="eu-west-2",
            parameters={"page": page}, collected_at=iso(REFERENCE), identity="arn:aws:sts::123456789012:role/Audit",
            response=None if error else {"items": [page]},
            error=CollectionError(code="AccessDenied", message="denied", remedy="grant x:Y") if error else None,
        ))

    listeners = record("elbv2", "DescribeListeners")
    policies = record("elbv2", "DescribeSSLPolicies")
    denied = record("iam", "GetAccountSummary", error=True)
    sgs = record("ec2", "DescribeSecurityGroups")
    (partial.tmp / "attachments").mkdir()
    (partial.tmp / "attachments" / "pentest-2026.pdf").write_bytes(b"%PDF-1.4 pentest report\n")
    (partial.tmp / "attachments" / "dr-2025.pdf").write_bytes(b"%PDF-1.4 dr test\n")
    lb = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:listener/app/web/1/"
    tls = "aws.elbv2.listener_tls_min_version"
    findings = [
        _finding("ENC-TRANSIT", tls, Status.FAIL, lb + "bad",
                 message="Listener allows <script>alert('x')</script> TLSv1 & more", evidence=[listeners, policies],
                 observed={"protocols": ["TLSv1", "TLSv1.2"], "note": "=HYPERLINK(\"http://evil.example\")"}),
        _finding("ENC-TRANSIT", tls, Status.ERROR, "123456789012/eu-west-2", resource_type="",
                 message="Could not collect elbv2.DescribeSSLPolicies: AccessDenied", observed="AccessDenied",
                 evidence=["evidence/aws/not/in/the/bundle.json"]),
        _finding("ENC-TRANSIT", tls, Status.WAIVED, lb + "legacy", waiver="W-LEGACY", evidence=[listeners]),
        _finding("ENC-TRANSIT", "aws.elbv2.http_redirects_to_https", Status.NOT_APPLICABLE, "aws", resource_type="",
                 message="no resources in scope", observed="0 resources", evidence=[listeners]),
        *(_finding("ENC-TRANSIT", tls, Status.PASS, f"{lb}good-{i:05d}", evidence=[listeners, policies])
          for i in range(passing)),
        _finding("TLS-CERTS", "aws.acm.certificate_key_strength", Status.PASS, "arn:aws:acm:eu-west-2:1:certificate/a",
                 resource_type="AWS::CertificateManager::Certificate", evidence=[policies]),
        _finding("PENTEST", "manual.pentest-report", Status.PASS, "pentest-report", source="manual",
                 resource_type="manual_evidence", account="", region="", observed="attached, valid until 2027-06-30",
                 expected="Third-party penetration test report, valid", evidence=["attachments/pentest-2026.pdf"]),
        _finding("DR-TEST", "manual.dr-test-report", Status.MANUAL, "dr-test-report", source="manual",
                 resource_type="manual_evidence", account="", region="", observed="expired on 2026-06-30",
                 expected="DR test report, valid", evidence=["attachments/dr-2025.pdf"]),
        _finding("AUDIT-LOG", "manual.unassessed", Status.MANUAL, "AUDIT-LOG", source="manual", resource_type="",
                 account="", region="", message="No automated check evidences this control yet.", evidence=[]),
        _finding("FIREWALL", "aws.ec2.security_group_public_ingress", Status.NOT_APPLICABLE, "aws", resource_type="",
                 message="no security groups", evidence=[sgs]),
        _finding("ROOT-ACCOUNT", "aws.iam.root_mfa", Status.ERROR, ACCOUNT, resource_type="",
                 message="Could not collect iam.GetAccountSummary: AccessDenied. Remedy: grant x:Y",
                 observed="AccessDenied", evidence=[denied]),
    ]
    findings.sort(key=Finding.sort_key)
    verdicts = []
    for cid in sorted(ids):
        these = [f for f in findings if f.control_id == cid]
        c = catalog.controls[cid]
        verdicts.append(ControlVerdict(
            control_id=cid, title=c.title, statement=c.statement, criteria=c.criteria, verdict=verdict_of(these),
            counts={s.value: sum(1 for f in these if f.status is s) for s in Status},
            checks=[r.id for r in c.checks], manual=[m.id for m in c.manual],
        ))
    judging = Judging(
        reference_time=REFERENCE, catalog=catalog,
        params={c.id: {r.id: dict(r.params) for r in c.checks} for c in catalog.controls.values()},
        sources={"aws": None, "manual": None},
        attachments=[
            Attachment(control_id="PENTEST", requirement="pentest-report", path="attachments/pentest-2026.pdf",
                       sha256="0" * 64, valid_until=date(2027, 6, 30), attached_by="ciso@example.com",
                       attached_at="2026-10-01T09:00:00Z"),
            Attachment(control_id="DR-TEST", requirement="dr-test-report", path="attachments/dr-2025.pdf",
                       sha256="1" * 64, valid_until=date(2026, 6, 30), attached_by="ops@example.com",
                       attached_at="2025-07-01T09:00:00Z"),
        ],
        waivers=[Waiver(id="W-LEGACY", control_id="ENC-TRANSIT", resource="*legacy", reason="Decommissioned in Q1",
                        approver="cto@example.com", expires=date(2027, 3, 31))],
    )
    partial.write_text("findings.json", findings_json(findings))
    partial.write_text("controls.json", controls_json(verdicts))
    partial.write_text("judging.json", judging.model_dump_json(indent=2) + "\n")
    partial.write_text("config.json", "{}\n")
    manifest: dict[str, Any] = {
        "schema": "evidence.manifest/1", "tool": {"name": "evidence", "version": "test"}, "run_id": run_id,
        "period": PERIOD.model_dump(mode="json"), "started_at": "2026-11-30T07:58:00Z",
        "finished_at": "2026-11-30T08:00:00Z", "reference_time": iso(REFERENCE), "company": "Example & Co <Ltd>",
        "scope": {"sources": {"aws": "collected", "manual": "collected"}, "details": {
            "aws": {"title": "AWS", "accounts": ["123456789012"], "rows": [["AWS regions", "eu-west-2"]]},
            "google_workspace": {"title": "Google Workspace", "rows": [["Google Workspace tenant", "C0example"]]},
            "github": {"title": "GitHub", "rows": [["GitHub organization", "example"]]},
            "probe": {"title": "Probes", "rows": [
                ["Probed endpoints", "app.example.com:443, https://app.example.com/login"]]}}},
        "catalog_digest": catalog.digest, "config_digest": "c" * 64, "api_calls": {"aws": 4},
        **(extra_meta or {}),
    }
    errors = render_into_bundle(partial.tmp, manifest, registry.checks, formats)
    assert not errors, errors
    partial.seal(manifest, sign=sign)
    return partial.commit()


#: attributes through which HTML can make a browser load or link something
_URL_ATTRS = {"href", "src", "srcset", "action", "formaction", "poster", "data", "background", "cite", "longdesc",
              "manifest", "ping", "xlink:href", "content"}
_LOADING_TAGS = {"script", "link", "img", "iframe", "frame", "object", "embed", "video", "audio", "source", "track",
                 "form", "base", "svg", "image"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.meta: list[dict[str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "meta":
            self.meta.append(values)
        if tag == "style":
            self._in_style = True
        for name, value in values.items():
            if name in _URL_ATTRS and not (tag == "meta" and name == "content"):
                self.refs.append((tag, name, value))
            if name == "style":
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def _parse(path: Path) -> _Refs:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def assert_self_contained(html: Path, bundle: Path) -> int:
    """No loading element, no network reference, every link resolves; returns the number of
    evidence links checked."""
    refs = _parse(html)
    assert not (refs.tags & _LOADING_TAGS), refs.tags & _LOADING_TAGS
    csp = [m for m in refs.meta if m.get("http-equiv", "").lower() == "content-security-policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]
    for css in refs.styles:
        assert "url(" not in css and "@import" not in css
    files = 0
    for tag, attr, value in refs.refs:
        assert tag == "a" and attr == "href", (tag, attr, value)
        parts = urlsplit(value)
        assert not parts.scheme and not parts.netloc, value  # no http:, file:, //host, mailto: ...
        if value.startswith("#"):
            assert value[1:] in refs.ids, f"dangling anchor {value}"
            continue
        target = (html.parent / unquote(parts.path)).resolve()
        assert target.is_file(), f"{value} does not resolve to a file"
        assert target.is_relative_to(bundle.resolve()), f"{value} leaves the bundle"
        files += 1
    return files
