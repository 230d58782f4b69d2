"""ACM certificate checks: key algorithm and size, signature hash, remaining validity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evidence.checks.base import CheckContext, check
from evidence.checks.protocols import signature_hash_bits
from evidence.models import Finding, Status
from evidence.models import parse_time as _parse_time
from evidence.records import Evidence

#: certificates in these states are not served, so their strength is not in question
_NOT_SERVED = {"PENDING_VALIDATION", "VALIDATION_TIMED_OUT", "FAILED", "REVOKED"}


def _certificates(ctx: CheckContext) -> Iterator[tuple[dict[str, Any], Evidence]]:
    for ev in ctx.evidence("acm.DescribeCertificate"):
        cert = ev.response.get("Certificate", {})
        if cert.get("Status") in _NOT_SERVED:
            continue
        yield cert, ev


def key_strength(
    key_algorithm: str, signature: str, min_rsa_bits: int, allow_ec: bool, min_hash_bits: int
) -> list[str]:
    """Why a key/signature pair is too weak; empty when it is strong enough."""
    problems: list[str] = []
    family, _, size = key_algorithm.upper().partition("_")
    if family == "RSA":
        bits = int(size) if size.isdigit() else 0
        if bits < min_rsa_bits:
            problems.append(f"RSA key of {bits or 'unknown'} bits, below {min_rsa_bits}")
    elif family in {"EC", "ECDSA"}:
        if not allow_ec:
            problems.append(f"elliptic-curve key {key_algorithm} where RSA is stated")
    else:
        problems.append(f"unknown key algorithm {key_algorithm!r}")
    hash_bits = signature_hash_bits(signature)
    if hash_bits is None or hash_bits < min_hash_bits:
        problems.append(f"signature {signature or 'unknown'} weaker than SHA-{min_hash_bits}")
    return problems


@check(
    id="aws.acm.certificate_key_strength",
    source="aws",
    description=(
        "ACM certificates use RSA keys of at least min_rsa_bits (EC keys when allow_ec) and a "
        "signature hash of SHA-256 or stronger."
    ),
    requires=("acm.ListCertificates", "acm.DescribeCertificate"),
    params={"min_rsa_bits": 2048, "allow_ec": True, "min_signature_hash_bits": 256},
    resource_type="AWS::CertificateManager::Certificate",
)
def certificate_key_strength(ctx: CheckContext) -> Iterator[Finding]:
    p = ctx.params
    expected = (
        f"RSA >= {p['min_rsa_bits']} bits{' or EC' if p['allow_ec'] else ''}, "
        f"signature SHA-{p['min_signature_hash_bits']} or stronger"
    )
    for cert, ev in _certificates(ctx):
        algo = str(cert.get("KeyAlgorithm", ""))
        sig = str(cert.get("SignatureAlgorithm", ""))
        problems = key_strength(algo, sig, int(p["min_rsa_bits"]), bool(p["allow_ec"]),
                                int(p["min_signature_hash_bits"]))
        yield ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=cert["CertificateArn"], account=ev.account, region=ev.region, evidence=[ev],
            observed={"key_algorithm": algo, "signature_algorithm": sig}, expected=expected,
            message=(
                f"Certificate for {cert.get('DomainName')}: {'; '.join(problems)}."
                if problems
                else f"Certificate for {cert.get('DomainName')} uses {algo} signed with {sig}."
            ),
        )




@check(
    id="aws.acm.certificate_validity",
    source="aws",
    description="ACM certificates are not expired and have at least min_days_valid days left.",
    requires=("acm.ListCertificates", "acm.DescribeCertificate"),
    params={"min_days_valid": 30},
    resource_type="AWS::CertificateManager::Certificate",
)
def certificate_validity(ctx: CheckContext) -> Iterator[Finding]:
    min_days = int(ctx.params["min_days_valid"])
    for cert, ev in _certificates(ctx):
        not_after = _parse_time(cert.get("NotAfter"))
        where: dict[str, Any] = {
            "resource_id": cert["CertificateArn"], "account": ev.account, "region": ev.region,
            "evidence": [ev], "expected": f">= {min_days} days before expiry",
        }
        if not_after is None:
            yield ctx.finding(Status.ERROR, observed=cert.get("NotAfter"),
                              message="Certificate has no readable expiry date.", **where)
            continue
        days = (not_after - ctx.now).days
        status = Status.PASS if days >= min_days else Status.FAIL
        yield ctx.finding(
            status, observed=f"{days} days left (expires {not_after.date().isoformat()})", **where,
            message=(
                f"Certificate for {cert.get('DomainName')} expired on {not_after.date()}."
                if days < 0
                else f"Certificate for {cert.get('DomainName')} expires in {days} days."
            ),
        )
