"""Reading protocol and algorithm names as versions, so checks compare versions, not names.

No list of policy names lives in the code: an ELB policy, a CloudFront security policy or an
API Gateway security policy is judged by the protocol versions it resolves to.
"""

from __future__ import annotations

import re

from pydantic import Field

from evidence.checks.params import Params

_TLS = re.compile(r"TLS[\s_-]?v?(\d)(?:[._](\d))?", re.IGNORECASE)
_SSL = re.compile(r"SSL[\s_-]?v?(\d)", re.IGNORECASE)
_SHA = re.compile(r"SHA[-_]?(\d+)", re.IGNORECASE)


def protocol_version(name: str) -> tuple[int, int] | None:
    """`TLSv1.2` -> (1, 2); `TLSv1` -> (1, 0); `SSLv3` -> (0, 3); `TLS_1_2` -> (1, 2);
    `TLSv1.2_2021` -> (1, 2); `SecurityPolicy_TLS13_1_2_2021_06` -> (1, 2). None if unknown."""
    text = name.strip()
    m = re.search(r"TLS13[_-](\d)[_-](\d)", text, re.IGNORECASE)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _TLS.search(text)
    if m:
        return int(m.group(1)), int(m.group(2) or 0)
    m = _SSL.search(text)
    if m:
        return 0, int(m.group(1))
    return None


def parse_min_tls(value: str) -> tuple[int, int]:
    """A catalog parameter like "1.2" as (1, 2)."""
    major, _, minor = str(value).partition(".")
    return int(major), int(minor or 0)


def version_label(version: tuple[int, int]) -> str:
    if version[0] == 0:
        return f"SSLv{version[1]}"
    return f"TLSv{version[0]}.{version[1]}" if version != (1, 0) else "TLSv1"


def signature_hash_bits(algorithm: str) -> int | None:
    """`SHA256WITHRSA` -> 256, `ecdsa-with-SHA384` -> 384, `SHA1WITHRSA` -> 1, `MD5WITHRSA` -> 0."""
    m = _SHA.search(algorithm)
    if m:
        return int(m.group(1))
    if "MD5" in algorithm.upper() or "MD2" in algorithm.upper():
        return 0
    return None


class MinTlsParams(Params):
    """Parameters of the checks that judge TLS protocol versions."""

    min_tls: str = Field(
        "1.2", pattern=r"^1\.[0-3]$", description="Lowest TLS version allowed, as 1.0, 1.1, 1.2 or 1.3."
    )
