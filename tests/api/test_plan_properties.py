"""Plans as venues sell them, through the API, over random plans, clocks and usage.

Each example sells a fresh voucher of a random plan (windows, data per period, total data, duration,
wallclock or usage time) at a site in one of Indonesia's three zones, moves the clock by hand and
has devices log in (POST /v1/redeem) and report usage (POST /v1/accounting). A model kept here from
DESIGN's rules says what each answer must be: let in or refused for a reason that holds, a session
no longer than the time left or the window, data no more than what is left in the period or in total.
The pause property does the same for pause and resume, by staff or (a forgotten pause) by the
expiry job at the plan's longest pause: paid time is never gained nor lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chalicelib.plan_rules import MB, period_key
from chalicelib.services.expiring import ExpiryService
from tests.support import Api, FakeClock, Reply, Venue, World, issue, redeem
from tests.unit.test_plan_rules import ZONES, open_local, window_sets

MACS = ("AA:BB:CC:10:00:01", "AA:BB:CC:10:00:02", "AA:BB:CC:10:00:03")
VALIDITY_DAYS = 30
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Till:
    site_id: str
    controller: str
    tz: ZoneInfo


@pytest.fixture
def tills(world: World, venue: Venue) -> dict[str, Till]:
    """A site with a controller key in each of WIB, WITA and WIT (site A is Jakarta's)."""
    found = {"Asia/Jakarta": Till(venue.site_a, venue.controller_a, ZoneInfo("Asia/Jakarta"))}
    for tz in ZONES[1:]:
        site_id = world.site(venue.tenant, tz.key, timezone=tz.key)
        found[tz.key] = Till(site_id, world.key(venue.tenant, site_id)[1], tz)
    return found


def whole_seconds(clock: FakeClock, seconds: int) -> int:
    """Move the clock on by `seconds` onto a whole second; the new time in epoch seconds."""
    clock.now = clock.now.replace(microsecond=0)
    clock.advance(seconds)
    return int(clock.now.timestamp())


def epoch_of(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


# --- a model of one voucher ------------------------------------------------------------------------------


@dataclass
class Model:
    """What DESIGN says a voucher of these terms has left, kept from what the test did to it."""

    terms: dict[str, Any]
    tz: ZoneInfo
    activated_at: int | None = None
    used_bytes: int = 0
    used_seconds: int = 0
    by_period: dict[str, float] = field(default_factory=dict)
    slack: int = 0  # bytes a period's count may differ by: one per report split across a midnight (rounding)

    @property
    def quota(self) -> int | None:
        mb = self.terms.get("data_quota_mb")
        return None if mb is None else mb * MB

    @property
    def period_quota(self) -> int | None:
        mb = self.terms.get("period_quota_mb")
        return None if mb is None else mb * MB

    def local(self, now: int) -> datetime:
        return datetime.fromtimestamp(now, self.tz)

    def period_used(self, now: int) -> float:
        period = self.terms.get("quota_period")
        return 0 if period is None else self.by_period.get(period_key(period, self.local(now)), 0)

    def time_left(self, now: int) -> int:
        """Seconds of paid time left at `now` (a first login starts the clock now)."""
        started = self.activated_at if self.activated_at is not None else now
        duration = int(self.terms["duration_minutes"]) * 60
        if self.terms.get("time_mode") == "usage":
            return min(started + VALIDITY_DAYS * 86400 - now, duration - self.used_seconds)
        return started + duration - now

    def window_left(self, now: int) -> int | None:
        """Seconds until the open stretch `now` is in closes (None: no windows, or open all week)."""
        windows = self.terms.get("windows")
        if not windows:
            return None
        local = self.local(now)
        minute = local.replace(second=0) + timedelta(minutes=1)
        for _ in range(7 * 24 * 60):
            if not open_local(windows, minute):
                return int((minute - local).total_seconds())
            minute += timedelta(minutes=1)
        return None

    def data_left(self, now: int) -> float | None:
        limits: list[float] = []
        if self.quota is not None:
            limits.append(max(self.quota - self.used_bytes, 0))
        if self.period_quota is not None:
            limits.append(max(self.period_quota - self.period_used(now), 0))
        return min(limits) if limits else None

    def refusals(self, now: int) -> set[str]:
        """Every reason a guest may not be online at `now` (empty: they may)."""
        reasons = set()
        if self.quota is not None and self.used_bytes >= self.quota:
            reasons.add("voucher_exhausted")
        if self.time_left(now) <= 0:
            reasons.add("voucher_expired")
        if self.period_quota is not None and self.period_used(now) >= self.period_quota:
            reasons.add("period_quota_used")
        windows = self.terms.get("windows")
        if windows and not open_local(windows, self.local(now)):
            reasons.add("outside_window")
        return reasons

    def check_limits(self, now: int, session_timeout: int, data_remaining: int | None) -> None:
        """A session admitted at `now`: as long as the time and the window allow, as much data as is left."""
        bounds = [self.time_left(now)]
        closing = self.window_left(now)
        if closing is not None:
            bounds.append(closing)
        assert session_timeout <= min(bounds), (session_timeout, bounds)
        assert session_timeout >= min(bounds) - 1, ("cut short", session_timeout, bounds)
        left = self.data_left(now)
        if left is None or data_remaining is None:
            assert data_remaining == left, (data_remaining, left)
        else:
            assert abs(data_remaining - left) <= self.slack, (data_remaining, left, self.slack)

    def count(self, delta: int, since: int, until: int) -> None:
        """A session's report adding `delta` bytes used from `since` to `until`: spread by time over the
        periods it spans (no more than two here), as DESIGN says bytes count where they were used."""
        period = self.terms.get("quota_period")
        if period is None:
            return
        first, last = self.local(since), self.local(until)
        key = period_key(period, last)
        if period_key(period, first) == key or until == since:
            self.by_period[key] = self.by_period.get(key, 0) + delta
            return
        boundary = _period_start(period, last).timestamp()
        before = delta * (boundary - since) / (until - since)
        earlier = period_key(period, first)
        self.by_period[earlier] = self.by_period.get(earlier, 0) + before
        self.by_period[key] = self.by_period.get(key, 0) + delta - before
        self.slack += 1
        event("usage: a report split across the start of a period")

    def periods_crossed(self, since: int, until: int) -> int:
        period = self.terms.get("quota_period")
        first, last = self.local(since).date(), self.local(until).date()
        if period == "day":
            return (last - first).days
        if period == "week":
            return ((last - timedelta(days=last.weekday())) - (first - timedelta(days=first.weekday()))).days // 7
        if period == "month":
            return (last.year * 12 + last.month) - (first.year * 12 + first.month)
        return 0


def _period_start(period: str, local: datetime) -> datetime:
    """Local midnight at which the day, the week (Monday) or the month `local` is in began."""
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    return midnight.replace(day=1) if period == "month" else midnight


# --- plans, clocks, usage ----------------------------------------------------------------------------------


@st.composite
def venue_plans(draw: st.DrawFn) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "duration_minutes": draw(st.one_of(st.integers(1, 180), st.integers(1, 4 * 24 * 60))),
        "time_mode": draw(st.sampled_from(("wallclock", "usage"))),
        "max_devices": len(MACS),
    }
    if draw(st.booleans()):
        terms["windows"] = draw(window_sets(max_windows=3))
    per_period = draw(st.none() | st.integers(1, 30))
    if per_period is not None:
        terms["period_quota_mb"] = per_period
        terms["quota_period"] = draw(st.sampled_from(("day", "week", "month")))
    if draw(st.booleans()):
        terms["data_quota_mb"] = draw(st.integers(per_period or 1, 80))
    return terms


USAGE = st.one_of(st.integers(0, MB), st.integers(0, 40 * MB))  # bytes a report adds
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.one_of(st.integers(1, 3 * 3600), st.integers(1, 36 * 3600))),
        st.tuples(st.just("use"), USAGE, st.integers(0, 4 * 3600), st.booleans()),
        st.tuples(st.just("login"), st.integers(0, len(MACS) - 1)),
    ),
    min_size=3,
    max_size=8,
)


