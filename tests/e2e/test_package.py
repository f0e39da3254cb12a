"""A whole stage, proven offline: both stages synthesised once, linted by cfn-lint and checkov, and asserted.

The synth (`python -m infra.package`, what `make synth` runs) happens once per
session; every test reads its output. checkov lives in its own venv
(`make checkov`, a prerequisite of `make test`).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.stack import AUDIT_ALLOWED, AUDIT_FORBIDDEN, FUNCTIONS, LIBRARY_VARIABLES, cfn_name

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
PACKAGE_BUDGET_BYTES = 15 * 1024 * 1024

Template = dict[str, Any]


@pytest.fixture(scope="session")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("KUOTA_", "AWS_ENDPOINT"))}
    env["AWS_DEFAULT_REGION"] = "ap-southeast-3"
    out: dict[str, Path] = {}
    for stage in STAGES:
        target = tmp_path_factory.mktemp(f"synth-{stage}")
        build = subprocess.run(
            [sys.executable, "-m", "infra.package", "--stage", stage, str(target)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert build.returncode == 0, build.stdout + build.stderr
        out[stage] = target
    return out


@pytest.fixture(scope="session")
def templates(synthesised: dict[str, Path]) -> dict[str, Template]:
    return {stage: json.loads((path / "sam.json").read_text()) for stage, path in synthesised.items()}


def _resources(template: Template, kind: str) -> dict[str, Any]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy statement in the template: roles, bucket policies, table resource policies."""
    for name, body in template["Resources"].items():
        properties = body.get("Properties", {})
        for policy in properties.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield f"{name}/{policy['PolicyName']}", statement
        documents = [properties.get("PolicyDocument"), properties.get("ResourcePolicy", {}).get("PolicyDocument")]
        for document in filter(None, documents):
            for statement in document["Statement"]:
                yield name, statement


@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_reports_nothing(synthesised: dict[str, Path], stage: str) -> None:
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(synthesised[stage] / "sam.json")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_checkov_finds_nothing_beyond_the_listed_suppressions(synthesised: dict[str, Path]) -> None:
    assert CHECKOV.exists(), "checkov is not installed: run `make checkov` (make test does)"
    suppressions = json.loads((ROOT / "infra" / "checkov-suppressions.json").read_text())
    suppressions.pop("_about")
    accepted = {(check, resource) for check, entry in suppressions.items() for resource in entry["resources"]}
    assert all(entry["reason"].strip() for entry in suppressions.values())
    seen: set[tuple[str, str]] = set()
    for stage, path in synthesised.items():
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
        scan = subprocess.run(
            [str(CHECKOV), "-f", str(path / "sam.json"), "--framework", "cloudformation", "--skip-download",
             "--quiet", "-o", "json"],
            capture_output=True, text=True, timeout=600, check=False, env=env,
        )  # fmt: skip
        report = json.loads(scan.stdout)
        report = report[0] if isinstance(report, list) else report
        assert report["summary"]["parsing_errors"] == 0, scan.stdout
        failed = {(c["check_id"], c["resource"].split(".", 1)[1]) for c in report["results"]["failed_checks"]}
        assert failed <= accepted, f"{stage}: unlisted checkov findings {sorted(failed - accepted)}"
        seen |= failed
    assert accepted <= seen, f"suppressions that no longer fail (remove them): {sorted(accepted - seen)}"


def test_the_package_targets_the_lambda_runtime_and_stays_small(
    synthesised: dict[str, Path], templates: dict[str, Template]
) -> None:
    for function in _resources(templates["prod"], "AWS::Serverless::Function").values():
        assert function["Properties"]["Runtime"] == "python3.13"
        assert function["Properties"]["Architectures"] == ["arm64"]
    package = synthesised["prod"] / "deployment.zip"
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    native = [name for name in names if name.endswith(".so")]
    assert native and all("aarch64" in name or ".abi3." in name for name in native), native
    assert all("cpython-313" in name or ".abi3." in name for name in native), native
    assert not {name.split("/")[0] for name in names} & {"boto3", "botocore", "s3transfer"}  # the runtime's own
    assert {"app.py", "chalicelib/config.py", "pydantic_core/__init__.py"} <= set(names)
    assert package.stat().st_size < PACKAGE_BUDGET_BYTES


