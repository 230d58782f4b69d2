"""Helpers for the probe collector tests: certificates made here (the `pki` fixture is in this
package's conftest), and one collection against loopback endpoints (tests.fakes.endpoints)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from evidence.collectors.base import Sink
from evidence.collectors.probe import PERMISSIONS, ProbeCollector
from evidence.config import parse_config
from evidence.models import EvidenceRecord
from evidence.records import EvidenceWriter
from tests.fakes.endpoints import CertificateAuthority, IssuedCertificate, rsa_key


@dataclass(frozen=True)
class Pki:
    ca: CertificateAuthority
    ca_file: Path
    good: IssuedCertificate
    weak: IssuedCertificate
    expiring: IssuedCertificate
    wrong_host: IssuedCertificate
    ec_cert: IssuedCertificate


def make_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    # keys are made once for the module: one 2048-bit key shared by the leaves, one 1024-bit
    shared = rsa_key(2048)
    ca = CertificateAuthority(key=rsa_key(2048))
    return Pki(
        ca=ca,
        ca_file=ca.write(tmp_path_factory.mktemp("pki") / "ca.pem"),
        good=ca.issue(key=shared),
        weak=ca.issue(key=rsa_key(1024)),
        expiring=ca.issue(key=shared, days_valid=10),
        wrong_host=ca.issue(["www.zaptic.example"], key=shared),
        ec_cert=ca.issue(key=ec.generate_private_key(ec.SECP256R1()), hash_name="sha384"),
    )


@dataclass
class Collected:
    records: list[EvidenceRecord]
    root: Path

    def of(self, key: str) -> list[EvidenceRecord]:
        return [r for r in self.records if r.key == key]

    def one(self, key: str, **params: Any) -> EvidenceRecord:
        found = [r for r in self.of(key) if all(r.parameters.get(k) == v for k, v in params.items())]
        assert len(found) == 1, (key, params, [r.parameters for r in self.of(key)])
        return found[0]


def collect(tmp_path: Path, probes: dict[str, Any], wanted: frozenset[str] = frozenset(PERMISSIONS)) -> Collected:
    root = tmp_path / "bundle"
    writer = EvidenceWriter(root)
    ProbeCollector(parse_config({"probes": probes})).collect(Sink(writer), wanted)
    index = writer.index()
    return Collected([index.load(e).record for e in index.entries], root)