def _account(api: Api, till: Till, code: str, mac: str, session: str, octets: int, seconds: int) -> Reply:
    body = {"code": code, "mac": mac, "session_id": session, "event": "interim", "input_octets": octets // 3,
            "output_octets": octets - octets // 3, "session_time": seconds}  # fmt: skip
    return api.post("/v1/accounting", body, token=till.controller)


@PROPERTY
@given(terms=venue_plans(), zone=st.sampled_from(ZONES), start=st.integers(0, 14 * 86400), steps=STEPS)
def test_a_login_gets_no_more_time_or_data_than_the_plan_leaves_and_is_refused_only_for_a_reason_that_holds(
    api: Api, world: World, venue: Venue, tills: dict[str, Till], clock: FakeClock,
    terms: dict[str, Any], zone: ZoneInfo, start: int, steps: list[tuple[Any, ...]],
) -> None:  # fmt: skip
    till = tills[zone.key]
    (code,) = issue(api, world, venue, **terms)
    model = Model(terms, zone)
    now = whole_seconds(clock, start)
    admitted: list[str] = []
    sessions = 0
    open_sessions: dict[str, tuple[str, int, int, int]] = {}  # mac -> session id, octets, seconds, last report

    def login(mac: str) -> Reply:
        reply: Reply = redeem(api, till.controller, code, mac)
        refusals = model.refusals(now)
        context = (terms, zone.key, model.local(now), refusals, reply.body)
        event(f"login: {reply.error_code or 'let in'}")
        if not refusals:
            assert reply.status == 200, context
            if model.activated_at is None:
                model.activated_at = now
            model.check_limits(now, reply.json["session_timeout"], reply.json["data_remaining_bytes"])
            admitted.append(mac)
            return reply
        assert reply.error_code in refusals, context
        if reply.error_code == "outside_window":  # the guest is told when to come back: it is open then
            back = datetime.fromisoformat(reply.json["error"]["next_window_at"].replace("Z", "+00:00"))
            assert back.timestamp() > now and open_local(terms["windows"], back.astimezone(zone)), context
            assert not open_local(terms["windows"], back.astimezone(zone) - timedelta(minutes=1)), context
        if reply.error_code == "period_quota_used":  # and when the period's data is back: local midnight
            resets = datetime.fromisoformat(reply.json["error"]["resets_at"].replace("Z", "+00:00")).astimezone(zone)
            assert resets > model.local(now) and (resets.hour, resets.minute, resets.second) == (0, 0, 0), context
            assert period_key(terms["quota_period"], resets) != period_key(terms["quota_period"], model.local(now))
        return reply

    first = login(MACS[0])
    if first.error_code == "outside_window":  # the guest comes back when told, and is let in
        now = whole_seconds(clock, epoch_of(first.json["error"]["next_window_at"]) - now)
        assert login(MACS[0]).status == 200
    for step in steps:
        if step[0] == "wait":
            now = whole_seconds(clock, step[1])
        elif step[0] == "login":
            login(MACS[step[1]])
        elif admitted:
            _, octets, seconds, same_session = step
            mac = admitted[-1]
            previous = open_sessions.get(mac)
            # The session's next report (cumulative counters), unless its bytes would span more than two
            # periods (test_a_session_report_spanning_two_midnights_is_counted_into_each_day): a new session.
            if same_session and previous and model.periods_crossed(previous[3], now) <= 1:
                session, since = previous[0], previous[3]
                total_octets, total_seconds = previous[1] + octets, previous[2] + seconds
            else:
                sessions += 1
                session, total_octets, total_seconds, since = f"s{sessions}", octets, seconds, now
            reply = _account(api, till, code, mac, session, total_octets, total_seconds)
            assert reply.status == 200, reply.body
            open_sessions[mac] = (session, total_octets, total_seconds, now)
            model.used_bytes += octets
            model.used_seconds += seconds
            model.count(octets, since, now)
            event("usage: a session's next report" if since != now else "usage: a new session")
            answer, refusals = reply.json, model.refusals(now)
            event(f"usage: {'go on' if answer['continue'] else 'stop: ' + ', '.join(sorted(refusals))}")
            assert answer["continue"] is (not refusals), (terms, model.local(now), refusals, answer)
            if answer["continue"]:
                model.check_limits(now, answer["session_timeout"], answer["data_remaining_bytes"])
    login(MACS[0])


@PROPERTY
@given(
    period=st.sampled_from(("day", "week", "month")),
    zone=st.sampled_from(ZONES),
    start=st.integers(0, 31 * 86400),
    reports=st.lists(st.tuples(st.integers(1, 24 * 3600 - 1), USAGE), min_size=1, max_size=6),
)
def test_a_sessions_reports_count_their_bytes_into_the_periods_they_were_used_in(
    api: Api, world: World, venue: Venue, tills: dict[str, Till], clock: FakeClock,
    period: str, zone: ZoneInfo, start: int, reports: list[tuple[int, int]],
) -> None:  # fmt: skip
    """One long session, its interim updates under a day apart: the bytes between two updates spread over
    the time between them, so an update after midnight counts only its share into the new day."""
    till = tills[zone.key]
    # A shelf life past the latest start (31 days), so the first login is never refused for it.
    terms: dict[str, Any] = {"duration_minutes": 60 * 24 * 60, "validity_days": 60, "period_quota_mb": 10_000,
                             "quota_period": period}  # fmt: skip
    (code,) = issue(api, world, venue, **terms)
    model = Model(terms, zone)
    now = whole_seconds(clock, start)
    assert redeem(api, till.controller, code, MACS[0]).status == 200
    model.activated_at = now
    octets, seconds, last = 0, 0, now
    for wait, added in reports:
        now = whole_seconds(clock, wait)
        octets, seconds = octets + added, seconds + wait
        reply = _account(api, till, code, MACS[0], "panjang", octets, seconds)
        assert reply.status == 200, reply.body
        model.used_bytes, model.used_seconds = octets, seconds
        model.count(added, last, now)
        last = now
        assert reply.json["continue"] is True
        model.check_limits(now, reply.json["session_timeout"], reply.json["data_remaining_bytes"])


# --- pause and resume -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    running: int  # seconds the clock runs before the pause (as a share of the time left, in thousandths)
    length: int  # seconds paused
    forgotten: bool  # staff forget it: the expiry job runs before they resume


FORGOTTEN = (True, False, False, False)  # a quarter of pauses
PAUSES = st.lists(
    st.builds(Pause, running=st.integers(0, 999), length=st.integers(0, 10**6), forgotten=st.sampled_from(FORGOTTEN)),
    min_size=1,
    max_size=4,
)


def _pause(api: Api, venue: Venue, code: str, action: str) -> Reply:
    path = f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}/{action}"
    return api.post(path, {"reason": "tamu istirahat"}, token=venue.tenant.owner.token)


