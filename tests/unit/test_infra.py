"""The stage description matches what the code expects; deploy commands refuse without AWS; keys rotate in steps.

The synthesised templates themselves are checked in tests/e2e/test_package.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.auth.signing_keys import new_key_document, parse_key_set
from infra.deploy import rotated_jwt_keys
from infra.stack import AUDIT_ALLOWED, FUNCTIONS, function_policy, stage_spec, tables

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_may_only_append_to_and_query_the_audit_table(function: str) -> None:
    policy = function_policy(stage_spec("prod"), function)
    for statement in policy["Statement"]:
        on_audit = "AuditTable" in json.dumps(statement["Resource"])
        if statement["Effect"] == "Allow" and on_audit:
            assert set(statement["Action"]) <= set(AUDIT_ALLOWED)
        assert not any(action.endswith("Scan") or "*" in action for action in statement["Action"])


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_only_the_api_writes_venues_payment_keys_and_only_under_the_stages_payments_path(function: str) -> None:
    """Owners connect accounts through the API; the reconciler only reads the keys; nothing else touches them."""
    statements = [s for s in function_policy(stage_spec("prod"), function)["Statement"] if s["Sid"] == "MerchantKeys"]
    expected = {
        "api_handler": ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue",
                        "secretsmanager:PutSecretValue"],
        "reconcile_payments": ["secretsmanager:GetSecretValue"],
    }.get(function)  # fmt: skip
    if expected is None:
        assert statements == []
        return
    (statement,) = statements
    assert statement["Action"] == expected
    arn = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:kuota/prod/payments/*"
    assert statement["Resource"] == [{"Fn::Sub": arn}]


def test_declared_tables_match_the_models() -> None:
    from chalicelib.models import AppTable

    app = tables(stage_spec("prod"))["AppTable"]["Properties"]
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["environment_variables"]
    assert app["TableName"] == f"kuota-{config['KUOTA_STAGE']}-app"
    assert {k["AttributeName"]: k["KeyType"] for k in app["KeySchema"]} == {
        AppTable.pk.attr_name: "HASH", AppTable.sk.attr_name: "RANGE"
    }
    declared = {index["IndexName"] for index in app["GlobalSecondaryIndexes"]}
    assert declared == {index.Meta.index_name for index in AppTable._indexes.values()}


def test_jwt_keys_rotate_in_three_steps_without_a_gap() -> None:
    first = new_key_document()
    old_kid = parse_key_set(first).active_kid
    added = rotated_jwt_keys(first, "add")
    assert parse_key_set(added).active_kid == old_kid and len(json.loads(added)["keys"]) == 2
    activated = parse_key_set(rotated_jwt_keys(added, "activate"))
    assert activated.active_kid != old_kid and activated.verification_key(old_kid) is not None
    retired = parse_key_set(rotated_jwt_keys(rotated_jwt_keys(added, "activate"), "retire"))
    assert set(retired.private_keys) == {activated.active_kid}


def test_deploy_refuses_without_aws_credentials(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true", AWS_REGION="ap-southeast-3")  # fmt: skip
    for command in (["deploy", "--stage", "prod"], ["destroy", "--stage", "dev"]):
        run = subprocess.run(
            [sys.executable, "-m", "infra.deploy", *command], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert run.returncode == 2, run.stdout + run.stderr
        assert "No AWS credentials" in run.stderr and "Nothing was changed" in run.stderr


def test_deploy_refuses_to_target_an_emulator() -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
    run = subprocess.run(
        [sys.executable, "-m", "infra.deploy", "keys", "--stage", "dev"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "emulator" in run.stderr
