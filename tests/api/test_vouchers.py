"""Staff look up a voucher by its code, revoke it, or give time back."""

from __future__ import annotations

from typing import cast

import pytest

from chalicelib.api import deps
from chalicelib.models import Voucher
from chalicelib.services.expiring import ExpiryService
from tests.support import MAC, Api, FakeClock, Venue, World, audit_events, dump_app_table, issue, redeem


def path(venue: Venue, code: str, action: str = "") -> str:
    return f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}" + (f"/{action}" if action else "")


def test_lookup_shows_status_and_every_transition(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue, price=2000)
    cashier = world.member(venue.tenant, "cashier")
    fresh = api.get(path(venue, code.lower()), token=cashier.token)
    assert fresh.status == 200
    assert fresh.json["status"] == "issued" and fresh.json["plan"]["price"] == 2000
    assert [event["event"] for event in fresh.json["timeline"]] == ["issued"]

    redeem(api, venue.controller_a, code)
    used = api.get(path(venue, code), token=cashier.token).json
    assert used["status"] == "active" and used["devices_used"] == 1
    assert [event["event"] for event in used["timeline"]] == ["issued", "sold", "activated"]
    assert used["timeline"][-1]["site_id"] == venue.site_a
    assert api.get(path(venue, "NOPE-NOPE-NO"), token=cashier.token).status == 404


def test_revoke_stops_a_voucher_with_a_reason_and_an_audit_event(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue)
    redeem(api, venue.controller_a, code)
    reply = api.post(path(venue, code, "revoke"), {"reason": "guest refunded"}, token=venue.tenant.owner.token)
    assert reply.status == 200 and reply.json["status"] == "revoked"
    assert reply.json["timeline"][-1] | {"at": None} == {
        "at": None, "event": "revoked", "by": venue.tenant.owner.user_id, "role": "owner", "reason": "guest refunded"
    }  # fmt: skip
    refused = redeem(api, venue.controller_a, code)
    assert (refused.status, refused.error_code) == (410, "voucher_revoked")
    event = next(e for e in audit_events(venue.tenant.org_id) if e["action"] == "voucher.revoke")
    assert event["after"]["reason"] == "guest refunded" and event["before"]["status"] == "active"
    manager_cannot_be_cashier = world.member(venue.tenant, "cashier")
    denied = api.post(path(venue, code, "revoke"), {"reason": "x"}, token=manager_cannot_be_cashier.token)
    assert denied.status == 403


def test_extend_gives_time_back_to_a_running_voucher(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    (code,) = issue(api, world, venue, duration_minutes=60)
    redeem(api, venue.controller_a, code)
    reply = api.post(path(venue, code, "extend"), {"minutes": 30, "reason": "outage"}, token=venue.tenant.owner.token)
    assert reply.status == 200
    assert redeem(api, venue.controller_a, code).json["session_timeout"] == 90 * 60


def test_extend_revives_a_voucher_that_expired_during_an_outage(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    (code,) = issue(api, world, venue, duration_minutes=60)
    redeem(api, venue.controller_a, code)
    clock.advance(2 * 3600)
    assert redeem(api, venue.controller_a, code).error_code == "voucher_expired"
    api.post(path(venue, code, "extend"), {"minutes": 20, "reason": "wifi down"}, token=venue.tenant.owner.token)
    assert redeem(api, venue.controller_a, code).json["session_timeout"] == 20 * 60


def test_extend_adds_shelf_life_to_an_unused_voucher(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    (code,) = issue(api, world, venue, validity_days=1)
    api.post(path(venue, code, "extend"), {"minutes": 24 * 60, "reason": "event moved"}, token=venue.tenant.owner.token)
    clock.advance(36 * 3600)
    assert redeem(api, venue.controller_a, code).status == 200


def test_ended_vouchers_cannot_be_revived(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue)
    owner = venue.tenant.owner.token
    api.post(path(venue, code, "revoke"), {"reason": "lost"}, token=owner)
    extend = api.post(path(venue, code, "extend"), {"minutes": 5, "reason": "?"}, token=owner)
    assert (extend.status, extend.error_code) == (409, "conflict")
    for body, field in (({"reason": ""}, "reason"), ({}, "reason")):
        assert api.post(path(venue, code, "revoke"), body, token=owner).json["error"]["field"] == field
    bad = api.post(path(venue, code, "extend"), {"minutes": 0, "reason": "x"}, token=owner)
    assert bad.json["error"]["field"] == "minutes"


def test_redeem_is_audited_through_the_outbox(api: Api, world: World, venue: Venue) -> None:
    from chalicelib.services.outbox import AuditOutbox

    (code,) = issue(api, world, venue)
    redeem(api, venue.controller_a, code, MAC)
    redeem(api, venue.controller_a, code, MAC)
    assert AuditOutbox().drain() == 2
    assert AuditOutbox().drain() == 0  # drained once; a second drain writes nothing
    events = [e for e in audit_events(venue.tenant.org_id) if e["action"] == "voucher.redeem"]
    assert len(events) == 2
    event = events[0]
    assert event["actor_id"] == venue.key_id_a and event["actor_kind"] == "api_key"
    assert event["site_id"] == venue.site_a and event["off_hours"] is not None
    assert event["request_id"] and event["user_agent"] == "kuota-tests/1.0" and event["source_ip"]
    assert MAC.lower() not in str(event).lower() and MAC.replace(":", "") not in str(event)


def test_a_stale_drain_never_clears_entries_it_did_not_write(api: Api, world: World, venue: Venue) -> None:
    from chalicelib.services.outbox import AuditOutbox

    (code,) = issue(api, world, venue)
    redeem(api, venue.controller_a, code)
    (stale,) = [cast(Voucher, v) for shard in range(4) for v in Voucher.by_outbox.query(f"OUTBOX#{shard}")]
    outbox = AuditOutbox()
    outbox._flush(Voucher.get(stale.pk, stale.sk))  # one drain writes and clears the first entry
    redeem(api, venue.controller_a, code)  # a reconnect appends a second
    outbox._flush(stale)  # a drain that read the index before the first cleared it
    assert AuditOutbox().drain() == 1  # the reconnect's entry is still there, and is written
    assert len([e for e in audit_events(venue.tenant.org_id) if e["action"] == "voucher.redeem"]) == 2


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
