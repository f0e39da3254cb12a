"""Pausing a week pass, and topping up the code already on the guest's phone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.codes import code_hash
from chalicelib.models import LedgerEntry, Sale, Voucher
from chalicelib.services.expiring import ExpiryService
from tests.support import MAC, Api, FakeClock, Reply, Venue, World, audit_events, issue, redeem

MB = 1024 * 1024
WEEK = 7 * 24 * 60
GUEST_PAUSES = {"by": "guest", "max_pauses": 2, "max_pause_minutes": 3 * 24 * 60}
STAFF_PAUSES = {"by": "staff", "max_pauses": 1, "max_pause_minutes": 60}


def voucher_path(venue: Venue, code: str, action: str = "") -> str:
    return f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}" + (f"/{action}" if action else "")


def stored(venue: Venue, code: str) -> Voucher:
    return Voucher.get(*Voucher.key(code_hash(venue.tenant.org_id, code)), consistent_read=True)


def staff(api: Api, venue: Venue, code: str, action: str, **body: Any) -> Reply:
    payload = {"reason": "tamu pulang kampung", **body} if action in ("pause", "resume") else body
    return api.post(voucher_path(venue, code, action), payload, token=venue.tenant.owner.token)


def guest(api: Api, venue: Venue, code: str, action: str) -> Reply:
    return api.post(f"/v1/guest/{action}", {"code": code, "org_id": venue.tenant.org_id})


def at_noon(clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


# --- pause and resume ---------------------------------------------------------------------------


def test_a_guest_pauses_a_week_pass_for_the_weekend_and_loses_no_second(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    at_noon(clock)
    (code,) = issue(api, world, venue, duration_minutes=WEEK, pause=GUEST_PAUSES)
    assert redeem(api, venue.controller_a, code).status == 200
    clock.advance(3600)
    left_before = int(stored(venue, code).expires_at) - int(clock.now.timestamp())
    paused = guest(api, venue, code, "pause")
    assert paused.status == 200 and paused.json["status"] == "paused", paused.body
    refused = redeem(api, venue.controller_a, code)
    assert (refused.status, refused.error_code) == (409, "voucher_paused")
    # The live session is told to stop at its next update.
    body = {"code": code, "mac": MAC, "session_id": "s1", "event": "interim", "input_octets": 1, "session_time": 60}
    assert api.post("/v1/accounting", body, token=venue.controller_a).json["continue"] is False
    status = api.post("/v1/guest/status", {"code": code, "org_id": venue.tenant.org_id}).json
    assert status["status"] == "paused" and status["pause"] == {"allowed": True, "pauses_left": 1}

    clock.advance(2 * 24 * 3600 + 17)  # the weekend, and a few seconds
    resumed = guest(api, venue, code, "resume")
    assert resumed.status == 200 and resumed.json["status"] == "active"
    now = int(clock.now.timestamp())
    assert int(stored(venue, code).expires_at) - now == left_before
    assert redeem(api, venue.controller_a, code).json["session_timeout"] == left_before
    events = [event for event in audit_events(venue.tenant.org_id) if event["action"].startswith("voucher.")]
    by_guest = [(event["action"], event["actor_kind"]) for event in events if event["action"] != "voucher.redeem"]
    assert by_guest == [("voucher.pause", "guest"), ("voucher.resume", "guest")]


def test_pauses_are_limited_in_number_and_who_may_pause(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    cashier = world.member(venue.tenant, "cashier")  # signed in on the real clock: tokens check real time
    at_noon(clock)
    (code,) = issue(api, world, venue, duration_minutes=WEEK, pause=STAFF_PAUSES)
    unused = staff(api, venue, code, "pause")
    assert (unused.status, unused.error_code) == (409, "pause_not_allowed")
    assert "not been started" in unused.json["error"]["message"]
    redeem(api, venue.controller_a, code)
    by_guest = guest(api, venue, code, "pause")
    assert (by_guest.status, by_guest.error_code) == (409, "pause_not_allowed")
    assert staff(api, venue, code, "pause").status == 200
    twice = staff(api, venue, code, "pause")
    assert (twice.status, twice.error_code) == (409, "pause_not_allowed")
    assert guest(api, venue, code, "resume").error_code == "pause_not_allowed"
    assert staff(api, venue, code, "resume").status == 200
    again = staff(api, venue, code, "pause")
    assert again.error_code == "pause_not_allowed" and "All 1 pauses" in again.json["error"]["message"]
    denied = api.post(voucher_path(venue, code, "pause"), {"reason": "x"}, token=cashier.token)
    assert denied.status == 403
    (plain,) = issue(api, world, venue, duration_minutes=60)
    redeem(api, venue.controller_a, plain)
    assert "does not allow" in staff(api, venue, plain, "pause").json["error"]["message"]


def test_a_pause_left_running_ends_at_its_longest_and_gives_back_exactly_that(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    at_noon(clock)
    (code,) = issue(api, world, venue, duration_minutes=WEEK, pause=STAFF_PAUSES)
    redeem(api, venue.controller_a, code)
    expires = int(stored(venue, code).expires_at)
    staff(api, venue, code, "pause")
    clock.advance(59 * 60)
    assert ExpiryService(clock).run().pauses_ended == 0
    clock.advance(5 * 60)  # past the hour
    assert ExpiryService(clock).run().pauses_ended == 1
    voucher = stored(venue, code)
    assert voucher.status == "active" and int(voucher.expires_at) == expires + 3600
    assert int(voucher.gsi2sk) == expires + 3600  # due for its expiry again, at the new time
    assert redeem(api, venue.controller_a, code).status == 200
    assert ExpiryService(clock).run().pauses_ended == 0  # once


def test_a_login_and_a_pause_at_once_leave_one_consistent_state(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    at_noon(clock)
    (code,) = issue(api, world, venue, duration_minutes=WEEK, pause=GUEST_PAUSES, max_devices=20)
    redeem(api, venue.controller_a, code)
    with ThreadPoolExecutor(8) as pool:
        logins = [pool.submit(redeem, api, venue.controller_a, code, f"02:00:00:00:01:{i:02x}") for i in range(7)]
        pause = pool.submit(guest, api, venue, code, "pause")
    assert pause.result().status == 200
    voucher = stored(venue, code)
    admitted = [f.result() for f in logins if f.result().status == 200]
    refused = [f.result() for f in logins if f.result().status != 200]
    assert all(reply.error_code == "voucher_paused" for reply in refused)
    assert voucher.status == "paused" and len(voucher.devices) == 1 + len(admitted)


# --- top-ups -------------------------------------------------------------------------------------


def topup_plan(world: World, venue: Venue, **terms: Any) -> str:
    return world.plan(venue.tenant, **{"name": "+1 Jam 500 MB", "kind": "topup", "price": 3000,
                                      "duration_minutes": 60, "data_quota_mb": 500, **terms})  # fmt: skip


def test_a_topup_adds_time_and_data_to_the_code_in_use_and_is_a_sale(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    cashier = world.member(venue.tenant, "cashier")  # signed in on the real clock: tokens check real time
    at_noon(clock)
    (code,) = issue(api, world, venue, site_id=venue.site_a, duration_minutes=60, data_quota_mb=1000)
    plan_id = topup_plan(world, venue)
    redeem(api, venue.controller_a, code)
    clock.advance(600)
    before = stored(venue, code)
    reply = api.post(voucher_path(venue, code, "topup"), {"plan_id": plan_id}, token=cashier.token)
    assert reply.status == 201, reply.body
    after = stored(venue, code)
    assert int(after.expires_at) == int(before.expires_at) + 3600
    assert int(after.window_seconds) == int(before.window_seconds) + 3600
    assert int(after.quota_bytes) == int(before.quota_bytes) + 500 * MB
    assert reply.json["data_remaining_bytes"] == 1500 * MB
    new_end = datetime.fromtimestamp(int(after.expires_at), UTC)
    assert reply.json["expires_at"] == new_end.isoformat().replace("+00:00", "Z")
    assert redeem(api, venue.controller_a, code).json["session_timeout"] == 110 * 60

    (sale,) = [s for s in Sale.query(f"ORG#{venue.tenant.org_id}", Sale.sk.startswith("SALE#"))]
    assert (sale.kind, sale.plan_id, int(sale.total), sale.site_id) == ("topup", plan_id, 3000, venue.site_a)
    lines = [line for line in LedgerEntry.query(f"ORG#{venue.tenant.org_id}", LedgerEntry.sk.startswith("LEDGER#"))
             if line.sale_id == sale.sale_id]  # fmt: skip
    assert [(line.rev_kind, line.rev_plan, int(line.rev_amount)) for line in lines] == [("sale", plan_id, 3000)]
    (event,) = [e for e in audit_events(venue.tenant.org_id) if e["action"] == "voucher.topup"]
    assert event["after"]["sale_id"] == sale.sale_id and event["actor_role"] == "cashier"
    timeline = api.get(voucher_path(venue, code), token=venue.tenant.owner.token).json["timeline"]
    assert timeline[-1]["event"] == "topped_up" and timeline[-1]["minutes"] == 60


def test_voiding_a_topup_takes_back_what_it_added_and_keeps_the_code(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    at_noon(clock)
    (code,) = issue(api, world, venue, site_id=venue.site_a, duration_minutes=60, data_quota_mb=1000)
    redeem(api, venue.controller_a, code)
    before = stored(venue, code)
    sale_id = staff(api, venue, code, "topup", plan_id=topup_plan(world, venue)).json["sale_id"]
    void = api.post(f"/v1/orgs/{venue.tenant.org_id}/sales/{sale_id}/void", {"reason": "salah kode"},
                    token=venue.tenant.owner.token)  # fmt: skip
    assert void.status == 200, void.body
    after = stored(venue, code)
    assert after.status == "active"
    assert (int(after.expires_at), int(after.quota_bytes)) == (int(before.expires_at), int(before.quota_bytes))


@pytest.mark.parametrize("state", ["revoked", "expired", "exhausted"])
def test_a_code_that_has_ended_cannot_be_topped_up(
    api: Api, world: World, venue: Venue, clock: FakeClock, state: str
) -> None:
    at_noon(clock)
    (code,) = issue(api, world, venue, site_id=venue.site_a, duration_minutes=60, data_quota_mb=1)
    redeem(api, venue.controller_a, code)
    if state == "revoked":
        staff(api, venue, code, "revoke", reason="refund")
    elif state == "expired":
        clock.advance(3601)
    else:
        body = {"code": code, "mac": MAC, "session_id": "s", "event": "interim", "input_octets": MB, "session_time": 9}
        api.post("/v1/accounting", body, token=venue.controller_a)
    reply = staff(api, venue, code, "topup", plan_id=topup_plan(world, venue))
    assert (reply.status, reply.error_code) == (409, "topup_not_allowed"), reply.body
    assert state in reply.json["error"]["message"] or "over" in reply.json["error"]["message"]
    assert not list(Sale.query(f"ORG#{venue.tenant.org_id}", Sale.sk.startswith("SALE#")))


def test_only_a_topup_plan_tops_up_and_a_code_valid_everywhere_needs_a_site(
    api: Api, world: World, venue: Venue
) -> None:
    (code,) = issue(api, world, venue, duration_minutes=60)
    ordinary = world.plan(venue.tenant, name="1 Jam")
    wrong = staff(api, venue, code, "topup", plan_id=ordinary)
    assert (wrong.status, wrong.json["error"]["field"]) == (400, "plan_id")
    plan_id = topup_plan(world, venue)
    nowhere = staff(api, venue, code, "topup", plan_id=plan_id)
    assert (nowhere.status, nowhere.json["error"]["field"]) == (400, "site_id")
    assert staff(api, venue, code, "topup", plan_id=plan_id, site_id=venue.site_b).status == 201


def test_a_pos_topup_is_made_once_per_idempotency_key(api: Api, world: World, venue: Venue) -> None:
    tenant = venue.tenant
    _, pos_a = world.key(tenant, venue.site_a, kind="pos")
    _, pos_b = world.key(tenant, venue.site_b, kind="pos")
    (code,) = issue(api, world, venue, site_id=venue.site_a, duration_minutes=60)
    plan_id = topup_plan(world, venue)

    def pos(key: str, token: str = pos_a, **body: Any) -> Reply:
        return api.post("/v1/pos/topups", {"code": code, "plan_id": plan_id, **body}, token=token,
                        headers={"Idempotency-Key": key})  # fmt: skip

    first, again = pos("struk-0001"), pos("struk-0001")
    assert first.status == 201 and again.status == 201, first.body
    assert first.json == again.json
    assert int(stored(venue, code).window_seconds) == 2 * 3600
    assert pos("struk-0001", plan_id=topup_plan(world, venue, price=4000)).status == 422
    elsewhere = pos("struk-0002", token=pos_b)
    assert (elsewhere.status, elsewhere.error_code) == (403, "wrong_site")
    missing = api.post("/v1/pos/topups", {"code": code, "plan_id": plan_id}, token=pos_a)
    assert (missing.status, missing.json["error"]["field"]) == (400, "Idempotency-Key")
    assert len(list(Sale.query(f"ORG#{tenant.org_id}", Sale.sk.startswith("SALE#")))) == 1


def test_a_cashiers_topup_counts_in_their_open_shift(api: Api, world: World, venue: Venue) -> None:
    cashier = world.member(venue.tenant, "cashier")
    org = f"/v1/orgs/{venue.tenant.org_id}"
    shift = api.post(f"{org}/shifts", {"site_id": venue.site_a, "opening_cash": 0}, token=cashier.token)
    assert shift.status == 201, shift.body
    (code,) = issue(api, world, venue, site_id=venue.site_a, duration_minutes=60)
    reply = api.post(voucher_path(venue, code, "topup"), {"plan_id": topup_plan(world, venue)}, token=cashier.token)
    assert reply.status == 201, reply.body
    current = api.get(f"{org}/shifts/current", token=cashier.token).json
    assert (current["sales_count"], current["sales_total"], current["expected_cash"]) == (1, 3000, 3000)


def test_a_login_after_the_longest_pause_resumes_the_voucher_without_waiting_for_the_job(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    at_noon(clock)
    (code,) = issue(api, world, venue, duration_minutes=WEEK, pause=STAFF_PAUSES)
    redeem(api, venue.controller_a, code)
    expires = int(stored(venue, code).expires_at)
    staff(api, venue, code, "pause")
    clock.advance(59 * 60)
    assert redeem(api, venue.controller_a, code).error_code == "voucher_paused"
    clock.advance(3 * 60)
    back = redeem(api, venue.controller_a, code)
    assert back.status == 200, back.body
    assert int(stored(venue, code).expires_at) == expires + 3600  # exactly the longest pause, not 62 minutes
    assert back.json["session_timeout"] == expires + 3600 - int(clock.now.timestamp())
    assert ExpiryService(clock).run().pauses_ended == 0
