"""The guest page's routes: a code's status and its device slots, as a guest with only the code sees them."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from chalicelib.api import deps
from chalicelib.auth.principal import Principal
from chalicelib.services.outbox import AuditOutbox
from tests.support import MAC, Api, FakeClock, Venue, World, audit_events, dump_app_table, issue, redeem

STATUS_FIELDS = {"status", "expires_at", "seconds_left", "data_remaining_bytes", "devices_used", "max_devices",
                 "devices"}  # fmt: skip
PHONE, NEW_MAC = "AA:BB:CC:00:00:01", "DA:BB:CC:00:00:02"


def status(api: Api, venue: Venue, code: str, ip: str = "203.0.113.7") -> Any:
    return api.post("/v1/guest/status", {"code": code, "org_id": venue.tenant.org_id},
                    headers={"X-Forwarded-For": ip})  # fmt: skip


def release(api: Api, venue: Venue, code: str, slot: str, ip: str = "203.0.113.7") -> Any:
    return api.post("/v1/guest/release", {"code": code, "org_id": venue.tenant.org_id, "slot": slot},
                    headers={"X-Forwarded-For": ip})  # fmt: skip


def account(api: Api, key: str, code: str, mac: str, session: str, octets: int, seconds: int) -> Any:
    body = {"code": code, "mac": mac, "session_id": session, "event": "interim", "input_octets": octets,
            "output_octets": 0, "session_time": seconds}  # fmt: skip
    return api.post("/v1/accounting", body, token=key)


def test_an_unused_code_says_how_much_time_it_gives_and_until_when_it_can_be_started(
    api: Api, world: World, venue: Venue
) -> None:
    (code,) = issue(api, world, venue, duration_minutes=90, data_quota_mb=100)
    reply = status(api, venue, code.lower().replace("-", " "))
    assert reply.status == 200, reply.body
    body = reply.json
    assert set(body) == STATUS_FIELDS
    assert body["status"] == "unused" and body["seconds_left"] == 90 * 60
    assert body["data_remaining_bytes"] == 100 * 1048576
    assert (body["devices_used"], body["max_devices"], body["devices"]) == (0, 1, [])
    assert body["expires_at"].endswith("Z")


def test_an_active_code_shows_time_and_data_left_and_its_devices_and_nothing_else(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    (code,) = issue(api, world, venue, duration_minutes=60, data_quota_mb=10, max_devices=2, price=7500)
    first = redeem(api, venue.controller_a, code, PHONE).json
    clock.advance(600)
    assert account(api, venue.controller_a, code, PHONE, "s1", 3 * 1048576, 600).json["continue"] is True

    body = status(api, venue, code).json
    assert set(body) == STATUS_FIELDS
    assert body["status"] == "active" and body["seconds_left"] == 3000
    assert body["expires_at"] == first["expires_at"]
    assert body["data_remaining_bytes"] == 7 * 1048576
    assert (body["devices_used"], body["max_devices"]) == (1, 2)
    (device,) = body["devices"]
    assert set(device) == {"slot", "last_seen_at"}
    assert datetime.fromisoformat(device["last_seen_at"].replace("Z", "+00:00")).timestamp() == int(
        clock.now.timestamp()
    )
    # The slot is opaque: not the MAC in any spelling, not the stored keyed hash, nothing of the venue.
    stored = next(item for item in dump_app_table() if item["PK"]["S"].startswith("V#"))
    (mac_hash,) = stored["devices"]["SS"]
    assert device["slot"] not in mac_hash and device["slot"] not in PHONE.replace(":", "").lower()
    text = str(body)
    for secret in (venue.site_a, venue.tenant.org_id, "7500", mac_hash, stored["PK"]["S"][2:22]):
        assert secret not in text


def test_the_same_device_reconnecting_keeps_its_slot(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue, max_devices=2)
    redeem(api, venue.controller_a, code, PHONE)
    before = status(api, venue, code).json["devices"]
    for spelling in (PHONE, PHONE.lower(), PHONE.replace(":", "-")):
        assert redeem(api, venue.controller_a, code, spelling).json["devices_used"] == 1
    after = status(api, venue, code).json
    assert after["devices_used"] == 1 and [d["slot"] for d in after["devices"]] == [d["slot"] for d in before]


def test_a_guest_frees_the_slot_of_an_old_mac_and_the_phone_with_its_new_mac_gets_in(
    api: Api, world: World, venue: Venue
) -> None:
    (code,) = issue(api, world, venue, max_devices=1)
    redeem(api, venue.controller_a, code, PHONE)
    refused = redeem(api, venue.controller_a, code, NEW_MAC)
    assert (refused.status, refused.error_code) == (409, "device_limit_reached")

    (slot,) = [d["slot"] for d in status(api, venue, code).json["devices"]]
    freed = release(api, venue, code, slot)
    assert freed.status == 200, freed.body
    assert set(freed.json) == STATUS_FIELDS
    assert (freed.json["devices_used"], freed.json["devices"]) == (0, [])
    assert redeem(api, venue.controller_a, code, NEW_MAC).status == 200

    # A retry of the same release (a double tap) answers the same and changes nothing more.
    again = release(api, venue, code, slot)
    assert again.status == 200 and again.json["devices_used"] == 1

    AuditOutbox().drain()
    (event,) = [e for e in audit_events(venue.tenant.org_id) if e["action"] == "voucher.device_release"]
    assert (event["actor_kind"], event["actor_role"]) == ("guest", "guest")
    assert event["source_ip"] == "203.0.113.7" and event["after"]["device"] == slot
    assert code not in str(event) and PHONE not in str(event)


def test_a_released_device_learns_at_its_next_accounting_update_that_it_must_disconnect(
    api: Api, world: World, venue: Venue
) -> None:
    (code,) = issue(api, world, venue, max_devices=2)
    redeem(api, venue.controller_a, code, PHONE)
    redeem(api, venue.controller_a, code, NEW_MAC)
    assert account(api, venue.controller_a, code, PHONE, "old", 1000, 60).json["continue"] is True
    assert account(api, venue.controller_a, code, NEW_MAC, "new", 1000, 60).json["continue"] is True
    slots = status(api, venue, code).json["devices"]
    key = Principal(kind="api_key", id="k", org_id=venue.tenant.org_id, site_id=venue.site_a, key_kind="controller")
    actor = deps.services().redeem  # the accounting service the RADIUS adapter calls too

    old_slot = next(s["slot"] for s in slots if _slot_of(api, venue, code, PHONE) == s["slot"])
    assert release(api, venue, code, old_slot).status == 200

    stopped = account(api, venue.controller_a, code, PHONE, "old", 2000, 120)
    assert stopped.status == 200 and stopped.json == {"continue": False, "session_timeout": 0,
                                                       "data_remaining_bytes": None}  # fmt: skip
    from chalicelib.auth.principal import Actor, RequestMeta

    usage = actor.account(key, code, PHONE, session_id="old", session_time=130, octets=2100,
                          actor=Actor(principal=key, meta=RequestMeta(None, None, "r")))  # fmt: skip
    assert (usage.proceed, usage.ended) == (False, "device_released")
    # The other device carries on; a device that never held the code is still unknown.
    assert account(api, venue.controller_a, code, NEW_MAC, "new", 2000, 120).json["continue"] is True
    stranger = account(api, venue.controller_a, code, "EE:BB:CC:00:00:09", "x", 1, 1)
    assert (stranger.status, stranger.error_code) == (404, "invalid_code")


def _slot_of(api: Api, venue: Venue, code: str, mac: str) -> str:
    from chalicelib.services.outbox import mac_ref
    from chalicelib.services.redeeming import mac_hash

    return mac_ref(mac_hash(venue.tenant.org_id, mac))


def test_unknown_codes_are_limited_per_address_and_real_codes_never_count(
    api: Api, world: World, venue: Venue, monkeypatch: Any
) -> None:
    limit = deps.services().guest._limiter.limit
    (code,) = issue(api, world, venue, duration_minutes=60)
    (revoked,) = issue(api, world, venue)
    api.post(f"/v1/orgs/{venue.tenant.org_id}/vouchers/{revoked}/revoke", {"reason": "refund"},
             token=venue.tenant.owner.token)  # fmt: skip
    for _ in range(limit + 3):  # a real code in any state is not a guess
        assert status(api, venue, revoked, ip="198.51.100.1").json["status"] == "revoked"
    other = world.org("Lain")
    other_code = issue(api, world, Venue(other, "", "", "", "", ""))[0]  # another org's code is unknown here
    for attempt in range(limit):
        guess = other_code if attempt == 0 else f"ZZZZ-ZZZZ-{attempt:02d}"
        reply = status(api, venue, guess, ip="198.51.100.1")
        assert (reply.status, reply.error_code) == (404, "invalid_code"), attempt
    blocked = status(api, venue, code, ip="198.51.100.1")
    assert (blocked.status, blocked.error_code) == (429, "too_many_attempts")
    assert 0 < int(blocked.headers["Retry-After"]) <= 600
    blocked_release = release(api, venue, code, "0" * 12, ip="198.51.100.1")
    assert blocked_release.status == 429
    # Another address (another venue's guests) is not affected.
    assert status(api, venue, code, ip="198.51.100.2").status == 200


def test_bad_input_names_the_field(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue)
    missing = api.post("/v1/guest/status", {"code": code})
    assert (missing.status, missing.error_code) == (400, "validation_error")
    assert "org_id" in missing.json["error"]["message"]
    bad_slot = api.post("/v1/guest/release", {"code": code, "org_id": venue.tenant.org_id, "slot": "AA:BB"})
    assert bad_slot.status == 400 and "slot" in bad_slot.json["error"]["message"]
    extra = api.post("/v1/guest/status", {"code": code, "org_id": venue.tenant.org_id, "mac": MAC})
    assert extra.status == 400 and "mac" in extra.json["error"]["message"]
    unknown_slot = release(api, venue, code, "0" * 12)
    assert (unknown_slot.status, unknown_slot.error_code) == (404, "not_found")


def test_expired_and_used_up_codes_say_so(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    (timed, quota) = issue(api, world, venue, quantity=2, duration_minutes=30, data_quota_mb=1)
    redeem(api, venue.controller_a, timed)
    redeem(api, venue.controller_a, quota, NEW_MAC)
    account(api, venue.controller_a, quota, NEW_MAC, "q", 2 * 1048576, 10)
    used_up = status(api, venue, quota).json
    assert (used_up["status"], used_up["seconds_left"], used_up["data_remaining_bytes"]) == ("exhausted", 0, 0)
    clock.advance(31 * 60)
    over = status(api, venue, timed).json
    assert (over["status"], over["seconds_left"]) == ("expired", 0)


def test_staff_see_the_slots_and_free_one(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue, max_devices=2)
    redeem(api, venue.controller_a, code, PHONE)
    redeem(api, venue.controller_a, code, NEW_MAC)
    path = f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}"
    view = api.get(path, token=venue.tenant.owner.token).json
    assert view["devices_used"] == 2 and {d["slot"] for d in view["devices"]} == {
        _slot_of(api, venue, code, PHONE), _slot_of(api, venue, code, NEW_MAC)
    }  # fmt: skip
    slot = _slot_of(api, venue, code, PHONE)
    cashier = world.member(venue.tenant, "cashier").token
    assert api.post(f"{path}/devices/{slot}/release", token=cashier).status == 403
    freed = api.post(f"{path}/devices/{slot}/release", token=world.member(venue.tenant, "manager").token)
    assert freed.status == 200, freed.body
    assert [d["slot"] for d in freed.json["devices"]] == [_slot_of(api, venue, code, NEW_MAC)]
    assert api.post(f"{path}/devices/{'f' * 12}/release", token=venue.tenant.owner.token).status == 404
    AuditOutbox().drain()
    (event,) = [e for e in audit_events(venue.tenant.org_id) if e["action"] == "voucher.device_release"]
    assert event["actor_role"] == "manager" and event["after"]["device"] == slot


def test_releases_racing_redeems_never_admit_more_devices_than_the_voucher_allows(
    api: Api, world: World, venue: Venue
) -> None:
    (code,) = issue(api, world, venue, max_devices=2)
    redeem(api, venue.controller_a, code, PHONE)
    redeem(api, venue.controller_a, code, NEW_MAC)
    slots = [d["slot"] for d in status(api, venue, code).json["devices"]]
    admitted: list[str] = []
    lock = threading.Lock()

    def newcomer(n: int) -> None:
        mac = f"02:00:00:00:01:{n:02x}"
        if redeem(api, venue.controller_a, code, mac).status == 200:
            with lock:
                admitted.append(mac)

    threads = [threading.Thread(target=release, args=(api, venue, code, slot)) for slot in slots]
    threads += [threading.Thread(target=newcomer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = status(api, venue, code).json
    assert final["devices_used"] <= 2 and len(admitted) <= 2
    assert final["devices_used"] == len(admitted)  # every admitted newcomer holds a slot, nobody else


def test_a_guest_frees_only_a_few_slots_per_voucher_per_hour_and_staff_are_not_limited(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    (code,) = issue(api, world, venue, max_devices=1, duration_minutes=240)
    limit = deps.services().guest._releases.limit
    for n in range(limit):
        mac = f"02:00:00:00:02:{n:02x}"
        assert redeem(api, venue.controller_a, code, mac).status == 200
        assert release(api, venue, code, _slot_of(api, venue, code, mac)).status == 200
    taker = "02:00:00:00:03:01"
    assert redeem(api, venue.controller_a, code, taker).status == 200
    refused = release(api, venue, code, _slot_of(api, venue, code, taker))
    assert (refused.status, refused.error_code) == (429, "too_many_attempts")
    assert status(api, venue, code).json["devices_used"] == 1  # nothing was freed
    path = f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}/devices/{_slot_of(api, venue, code, taker)}/release"
    assert api.post(path, token=venue.tenant.owner.token).status == 200  # the venue's staff still can
    clock.advance(3600)
    assert redeem(api, venue.controller_a, code, taker).status == 200
    assert release(api, venue, code, _slot_of(api, venue, code, taker)).status == 200  # a new hour
