"""Device policies: a shared voucher frees a slot left idle; a first-devices voucher keeps its devices."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.services.outbox import AuditOutbox
from tests.support import Api, FakeClock, Venue, World, audit_events, issue, redeem

PHONE, LAPTOP = "02:00:00:00:00:01", "02:00:00:00:00:02"


def interim(api: Api, venue: Venue, code: str, mac: str, session: str, octets: int) -> bool:
    body = {"code": code, "mac": mac, "session_id": session, "event": "interim", "input_octets": octets,
            "session_time": 60}  # fmt: skip
    reply = api.post("/v1/accounting", body, token=venue.controller_a)
    assert reply.status in (200, 404), reply.body
    return reply.status == 200 and bool(reply.json["continue"])


def test_a_shared_voucher_frees_a_slot_with_no_accounting_for_its_idle_minutes(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    (code,) = issue(api, world, venue, duration_minutes=24 * 60, idle_release_minutes=30)
    assert redeem(api, venue.controller_a, code, PHONE).status == 200
    assert interim(api, venue, code, PHONE, "p1", 1000)
    clock.advance(29 * 60)
    assert redeem(api, venue.controller_a, code, LAPTOP).error_code == "device_limit_reached"
    clock.advance(60)
    assert redeem(api, venue.controller_a, code, LAPTOP).status == 200
    # The phone's session, if it ever reports again, is told to end; its slot is the laptop's now.
    assert interim(api, venue, code, PHONE, "p1", 2000) is False
    AuditOutbox().drain()
    (event,) = [e for e in audit_events(venue.tenant.org_id) if e["action"] == "voucher.device_release"]
    assert event["after"]["reason"] == "idle" and len(event["after"]["devices"]) == 1


def test_a_device_that_keeps_reporting_keeps_its_slot(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    (code,) = issue(api, world, venue, duration_minutes=24 * 60, idle_release_minutes=30)
    redeem(api, venue.controller_a, code, PHONE)
    for minute in range(1, 5):
        clock.advance(20 * 60)
        assert interim(api, venue, code, PHONE, "p1", 1000 * minute)
    assert redeem(api, venue.controller_a, code, LAPTOP).error_code == "device_limit_reached"


def test_a_first_devices_voucher_is_locked_to_the_devices_it_saw_first(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    (code,) = issue(api, world, venue, duration_minutes=7 * 24 * 60, device_policy="first_devices", max_devices=2)
    assert redeem(api, venue.controller_a, code, PHONE).status == 200
    assert redeem(api, venue.controller_a, code, LAPTOP).status == 200
    clock.advance(3 * 24 * 3600)  # days without a word from either
    assert redeem(api, venue.controller_a, code, "02:00:00:00:00:03").error_code == "device_limit_reached"
    assert redeem(api, venue.controller_a, code, PHONE).status == 200  # its own devices come back any time