@PROPERTY
@given(
    duration=st.integers(2, 3 * 24 * 60),
    max_pauses=st.integers(1, 3),
    max_minutes=st.integers(1, 24 * 60),
    start=st.integers(0, 14 * 86400),
    pauses=PAUSES,
    near_max=st.booleans(),
)
def test_a_pause_and_resume_neither_gain_nor_lose_paid_time_and_a_long_pause_gives_back_its_maximum(
    api: Api, world: World, venue: Venue, clock: FakeClock,
    duration: int, max_pauses: int, max_minutes: int, start: int, pauses: list[Pause], near_max: bool,
) -> None:  # fmt: skip
    pause_terms = {"by": "staff", "max_pauses": max_pauses, "max_pause_minutes": max_minutes}
    (code,) = issue(api, world, venue, duration_minutes=duration, pause=pause_terms)
    now = whole_seconds(clock, start)
    first = redeem(api, venue.controller_a, code)
    assert first.status == 200, first.body
    expires = epoch_of(first.json["expires_at"])
    assert expires == now + duration * 60
    longest = max_minutes * 60
    for number, pause in enumerate(pauses, start=1):
        left = expires - now
        now = whole_seconds(clock, (left - 1) * pause.running // 1000)  # still running when paused
        paused = _pause(api, venue, code, "pause")
        if number > max_pauses:
            assert (paused.status, paused.error_code) == (409, "pause_not_allowed"), paused.body
            return
        assert paused.status == 200 and paused.json["status"] == "paused", paused.body
        paused_at, before = now, epoch_of(paused.json["expires_at"])
        assert before == expires  # pausing moves nothing yet
        # Near the maximum half the time, where an off-by-one would show; otherwise anywhere up to 3x past it.
        length = longest + pause.length % 3 - 1 if near_max else pause.length % (3 * longest + 1)
        now = whole_seconds(clock, length)
        if pause.forgotten:
            ExpiryService(clock).run(request_id=f"pause-{number}")  # the job ends a pause only at its longest
        if length < longest:
            refused = redeem(api, venue.controller_a, code)
            assert (refused.status, refused.error_code) == (409, "voucher_paused"), refused.body
            resumed = _pause(api, venue, code, "resume")
            assert resumed.status == 200 and resumed.json["status"] == "active", resumed.body
            after = epoch_of(resumed.json["expires_at"])
            event(("job ran; " if pause.forgotten else "") + "pause within its maximum")
            assert after - now == before - paused_at, (length, longest)  # the time left is what it was
        else:
            # The pause reached its maximum: the job (when it ran) or the next login resumed it, giving back
            # exactly that much; there is nothing left for the staff to resume.
            event(("job ran; " if pause.forgotten else "") + "pause up to or past its maximum")
            login = redeem(api, venue.controller_a, code)
            after = before + longest
            if after <= now:  # it ran past its maximum for longer than the time that was left
                assert (login.status, login.error_code) == (410, "voucher_expired"), login.body
                return
            assert login.status == 200 and epoch_of(login.json["expires_at"]) == after, (login.body, length, longest)
            resumed = _pause(api, venue, code, "resume")
            assert (resumed.status, resumed.error_code) == (409, "pause_not_allowed"), resumed.body
        expires = after
        again = redeem(api, venue.controller_a, code)  # a login after the resume keeps the new expiry
        assert again.status == 200, again.body
        assert epoch_of(again.json["expires_at"]) == expires and again.json["session_timeout"] == expires - now
    shown = api.get(f"/v1/orgs/{venue.tenant.org_id}/vouchers/{code}", token=venue.tenant.owner.token).json
    assert (shown["status"], shown["pauses_used"], epoch_of(shown["expires_at"])) == ("active", len(pauses), expires)


# --- a report spanning more than one midnight ------------------------------------------------------------


def test_a_session_report_spanning_two_midnights_is_counted_into_each_day(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    """A guest online from 23:00 whose next interim update comes 26 hours later (the router lost its
    uplink): the bytes count an hour's share into the first day, 24 into the next and one into today."""
    jakarta = ZoneInfo("Asia/Jakarta")
    till = Till(venue.site_a, venue.controller_a, jakarta)
    (code,) = issue(api, world, venue, duration_minutes=3 * 24 * 60, period_quota_mb=100, quota_period="day")
    local = clock.now.replace(microsecond=0).astimezone(jakarta)
    eleven = local.replace(hour=23, minute=0, second=0, microsecond=0)
    whole_seconds(clock, int((eleven - local).total_seconds()) % 86400 or 86400)
    assert redeem(api, till.controller, code, MACS[0]).status == 200
    first = _account(api, till, code, MACS[0], "malam", 1_000_000, 60)
    assert first.status == 200 and first.json["data_remaining_bytes"] == 100 * MB - 1_000_000
    whole_seconds(clock, 26 * 3600)
    later = _account(api, till, code, MACS[0], "malam", 27_000_000, 26 * 3600)
    assert later.status == 200, later.body
    assert later.json["continue"] is True and later.json["data_remaining_bytes"] == 100 * MB - 1_000_000


# --- the condition's minutes, at DynamoDB ------------------------------------------------------------------


def _move_to(clock: FakeClock, tz: ZoneInfo, weekday: int, hhmmss: str) -> int:
    """Move the clock forward to the next `weekday` (0 = Monday) at local `hhmmss`; the epoch seconds."""
    hours, minutes, seconds = map(int, hhmmss.split(":"))
    local = clock.now.replace(microsecond=0).astimezone(tz)
    target = local.replace(hour=hours, minute=minutes, second=seconds) + timedelta(days=(weekday - local.weekday()) % 7)
    if target <= local:
        target += timedelta(days=7)
    return whole_seconds(clock, int((target - local).total_seconds()))


def test_a_partly_open_hour_admits_minute_by_minute_and_a_sunday_window_runs_into_monday(
    api: Api, world: World, venue: Venue, tills: dict[str, Till], clock: FakeClock
) -> None:
    """At a site in Jayapura: a window 08:30-09:15 on Wednesdays and one from Sunday 23:30 to 00:30."""
    till = tills["Asia/Jayapura"]
    windows = [{"days": ["wed"], "start": "08:30", "end": "09:15"}, {"days": ["sun"], "start": "23:30", "end": "00:30"}]
    (code,) = issue(api, world, venue, duration_minutes=30 * 24 * 60, windows=windows, max_devices=3)
    _move_to(clock, till.tz, 2, "08:29:59")
    early = redeem(api, till.controller, code)
    assert (early.status, early.error_code) == (403, "outside_window"), early.body
    opens = datetime.fromisoformat(early.json["error"]["next_window_at"].replace("Z", "+00:00"))
    assert opens.astimezone(till.tz).strftime("%a %H:%M:%S") == "Wed 08:30:00"
    whole_seconds(clock, 1)
    assert redeem(api, till.controller, code).json["session_timeout"] == 45 * 60
    _move_to(clock, till.tz, 2, "09:14:59")
    assert redeem(api, till.controller, code).json["session_timeout"] == 1
    whole_seconds(clock, 1)
    late = redeem(api, till.controller, code)
    assert (late.status, late.error_code) == (403, "outside_window"), late.body
    opens = datetime.fromisoformat(late.json["error"]["next_window_at"].replace("Z", "+00:00"))
    assert opens.astimezone(till.tz).strftime("%a %H:%M:%S") == "Sun 23:30:00"
    _move_to(clock, till.tz, 0, "00:10:00")  # Monday: Sunday's window still open
    assert redeem(api, till.controller, code).json["session_timeout"] == 20 * 60
    whole_seconds(clock, 20 * 60)
    closed = redeem(api, till.controller, code)
    assert (closed.status, closed.error_code) == (403, "outside_window"), closed.body
    opens = datetime.fromisoformat(closed.json["error"]["next_window_at"].replace("Z", "+00:00"))
    assert opens.astimezone(till.tz).strftime("%a %H:%M:%S") == "Wed 08:30:00"
