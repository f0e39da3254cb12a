"""RADIUS for plans as venues sell them: time windows and data per period, across their edges, in WIB, WITA and WIT.

Given venues in Jakarta (UTC+7), Makassar (UTC+8) and Jayapura (UTC+9) behind FreeRADIUS's rest module,
a guest whose window is closed or whose day's data is used up gets an Access-Reject saying when to come
back; inside, the accept's Session-Timeout stops at the window's end and its data limit at the period's
data; the edges are the site's local midnight, Monday 00:00 and the first of the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.services.guest_messages import REJECTIONS, welcome
from tests.api.test_radius import attributes, radius_key, register_nas
from tests.support import MAC, Api, FakeClock, Reply, Tenant, World

MB = 1_048_576
INTERIM = 300
ZONES = {  # zone -> the guests' language there
    "Asia/Jakarta": "id",
    "Asia/Makassar": "en",
    "Asia/Jayapura": "id",
}
# Weekdays 07:00-17:00, and Friday and Saturday nights 22:00 until 02:00 the next morning.
WINDOWS = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "17:00"},
    {"days": ["fri", "sat"], "start": "22:00", "end": "02:00"},
]
WEEK_LONG = {"duration_minutes": 7 * 24 * 60, "validity_days": 60, "windows": WINDOWS}
NINETY_MINUTES = {"duration_minutes": 90, "validity_days": 60, "windows": WINDOWS}
MONTH_LONG = 60 * 24 * 60  # minutes: the period plans outlive every edge the tests cross


@dataclass
class Spot:
    """One site in `zone` with its registered NAS, and the organisation's FreeRADIUS key."""

    api: Api
    world: World
    tenant: Tenant
    site_id: str
    nas: str
    key: str
    zone: ZoneInfo
    language: str

    @property
    def org_id(self) -> str:
        return self.tenant.org_id

    @property
    def owner(self) -> str:
        return self.tenant.owner.token

    def at(self, clock: FakeClock, text: str) -> datetime:
        """Move the clock to a local time at the site ("2026-12-07 06:59:59")."""
        clock.now = datetime.fromisoformat(text).replace(tzinfo=self.zone).astimezone(UTC)
        return clock.now

    def code(self, **terms: Any) -> str:
        plan_id = self.world.plan(self.tenant, **terms)
        order = {"plan_id": plan_id, "quantity": 1, "site_id": self.site_id}
        batch = self.api.post(f"/v1/orgs/{self.org_id}/batches", order, token=self.owner)
        assert batch.status in (201, 202), batch.body
        path = f"/v1/orgs/{self.org_id}/batches/{batch.json['batch_id']}/codes"
        (code,) = self.api.get(path, token=self.owner).json["codes"]
        return str(code)

    def login(self, code: str, mac: str = MAC) -> Reply:
        body = attributes({"User-Name": code, "User-Password": code, "Calling-Station-Id": mac,
                           "NAS-Identifier": self.nas, "NAS-IP-Address": "192.168.88.1"})  # fmt: skip
        return self.api.post("/v1/radius/authorize", body, token=self.key)

    def report(self, code: str, status: str, *, octets: int = 0, seconds: int = 0, session: str = "81b00001",
               event: datetime | None = None, delay: int | None = None) -> Reply:  # fmt: skip
        """An Accounting-Request as FreeRADIUS passes it on (Kuota-Event-Time: Event-Timestamp as seconds)."""
        body = attributes({
            "Acct-Status-Type": status, "User-Name": code, "Calling-Station-Id": MAC, "NAS-Identifier": self.nas,
            "Acct-Session-Id": session, "Acct-Input-Octets": octets // 4, "Acct-Output-Octets": octets - octets // 4,
            "Acct-Session-Time": seconds, "Acct-Delay-Time": delay,
            "Kuota-Event-Time": int(event.timestamp()) if event is not None else None,
        })  # fmt: skip
        return self.api.post("/v1/radius/accounting", body, token=self.key)

    def voucher(self, code: str) -> dict[str, Any]:
        reply = self.api.get(f"/v1/orgs/{self.org_id}/vouchers/{code}", token=self.owner)
        assert reply.status == 200, reply.body
        return dict(reply.json)

    def rejected(self, reason: str, again: str, *, date: str = "") -> dict[str, str]:
        """The reject's body: the reason's message, then when the guest may come back (day, [date,] time)."""
        day = {"id": "Berlaku lagi", "en": "Usable again"}[self.language]
        when = f"{again} {date} " if date else f"{again} "
        return {"reply:Reply-Message": f"{REJECTIONS[reason][self.language]} {day} {when.strip()}."}

    def accepted(self, session_timeout: int, data_left: int | None = None) -> dict[str, Any]:
        """Every attribute of an accept for a plan without rates."""
        reply: dict[str, Any] = {
            "control:Auth-Type": "Accept",
            "reply:Session-Timeout": session_timeout,
            "reply:Acct-Interim-Interval": INTERIM,
            "reply:Reply-Message": welcome(self.language, session_timeout, data_left),
        }
        if data_left is not None:
            reply |= {"reply:Mikrotik-Total-Limit": data_left % 2**32,
                      "reply:Mikrotik-Total-Limit-Gigawords": data_left // 2**32,
                      "reply:ChilliSpot-Max-Total-Octets": min(data_left, 2**32 - 1)}  # fmt: skip
        return reply


