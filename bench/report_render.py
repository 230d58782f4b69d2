"""Benchmark: render every report of a synthetic bundle with N findings (default 10,000).

    .venv/bin/python bench/report_render.py [--findings 10000] [--fail-ratio 0.12] [--keep DIR]

The bundle uses the real catalog; findings are spread over the controls that have checks
(pass, fail, error, not_applicable and waived in realistic proportions), each linked to one or
two of ~N/20 evidence files, plus the catalog's manual requirements (one attached, one
expired). Prints the wall time, CPU time and size of each output.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from evidence.bundle import PartialBundle
from evidence.catalog import load_catalog
from evidence.judge import Attachment, Judging, Waiver, controls_json, findings_json
from evidence.models import ControlVerdict, EvidenceRecord, Finding, Status, iso, verdict_of
from evidence.records import EvidenceWriter
from evidence.reports import CHECKS_FILE, FORMATS, OUTPUTS, load_bundle, write_reports

REGIONS = ["eu-west-2", "us-east-1", "eu-west-1", "us-west-2"]
ACCOUNTS = ["123456789012", "210987654321", "345678901234"]


def make_bundle(root: Path, n: int, fail_ratio: float, seed: int = 7) -> dict[str, Any]:
    """Write a synthetic unsealed bundle into `root`; returns its run metadata."""
    rng = random.Random(seed)
    catalog = load_catalog()
    now = datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC)
    writer = EvidenceWriter(root)
    refs = [(c.id, r.id) for c in catalog.controls.values() for r in c.checks]
    if not refs:
        raise SystemExit("the catalog has no checks")
    evidence: dict[tuple[str, str, str], list[str]] = {}
    n_evidence = max(10, n // 20)
    for i in range(n_evidence):
        cid, chk = refs[i % len(refs)]
        account, region = ACCOUNTS[i % len(ACCOUNTS)], REGIONS[(i // len(ACCOUNTS)) % len(REGIONS)]
        service = chk.split(".")[1]
        rec = EvidenceRecord(
            source="aws", service=service, operation=f"Describe{service.title()}Things", account=account,
            region=region, parameters={"page": i}, collected_at=iso(now), identity="arn:aws:iam::role/EvidenceAudit",
            response={"Items": [{"Id": f"res-{i}-{k}", "Setting": rng.choice(["on", "off"])} for k in range(20)]},
        )
        evidence.setdefault((chk, account, region), []).append(writer.write(rec))
    evidence_keys = list(evidence)
    pass_ratio = max(0.0, 1.0 - fail_ratio - 0.08)
    weights = [pass_ratio, fail_ratio, 0.03, 0.03, 0.02]
    statuses = [Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE, Status.WAIVED]
    findings: list[Finding] = []
    for i in range(n):
        cid, chk = refs[i % len(refs)]
        status = rng.choices(statuses, weights)[0]
        chk_key = next((k for k in evidence_keys if k[0] == chk), evidence_keys[i % len(evidence_keys)])
        account, region = ACCOUNTS[i % len(ACCOUNTS)], REGIONS[i % len(REGIONS)]
        paths = evidence.get((chk, account, region)) or evidence[chk_key]
        arn = f"arn:aws:{chk.split('.')[1]}:{region}:{account}:resource/synthetic-{i:06d}"
        findings.append(Finding(
            control_id=cid, check_id=chk, status=status, source="aws", resource_id=arn,
            resource_type=f"AWS::{chk.split('.')[1].title()}::Resource", account=account, region=region,
            observed={"setting": "off" if status is Status.FAIL else "on", "policy": f"Policy-{i % 17}"},
            expected="setting on and policy at least Policy-2026",
            message=f"Resource synthetic-{i:06d} has its setting {'off' if status is Status.FAIL else 'on'}.",
            evidence=sorted(set(paths[:2])), waiver="WAIVER-1" if status is Status.WAIVED else None,
        ))
    attachments: list[Attachment] = []
    for control in catalog.controls.values():
        for k, req in enumerate(control.manual):
            valid = k % 2 == 0
            until = date(2027, 6, 30) if valid else date(2026, 6, 30)
            rel = f"attachments/{control.id.lower()}-{req.id}.pdf"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"%PDF-1.4 synthetic\n")
            attachments.append(Attachment(control_id=control.id, requirement=req.id, path=rel, sha256="0" * 64,
                                          valid_until=until, attached_by="compliance@zaptic.example",
                                          attached_at="2026-10-02T09:00:00Z"))
            findings.append(Finding(
                control_id=control.id, check_id=f"manual.{req.id}", status=Status.PASS if valid else Status.MANUAL,
                source="manual", resource_id=req.id, resource_type="manual_evidence",
                observed=f"{'attached, valid until' if valid else 'expired on'} {until}",
                expected=f"{req.description}, valid", message=f"{req.description}.", evidence=[rel],
            ))
        if not control.checks and not control.manual:
            findings.append(Finding(control_id=control.id, check_id="manual.unassessed", status=Status.MANUAL,
                                    source="manual", resource_id=control.id, message="Needs a person's review.",
                                    observed="no evidence", expected="evidence for the statement"))
    findings.sort(key=Finding.sort_key)
    verdicts: list[ControlVerdict] = []
    for control in sorted(catalog.controls.values(), key=lambda c: c.id):
        these = [f for f in findings if f.control_id == control.id]
        counts = {s.value: sum(1 for f in these if f.status is s) for s in Status}
        verdicts.append(ControlVerdict(
            control_id=control.id, title=control.title, statement=control.statement, criteria=control.criteria,
            verdict=verdict_of(these), counts=counts, checks=[r.id for r in control.checks],
            manual=[m.id for m in control.manual],
        ))
    judging = Judging(
        reference_time=now, catalog=catalog,
        params={c.id: {r.id: dict(r.params) for r in c.checks} for c in catalog.controls.values()},
        sources={"aws": None, "manual": None}, attachments=attachments,
        waivers=[Waiver(id="WAIVER-1", control_id=verdicts[0].control_id, resource="arn:aws:*", reason="Synthetic",
                        approver="ciso@zaptic.example", expires=date(2027, 1, 31))],
    )
    (root / "findings.json").write_text(findings_json(findings), encoding="utf-8")
    (root / "controls.json").write_text(controls_json(verdicts), encoding="utf-8")
    (root / "judging.json").write_text(judging.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (root / CHECKS_FILE).write_text("[]\n", encoding="utf-8")
    return {
        "schema": "evidence.manifest/1", "tool": {"name": "evidence", "version": "bench"},
        "run_id": "20261130T080000Z-bench0", "period": {"name": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31"},
        "started_at": iso(now - timedelta(minutes=4)), "finished_at": iso(now), "reference_time": iso(now),
        "company": "Zaptic (synthetic benchmark)",
        "scope": {"sources": {"aws": "collected", "manual": "collected"}, "aws_regions": REGIONS},
        "catalog_digest": catalog.digest, "config_digest": "0" * 64, "api_calls": {"aws": n_evidence},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--findings", type=int, default=10_000)
    ap.add_argument("--fail-ratio", type=float, default=0.12)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--keep", type=Path, default=None, help="Keep the sealed bundle here.")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="evidence-bench-"))
    try:
        partial = PartialBundle.create(work, "2026-Q4", "bench")
        t = time.perf_counter()
        meta = make_bundle(partial.tmp, args.findings, args.fail_ratio)
        print(f"synthetic bundle: {args.findings:,} findings (+ manual), made in {time.perf_counter() - t:.1f} s")
        t, c = time.perf_counter(), time.process_time()
        content = load_bundle(partial.tmp, metadata=meta)
        counts: dict[str, int] = {}
        for f in content.findings:
            counts[f.status.value] = counts.get(f.status.value, 0) + 1
        print(f"load: {time.perf_counter() - t:.2f} s wall, {time.process_time() - c:.2f} s CPU; "
              f"{len(content.findings):,} findings {json.dumps(counts, sort_keys=True)}, "
              f"{sum(1 for p in content.hashes if p.startswith('evidence/')):,} evidence files")
        print(f"{'format':<8} {'wall s':>8} {'CPU s':>8}  files")
        for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
            t, c = time.perf_counter(), time.process_time()
            written = write_reports(content, partial.tmp, [fmt])
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            sizes = ", ".join(f"{p.relative_to(partial.tmp)} {p.stat().st_size / 1e6:.2f} MB" for p in written)
            extra = ""
            if fmt == "pdf":
                import subprocess

                info = subprocess.run(["pdfinfo", str(partial.tmp / OUTPUTS["pdf"][0])], capture_output=True,
                                      text=True, check=False).stdout if shutil.which("pdfinfo") else ""
                pages = next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")
                extra = f", {pages} pages"
            print(f"{fmt:<8} {wall:>8.2f} {cpu:>8.2f}  {sizes}{extra}", flush=True)
        if args.keep:
            partial.seal(meta)
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(partial.tmp, args.keep)
            print(f"bundle kept in {args.keep}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
