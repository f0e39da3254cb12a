"""Log lines are JSON with a request id and never carry a secret."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from chalicelib.observability import get_logger
from tests.support import PASSWORD, Api, World


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the Powertools handler writes (it holds its own reference to stdout)."""
    logger = get_logger()
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def test_logs_are_structured_and_free_of_secrets(api: Api, world: World, log_output: io.StringIO) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    _, api_key = world.key(tenant, site_id)
    api.get("/v1/keys/self", token=api_key)
    api.login(tenant.owner.email, "a wrong password")
    refreshed = api.post("/v1/auth/refresh", {"refresh_token": tenant.owner.refresh_token}).json
    api.get("/v1/me", token=refreshed["access_token"])

    output = log_output.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("message") == "request"]
    assert len(requests) >= 6
    assert all(line["request_id"] and line["route"] and line["status"] for line in requests)
    for secret in (PASSWORD, "a wrong password", api_key, tenant.owner.refresh_token, refreshed["access_token"],
                   refreshed["refresh_token"], tenant.owner.token):  # fmt: skip
        assert secret not in output


def test_each_line_is_written_once_as_json(api: Api) -> None:
    """Chalice's own plain-text handler would write every line a second time ("kuota - INFO - request")."""
    import logging

    api.get("/v1/openapi.json")
    assert logging.getLogger("kuota").handlers == [get_logger().registered_handler]
