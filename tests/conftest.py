"""Test harness: the AWS emulator through pytest-localstack, the API in-process.

Storage is a moto server started in this process and reached through
pytest-localstack's `RunningSession`; set LOCALSTACK_HOST to run the same suite
against LocalStack instead. Items are removed after every test, so tests are
independent.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Configuration must be in place before chalicelib reads it at import time.
_KEYS_DIR = tempfile.mkdtemp(prefix="kuota-test-keys-")
os.environ.update(
    {
        "KUOTA_STAGE": "test",
        "KUOTA_JWT_KEYS_FILE": str(Path(_KEYS_DIR) / "jwt-keys.json"),
        "KUOTA_CODE_KEYS_FILE": str(Path(_KEYS_DIR) / "code-keys.json"),
        "KUOTA_TRUST_FORWARDED_FOR": "true",
        # A cheaper argon2id profile keeps the suite fast; production uses the defaults.
        "KUOTA_PASSWORD_TIME_COST": "1",
        "KUOTA_PASSWORD_MEMORY_KIB": "8192",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("KUOTA_JWT_KEYS_SECRET_ID", None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from pytest_localstack.session import RunningSession  # noqa: E402

from tests.support import Api, FakeClock, World  # noqa: E402

SERVICES = ["dynamodb", "secretsmanager", "s3"]
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log


def _start_session() -> tuple[RunningSession, object | None]:
    host = os.environ.get("LOCALSTACK_HOST")
    if host:
        hostname, _, edge_port = host.partition(":")
        session = RunningSession(hostname, services={name: int(edge_port or 4566) for name in SERVICES})
        return session, None
    from infra.emulator import start_emulator

    server, port = start_emulator()
    session = RunningSession("127.0.0.1", services={name: port for name in SERVICES})
    return session, server


@pytest.fixture(scope="session")
def aws() -> Iterator[RunningSession]:
    session, server = _start_session()
    session.start(timeout=60)
    os.environ["AWS_ENDPOINT_URL"] = session.endpoint_url("dynamodb")
    from chalicelib.models.tables import ensure_tables

    ensure_tables()
    yield session
    session.stop()
    if server is not None:
        server.stop()  # type: ignore[attr-defined]


def _wipe_tables() -> None:
    """Test-only maintenance: scans are fine here, never in the application."""
    from chalicelib.config import get_settings

    settings = get_settings()
    client = boto3.client("dynamodb")
    for table, keys in (
        (settings.app_table, ("PK", "SK")),
        (settings.audit_table, ("PK", "SK")),
        (settings.idempotency_table, ("id",)),
    ):
        names = {f"#{k}": k for k in keys}
        deletes = [
            {"DeleteRequest": {"Key": {k: item[k] for k in keys}}}
            for page in client.get_paginator("scan").paginate(
                TableName=table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
            )
            for item in page["Items"]
        ]
        for start in range(0, len(deletes), 25):
            pending = deletes[start : start + 25]
            while pending:
                response = client.batch_write_item(RequestItems={table: pending})
                pending = response.get("UnprocessedItems", {}).get(table, [])


@pytest.fixture(autouse=True)
def _fresh_state(aws: RunningSession) -> Iterator[None]:
    from chalicelib.api import deps

    deps.configure()
    yield
    _wipe_tables()


@pytest.fixture
def clock() -> FakeClock:
    """Time the test moves by hand, for every service (tokens stay valid: PyJWT uses real time)."""
    from chalicelib.api import deps

    clock = FakeClock()
    deps.configure(clock=clock, monotonic=clock.monotonic)
    return clock


@pytest.fixture
def api() -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield Api(client)


@pytest.fixture
def world(api: Api) -> World:
    return World(api)
