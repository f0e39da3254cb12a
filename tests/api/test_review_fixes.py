"""Races and edge cases found in review, each with the test that would have caught it."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api import deps
from chalicelib.models import RefreshToken, Voucher
from chalicelib.services.expiring import ExpiryService
from tests.support import MAC, Api, FakeClock, Venue, World, audit_events, dump_app_table, issue, redeem


def test_refresh_token_used_twice_at_the_same_moment_revokes_the_family(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = world.org()
    original_get = RefreshToken.get

    def get_then_lose_the_race(*args: Any, **kwargs: Any) -> RefreshToken:
        token = original_get(*args, **kwargs)
        twin = original_get(*args, **kwargs)  # the thief's request wins the write meanwhile
        twin.update(actions=[RefreshToken.used_at.set(deps.services().accounts._clock())])
        return token

    monkeypatch.setattr(RefreshToken, "get", get_then_lose_the_race)
    reply = api.post("/v1/auth/refresh", {"refresh_token": tenant.owner.refresh_token})
    assert (reply.status, reply.error_code) == (401, "unauthorized")
    assert "auth.token_family_revoked" in [e["action"] for e in audit_events(tenant.org_id)]


def test_revoke_that_loses_a_race_with_a_redeem_is_a_conflict(
    api: Api, world: World, venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code,) = issue(api, world, venue)
    service = deps.services().vouchers
    stale = service.find(venue.tenant.org_id, code)
    redeem(api, venue.controller_a, code)  # lands between the staff's read and write
    monkeypatch.setattr(service, "find", lambda org_id, code: stale)
    path = f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}/revoke"
    reply = api.post(path, {"reason": "lost"}, token=venue.tenant.owner.token)
    assert (reply.status, reply.error_code) == (409, "conflict")


def test_extending_a_used_up_usage_voucher_gives_connected_time(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    (code,) = issue(api, world, venue, duration_minutes=10, time_mode="usage")
    redeem(api, venue.controller_a, code)
    used_up = {"code": code, "mac": MAC, "session_id": "s1", "event": "stop", "session_time": 600}
    assert api.post("/v1/accounting", used_up, token=venue.controller_a).json["continue"] is False
    path = f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}/extend"
    assert api.post(path, {"minutes": 15, "reason": "outage"}, token=venue.tenant.owner.token).status == 200
    assert redeem(api, venue.controller_a, code).json["session_timeout"] == 15 * 60
    more = {**used_up, "session_id": "s2", "event": "interim", "session_time": 60}
    assert api.post("/v1/accounting", more, token=venue.controller_a).json["continue"] is True


def test_an_extended_voucher_is_no_longer_due_for_deletion(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    (code,) = issue(api, world, venue, duration_minutes=30)
    redeem(api, venue.controller_a, code)
    clock.advance(31 * 60)
    assert ExpiryService(clock).run(request_id="t").vouchers_expired == 1
    path = f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}/extend"
    assert api.post(path, {"minutes": 30, "reason": "outage"}, token=venue.tenant.owner.token).status == 200
    (item,) = [item for item in dump_app_table() if item["PK"]["S"].startswith("V#")]
    assert item["status"]["S"] == "active" and "ttl" not in item


def test_a_sale_can_be_voided_after_ttl_removed_one_of_its_vouchers(api: Api, world: World, venue: Venue) -> None:
    _, pos_key = world.key(venue.tenant, venue.site_a, kind="pos")
    plan_id = world.plan(venue.tenant)
    sale = api.post("/v1/pos/sales", {"plan_id": plan_id, "quantity": 2}, token=pos_key,
                    headers={"Idempotency-Key": "void-after-ttl"}).json  # fmt: skip
    first = next(item for item in dump_app_table() if item["PK"]["S"].startswith("V#"))
    Voucher(first["PK"]["S"], "META").delete()
    path = f"/v1/orgs/{venue.tenant.org_id}/sales/{sale['sale_id']}/void"
    assert api.post(path, {"reason": "refund"}, token=venue.tenant.owner.token).status == 200


def test_accounting_from_another_site_is_refused_for_a_site_bound_voucher(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue, site_id=venue.site_a)
    redeem(api, venue.controller_a, code)
    session = {"code": code, "mac": MAC, "session_id": "s1", "event": "start"}
    assert api.post("/v1/accounting", session, token=venue.controller_b).error_code == "invalid_code"
    assert api.post("/v1/accounting", session, token=venue.controller_a).status == 200


def test_absurdly_nested_json_is_a_400(api: Api, venue: Venue) -> None:
    reply = api.call("POST", "/v1/redeem", raw="[" * 60_000, token=venue.controller_a)
    assert (reply.status, reply.error_code) == (400, "validation_error")