@pytest.fixture(params=list(ZONES))
def spot(request: pytest.FixtureRequest, api: Api, world: World, clock: FakeClock) -> Spot:
    zone = request.param
    tenant = world.org(f"Warung {zone.split('/')[1]}")
    site_id = world.site(tenant, "Teras", timezone=zone)
    language = ZONES[zone]
    reply = api.patch(f"/v1/orgs/{tenant.org_id}/sites/{site_id}", {"language": language}, token=tenant.owner.token)
    assert reply.status == 200, reply.body
    nas = f"hap-{zone.split('/')[1].lower()}"
    register_nas(api, tenant.org_id, site_id, tenant.owner.token, nas_identifier=nas)
    key = radius_key(api, tenant.org_id, tenant.owner.token)
    clock.advance(61)  # the site cache (60 s) reads the language set after the site was made
    return Spot(api, world, tenant, site_id, nas, key, ZoneInfo(zone), language)


# --- windows ---------------------------------------------------------------------------------------------------


def test_a_window_opens_on_the_second_and_the_accept_stops_at_its_end(spot: Spot, clock: FakeClock) -> None:
    """Monday 2026-12-07: closed until 07:00, open 07:00-17:00 local."""
    week, short = spot.code(**WEEK_LONG), spot.code(**NINETY_MINUTES)

    spot.at(clock, "2026-12-07 06:59:59")
    for code in (week, short):
        early = spot.login(code)
        assert (early.status, early.headers["X-Kuota-Reason"]) == (401, "outside_window")
        assert early.json == spot.rejected("outside_window", {"id": "Senin", "en": "Mon"}[spot.language] + " 07:00")
        assert "%" not in early.json["reply:Reply-Message"]
        assert spot.voucher(code)["status"] == "issued"  # nothing was used up

    spot.at(clock, "2026-12-07 07:00:00")
    assert spot.login(week).json == spot.accepted(10 * 3600)  # the window's end comes first
    assert spot.login(short, mac="AA:BB:CC:00:00:02").json == spot.accepted(90 * 60)  # the time left comes first

    spot.at(clock, "2026-12-07 07:45:00")  # the short voucher again: 45 minutes left, the window 9 h 15 min
    assert spot.login(short, mac="AA:BB:CC:00:00:02").json == spot.accepted(45 * 60)
    spot.at(clock, "2026-12-07 16:59:59")
    assert spot.login(week).json == spot.accepted(1)


def test_a_session_is_disconnected_when_its_window_closes_and_comes_back_at_the_next(
    spot: Spot, clock: FakeClock
) -> None:
    code = spot.code(**WEEK_LONG)
    spot.at(clock, "2026-12-11 16:00:00")  # Friday
    assert spot.login(code).json == spot.accepted(3600)
    assert spot.report(code, "Start", event=clock.now).json == {}
    spot.at(clock, "2026-12-11 16:59:59")
    assert spot.report(code, "Interim-Update", octets=MB, seconds=3599, event=clock.now).json == {}

    spot.at(clock, "2026-12-11 17:00:00")
    closed = spot.report(code, "Interim-Update", octets=2 * MB, seconds=3600, event=clock.now)
    assert (closed.status, closed.json) == (200, {"control:Kuota-Disconnect": "outside_window"})
    assert spot.report(code, "Stop", octets=2 * MB, seconds=3601, event=clock.now).json == {}  # over: nothing to do
    assert spot.voucher(code)["used_bytes"] == 2 * MB

    # The night window of the same Friday is next.
    friday = {"id": "Jumat", "en": "Fri"}[spot.language]
    assert spot.login(code).json == spot.rejected("outside_window", f"{friday} 22:00")
    spot.at(clock, "2026-12-11 21:59:59")
    assert spot.login(code).json == spot.rejected("outside_window", f"{friday} 22:00")


