"""The simulated company (`evidence.demo.company`): its GitHub organisation shows every verdict."""

from __future__ import annotations

import pytest

from evidence.models import Status
from tests.checks.githubrun import ORG, PEER, REVIEWS, STATUS, TOKEN_ENV, by, run, statuses
from tests.conftest import RunFn
from tests.fakes.github import FakeGitHub
from tests.fakes.openapi import OpenAPISpec


def test_demo_organisation_shows_every_verdict(
    run_evidence: RunFn, spec: OpenAPISpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidence.demo.company import seed_github
    from tests.conftest import PERIOD

    with FakeGitHub(org=ORG) as fake:
        seed_github(fake, PERIOD)
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        result = run(run_evidence, fake)
        fake.assert_served_payloads_valid(spec)
    assert statuses(result, REVIEWS) == {
        "zaptic/platform-api": Status.PASS, "zaptic/web-app": Status.PASS, "zaptic/docs": Status.PASS,
        "zaptic/mobile-app": Status.FAIL, "zaptic/infra-terraform": Status.FAIL,
        "zaptic/data-scripts": Status.FAIL, "zaptic/legacy-portal": Status.NOT_APPLICABLE}
    assert statuses(result, STATUS)["zaptic/mobile-app"] is Status.FAIL
    assert statuses(result, STATUS)["zaptic/web-app"] is Status.PASS
    peer = statuses(result, PEER)
    assert sorted(peer.values()).count(Status.PASS) == 3 and sorted(peer.values()).count(Status.FAIL) == 3
    skipped = {k: f.message for k, f in by(result, PEER).items() if f.status is Status.NOT_APPLICABLE}
    assert len(skipped) == 2  # every listed pull request has a finding: the two out of scope say why
    assert any("closed without being merged" in m for m in skipped.values())
    assert any("outside the period" in m for m in skipped.values())
    assert statuses(result, "github.org_2fa_required") == {"zaptic": Status.FAIL}
    assert statuses(result, "github.members_without_2fa")["ext-contractor"] is Status.FAIL
