"""Redeem and accounting, as a hotspot controller sees them."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest

from chalicelib.api import deps
from chalicelib.auth.principal import Actor, Principal, RequestMeta
from chalicelib.errors import KuotaError
from tests.support import MAC, Api, FakeClock, Venue, World, dump_app_table, issue, redeem


def test_first_redeem_starts_the_clock_and_a_reconnect_gets_the_remaining_time(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    (code,) = issue(api, world, venue, duration_minutes=60, rate_up_kbps=512, rate_down_kbps=2048)
    first = redeem(api, venue.controller_a, code.lower().replace("-", " "))
    assert first.status == 200, first.body
    body = first.json
    assert body["status"] == "active" and body["session_timeout"] == 3600
    assert (body["rate_up_kbps"], body["rate_down_kbps"], body["data_remaining_bytes"]) == (512, 2048, None)
    assert (body["devices_used"], body["max_devices"]) == (1, 1)
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert abs((expires - clock.now).total_seconds() - 3600) < 2

    clock.advance(600)
    again = redeem(api, venue.controller_a, code)
    assert again.status == 200
    assert again.json["session_timeout"] == 3000 and again.json["expires_at"] == body["expires_at"]


def test_device_limit(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue, max_devices=2)
    assert redeem(api, venue.controller_a, code, "AA:BB:CC:00:00:01").status == 200
    assert redeem(api, venue.controller_a, code, "AA:BB:CC:00:00:02").json["devices_used"] == 2
    third = redeem(api, venue.controller_a, code, "AA:BB:CC:00:00:03")
    assert (third.status, third.error_code) == (409, "device_limit_reached")
    assert redeem(api, venue.controller_a, code, "aa-bb-cc-00-00-01").status == 200  # same device, other spelling


def test_site_scope(api: Api, world: World, venue: Venue) -> None:
    (bound,) = issue(api, world, venue, site_id=venue.site_a)
    refused = redeem(api, venue.controller_b, bound)
    assert (refused.status, refused.error_code) == (403, "wrong_site")
    assert redeem(api, venue.controller_a, bound).status == 200
    (anywhere,) = issue(api, world, venue)
    assert redeem(api, venue.controller_b, anywhere).status == 200


def test_unknown_code_and_another_orgs_code(api: Api, world: World, venue: Venue) -> None:
    reply = redeem(api, venue.controller_a, "ZZZZ-ZZZZ-ZZ")
    assert (reply.status, reply.error_code) == (404, "invalid_code")
    other = world.org("Lain")
    other_site = world.site(other)
    _, other_key = world.key(other, other_site)
    (code,) = issue(api, world, venue)
    assert redeem(api, other_key, code).error_code == "invalid_code"


def test_expiry_is_enforced_at_redeem_before_any_job_runs(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    (used, unused) = issue(api, world, venue, quantity=2, duration_minutes=30, validity_days=7)
    assert redeem(api, venue.controller_a, used).status == 200
    clock.advance(31 * 60)
    late = redeem(api, venue.controller_a, used)
    assert (late.status, late.error_code) == (410, "voucher_expired")
    clock.advance(7 * 86400)
    shelf = redeem(api, venue.controller_a, unused)
    assert (shelf.status, shelf.error_code) == (410, "voucher_expired")


def test_quota_used_up_is_exhausted(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    (code,) = issue(api, world, venue, data_quota_mb=1)
    assert redeem(api, venue.controller_a, code).json["data_remaining_bytes"] == 1024 * 1024
    usage = {"code": code, "mac": MAC, "session_id": "s1", "event": "interim", "input_octets": 600_000,
             "output_octets": 100_000, "session_time": 60}  # fmt: skip
    reply = api.post("/v1/accounting", usage, token=venue.controller_a)
    assert reply.status == 200, reply.body
    assert reply.json == {"continue": True, "session_timeout": 3600 - 0, "data_remaining_bytes": 1024 * 1024 - 700_000}
    usage.update(event="stop", input_octets=1_000_000, session_time=120)
    stop = api.post("/v1/accounting", usage, token=venue.controller_a).json
    assert stop["continue"] is False and stop["data_remaining_bytes"] == 0
    refused = redeem(api, venue.controller_a, code)
    assert (refused.status, refused.error_code) == (410, "voucher_exhausted")


def test_usage_mode_counts_only_connected_time(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    (code,) = issue(api, world, venue, duration_minutes=10, time_mode="usage", validity_days=30)
    assert redeem(api, venue.controller_a, code).json["session_timeout"] == 600
    session = {"code": code, "mac": MAC, "session_id": "s1", "event": "stop", "session_time": 240}
    assert api.post("/v1/accounting", session, token=venue.controller_a).json["session_timeout"] == 360
    clock.advance(86400)  # a day offline costs nothing
    assert redeem(api, venue.controller_a, code).json["session_timeout"] == 360
    last = {**session, "session_id": "s2", "session_time": 360}
    assert api.post("/v1/accounting", last, token=venue.controller_a).json["continue"] is False
    assert redeem(api, venue.controller_a, code).error_code == "voucher_expired"


def test_accounting_for_a_device_that_never_redeemed(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue)
    session = {"code": code, "mac": MAC, "session_id": "s1", "event": "start"}
    assert api.post("/v1/accounting", session, token=venue.controller_a).error_code == "invalid_code"


def test_brute_force_is_refused_until_the_window_passes(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    (code,) = issue(api, world, venue)
    for attempt in range(10):
        assert redeem(api, venue.controller_a, f"GUESS{attempt:05d}").error_code == "invalid_code"
    blocked = redeem(api, venue.controller_a, code)  # even the right code, from this device
    assert (blocked.status, blocked.error_code) == (429, "too_many_attempts")
    assert redeem(api, venue.controller_a, code, "AA:BB:CC:99:99:99").status == 200  # another device is fine
    clock.advance(600)
    assert redeem(api, venue.controller_a, code, MAC).status in (200, 409)  # the window passed: no longer 429


def test_pos_key_cannot_redeem(api: Api, world: World, venue: Venue) -> None:
    _, pos_key = world.key(venue.tenant, venue.site_a, kind="pos")
    (code,) = issue(api, world, venue)
    assert redeem(api, pos_key, code).status == 403


def test_no_raw_mac_or_code_is_stored(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue)
    redeem(api, venue.controller_a, code)
    dump = str(dump_app_table()).lower()
    for secret in (MAC.lower(), MAC.replace(":", "").lower(), code.lower(), code.replace("-", "").lower()):
        assert secret not in dump


def test_a_printed_voucher_counts_as_sold_at_first_redeem_once(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue, price=3000, max_devices=2)
    redeem(api, venue.controller_a, code)
    redeem(api, venue.controller_a, code, "AA:BB:CC:00:00:09")
    lines = [item for item in dump_app_table() if "GSI3PK" in item]
    assert len(lines) == 1
    assert lines[0]["rev_amount"]["N"] == "3000" and lines[0]["rev_site"]["S"] == venue.site_a


def _race(key: Principal, code: str, attempts: int = 30) -> Counter[str]:
    """Many devices redeem one code at the same instant, each on its own thread."""
    service = deps.services().redeem
    actor = Actor(principal=key, meta=RequestMeta(source_ip="127.0.0.1", user_agent="test", request_id="race"))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(attempts)

    def attempt(n: int) -> None:
        start.wait()
        try:
            service.redeem(key, code, f"02:00:00:00:00:{n:02x}", actor)
            result = "ok"
        except KuotaError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("max_devices", [1, 3])
def test_concurrent_redeems_never_over_admit(world: World, api: Api, venue: Venue, max_devices: int) -> None:
    codes = issue(api, world, venue, quantity=20, max_devices=max_devices)
    key = Principal(kind="api_key", id=venue.key_id_a, org_id=venue.tenant.org_id, site_id=venue.site_a,
                    key_kind="controller")  # fmt: skip
    for code in codes:  # 20 rounds
        assert _race(key, code) == {"ok": max_devices, "device_limit_reached": 30 - max_devices}


def test_controller_routes_validate_input(api: Api, venue: Venue) -> None:
    for body, field in (
        ({"code": "ABCD-EFGH-JK", "mac": "not-a-mac"}, "mac"),
        ({"code": "", "mac": MAC}, "code"),
        ({"code": "ABCD-EFGH-JK"}, "mac"),
    ):
        reply = api.post("/v1/redeem", body, token=venue.controller_a)
        assert (reply.status, reply.json["error"]["field"]) == (400, field)
    bad_event = {"code": "ABCD", "mac": MAC, "session_id": "s", "event": "pause"}
    assert api.post("/v1/accounting", bad_event, token=venue.controller_a).json["error"]["field"] == "event"


def test_redeem_times_are_utc(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue)
    assert redeem(api, venue.controller_a, code).json["expires_at"].endswith("Z")
    assert datetime.now(UTC)


def test_accounting_from_another_site_is_refused_for_a_site_bound_voucher(api: Api, world: World, venue: Venue) -> None:
    (code,) = issue(api, world, venue, site_id=venue.site_a)
    redeem(api, venue.controller_a, code)
    session = {"code": code, "mac": MAC, "session_id": "s1", "event": "start"}
    assert api.post("/v1/accounting", session, token=venue.controller_b).error_code == "invalid_code"
    assert api.post("/v1/accounting", session, token=venue.controller_a).status == 200
