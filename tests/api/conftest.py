"""Fixtures for the API tests: fresh tables, the app in-process, a world of tenants, a clock, a venue."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import boto3
import pytest
from pytest_localstack.session import RunningSession

from tests.api.local_server import LocalServer
from tests.support import TEST_STAGE, Api, FakeClock, Providers, Venue, World


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

    # A stage .chalice/config.json does not define: Chalice's test client puts a stage's environment
    # variables in place for each call, and dev's point the keys at the developer's .kuota/.
    with Client(app, stage_name=TEST_STAGE) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def providers(aws: RunningSession) -> Iterator[Providers]:
    """Fake Midtrans and Xendit for the whole session; the app reaches them through the base-URL settings."""
    import os

    from chalicelib.config import get_settings
    from tests.fakes.midtrans import FakeMidtrans
    from tests.fakes.xendit import FakeXendit

    fakes = Providers(FakeMidtrans(), FakeXendit())
    os.environ["KUOTA_MIDTRANS_API_URL"] = fakes.midtrans.start()
    os.environ["KUOTA_XENDIT_API_URL"] = fakes.xendit.start()
    get_settings.cache_clear()
    yield fakes
    fakes.midtrans.stop()
    fakes.xendit.stop()
    del os.environ["KUOTA_MIDTRANS_API_URL"], os.environ["KUOTA_XENDIT_API_URL"]
    get_settings.cache_clear()


@pytest.fixture
def world(api: Api, providers: Providers) -> World:
    providers.deliver_to(api)
    return World(api, providers)


@pytest.fixture
def venue(world: World) -> Venue:
    """An org with sites A and B, each with a controller key."""
    tenant = world.org()
    site_a, site_b = world.site(tenant, "A"), world.site(tenant, "B")
    key_a, controller_a = world.key(tenant, site_a)
    _, controller_b = world.key(tenant, site_b)
    return Venue(tenant, site_a, site_b, controller_a, controller_b, key_a)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """The local API server (`make dev`'s) on a free port, in this process: the same app and services (and
    injected clock) as the test; what real FreeRADIUS in front of it reaches."""
    from infra.api_server import DEFAULT_THREADS, build_server

    monkeypatch.setenv("KUOTA_AWS_MAX_POOL_CONNECTIONS", "8")  # build_server sets it; put it back afterwards
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # As many workers as `make dev`'s: FreeRADIUS keeps a connection per busy thread alive, each holding one.
    local = build_server(port, "test", threads=DEFAULT_THREADS)
    thread = threading.Thread(target=local.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalServer(port)
    finally:
        local.server.shutdown()
        local.server.server_close()
        thread.join(timeout=10)
