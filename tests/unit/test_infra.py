"""The deployed stage matches what the code expects, and the audit table stays append-only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.models import AppTable

ROOT = Path(__file__).resolve().parents[2]


def _json(path: str) -> Any:
    return json.loads((ROOT / path).read_text())


def test_the_lambda_role_may_only_append_to_and_query_the_audit_table() -> None:
    policy = _json(".chalice/policy-prod.json")
    grants: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            grants.setdefault(resource, set()).update(statement["Action"])
    audit = [resource for resource in grants if "kuota-prod-audit" in resource or resource == "*"]
    assert audit == ["arn:aws:dynamodb:*:*:table/kuota-prod-audit"]
    assert grants[audit[0]] == {"dynamodb:PutItem", "dynamodb:Query"}
    assert not any(action.endswith("Scan") for actions in grants.values() for action in actions)


def test_declared_tables_match_the_models() -> None:
    resources = _json("infra/resources.json")["Resources"]
    app = resources["AppTable"]["Properties"]
    config = _json(".chalice/config.json")["stages"]["prod"]["environment_variables"]
    assert app["TableName"] == f"kuota-{config['KUOTA_STAGE']}-app"
    keys = {k["AttributeName"]: k["KeyType"] for k in app["KeySchema"]}
    assert keys == {AppTable.pk.attr_name: "HASH", AppTable.sk.attr_name: "RANGE"}
    declared_indexes = {index["IndexName"] for index in app["GlobalSecondaryIndexes"]}
    model_indexes = {index.Meta.index_name for index in AppTable._indexes.values()}
    assert declared_indexes == model_indexes
    assert app["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert resources["AuditTable"]["DeletionPolicy"] == "Retain"
    assert resources["AuditTable"]["Properties"]["DeletionProtectionEnabled"] is True
