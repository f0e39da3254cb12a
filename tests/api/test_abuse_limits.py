"""Abuse limits, each hit and answered with its documented 4xx: security headers, page sizes, batch size and the
issue rate, fields a caller may not set (mass assignment). Body size and redeem brute force have their tests
beside their features (test_validation.py, test_redeem.py, test_alerts.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.api import deps
from chalicelib.api.http import ROUTES, SECURITY_HEADERS
from chalicelib.auth.roles import PLATFORM_ONLY
from chalicelib.config import get_settings
from tests.api.local_server import LocalServer
from tests.support import MAC, Api, FakeClock, Venue, World, audit_events, dump_app_table, issue


def _has_security_headers(headers: dict[str, str]) -> bool:
    lowered = {name.lower(): value for name, value in headers.items()}
    expected = {name.lower(): value for name, value in SECURITY_HEADERS.items() if name != "Cache-Control"}
    return all(lowered.get(name) == value for name, value in expected.items())


def test_every_kind_of_answer_carries_the_security_headers(api: Api, world: World, venue: Venue) -> None:
    owner = venue.tenant.owner.token
    org = venue.tenant.org_id
    answers = {
        "ok": api.get("/v1/me", token=owner),
        "no credential": api.get("/v1/me"),
        "validation error": api.post(f"/v1/orgs/{org}/sites", {"name": ""}, token=owner),
        "another tenant": api.get("/v1/orgs/not-mine/plans", token=owner),
        "csv": api.get(f"/v1/orgs/{org}/reports/sales?from=2026-01-01&to=2026-01-31&format=csv", token=owner),
        "public": api.get("/v1/openapi.json"),
    }
    assert [reply.status for reply in answers.values()] == [200, 401, 400, 404, 200, 200]
    for name, reply in answers.items():
        assert _has_security_headers(reply.headers), name
        assert reply.headers.get("cache-control", reply.headers.get("Cache-Control")) == "no-store", name
    # A public, cacheable answer keeps its own Cache-Control (the brand is read by every guest page).
    brand = api.get("/v1/brand")
    assert _has_security_headers(brand.headers)
    assert "max-age" in {k.lower(): v for k, v in brand.headers.items()}["cache-control"]


def test_the_local_server_sends_them_too(server: LocalServer) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/v1/me")
        response = connection.getresponse()
        response.read()
        assert response.status == 401
        assert _has_security_headers(dict(response.getheaders()))
    finally:
        connection.close()


def _limit_bound(schema: dict[str, Any]) -> int | None:
    prop = schema.get("properties", {}).get("limit")
    return None if prop is None else prop.get("maximum")


def test_every_page_size_has_a_bound_and_one_past_it_is_a_400(api: Api, world: World, venue: Venue) -> None:
    paged = [spec for spec in ROUTES if spec.query is not None and "limit" in spec.query.load().model_fields]
    assert {spec.path for spec in paged} >= {
        "/v1/orgs/{org_id}/audit", "/v1/orgs/{org_id}/alerts", "/v1/orgs/{org_id}/sales", "/v1/orgs/{org_id}/batches",
        "/v1/orgs/{org_id}/orders", "/v1/orgs/{org_id}/shifts", "/v1/orgs", "/v1/platform/settlements",
    }  # fmt: skip
    for spec in paged:
        # The platform's own lists are a platform admin's to read; every other, the owner's.
        token = world.admin.token if spec.roles == PLATFORM_ONLY else venue.tenant.owner.token
        schema = spec.query.load().model_json_schema(by_alias=True)  # type: ignore[union-attr]
        bound = _limit_bound(schema)
        assert bound is not None and bound <= 500, f"{spec.path}: an unbounded page size"
        params: dict[str, object] = {"limit": bound + 1}
        if "from" in schema.get("required", []):
            params.update({"from": "2026-01-01", "to": "2026-01-02"})
        query = "&".join(f"{name}={value}" for name, value in params.items())
        reply = api.get(f"{spec.path.format(org_id=venue.tenant.org_id)}?{query}", token=token)
        assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "limit")
        params["limit"] = bound
        query = "&".join(f"{name}={value}" for name, value in params.items())
        assert api.get(f"{spec.path.format(org_id=venue.tenant.org_id)}?{query}", token=token).status == 200


def test_a_path_parameter_longer_than_any_id_is_a_400_naming_it_on_every_route(
    api: Api, world: World, venue: Venue
) -> None:
    """Over DynamoDB's 1,024 bytes for a sort key such an id made the lookup's query fail: a 500 (`make fuzz`)."""
    tenant = venue.tenant
    _, pos_key = world.key(tenant, venue.site_a, kind="pos")
    credentials = [world.admin.token, tenant.owner.token, venue.controller_a, pos_key, None]
    too_long = quote("Ṱ̺̺o͞ " * 120)  # letters under combining marks: 1,320 bytes
    routed = [spec for spec in ROUTES if "{" in spec.path]
    assert len(routed) > 40
    for spec in routed:
        names = re.findall(r"\{(\w+)\}", spec.path)
        headers = {"Content-Type": spec.content_types[0]} if spec.content_types else None
        path = spec.path.format(**dict.fromkeys(names, too_long))
        replies = [api.call(spec.method, path, token=token, headers=headers) for token in credentials]
        assert all(reply.status < 500 for reply in replies), f"{spec.method} {spec.path}"
        # Whoever gets past authentication is told which parameter is wrong.
        answered = [reply for reply in replies if reply.status not in (401, 403)]
        assert answered, f"{spec.method} {spec.path}: no caller was admitted"
        for reply in answered:
            assert (reply.status, reply.error_code) == (400, "validation_error"), f"{spec.method} {spec.path}"
            assert reply.json["error"]["field"] in names
    ok = api.get(f"/v1/orgs/{tenant.org_id}/sites/{'s' * 256}", token=tenant.owner.token)
    assert ok.status == 404  # as long as the limit allows: looked up, and not found


def test_a_batch_larger_than_the_largest_is_a_400(api: Api, world: World, venue: Venue) -> None:
    plan_id = world.plan(venue.tenant)
    path = f"/v1/orgs/{venue.tenant.org_id}/batches"
    for quantity in (0, 100_001):
        reply = api.post(path, {"plan_id": plan_id, "quantity": quantity}, token=venue.tenant.owner.token)
        assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "quantity")


@pytest.fixture
def issue_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, FakeClock]]:
    """A per-hour issue budget a test can spend (production's is 200,000 vouchers), on a clock it moves."""
    monkeypatch.setenv("KUOTA_ISSUE_MAX_VOUCHERS_PER_HOUR", "30")
    get_settings.cache_clear()
    # From now: tokens are signed on this clock but checked on the real one (PyJWT).
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    deps.configure(clock=clock, monotonic=clock.monotonic)
    yield 30, clock
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_issue_rate_per_organization(
    api: Api, world: World, venue: Venue, issue_limit: tuple[int, FakeClock]
) -> None:
    limit, clock = issue_limit
    plan_id = world.plan(venue.tenant)
    path = f"/v1/orgs/{venue.tenant.org_id}/batches"

    def batch(quantity: int, token: str = venue.tenant.owner.token, at: str = path) -> Any:
        return api.post(at, {"plan_id": plan_id, "quantity": quantity}, token=token)

    assert batch(20).status == 201
    before = dump_app_table()
    refused = batch(limit - 20 + 1)  # one more than is left this hour
    assert (refused.status, refused.error_code, refused.json["error"]["field"]) == (429, "rate_limited", "quantity")
    assert str(limit) in refused.json["error"]["message"]
    to_the_hour = 3600 - int(clock.now.timestamp()) % 3600
    assert int(refused.headers["Retry-After"]) == to_the_hour  # the hour's window ends at :00
    assert dump_app_table() == before  # refused: nothing written, nothing spent
    assert batch(limit - 20).status == 201  # exactly the budget
    assert batch(1).status == 429
    created = [event for event in audit_events(venue.tenant.org_id) if event["action"] == "batch.create"]
    assert len(created) == 2

    # Another organization has its own budget; the next hour refills this one.
    other = world.org("Warnet Lain")
    other_plan = world.plan(other)
    reply = api.post(f"/v1/orgs/{other.org_id}/batches", {"plan_id": other_plan, "quantity": limit},
                     token=other.owner.token)  # fmt: skip
    assert reply.status == 201
    clock.advance(to_the_hour)
    assert batch(limit).status == 201


# Fields a caller may not set on these requests: each is a 400 naming it, and nothing is written.
MASS_ASSIGNMENT: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("POST", "/v1/pos/sales", "pos", {"quantity": 1, "price": 1}, "price"),
    ("POST", "/v1/pos/sales", "pos", {"quantity": 1, "sold_at": "2026-01-01T00:00:00Z"}, "sold_at"),
    ("POST", "/v1/pos/sales", "pos", {"quantity": 1, "org_id": "another"}, "org_id"),
    ("POST", "/v1/orgs/{org}/sales", "owner", {"site_id": "{site}", "quantity": 1, "price": 0}, "price"),
    ("POST", "/v1/orgs/{org}/sites", "owner", {"name": "Kios", "timezone": "Asia/Jakarta", "org_id": "x"}, "org_id"),
    ("PATCH", "/v1/orgs/{org}/sites/{site}", "owner", {"status": "suspended"}, "status"),
    ("POST", "/v1/orgs/{org}/plans", "owner",
     {"name": "P", "price": 1000, "duration_minutes": 60, "validity_days": 1, "org_id": "x"}, "org_id"),
    ("PATCH", "/v1/orgs/{org}/plans/{plan}", "owner", {"status": "archived"}, "status"),
    ("POST", "/v1/orgs/{org}/batches", "owner", {"quantity": 1, "status": "done"}, "status"),
    ("POST", "/v1/orgs/{org}/vouchers/{code}/extend", "owner", {"minutes": 5, "reason": "r", "status": "active"},
     "status"),
    ("POST", "/v1/orgs/{org}/vouchers/{code}/revoke", "owner",
     {"reason": "r", "sold_at": "2026-01-01T00:00:00Z"}, "sold_at"),
    ("PATCH", "/v1/orgs/{org}", "owner", {"pos_only_sales": True, "org_id": "another"}, "org_id"),
    ("PATCH", "/v1/orgs/{org}/users/{user}", "owner", {"org_id": "another"}, "org_id"),
    ("POST", "/v1/orgs/{org}/users", "owner",
     {"email": "x@example.com", "password": "long enough password", "role": "platform_admin"}, "role"),
    ("POST", "/v1/orgs/{org}/sites/{site}/keys", "owner", {"kind": "pos", "name": "k", "role": "owner"}, "role"),
    ("POST", "/v1/redeem", "controller", {"code": "ABCD-EFGH", "mac": MAC, "status": "active"}, "status"),
]  # fmt: skip


