"""Plans as venues sell them, over the API: windows and data per period, with an injected clock.

Sites in WIB (Asia/Jakarta, UTC+7), WITA (Asia/Makassar, UTC+8) and WIT (Asia/Jayapura, UTC+9):
logins cross a window's edges, local midnight, the start of a week and of a month, and every
answer (status, error code, next opening, reset time, session timeout, data limit) is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.codes import code_hash
from chalicelib.models import Voucher
from tests.support import Api, FakeClock, Tenant, World

MB = 1024 * 1024
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
SCHOOL = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "15:00"}]


@dataclass
class Spot:
    """A site in one zone, its controller key, and an owner who issues codes there."""

    tenant: Tenant
    site_id: str
    controller: str
    zone: ZoneInfo

    def at(self, clock: FakeClock, *when: int) -> None:
        """Set the clock to a local time at this site (year, month, day, hour[, minute[, second]])."""
        clock.now = local(self, *when).astimezone(UTC)


def spot(world: World, zone: str) -> Spot:
    tenant = world.org()
    site_id = world.site(tenant, f"Kampus {zone}", timezone=ZONES[zone])
    _, controller = world.key(tenant, site_id)
    return Spot(tenant, site_id, controller, ZoneInfo(ZONES[zone]))


def codes(api: Api, world: World, place: Spot, quantity: int = 1, **terms: Any) -> list[str]:
    plan_id = world.plan(place.tenant, **terms)
    org = f"/v1/orgs/{place.tenant.org_id}"
    token = place.tenant.owner.token
    batch = api.post(f"{org}/batches", {"plan_id": plan_id, "quantity": quantity, "site_id": place.site_id},
                     token=token).json  # fmt: skip
    return list(api.get(f"{org}/batches/{batch['batch_id']}/codes", token=token).json["codes"])


def login(api: Api, place: Spot, code: str, mac: str = "02:00:00:00:00:01") -> Any:
    return api.post("/v1/redeem", {"code": code, "mac": mac}, token=place.controller)


def report(api: Api, place: Spot, code: str, session: str, octets: int, seconds: int, *, event: str = "interim",
           mac: str = "02:00:00:00:00:01") -> Any:  # fmt: skip
    body = {"code": code, "mac": mac, "session_id": session, "event": event, "input_octets": octets,
            "session_time": seconds}  # fmt: skip
    return api.post("/v1/accounting", body, token=place.controller)


def local(place: Spot, year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=place.zone)


def utc(place: Spot, *when: int) -> str:
    return local(place, *when).astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- windows -------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ZONES)
def test_a_school_pass_opens_at_seven_and_its_sessions_stop_at_three(
    api: Api, world: World, clock: FakeClock, zone: str
) -> None:
    place = spot(world, zone)
    (code,) = codes(api, world, place, duration_minutes=30 * 24 * 60, windows=SCHOOL)
    place.at(clock, 2026, 12, 7, 6, 59, 59)  # Monday, one second early
    early = login(api, place, code)
    assert (early.status, early.error_code) == (403, "outside_window")
    assert early.json["error"]["next_window_at"] == utc(place, 2026, 12, 7, 7, 0)

    place.at(clock, 2026, 12, 7, 7, 0)
    opened = login(api, place, code)
    assert opened.status == 200, opened.body
    assert opened.json["session_timeout"] == 8 * 3600  # to 15:00, long before the 30 days run out

    place.at(clock, 2026, 12, 7, 14, 59, 30)
    assert login(api, place, code).json["session_timeout"] == 30
    place.at(clock, 2026, 12, 7, 15, 0)
    closed = login(api, place, code)
    assert (closed.status, closed.error_code) == (403, "outside_window")
    assert closed.json["error"]["next_window_at"] == utc(place, 2026, 12, 8, 7, 0)  # Tuesday
    # An interim update after the window closed tells the controller to end the session.
    assert report(api, place, code, "s1", 10 * MB, 60).json["continue"] is False

    place.at(clock, 2026, 12, 11, 16, 0)  # Friday afternoon: next is Monday
    weekend = login(api, place, code)
    assert weekend.json["error"]["next_window_at"] == utc(place, 2026, 12, 14, 7, 0)


def test_the_time_left_ends_a_session_before_the_window_does(api: Api, world: World, clock: FakeClock) -> None:
    place = spot(world, "WITA")
    (code,) = codes(api, world, place, duration_minutes=60, windows=SCHOOL)
    place.at(clock, 2026, 12, 7, 9, 0)
    assert login(api, place, code).json["session_timeout"] == 3600
    place.at(clock, 2026, 12, 7, 9, 45)
    assert login(api, place, code).json["session_timeout"] == 15 * 60


def test_an_overnight_window_runs_past_midnight_and_past_sunday(api: Api, world: World, clock: FakeClock) -> None:
    place = spot(world, "WIT")
    night = [{"days": ["fri", "sat", "sun"], "start": "22:00", "end": "02:00"}]
    (code,) = codes(api, world, place, duration_minutes=30 * 24 * 60, windows=night)
    place.at(clock, 2026, 12, 13, 23, 30)  # Sunday night
    assert login(api, place, code).json["session_timeout"] == 2 * 3600 + 30 * 60  # to Monday 02:00
    place.at(clock, 2026, 12, 14, 1, 59)  # Monday, still Sunday's window
    assert login(api, place, code).json["session_timeout"] == 60
    place.at(clock, 2026, 12, 14, 2, 0)
    refused = login(api, place, code)
    assert refused.error_code == "outside_window"
    assert refused.json["error"]["next_window_at"] == utc(place, 2026, 12, 18, 22, 0)  # Friday


def test_touching_windows_make_one_stretch(api: Api, world: World, clock: FakeClock) -> None:
    place = spot(world, "WIB")
    windows = [{"days": ["mon"], "start": "08:00", "end": "12:00"}, {"days": ["mon"], "start": "12:00", "end": "13:30"}]
    (code,) = codes(api, world, place, duration_minutes=24 * 60, windows=windows)
    place.at(clock, 2026, 12, 7, 11, 0)
    assert login(api, place, code).json["session_timeout"] == 2 * 3600 + 30 * 60


# --- data per period -------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ZONES)
def test_a_day_pass_quota_is_cut_at_the_limit_and_comes_back_at_local_midnight(
    api: Api, world: World, clock: FakeClock, zone: str
) -> None:
    place = spot(world, zone)
    (code,) = codes(api, world, place, duration_minutes=30 * 24 * 60, data_quota_mb=250, period_quota_mb=100,
                    quota_period="day")  # fmt: skip
    place.at(clock, 2026, 12, 2, 20, 0)
    first = login(api, place, code)
    assert first.json["data_remaining_bytes"] == 100 * MB  # the day's, smaller than the total's 250
    place.at(clock, 2026, 12, 2, 21, 0)
    cut = report(api, place, code, "a", 100 * MB, 3600)
    assert cut.json["continue"] is False and cut.json["data_remaining_bytes"] == 0
    refused = login(api, place, code)
    assert (refused.status, refused.error_code) == (403, "period_quota_used")
    assert refused.json["error"]["resets_at"] == utc(place, 2026, 12, 3, 0, 0)
    status = api.post("/v1/guest/status", {"code": code, "org_id": place.tenant.org_id}).json
    assert status["status"] == "active"  # cut for today, not used up
    assert status["period"] == {"data_remaining_bytes": 0, "resets_at": utc(place, 2026, 12, 3, 0, 0)}

    place.at(clock, 2026, 12, 3, 0, 0)
    again = login(api, place, code)
    assert again.status == 200 and again.json["data_remaining_bytes"] == 100 * MB
    place.at(clock, 2026, 12, 3, 8, 0)
    report(api, place, code, "b", 100 * MB, 600)
    place.at(clock, 2026, 12, 4, 8, 0)
    last = login(api, place, code)
    assert last.json["data_remaining_bytes"] == 50 * MB  # the total's 50 left is less than the day's 100


def test_a_weekly_quota_resets_on_monday_and_a_monthly_one_on_the_first(
    api: Api, world: World, clock: FakeClock
) -> None:
    place = spot(world, "WITA")
    weekly, monthly = codes(api, world, place, duration_minutes=60 * 24 * 60, period_quota_mb=10,
                            quota_period="week")[0], codes(api, world, place, duration_minutes=60 * 24 * 60,
                                                           period_quota_mb=10, quota_period="month")[0]  # fmt: skip
    place.at(clock, 2026, 12, 13, 23, 0)  # Sunday
    for code in (weekly, monthly):
        login(api, place, code)
        report(api, place, code, "s", 10 * MB, 60)
    place.at(clock, 2026, 12, 13, 23, 59, 59)
    assert login(api, place, weekly).json["error"]["resets_at"] == utc(place, 2026, 12, 14, 0, 0)
    assert login(api, place, monthly).json["error"]["resets_at"] == utc(place, 2027, 1, 1, 0, 0)
    place.at(clock, 2026, 12, 14, 0, 0)  # Monday
    assert login(api, place, weekly).status == 200
    assert login(api, place, monthly).error_code == "period_quota_used"
    place.at(clock, 2027, 1, 1, 0, 0)
    assert login(api, place, monthly).json["data_remaining_bytes"] == 10 * MB


def test_usage_reported_after_midnight_counts_into_the_hours_it_was_used(
    api: Api, world: World, clock: FakeClock
) -> None:
    place = spot(world, "WIB")
    (code,) = codes(api, world, place, duration_minutes=7 * 24 * 60, period_quota_mb=1000, quota_period="day")
    place.at(clock, 2026, 12, 2, 23, 50)
    login(api, place, code)
    report(api, place, code, "s", 0, 0, event="start")
    place.at(clock, 2026, 12, 3, 0, 10)  # 20 minutes, half of them before midnight
    report(api, place, code, "s", 40 * MB, 1200)
    used = _period_used(place, code)
    assert used == {"d2026-12-02": 20 * MB, "d2026-12-03": 20 * MB}
    # A retried report counts nothing again; an older one is not counted at all.
    report(api, place, code, "s", 40 * MB, 1200)
    report(api, place, code, "s", 30 * MB, 900)
    assert _period_used(place, code) == used
    assert login(api, place, code).json["data_remaining_bytes"] == 980 * MB


def _period_used(place: Spot, code: str) -> dict[str, int]:
    voucher = Voucher.get(*Voucher.key(code_hash(place.tenant.org_id, code)), consistent_read=True)
    raw = voucher.period_used.as_dict() if voucher.period_used is not None else {}  # type: ignore[no-untyped-call]
    return {key: int(value) for key, value in raw.items()}


def test_the_guest_sees_when_the_window_closes_and_opens_next(api: Api, world: World, clock: FakeClock) -> None:
    place = spot(world, "WIT")
    (code,) = codes(api, world, place, duration_minutes=30 * 24 * 60, windows=SCHOOL)
    place.at(clock, 2026, 12, 7, 10, 0)
    login(api, place, code)
    status = api.post("/v1/guest/status", {"code": code, "org_id": place.tenant.org_id}).json
    assert status["window"] == {"closes_at": utc(place, 2026, 12, 7, 15, 0),
                                "next_opens_at": utc(place, 2026, 12, 8, 7, 0)}  # fmt: skip
    assert "period" not in status and "pause" not in status
    place.at(clock, 2026, 12, 7, 18, 0)
    closed = api.post("/v1/guest/status", {"code": code, "org_id": place.tenant.org_id}).json
    assert closed["window"] == {"closes_at": None, "next_opens_at": utc(place, 2026, 12, 8, 7, 0)}


# --- plan terms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "field", "words"),
    [
        ({"windows": [{"days": ["mon"], "start": "08:00", "end": "12:00"},
                      {"days": ["mon", "tue"], "start": "11:00", "end": "13:00"}]}, "windows",
         "windows[0] overlaps windows[1]"),
        ({"windows": [{"days": ["sun"], "start": "22:00", "end": "03:00"},
                      {"days": ["mon"], "start": "02:00", "end": "04:00"}]}, "windows", "overlaps"),
        ({"windows": [{"days": ["mon"], "start": "08:00", "end": "08:00"}]}, "windows", "start and end are equal"),
        ({"windows": [{"days": ["funday"], "start": "08:00", "end": "09:00"}]}, "windows", ""),
        ({"windows": [{"days": ["mon"], "start": "8:00", "end": "09:00"}]}, "windows", ""),
        ({"data_quota_mb": 100, "period_quota_mb": 200, "quota_period": "day"}, "period_quota_mb", "larger than"),
        ({"period_quota_mb": 200}, "quota_period", "both"),
        ({"time_mode": "usage", "pause": {"by": "staff", "max_pauses": 1, "max_pause_minutes": 60}}, "pause",
         "wallclock"),
        ({"kind": "topup", "windows": SCHOOL}, "windows", "top-up"),
        ({"device_policy": "first_devices", "idle_release_minutes": 30}, "idle_release_minutes", "shared"),
    ],
)  # fmt: skip
def test_plans_that_cannot_be_sold_are_a_400_naming_the_field(
    api: Api, world: World, terms: dict[str, Any], field: str, words: str
) -> None:
    tenant = world.org()
    body = {"name": "Paket", "price": 5000, "duration_minutes": 60, "validity_days": 30, **terms}
    reply = api.post(f"/v1/orgs/{tenant.org_id}/plans", body, token=tenant.owner.token)
    assert (reply.status, reply.error_code) == (400, "validation_error"), reply.body
    assert field in reply.json["error"]["message"] or reply.json["error"].get("field") == field
    assert words in reply.json["error"]["message"]


def test_terms_are_copied_into_vouchers_and_editing_the_plan_changes_only_later_ones(
    api: Api, world: World, clock: FakeClock
) -> None:
    place = spot(world, "WIB")
    pausing = {"by": "guest", "max_pauses": 2, "max_pause_minutes": 120}
    terms = {"duration_minutes": 7 * 24 * 60, "windows": SCHOOL, "period_quota_mb": 500, "quota_period": "day",
             "pause": pausing, "device_policy": "first_devices", "max_devices": 2}  # fmt: skip
    plan_id = world.plan(place.tenant, **terms)
    org, token = f"/v1/orgs/{place.tenant.org_id}", place.tenant.owner.token
    shown = api.get(f"{org}/plans/{plan_id}", token=token).json
    assert {name: shown[name] for name in terms} == terms
    assert shown["kind"] == "voucher" and shown["idle_release_minutes"] is None
    batch = api.post(f"{org}/batches", {"plan_id": plan_id, "quantity": 1}, token=token).json
    (old,) = api.get(f"{org}/batches/{batch['batch_id']}/codes", token=token).json["codes"]
    edited = api.patch(f"{org}/plans/{plan_id}", {"windows": None, "pause": None}, token=token)
    assert edited.status == 200 and edited.json["windows"] is None and edited.json["pause"] is None
    plan = api.get(f"/v1/orgs/{place.tenant.org_id}/vouchers/{old}", token=token).json["plan"]
    assert plan["windows"] == SCHOOL and plan["pause"] == pausing
    assert plan["period_quota_bytes"] == 500 * MB and plan["quota_period"] == "day"
    assert plan["device_policy"] == "first_devices"


@pytest.mark.parametrize("field", ["name", "price", "time_mode", "kind", "device_policy", "sold_online"])
def test_a_term_every_plan_has_cannot_be_cleared(api: Api, world: World, field: str) -> None:
    tenant = world.org()
    plan_id = world.plan(tenant)
    reply = api.patch(f"/v1/orgs/{tenant.org_id}/plans/{plan_id}", {field: None}, token=tenant.owner.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", field)
    cleared = api.patch(f"/v1/orgs/{tenant.org_id}/plans/{plan_id}", {"windows": None, "data_quota_mb": None},
                        token=tenant.owner.token)  # fmt: skip
    assert cleared.status == 200 and cleared.json["windows"] is None and cleared.json["data_quota_mb"] is None


def test_a_topup_plan_is_never_sold_as_a_new_voucher(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    plan_id = world.plan(tenant, kind="topup", name="+1 Jam")
    org, token = f"/v1/orgs/{tenant.org_id}", tenant.owner.token
    batch = api.post(f"{org}/batches", {"plan_id": plan_id, "quantity": 1}, token=token)
    sale = api.post(f"{org}/sales", {"site_id": site_id, "plan_id": plan_id, "quantity": 1}, token=token)
    for reply in (batch, sale):
        assert (reply.status, reply.error_code) == (400, "validation_error"), reply.body
        assert reply.json["error"]["field"] == "plan_id"
    online = api.patch(f"{org}/plans/{plan_id}", {"sold_online": True, "online_sites": [site_id]}, token=token)
    assert (online.status, online.json["error"]["field"]) == (400, "sold_online")


def test_a_schedule_without_windows_costs_nothing_extra(api: Api, world: World, clock: FakeClock) -> None:
    """A plan with no new terms behaves exactly as before (no window, no period in any answer)."""
    place = spot(world, "WIB")
    (code,) = codes(api, world, place, duration_minutes=60)
    clock.now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert login(api, place, code).json["session_timeout"] == 3600
    view = api.get(f"/v1/orgs/{place.tenant.org_id}/vouchers/{code}", token=place.tenant.owner.token).json
    assert view["window"] is None and view["period"] is None and view["plan"]["windows"] is None
    clock.advance(timedelta(minutes=10).total_seconds())
    assert login(api, place, code).json["session_timeout"] == 50 * 60