@pytest.mark.parametrize("stage", STAGES)
def test_tables_recover_expire_and_outlive_the_prod_stack(templates: dict[str, Template], stage: str) -> None:
    tables = _resources(templates[stage], "AWS::DynamoDB::Table")
    assert set(tables) == {"AppTable", "AuditTable", "IdempotencyTable"}
    for name, table in tables.items():
        properties = table["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["TableName"] == f"kuota-{stage}-{name.removesuffix('Table').lower()}"
        kept = stage == "prod"
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == ("Retain" if kept else "Delete"), name
        assert properties["DeletionProtectionEnabled"] is kept, name
    ttl = {name: t["Properties"].get("TimeToLiveSpecification") for name, t in tables.items()}
    assert ttl["AppTable"] == {"AttributeName": "ttl", "Enabled": True}
    assert ttl["IdempotencyTable"] == {"AttributeName": "expiration", "Enabled": True}
    assert ttl["AuditTable"] is None  # audit events are kept for good


def test_the_app_table_has_the_models_keys_and_indexes(templates: dict[str, Template]) -> None:
    from chalicelib.models import AppTable

    table = templates["prod"]["Resources"]["AppTable"]["Properties"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"PK": "HASH", "SK": "RANGE"}
    declared = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    for index in AppTable._indexes.values():
        keys = sorted(index.Meta.attributes.values(), key=lambda a: not a.is_hash_key)
        assert declared.pop(index.Meta.index_name) == [a.attr_name for a in keys]
    assert declared == {}


@pytest.mark.parametrize("stage", STAGES)
def test_the_audit_table_can_be_appended_to_and_queried_only(templates: dict[str, Template], stage: str) -> None:
    template = templates[stage]
    audit = template["Resources"]["AuditTable"]
    denied = audit["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Principal"] == "*" and {"dynamodb:UpdateItem", "dynamodb:DeleteItem"}
               <= set(s["Action"]) for s in denied)  # fmt: skip
    roles = _resources(template, "AWS::IAM::Role")
    assert len(roles) == len(FUNCTIONS)
    for name, role in roles.items():
        statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
        on_audit = [s for s in statements if any("AuditTable" in json.dumps(r) for r in _listed(s["Resource"]))]
        allowed = {a for s in on_audit if s["Effect"] == "Allow" for a in _listed(s["Action"])}
        forbidden = {a for s in on_audit if s["Effect"] == "Deny" for a in _listed(s["Action"])}
        assert allowed <= set(AUDIT_ALLOWED), name
        assert set(AUDIT_FORBIDDEN) <= forbidden, name
        assert {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= forbidden


@pytest.mark.parametrize("stage", STAGES)
def test_no_policy_grants_a_wildcard_action_or_resource(templates: dict[str, Template], stage: str) -> None:
    for where, statement in _statements(templates[stage]):
        actions = _listed(statement["Action"])
        if where.endswith("RolePolicy") or statement["Effect"] == "Allow":
            assert not [a for a in actions if "*" in a], (where, statement)
        if statement["Effect"] == "Allow":
            assert "*" not in _listed(statement["Resource"]), (where, statement)
            assert not any(isinstance(r, str) and ":*:*:" in r for r in _listed(statement["Resource"])), where


@pytest.mark.parametrize("stage", STAGES)
def test_the_console_bucket_is_private_behind_cloudfront(templates: dict[str, Template], stage: str) -> None:
    resources = templates[stage]["Resources"]
    block = resources["ConsoleBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                   "RestrictPublicBuckets"), True)  # fmt: skip
    grants = [s for s in resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
              if s["Effect"] == "Allow"]  # fmt: skip
    assert [s["Principal"] for s in grants] == [{"Service": "cloudfront.amazonaws.com"}]
    assert "AWS:SourceArn" in grants[0]["Condition"]["StringEquals"]
    config = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    assert config["Origins"][0]["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    headers = resources["ConsoleHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert "frame-ancestors 'none'" in headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    # /config.json points the console at this stage's API.
    [config_route] = config["CacheBehaviors"]
    assert config_route["PathPattern"] == "/config.json"
    assert "${RestAPI}.execute-api" in resources["ConsoleConfigFunction"]["Properties"]["FunctionCode"]["Fn::Sub"]


def _variables_read_in_config() -> set[str]:
    tree = ast.parse((ROOT / "chalicelib" / "config.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str) and node.args[0].value.isupper()
    }  # fmt: skip


@pytest.mark.parametrize("stage", STAGES)
def test_every_variable_a_lambda_receives_is_read_in_config(templates: dict[str, Template], stage: str) -> None:
    known = _variables_read_in_config() | LIBRARY_VARIABLES
    assert "KUOTA_APP_TABLE" in known and "KUOTA_CODE_KEYS_SECRET_ID" in known
    for name, function in _resources(templates[stage], "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert set(variables) <= known, (name, sorted(set(variables) - known))
        assert not [v for v in variables if v.endswith("_FILE")], name  # key files have no place on Lambda
        assert variables["KUOTA_STAGE"] == stage


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_in_the_app_has_its_resources(templates: dict[str, Template], stage: str) -> None:
    import app

    resources = templates[stage]["Resources"]
    expected = {"api_handler"} | {source.name for source in app.app.event_sources}
    assert expected == set(FUNCTIONS), "infra/stack.py FUNCTIONS must list every handler in app.py"
    for function in expected:
        name = cfn_name(function)
        properties = resources[name]["Properties"]
        assert properties["FunctionName"] == f"kuota-{stage}-{function.replace('_', '-')}"
        role = properties["Role"]["Fn::GetAtt"][0]
        assert resources[role]["Type"] == "AWS::IAM::Role"
        log_group = "ApiHandlerLogGroup" if function == "api_handler" else f"{name}LogGroup"
        assert resources[log_group]["Properties"]["RetentionInDays"] == (365 if stage == "prod" else 14)
        assert f"{name}ErrorsAlarm" in resources and f"{name}ThrottlesAlarm" in resources
    for source in app.app.event_sources:
        [event] = resources[cfn_name(source.name)]["Properties"]["Events"].values()
        if hasattr(source, "schedule_expression"):
            assert event == {"Type": "Schedule", "Properties": {"Schedule": str(source.schedule_expression)}}
        else:
            assert event["Type"] == "SQS"
            assert resources["BatchQueue"]["Properties"]["QueueName"] == f"kuota-{stage}-batches"
            assert str(getattr(source, "queue", "")).endswith("-batches")
    assert resources["APIHandler"]["Properties"]["Handler"] == "app.app"
    # The batch worker may consume its queue (the SQS event source mapping needs it).
    worker_role = resources[resources["IssueBatches"]["Properties"]["Role"]["Fn::GetAtt"][0]]
    [queue] = [s for p in worker_role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
               if s["Resource"] == [{"Fn::GetAtt": ["BatchQueue", "Arn"]}]]  # fmt: skip
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= set(queue["Action"])


@pytest.mark.parametrize("stage", STAGES)
def test_the_api_is_throttled_and_answers_cors_for_the_console_only(
    templates: dict[str, Template], stage: str
) -> None:
    api = templates[stage]["Resources"]["RestAPI"]["Properties"]
    [settings] = api["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    origin = "https://console.kuota.id" if stage == "prod" else "https://console.dev.kuota.id"
    origins = set()
    for path in api["DefinitionBody"]["paths"].values():
        options = path.get("options", {}).get("x-amazon-apigateway-integration", {})
        for response in options.get("responses", {}).values():
            origins.add(response["responseParameters"]["method.response.header.Access-Control-Allow-Origin"])
    assert origins == {f"'{origin}'"}


@pytest.mark.parametrize("stage", STAGES)
def test_alarms_watch_errors_throttles_the_batch_queue_and_redeem_failures(
    templates: dict[str, Template], stage: str
) -> None:
    resources = templates[stage]["Resources"]
    alarms = _resources(templates[stage], "AWS::CloudWatch::Alarm")
    assert {"Api5xxAlarm", "AppTableThrottleAlarm", "BatchQueueAgeAlarm", "BatchDeadLetterAlarm",
            "RedeemFailureAlarm"} <= set(alarms)  # fmt: skip
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    dlq = resources["BatchQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
    assert dlq == {"Fn::GetAtt": ["BatchDeadLetterQueue", "Arn"]}
    pattern = resources["RedeemFailureFilter"]["Properties"]["FilterPattern"]
    assert '$.route = "/v1/redeem"' in pattern and "$.status >= 400" in pattern
    for group in _resources(templates[stage], "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] > 0