def test_an_overnight_window_runs_past_midnight(spot: Spot, clock: FakeClock) -> None:
    code = spot.code(**WEEK_LONG)
    saturday, monday = {"id": ("Sabtu", "Senin"), "en": ("Sat", "Mon")}[spot.language]

    spot.at(clock, "2026-12-11 23:30:00")  # Friday night: open until Saturday 02:00
    assert spot.login(code).json == spot.accepted(2 * 3600 + 30 * 60)
    spot.at(clock, "2026-12-12 00:00:00")  # local midnight changes nothing
    assert spot.login(code).json == spot.accepted(2 * 3600)
    spot.at(clock, "2026-12-12 01:59:59")
    assert spot.login(code).json == spot.accepted(1)
    spot.at(clock, "2026-12-12 02:00:00")
    assert spot.login(code).json == spot.rejected("outside_window", f"{saturday} 22:00")

    spot.at(clock, "2026-12-13 01:00:00")  # Sunday, inside Saturday's night
    assert spot.login(code).json == spot.accepted(3600)
    spot.at(clock, "2026-12-13 02:00:00")
    assert spot.login(code).json == spot.rejected("outside_window", f"{monday} 07:00")


# --- data per period -------------------------------------------------------------------------------------------


def test_the_days_data_ends_a_session_and_local_midnight_brings_the_next_days(spot: Spot, clock: FakeClock) -> None:
    """10 MB a day of 25 MB in all: cut off in the evening, refused until local midnight, then the smaller of the
    day's 10 MB and what is left in all."""
    code = spot.code(duration_minutes=MONTH_LONG, validity_days=90, data_quota_mb=25, period_quota_mb=10,
                     quota_period="day")  # fmt: skip
    tuesday = {"id": "Selasa", "en": "Tue"}[spot.language]

    start = spot.at(clock, "2026-12-07 20:00:00")  # Monday
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60, 10 * MB)
    assert spot.report(code, "Start", event=clock.now).json == {}
    spot.at(clock, "2026-12-07 21:00:00")
    assert spot.report(code, "Interim-Update", octets=9 * MB, seconds=3600, event=clock.now).json == {}
    spot.at(clock, "2026-12-07 21:05:00")
    cut = spot.report(code, "Interim-Update", octets=10 * MB, seconds=3900, event=clock.now)
    assert (cut.status, cut.json) == (200, {"control:Kuota-Disconnect": "period_quota_used"})
    assert spot.report(code, "Stop", octets=10 * MB, seconds=3901, event=clock.now).json == {}

    spot.at(clock, "2026-12-07 23:59:59")
    refused = spot.login(code)
    assert (refused.status, refused.headers["X-Kuota-Reason"]) == (401, "period_quota_used")
    assert refused.json == spot.rejected("period_quota_used", f"{tuesday} 00:00")
    assert spot.voucher(code)["status"] == "active"  # used up for today, not exhausted

    now = spot.at(clock, "2026-12-08 00:00:00")
    left = MONTH_LONG * 60 - int((now - start).total_seconds())
    assert spot.login(code).json == spot.accepted(left, 10 * MB)  # the day's 10 MB (15 MB left in all)
    assert spot.report(code, "Start", session="81b00002", event=clock.now).json == {}
    spot.at(clock, "2026-12-08 10:00:00")
    stop = spot.report(code, "Stop", octets=8 * MB, seconds=36000, session="81b00002", event=clock.now)
    assert stop.json == {}

    now = spot.at(clock, "2026-12-08 23:59:59")  # 2 MB of Tuesday's left, 7 MB in all
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60 - int((now - start).total_seconds()), 2 * MB)
    now = spot.at(clock, "2026-12-09 00:00:00")  # a new day's 10 MB, but only 7 MB left in all
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60 - int((now - start).total_seconds()), 7 * MB)


