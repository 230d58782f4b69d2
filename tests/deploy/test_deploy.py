"""The recipes under deploy/ against their platforms' own schemas: the Kubernetes manifests with
kubernetes-validate (the API's OpenAPI schemas, strict: no unknown field), the AWS Batch JSON
with botocore's RegisterJobDefinition and SubmitJob input shapes, and the GitHub Actions
workflow with SchemaStore's workflow schema (check-jsonschema's vendored copy; actionlint's
Python wheel downloads its binary from GitHub when it is built, which this machine cannot)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import kubernetes_validate
import pytest
import yaml
from botocore.validate import ParamValidator

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
#: the Kubernetes release the manifests are written for (Indexed Jobs' backoffLimitPerIndex: 1.29+)
KUBERNETES = "1.31"
RUN_ID = "20261207-031700"


def _manifests() -> list[dict[str, Any]]:
    text = (DEPLOY / "kubernetes" / "evidence.yaml").read_text(encoding="utf-8").replace("RUN_ID", RUN_ID)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_every_kubernetes_manifest_fits_the_api_schema_strictly() -> None:
    docs = _manifests()
    assert [d["kind"] for d in docs] == ["ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Role",
                                         "RoleBinding", "Job", "Job"]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)  # raises naming the field


def test_the_kubernetes_recipe_is_an_indexed_job_then_a_merge_that_waits_for_it() -> None:
    by_name = {d["metadata"]["name"]: d for d in _manifests()}
    shards, merge = by_name[f"evidence-shards-{RUN_ID}"], by_name[f"evidence-merge-{RUN_ID}"]
    assert shards["spec"]["completionMode"] == "Indexed"
    n = shards["spec"]["completions"]
    assert shards["spec"]["template"]["spec"]["containers"][0]["args"][:3] == ["run", "--shard", f"auto/{n}"]
    wait = merge["spec"]["template"]["spec"]["initContainers"][0]["args"]
    assert f"job/evidence-shards-{RUN_ID}" in wait
    out = shards["spec"]["template"]["spec"]["containers"][0]["args"]
    assert out[out.index("--out") + 1] == merge["spec"]["template"]["spec"]["containers"][0]["args"][1]
    account = by_name["evidence"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert account.startswith("arn:aws:iam::") and ":role/" in account


@pytest.mark.parametrize(("name", "operation"), [
    ("job-definition.json", "RegisterJobDefinition"),
    ("submit-shards.json", "SubmitJob"),
    ("submit-merge.json", "SubmitJob"),
])
def test_the_batch_json_fits_botocores_input_shape(name: str, operation: str) -> None:
    shape = botocore.session.get_session().get_service_model("batch").operation_model(operation).input_shape
    params = json.loads((DEPLOY / "aws-batch" / name).read_text(encoding="utf-8"))
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()


def test_the_batch_merge_depends_on_the_array_of_shards() -> None:
    shards = json.loads((DEPLOY / "aws-batch" / "submit-shards.json").read_text(encoding="utf-8"))
    merge = json.loads((DEPLOY / "aws-batch" / "submit-merge.json").read_text(encoding="utf-8"))
    definition = json.loads((DEPLOY / "aws-batch" / "job-definition.json").read_text(encoding="utf-8"))
    n = shards["arrayProperties"]["size"]
    assert definition["containerProperties"]["command"][:3] == ["run", "--shard", f"auto/{n}"]
    assert merge["dependsOn"] == [{"jobId": "SHARDS_JOB_ID"}] and merge["parameters"] == shards["parameters"]
    assert merge["containerOverrides"]["command"][:2] == ["merge", "Ref::shards"]


def test_the_workflow_fits_the_github_workflow_schema() -> None:
    tool = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    done = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows",
                           str(DEPLOY / "github-actions" / "evidence.yml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load((DEPLOY / "github-actions" / "evidence.yml").read_text(encoding="utf-8"))
    shards = workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"]
    assert workflow["jobs"]["merge"]["needs"] == "shard"
    assert f"--shard auto/{len(shards)}" in workflow["jobs"]["shard"]["steps"][3]["run"]
