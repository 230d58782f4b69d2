"""Conditions: waivers and manual evidence expiring or expired."""

from __future__ import annotations

from datetime import date, timedelta

from evidence.history.conditions import conditions
from evidence.judge import Attachment, Waiver
from tests.history.support import T0, make_snapshot


def test_waiver_and_manual_evidence_expiry_conditions() -> None:
    today = T0.date()
    waivers = [
        Waiver(id="soon", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a",
               expires=today + timedelta(days=14)),
        Waiver(id="later", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a",
               expires=today + timedelta(days=15)),
        Waiver(id="gone", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a",
               expires=today - timedelta(days=1)),
        Waiver(id="today", control_id="ENC-TRANSIT", resource="lb-*", reason="r", approver="a", expires=today),
    ]

    def att(until: date, req: str = "pentest-report") -> Attachment:
        return Attachment(control_id="ENC-TRANSIT", requirement=req, path=f"attachments/{req}.pdf",
                          sha256="0" * 64, valid_until=until)

    snap = make_snapshot(
        "r1", T0, waivers=waivers, manual=["pentest-report", "dr-report", "ok-report"],
        attachments=[att(today - timedelta(days=400)), att(today + timedelta(days=3)),
                     att(today - timedelta(days=1), "dr-report"), att(today + timedelta(days=90), "ok-report")],
    )
    conds = conditions(snap, warn_days=14)
    assert sorted(conds) == [
        "manual:ENC-TRANSIT:dr-report:expired",
        "manual:ENC-TRANSIT:pentest-report:expiring",
        "waiver:gone:expired",
        "waiver:soon:expiring",
        "waiver:today:expiring",
    ]
    assert "in 3 days" in conds["manual:ENC-TRANSIT:pentest-report:expiring"].text
    assert "expired on" in conds["waiver:gone:expired"].text
    assert sorted(conditions(snap, warn_days=0)) == [
        "manual:ENC-TRANSIT:dr-report:expired", "waiver:gone:expired", "waiver:today:expiring"]
