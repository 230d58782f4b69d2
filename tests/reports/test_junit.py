"""junit.xml: one test case per control, valid against the Ant JUnit schema; a failing control
is a failure, an erroring one an error, manual and not-applicable ones skipped, each naming its
first causes and remedies."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from evidence.reports import load_bundle, write_reports

XSD = Path(__file__).parents[1] / "data" / "vendor" / "JUnit.xsd"


def test_junit_validates_with_one_case_per_control(bundle: Path, tmp_path: Path) -> None:
    content = load_bundle(bundle)
    [path] = write_reports(content, tmp_path, ["junit"])
    xmlschema.XMLSchema(XSD).validate(path)
    suite = ET.parse(path).getroot()
    cases = {c.get("classname", "").removeprefix("evidence."): c for c in suite.iter("testcase")}
    assert sorted(cases) == sorted(v.control_id for v in content.verdicts)
    outcome = {cid: [child.tag for child in case] for cid, case in cases.items()}
    assert outcome["ENC-TRANSIT"] == ["failure"] and outcome["ROOT-ACCOUNT"] == ["error"]
    assert outcome["DR-TEST"] == ["skipped"] and outcome["FIREWALL"] == ["skipped"]
    assert outcome["PENTEST"] == [] and outcome["TLS-CERTS"] == []
    counts = [suite.get(name) for name in ("tests", "failures", "errors", "skipped")]
    assert counts == ["7", "1", "1", "3"]
    error = cases["ROOT-ACCOUNT"].find("error")
    assert error is not None and error.get("message") == "Could not collect iam.GetAccountSummary: AccessDenied."
    assert "remedy: grant x:Y" in (error.text or "")
    failure = cases["ENC-TRANSIT"].find("failure")
    assert failure is not None and "TLSv1" in (failure.get("message") or "")
