"""Protocol and algorithm names read as versions (`evidence.checks.protocols`)."""

from __future__ import annotations

import pytest

from evidence.checks.params import problem
from evidence.checks.protocols import MinTlsParams, parse_min_tls, protocol_version, signature_hash_bits, version_label


@pytest.mark.parametrize(("name", "version"), [
    ("TLSv1.2", (1, 2)), ("TLSv1", (1, 0)), ("SSLv3", (0, 3)), ("TLS_1_2", (1, 2)), ("TLSv1.2_2021", (1, 2)),
    ("SecurityPolicy_TLS13_1_2_2021_06", (1, 2)), ("tls1.3", (1, 3)), ("ELBSecurityPolicy-2016-08", None), ("", None),
])
def test_protocol_version(name: str, version: tuple[int, int] | None) -> None:
    assert protocol_version(name) == version


def test_min_tls_parameter_and_labels() -> None:
    assert parse_min_tls("1.2") == (1, 2) and parse_min_tls("1") == (1, 0)
    assert [version_label(v) for v in ((0, 3), (1, 0), (1, 1), (1, 3))] == ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.3"]
    assert MinTlsParams.model_validate({}).min_tls == "1.2"
    bad = problem(MinTlsParams, {"min_tls": "1.9"})
    assert bad is not None and bad[0] == "min_tls"


@pytest.mark.parametrize(("algorithm", "bits"), [
    ("SHA256WITHRSA", 256), ("ecdsa-with-SHA384", 384), ("SHA1WITHRSA", 1), ("MD5WITHRSA", 0), ("ED25519", None),
])
def test_signature_hash_bits(algorithm: str, bits: int | None) -> None:
    assert signature_hash_bits(algorithm) == bits
