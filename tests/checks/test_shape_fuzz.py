"""Every AWS check on responses generated from botocore's own output shapes (issue 11).

The real AWS collector runs against answers generated from botocore's service models
(`vendor_shapes.collect_aws`: every member present, values of the declared type, enums from the
enum, some calls denied, optional members left out in some seeds), and each check is judged on
what it recorded. For every seed of the fixed budget (`vendor_shapes.SEEDS`):

- the check never raises (the judge would turn it into "check X raised …");
- every generated resource of its inventory is covered by a finding of the check: a verdict, an
  `error` naming the field it could not read, or an explicit skip with its reason; never
  "listed but not judged";
- the budget is not vacuous: across the seeds the check made findings for generated resources.
"""

from __future__ import annotations

import pytest

from evidence.checks.base import Check
from evidence.checks.inventory import read_listing
from evidence.judge import run_check
from evidence.models import Finding, Status
from evidence.registry import Registry

from .vendor_shapes import SEEDS, bundle, judging

CHECKS: dict[str, Check] = {cid: chk for cid, chk in Registry.load().checks.items() if chk.source == "aws"}
PEERS = list(CHECKS.values())


def _raised(chk: Check, findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.message.startswith(f"check {chk.id} raised")]


def _unjudged(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.observed == "not judged"]


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_generated_responses_are_all_judged_without_an_exception(
    check_id: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    chk = CHECKS[check_id]
    judged = 0
    for seed in SEEDS:
        index = bundle("aws", seed, PEERS, tmp_path_factory.getbasetemp())
        findings = run_check(chk, "FUZZ", judging(["aws"]), index)
        assert not _raised(chk, findings), f"{seed}: {_raised(chk, findings)}"
        assert not _unjudged(findings), f"{seed}: {_unjudged(findings)[:5]}"
        listed = {(item.account, item.resource_id) for item in read_listing(chk.inventory, index).items}
        judged += sum(1 for f in findings if (f.account, f.resource_id) in listed and f.observed != "not judged")
    assert judged, f"{chk.id}: no generated resource reached the check in {len(SEEDS)} seeds (the fuzz says nothing)"


def test_an_unjudged_resource_is_what_this_test_catches(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The test can fail: a check that judges only its first listed resource is caught."""
    from evidence.checks.base import CheckContext, check
    from evidence.checks.ec2 import SECURITY_GROUPS
    from evidence.checks.params import NoParams

    @check(id="fuzz.first_only", source="aws", description="Judges only the first group.",
           inventory=SECURITY_GROUPS)
    def first_only(ctx: CheckContext[NoParams]) -> list[Finding]:
        items = ctx.items(SECURITY_GROUPS)[:1]
        return [ctx.finding(Status.PASS, resource_id=i.resource_id, account=i.account, region=i.region,
                            message="first", evidence=[i.ev]) for i in items]

    index = bundle("aws", SEEDS[0], PEERS, tmp_path_factory.getbasetemp())
    findings = run_check(first_only, "FUZZ", judging(["aws"]), index)
    assert len(_unjudged(findings)) == len(read_listing(SECURITY_GROUPS, index).items) - 1 > 0
