"""`make keys` fills every secret of a stage that still holds the deploy-time placeholder, and never overwrites keys.

Against the suite's moto Secrets Manager (the `aws` session fixture).
"""

from __future__ import annotations

import dataclasses
import json
import uuid

import boto3
from pytest_localstack.session import RunningSession

from infra import deploy
from infra.stack import SECRETS, stage_spec


def test_every_secret_is_filled_once(aws: RunningSession) -> None:
    spec = dataclasses.replace(stage_spec("dev"), name=f"fill{uuid.uuid4().hex[:6]}")  # a stage of the test's own
    client = boto3.client("secretsmanager")
    placeholder = json.dumps({"uninitialised": True})
    names = [spec.secret_name(suffix) for suffix, _ in SECRETS.values()]
    for name in names:
        client.create_secret(Name=name, SecretString=placeholder)
    deploy.fill_keys(spec)
    filled = {name: client.get_secret_value(SecretId=name)["SecretString"] for name in names}
    assert placeholder not in filled.values()
    assert filled[spec.secret_name("ledger-key")].startswith("-----BEGIN PRIVATE KEY-----")
    deploy.fill_keys(spec)
    assert {name: client.get_secret_value(SecretId=name)["SecretString"] for name in names} == filled  # kept
