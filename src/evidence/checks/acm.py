"""ACM certificate checks: key algorithm and size, signature hash, remaining validity.

Both checks judge every described certificate (`acm.DescribeCertificate`, one record per
certificate listed by `acm.ListCertificates`); a certificate that is not served (pending or
failed validation, revoked) is skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from evidence.checks.base import CheckContext, check
from evidence.checks.inventory import Inventory, Item
from evidence.checks.params import Params
from evidence.checks.protocols import signature_hash_bits
from evidence.models import Finding, Status
from evidence.models import parse_time as _parse_time

CERTIFICATE_TYPE = "AWS::CertificateManager::Certificate"

#: certificates in these states are not served, so their strength is not in question
_NOT_SERVED = {"PENDING_VALIDATION", "VALIDATION_TIMED_OUT", "FAILED", "REVOKED"}

CERTIFICATES = Inventory(
    "acm.ListCertificates", items="CertificateSummaryList", id="CertificateArn", resource_type=CERTIFICATE_TYPE
)
#: one DescribeCertificate record per listed certificate (its `subject` is the certificate ARN)
DESCRIBED = Inventory(
    "acm.DescribeCertificate", items=None, id="Certificate.CertificateArn", resource_type=CERTIFICATE_TYPE,
    parent=CERTIFICATES,
)


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


def _served(ctx: CheckContext[Any], item: Item) -> Item | Finding:
    """The certificate of a DescribeCertificate record, or the skip of one that is not served."""
    cert = item.part(item.need("Certificate", dict), "Certificate")
    status = cert.need("Status", str)
    if status in _NOT_SERVED:
        return ctx.skip(item, f"certificate is {status}, so it is not served")
    return cert


class KeyStrengthParams(Params):
    min_rsa_bits: int = Field(2048, ge=1024, le=16384, description="Smallest RSA key size allowed, in bits.")
    allow_ec: bool = Field(True, description="Whether elliptic-curve (EC/ECDSA) keys are allowed besides RSA.")
    min_signature_hash_bits: int = Field(
        256, ge=1, le=512, description="Weakest signature hash allowed, in bits (256 for SHA-256; SHA-1 counts as 1)."
    )


@check(
    id="aws.acm.certificate_key_strength",
    source="aws",
    description=(
        "ACM certificates use RSA keys of at least min_rsa_bits (EC keys when allow_ec) and a "
        "signature hash of SHA-256 or stronger."
    ),
    inventory=DESCRIBED,
    params=KeyStrengthParams,
)
def certificate_key_strength(ctx: CheckContext[KeyStrengthParams]) -> Iterator[Finding]:
    p = ctx.params
    expected = (
        f"RSA >= {p.min_rsa_bits} bits{' or EC' if p.allow_ec else ''}, "
        f"signature SHA-{p.min_signature_hash_bits} or stronger"
    )

    def one(item: Item) -> Finding:
        cert = _served(ctx, item)
        if isinstance(cert, Finding):
            return cert
        algo = cert.need("KeyAlgorithm", str)
        sig = cert.need("SignatureAlgorithm", str)
        domain = cert.need("DomainName", str, item.name)
        problems = key_strength(algo, sig, p.min_rsa_bits, p.allow_ec, p.min_signature_hash_bits)
        return ctx.finding(
            Status.FAIL if problems else Status.PASS,
            resource_id=item.resource_id, account=item.account, region=item.region, evidence=[item.ev],
            observed={"key_algorithm": algo, "signature_algorithm": sig}, expected=expected,
            message=(
                f"Certificate for {domain}: {'; '.join(problems)}."
                if problems
                else f"Certificate for {domain} uses {algo} signed with {sig}."
            ),
        )

    yield from ctx.each(DESCRIBED, one)


class ValidityParams(Params):
    min_days_valid: int = Field(30, ge=0, description="Days a certificate must still be valid for.")


@check(
    id="aws.acm.certificate_validity",
    source="aws",
    description="ACM certificates are not expired and have at least min_days_valid days left.",
    inventory=DESCRIBED,
    params=ValidityParams,
)
def certificate_validity(ctx: CheckContext[ValidityParams]) -> Iterator[Finding]:
    min_days = ctx.params.min_days_valid

    def one(item: Item) -> Finding:
        cert = _served(ctx, item)
        if isinstance(cert, Finding):
            return cert
        domain = cert.need("DomainName", str, item.name)
        # absent or unreadable: an error below, with what was there
        raw = cert.need("NotAfter", str, "")
        not_after = _parse_time(raw)
        where: dict[str, Any] = {
            "resource_id": item.resource_id, "account": item.account, "region": item.region,
            "evidence": [item.ev], "expected": f">= {min_days} days before expiry",
        }
        if not_after is None:
            return ctx.finding(Status.ERROR, observed=raw or None, message="Certificate has no readable expiry date.",
                               **where)
        days = (not_after - ctx.now).days
        return ctx.finding(
            Status.PASS if days >= min_days else Status.FAIL,
            observed=f"{days} days left (expires {not_after.date().isoformat()})", **where,
            message=(
                f"Certificate for {domain} expired on {not_after.date()}."
                if days < 0
                else f"Certificate for {domain} expires in {days} days."
            ),
        )

    yield from ctx.each(DESCRIBED, one)