@pytest.mark.parametrize("how", ["event_time", "acct_delay"])
def test_a_report_arriving_after_midnight_counts_into_the_day_it_was_measured_in(
    spot: Spot, clock: FakeClock, how: str
) -> None:
    code = spot.code(duration_minutes=MONTH_LONG, validity_days=90, period_quota_mb=10, quota_period="day")

    spot.at(clock, "2026-12-07 23:00:00")
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60, 10 * MB)
    assert spot.report(code, "Start", event=clock.now).json == {}
    measured = spot.at(clock, "2026-12-07 23:59:50")
    spot.at(clock, "2026-12-08 00:00:30")  # the NAS's update arrives 40 s late, after midnight
    late = {"event": measured} if how == "event_time" else {"delay": 40}
    reply = spot.report(code, "Interim-Update", octets=6 * MB, seconds=3590, **late)
    assert (reply.status, reply.json) == (200, {})

    # All 6 MB were Monday's: Tuesday's 10 MB are whole.
    relogin = spot.login(code).json
    assert relogin["reply:Mikrotik-Total-Limit"] == 10 * MB
    assert relogin == spot.accepted(MONTH_LONG * 60 - 3630, 10 * MB)
    spot.at(clock, "2026-12-08 00:05:00")
    assert spot.report(code, "Interim-Update", octets=15 * MB, seconds=3900, event=clock.now).json == {}
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60 - 3900, MB)  # 9 MB of Tuesday's used


def test_a_weeks_data_resets_on_monday_at_local_midnight(spot: Spot, clock: FakeClock) -> None:
    code = spot.code(duration_minutes=MONTH_LONG, validity_days=90, data_quota_mb=100, period_quota_mb=20,
                     quota_period="week")  # fmt: skip
    start = spot.at(clock, "2026-12-09 12:00:00")  # Wednesday
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60, 20 * MB)
    assert spot.report(code, "Start", event=clock.now).json == {}
    spot.at(clock, "2026-12-13 21:00:00")  # Sunday evening
    cut = spot.report(code, "Interim-Update", octets=20 * MB, seconds=3600, event=clock.now)
    assert cut.json == {"control:Kuota-Disconnect": "period_quota_used"}

    spot.at(clock, "2026-12-13 23:59:59")
    monday = {"id": "Senin", "en": "Mon"}[spot.language]
    assert spot.login(code).json == spot.rejected("period_quota_used", f"{monday} 00:00")
    now = spot.at(clock, "2026-12-14 00:00:00")
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60 - int((now - start).total_seconds()), 20 * MB)


def test_a_months_data_resets_on_the_first_and_the_reject_names_the_date(spot: Spot, clock: FakeClock) -> None:
    code = spot.code(duration_minutes=MONTH_LONG, validity_days=90, data_quota_mb=100, period_quota_mb=30,
                     quota_period="month")  # fmt: skip
    start = spot.at(clock, "2026-12-15 09:00:00")
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60, 30 * MB)
    assert spot.report(code, "Start", event=clock.now).json == {}
    spot.at(clock, "2026-12-15 12:00:00")
    cut = spot.report(code, "Interim-Update", octets=30 * MB, seconds=3 * 3600, event=clock.now)
    assert cut.json == {"control:Kuota-Disconnect": "period_quota_used"}

    # More than a week before the first: the day alone would not say which, so the date too.
    friday = {"id": "Jumat", "en": "Fri"}[spot.language]
    assert spot.login(code).json == spot.rejected("period_quota_used", friday, date="1 Jan 00:00")
    spot.at(clock, "2026-12-31 23:59:59")
    assert spot.login(code).json == spot.rejected("period_quota_used", f"{friday} 00:00")
    now = spot.at(clock, "2027-01-01 00:00:00")
    assert spot.login(code).json == spot.accepted(MONTH_LONG * 60 - int((now - start).total_seconds()), 30 * MB)


# --- pause and top-up ------------------------------------------------------------------------------------------


def test_a_paused_voucher_ends_its_session_with_voucher_paused(spot: Spot, clock: FakeClock) -> None:
    code = spot.code(duration_minutes=120, validity_days=30,
                     pause={"by": "staff", "max_pauses": 2, "max_pause_minutes": 60})  # fmt: skip
    spot.at(clock, "2026-12-07 10:00:00")
    assert spot.login(code).json == spot.accepted(7200)
    assert spot.report(code, "Start", event=clock.now).json == {}
    paused_by_staff = spot.api.post(f"/v1/orgs/{spot.org_id}/vouchers/{code}/pause", {"reason": "makan siang"},
                                    token=spot.owner)  # fmt: skip
    assert paused_by_staff.status == 200, paused_by_staff.body

    paused = spot.report(code, "Interim-Update", octets=MB, seconds=300, event=clock.now)
    assert (paused.status, paused.json) == (200, {"control:Kuota-Disconnect": "voucher_paused"})
    refused = spot.login(code)
    assert refused.json == {"reply:Reply-Message": REJECTIONS["voucher_paused"][spot.language]}


