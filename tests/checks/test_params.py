"""Typed check parameters (`evidence.checks.params`): every check's model keeps the catalog's names
and defaults, and values of the wrong type or out of bounds are refused naming the key.
"""

from __future__ import annotations

from typing import Any

import pytest

from evidence.catalog import load_catalog
from evidence.checks import acm, apigateway, backup, cloudfront, dynamodb, iam, kms, rds, residency, s3
from evidence.checks.base import Check
from evidence.checks.params import Params
from evidence.checks.params import problem as param_problem

CHECKS: list[Check] = [
    acm.certificate_key_strength, acm.certificate_validity, apigateway.domain_tls_min_version,
    cloudfront.viewer_min_tls, cloudfront.viewer_https_only, kms.customer_key_rotation,
    s3.bucket_default_encryption, dynamodb.point_in_time_recovery, rds.storage_encrypted,
    rds.backup_retention, rds.multi_az,
]


@pytest.mark.parametrize("chk", CHECKS, ids=[c.id for c in CHECKS])
def test_parameters_keep_the_catalog_names_and_defaults(chk: Check) -> None:
    refs = [r for c in load_catalog().controls.values() for r in c.checks if r.id == chk.id]
    assert refs
    for ref in refs:
        assert param_problem(chk.param_model, ref.params) is None
        assert {k: chk.params[k] for k in ref.params} == ref.params


@pytest.mark.parametrize(("model", "values", "name"), [
    (acm.KeyStrengthParams, {"min_rsa_bits": "big"}, "min_rsa_bits"),
    (acm.KeyStrengthParams, {"allow_ec": "false"}, "allow_ec"),
    (acm.ValidityParams, {"min_days_valid": -1}, "min_days_valid"),
    (dynamodb.RetentionParams, {"min_retention_days": -1}, "min_retention_days"),
    (rds.RetentionParams, {"min_retention_days": -1}, "min_retention_days"),
    (rds.MultiAzParams, {"min_azs": 0}, "min_azs"),
    (rds.MultiAzParams, {"min_zones": 2}, "min_zones"),
])
def test_parameters_out_of_type_or_bounds_are_refused(model: type[Params], values: dict[str, Any], name: str) -> None:
    bad = param_problem(model, values)
    assert bad is not None and bad[0] == name


@pytest.mark.parametrize(("chk", "name", "bad"), [
    (backup.restore_tested, "within_days", -1),
    (backup.restore_tested, "within_days", 401),
    (iam.users_inactive, "max_inactive_days", "90"),
    (iam.access_key_age, "max_key_age_days", 0),
    (residency.bucket_residency, "allowed_regions", ["London"]),
    (residency.rds_residency, "allowed_regions", "eu-west-2"),
])
def test_parameters_are_typed_and_bounded(chk: Check, name: str, bad: Any) -> None:
    problem = param_problem(chk.param_model, {name: bad})
    assert problem is not None and problem[0].split(".")[0] == name


def test_catalog_parameters_keep_their_names_and_defaults() -> None:
    catalog = load_catalog()
    for chk in (backup.restore_tested, iam.users_inactive, iam.access_key_age, residency.bucket_residency,
                residency.rds_residency, residency.table_residency, residency.volume_residency,
                residency.instance_residency):
        refs = [r for c in catalog.controls.values() for r in c.checks if r.id == chk.id]
        assert refs, chk.id
        for ref in refs:
            assert param_problem(chk.param_model, ref.params) is None, chk.id
            assert {k: v for k, v in chk.params.items() if k in ref.params} == ref.params, chk.id


def test_describe_lists_each_parameter_with_type_bounds_default_and_description() -> None:
    from evidence.checks.params import NoParams, defaults, describe

    (info,) = [i for i in describe(acm.KeyStrengthParams) if i.name == "min_rsa_bits"]
    assert info.type == "int" and info.bounds.startswith(">= ") and info.default == 2048 and info.description
    assert describe(NoParams) == [] and defaults(NoParams) == {}
    assert defaults(acm.KeyStrengthParams)["min_rsa_bits"] == 2048


def test_an_unknown_parameter_is_named_with_the_known_ones() -> None:
    bad = param_problem(acm.KeyStrengthParams, {"min_bits": 2048})
    assert bad is not None and bad[0] == "min_bits"
    assert "unknown parameter" in bad[1] and "min_rsa_bits" in bad[1]
    assert param_problem(acm.KeyStrengthParams, {}) is None
