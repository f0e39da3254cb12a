"""The audit trail: one complete event per state change, and reading it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

import app  # noqa: F401  (registers every route)
from chalicelib.api.http import ROUTES, RouteSpec
from chalicelib.config import get_settings
from tests.api.catalog import call, route_id, targets
from tests.support import PASSWORD, Api, World, audit_events

ALWAYS_PRESENT = (
    "event_id", "at", "actor_kind", "action", "target_type", "request_id", "source_ip", "user_agent",
)  # fmt: skip
AS_A_USER = ("actor_id", "actor_role", "actor_name", "org_id", "target_id")  # the name: who, as people say it


def _all_events() -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = client.scan(TableName=get_settings().audit_table)["Items"]
    return items


def _state_changing_user_routes() -> list[RouteSpec]:
    return [spec for spec in ROUTES if spec.method != "GET" and spec.auth == "user"]


def _assert_complete(event: dict[str, Any], *, platform: bool = False) -> None:
    for name in ALWAYS_PRESENT + AS_A_USER:
        if platform and name == "org_id":
            continue  # the platform's own objects (its radius keys) belong to no organisation
        assert event.get(name) not in (None, ""), f"{event['action']}: {name} missing"
    assert "after" in event or "before" in event


@pytest.mark.parametrize("spec", _state_changing_user_routes(), ids=route_id)
def test_each_state_change_writes_exactly_one_complete_event(api: Api, world: World, spec: RouteSpec) -> None:
    tenant = world.org()
    target = targets(world, tenant, spec)
    on_platform = "{org_id}" not in spec.path or spec.path.startswith("/v1/platform/")
    token = world.admin.token if on_platform else tenant.owner.token
    before = {item["SK"]["S"] for item in _all_events()}

    reply = call(api, spec, target, token)
    assert reply.status < 300, reply.body

    new = [item for item in _all_events() if item["SK"]["S"] not in before]
    assert len(new) == 1, [item["action"]["S"] for item in new]
    # The platform's own objects are in its trail; an org's share, set by the platform, in the org's.
    platform = spec.path.startswith("/v1/platform/") and "{org_id}" not in spec.path
    org_id = reply.json["org_id"] if spec.path == "/v1/orgs" else None if platform else tenant.org_id
    (event,) = [e for e in audit_events(org_id) if e["event_id"] == new[0]["event_id"]["S"]]
    _assert_complete(event, platform=platform)
    assert event["user_agent"] == "kuota-tests/1.0"
    assert event["request_id"] == reply.headers["X-Request-Id"]


@pytest.mark.parametrize("path", ["/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"])
def test_sign_in_routes_write_exactly_one_event(api: Api, world: World, path: str) -> None:
    tenant = world.org()
    body = {"email": tenant.owner.email, "password": PASSWORD}
    if path != "/v1/auth/login":
        body = {"refresh_token": tenant.owner.refresh_token}
    count = len(_all_events())
    reply = api.post(path, body, headers={"X-Forwarded-For": "198.51.100.20"})
    assert reply.status < 300
    assert len(_all_events()) == count + 1
    event = audit_events(tenant.org_id)[-1]
    _assert_complete(event)
    assert event["source_ip"] == "198.51.100.20"


def test_secrets_never_reach_the_audit_trail(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    _, api_key = world.key(tenant, site_id)
    api.post("/v1/auth/refresh", {"refresh_token": tenant.owner.refresh_token})
    dump = str(_all_events())
    for secret in (PASSWORD, api_key, api_key.split("_", 2)[2], tenant.owner.refresh_token, tenant.owner.token):
        assert secret not in dump


def test_owner_and_auditor_read_the_log_with_filters(api: Api, world: World) -> None:
    tenant = world.org()
    auditor = world.member(tenant, "auditor")
    world.site(tenant, "Satu")
    world.site(tenant, "Dua")
    path = f"/v1/orgs/{tenant.org_id}/audit"

    everything = api.get(path, token=auditor.token)
    assert everything.status == 200
    times = [event["at"] for event in everything.json["events"]]
    assert times == sorted(times, reverse=True)  # newest first

    sites = api.get(f"{path}?action=site.create", token=auditor.token).json["events"]
    assert [event["after"]["name"] for event in sites] == ["Dua", "Satu"]

    mine = api.get(f"{path}?actor={tenant.owner.user_id}", token=tenant.owner.token).json["events"]
    assert mine and all(event["actor_id"] == tenant.owner.user_id for event in mine)

    today = datetime.now(UTC).date().isoformat()
    assert len(api.get(f"{path}?from={today}&to={today}", token=auditor.token).json["events"]) == len(times)
    assert api.get(f"{path}?to=2020-01-01", token=auditor.token).json["events"] == []

    assert api.get(path, token=world.member(tenant, "cashier").token).status == 403


def test_the_log_pages_with_a_cursor(api: Api, world: World) -> None:
    tenant = world.org()
    for name in ("A", "B", "C", "D", "E"):
        world.site(tenant, name)
    path = f"/v1/orgs/{tenant.org_id}/audit?action=site.create&limit=2"
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        reply = api.get(path + (f"&cursor={cursor}" if cursor else ""), token=tenant.owner.token)
        seen += [event["after"]["name"] for event in reply.json["events"]]
        cursor = reply.json["next_cursor"]
        if not cursor:
            break
    assert seen == ["E", "D", "C", "B", "A"]


def test_a_cursor_from_another_org_is_rejected(api: Api, world: World) -> None:
    first, second = world.org("A"), world.org("B")
    world.site(first)
    world.site(first)
    page = api.get(f"/v1/orgs/{first.org_id}/audit?limit=1", token=first.owner.token).json
    reply = api.get(f"/v1/orgs/{second.org_id}/audit?cursor={page['next_cursor']}", token=second.owner.token)
    assert (reply.status, reply.error_code) == (400, "validation_error")
    # A cursor of other days: its key lies outside the range asked (DynamoDB would refuse it: a 500).
    reply = api.get(f"/v1/orgs/{first.org_id}/audit?from=2020-01-01&to=2020-01-02&cursor={page['next_cursor']}",
                    token=first.owner.token)  # fmt: skip
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def test_changes_outside_business_hours_are_flagged(api: Api, world: World) -> None:
    tenant = world.org()
    local_now = datetime.now(ZoneInfo("Asia/Makassar"))
    closed = {"opens": _hhmm(local_now + timedelta(hours=1)), "closes": _hhmm(local_now + timedelta(hours=2))}
    open_now = {"opens": _hhmm(local_now - timedelta(hours=1)), "closes": _hhmm(local_now + timedelta(hours=1))}
    reply = api.post(
        f"/v1/orgs/{tenant.org_id}/sites",
        {"name": "Kios", "timezone": "Asia/Makassar", "business_hours": closed},
        token=tenant.owner.token,
    )
    site_id = reply.json["site_id"]
    world.key(tenant, site_id)
    api.patch(f"/v1/orgs/{tenant.org_id}/sites/{site_id}", {"business_hours": open_now}, token=tenant.owner.token)
    world.key(tenant, site_id)
    flags = [e["off_hours"] for e in audit_events(tenant.org_id) if e["action"] == "api_key.create"]
    assert flags == [True, False]