def test_a_top_up_sends_the_sessions_new_limits_once(spot: Spot, clock: FakeClock) -> None:
    """After a top-up, the next report's answer carries the session's new limits for a CoA-Request, counted from
    the session's start as the NAS counts them; the report after that carries nothing."""
    code = spot.code(duration_minutes=60, validity_days=30, data_quota_mb=100)
    spot.at(clock, "2026-12-07 10:00:00")
    assert spot.login(code).json == spot.accepted(3600, 100 * MB)
    assert spot.report(code, "Start", event=clock.now).json == {}
    spot.at(clock, "2026-12-07 10:20:00")
    assert spot.report(code, "Interim-Update", octets=30 * MB, seconds=1200, event=clock.now).json == {}

    spot.at(clock, "2026-12-07 10:30:00")
    _top_up(spot, code, minutes=60, data_mb=50)  # 1 h 30 min and 120 MB left now
    spot.at(clock, "2026-12-07 10:35:00")
    measured = clock.now - timedelta(seconds=10)  # read by the NAS 10 s before it arrived
    reply = spot.report(code, "Interim-Update", octets=40 * MB, seconds=2090, event=measured)
    # Session: 2,090 s and 40 MB by the report, 10 s since; left now: 85 min and 150 - 40 = 110 MB.
    total = 40 * MB + 110 * MB
    assert (reply.status, reply.headers["X-Kuota-Reason"]) == (200, "limits_changed")
    assert reply.json == {
        "control:Kuota-CoA": "topped_up",
        "control:Session-Timeout": 2100 + 85 * 60,
        "control:Mikrotik-Total-Limit": total,
        "control:Mikrotik-Total-Limit-Gigawords": 0,
        "control:ChilliSpot-Max-Total-Octets": total,
    }
    spot.at(clock, "2026-12-07 10:40:00")
    assert spot.report(code, "Interim-Update", octets=41 * MB, seconds=2400, event=clock.now).json == {}
    stop_after_top_up = spot.report(code, "Stop", octets=42 * MB, seconds=2450, event=clock.now)
    assert stop_after_top_up.json == {}


def test_a_stop_after_a_top_up_asks_for_nothing(spot: Spot, clock: FakeClock) -> None:
    code = spot.code(duration_minutes=60, validity_days=30)
    spot.at(clock, "2026-12-07 10:00:00")
    assert spot.login(code).json == spot.accepted(3600)
    assert spot.report(code, "Start", event=clock.now).json == {}
    spot.at(clock, "2026-12-07 10:10:00")
    _top_up(spot, code, minutes=30, data_mb=None)
    spot.at(clock, "2026-12-07 10:11:00")
    assert spot.report(code, "Stop", octets=MB, seconds=660, event=clock.now).json == {}


# --- the NAS's clock --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("Dec  7 2026 16:59:50 UTC", 1_796_662_790), ("2026-12-07T16:59:50Z", 1_796_662_790),
     ("1796662790", 1_796_662_790), ("Dec  7 2026 23:59:50 WIB", None), ("yesterday", None)],
)  # fmt: skip
def test_event_timestamp_is_read_as_rlm_rest_may_send_it(text: str, seconds: int | None) -> None:
    from chalicelib.services.radius import Attributes, event_time

    assert event_time(Attributes({"Event-Timestamp": {"type": "date", "value": [text]}}), now=0) == seconds
    with_delay = Attributes({"Event-Timestamp": {"type": "date", "value": [text]}, "Acct-Delay-Time": 30})
    assert event_time(with_delay, now=2_000_000_000) == (seconds or 2_000_000_000 - 30)
    assert event_time(Attributes({}), now=2_000_000_000) is None


# --- helpers ----------------------------------------------------------------------------------------------------


def _top_up(spot: Spot, code: str, *, minutes: int, data_mb: int | None) -> None:
    """The owner sells a top-up plan onto the code from the console."""
    plan_id = spot.world.plan(spot.tenant, name="Tambah", kind="topup", duration_minutes=minutes,
                              data_quota_mb=data_mb)  # fmt: skip
    reply = spot.api.post(f"/v1/orgs/{spot.org_id}/vouchers/{code}/topup", {"plan_id": plan_id}, token=spot.owner)
    assert reply.status == 201, reply.body