def test_fields_a_caller_may_not_set_are_refused_by_name(api: Api, world: World, venue: Venue) -> None:
    tenant = venue.tenant
    plan_id = world.plan(tenant)
    (code,) = issue(api, world, venue)
    _, pos_key = world.key(tenant, venue.site_a, "pos")
    cashier = world.member(tenant, "cashier")
    tokens = {"owner": tenant.owner.token, "pos": pos_key, "controller": venue.controller_a}
    for method, path, who, body, field in MASS_ASSIGNMENT:
        url = path.format(org=tenant.org_id, site=venue.site_a, plan=plan_id, code=code, user=cashier.user_id)
        sent = {**({"plan_id": plan_id} if "quantity" in body else {}),
                **{name: venue.site_a if value == "{site}" else value for name, value in body.items()}}  # fmt: skip
        before = dump_app_table()
        reply = api.call(method, url, json_body=sent, token=tokens[who],
                         headers={"Idempotency-Key": "mass-assignment-1"})  # fmt: skip
        assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", field), url
        assert field in reply.json["error"]["message"]
        assert dump_app_table() == before, url


def test_collections_listed_whole_have_a_cap(
    api: Api, world: World, venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sites, users, plans, NASes and keys are listed on one page: a create past the cap is a 409, writing nothing."""
    from chalicelib.services import accounts, keys, nas, plans, sites

    tenant, owner = venue.tenant, venue.tenant.owner.token
    org = f"/v1/orgs/{tenant.org_id}"
    plan_body = {"name": "P", "price": 1000, "duration_minutes": 60, "validity_days": 1}
    user_body = {"email": "one-more@example.com", "password": "long enough password", "role": "cashier"}
    cases: list[tuple[Any, str, str, dict[str, Any], str]] = [
        (sites, "MAX_SITES_PER_ORG", f"{org}/sites", {"name": "C", "timezone": "Asia/Jakarta"}, "sites"),
        (accounts, "MAX_USERS_PER_ORG", f"{org}/users", user_body, "users"),
        (plans, "MAX_PLANS_PER_ORG", f"{org}/plans", plan_body, "plans"),
        (nas, "MAX_NAS_PER_SITE", f"{org}/sites/{venue.site_a}/nas", {"name": "n", "nas_ip": "10.0.0.9"}, "NAS"),
        (keys, "MAX_ACTIVE_KEYS", f"{org}/sites/{venue.site_a}/keys", {"kind": "pos", "name": "k"}, "active keys"),
    ]
    world.plan(tenant)
    for module, cap, path, body, what in cases:
        held = {"sites": 2, "users": 1, "plans": 1, "NAS": 0, "active keys": 1}[what]  # what the venue has
        monkeypatch.setattr(module, cap, held + 1)
        assert api.post(path, body, token=owner).status == 201, path
        before = dump_app_table()
        again = {**body, "email": "two-more@example.com", "nas_ip": "10.0.0.10"}  # not refused as a duplicate
        reply = api.post(path, {name: again[name] for name in body}, token=owner)
        assert (reply.status, reply.error_code) == (409, "conflict"), path
        assert f"already has {held + 1} {what}" in reply.json["error"]["message"]
        assert dump_app_table() == before
    # A revoked key no longer counts.
    key_id = api.get(f"{org}/sites/{venue.site_a}/keys", token=owner).json["keys"][-1]["key_id"]
    assert api.call("DELETE", f"{org}/sites/{venue.site_a}/keys/{key_id}", token=owner).status == 204
    assert api.post(f"{org}/sites/{venue.site_a}/keys", {"kind": "pos", "name": "k"}, token=owner).status == 201
