"""`import app` leaves the heavy modules unloaded; the requests that need them load them.

Each check runs in a fresh interpreter with the suite's configuration, since this
process has long imported everything. Nothing here reaches storage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCHEMA_MODULES = ["chalicelib.api.schemas", "chalicelib.api.sales_schemas", "chalicelib.api.report_schemas"]
# What a request needs: validation and the OpenAPI document, and the request log.
REQUEST_MODULES = ["pydantic", "email_validator", "zoneinfo", "aws_lambda_powertools", *SCHEMA_MODULES]
# What the services need: their modules, storage models, password hashing, the AWS SDK.
SERVICE_MODULES = [
    "chalicelib.services.accounts",
    "chalicelib.services.redeeming",
    "chalicelib.models",
    "argon2",
    "botocore",  # the AWS SDK's core, under PynamoDB; boto3 itself loads only where a secret is read
]
# What making codes needs (FF3-1 on pycryptodome's AES).
CODE_MODULES = ["ff3", "Crypto"]
LAZY = REQUEST_MODULES + SERVICE_MODULES + CODE_MODULES

CHILD = """
import json, sys

lazy = json.loads(sys.argv[1])
loaded = {}

def record(stage):
    loaded[stage] = sorted(name for name in lazy if name in sys.modules)

import app
record("import app")

import os
from chalice.test import Client

@app.app.route("/_test/env")  # what a request sees: no Chalice stage's environment over the suite's
def _env():
    return {"jwt_keys_file": os.environ.get("KUOTA_JWT_KEYS_FILE")}

with Client(app.app, stage_name="test") as client:  # not dev: its environment points the keys at .kuota/
    seen = client.http.get("/_test/env").json_body["jwt_keys_file"]
    assert seen == os.environ["KUOTA_JWT_KEYS_FILE"], seen
    assert client.http.get("/v1/openapi.json").status_code == 200
    record("GET /v1/openapi.json")
    # A bad token is refused by the account service, built on this first call, before any read.
    assert client.http.get("/v1/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    record("GET /v1/me")

from chalicelib.codes import CodeGenerator, CodeShape

CodeGenerator("org", CodeShape())
record("CodeGenerator")
print(json.dumps(loaded))
"""


def _loaded_by_stage() -> dict[str, list[str]]:
    env = dict(os.environ)  # the KUOTA_* settings tests/conftest.py put in place
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(LAZY)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_import_app_loads_no_heavy_module_and_requests_load_what_they_need() -> None:
    loaded = _loaded_by_stage()
    assert loaded["import app"] == []
    assert set(REQUEST_MODULES) <= set(loaded["GET /v1/openapi.json"])
    assert set(SERVICE_MODULES) <= set(loaded["GET /v1/me"])
    assert set(LAZY) == set(loaded["CodeGenerator"])
