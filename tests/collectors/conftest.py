"""Fixtures of the collector tests: the fake GitHub with a clock the tests control, and the
certificates and loopback endpoints of the probe tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collectors.githubhelp import ORG, Clock
from tests.collectors.probehelp import Pki, make_pki
from tests.fakes.endpoints import FakeEndpoint
from tests.fakes.github import FakeGitHub
from tests.fakes.openapi import OpenAPISpec


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gh(spec: OpenAPISpec, clock: Clock) -> Iterator[FakeGitHub]:
    with FakeGitHub(org=ORG, clock=clock) as fake:
        yield fake
        assert fake.assert_served_payloads_valid(spec) == len(fake.served)
        assert not fake.errors


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory)


@pytest.fixture
def good(pki: Pki) -> Iterator[FakeEndpoint]:
    with FakeEndpoint(pki.good) as ep:
        yield ep
