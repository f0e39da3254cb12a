"""Windows and data per period (`chalicelib.plan_rules`): examples a venue would recognise, then properties.

The properties hold the module to a model written here from DESIGN's words alone (a window opens on
each of its days at `start` and runs for `end - start` modulo a day), so the interval arithmetic, the
map the redeem's condition reads and the "closes at" / "opens at" answers are each checked against
something that does not share their code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import ValidationFailed
from chalicelib.plan_rules import (
    DAY,
    DAYS,
    WEEK,
    closes_at,
    hour_key,
    intervals,
    is_open,
    next_opening,
    period_key,
    period_resets,
    period_start,
    seconds_to_close,
    validate_windows,
    window_hours,
)
from chalicelib.services.redeeming import split_by_period

JAKARTA, MAKASSAR, JAYAPURA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
ZONES = (JAKARTA, MAKASSAR, JAYAPURA)
MONDAY = datetime(2026, 11, 30, tzinfo=JAKARTA)  # a Monday, 00:00 WIB
MINUTE = timedelta(minutes=1)


def window(days: str, start: str, end: str) -> dict[str, Any]:
    return {"days": days.split(), "start": start, "end": end}


def at(day: str, hhmm: str, week: int = 0, tz: ZoneInfo = JAKARTA) -> datetime:
    """Local time `hhmm` on `day` of the week starting MONDAY (+ `week` weeks)."""
    hours, minutes = map(int, hhmm.split(":"))
    local = MONDAY.replace(tzinfo=tz) + timedelta(days=DAYS.index(day) + 7 * week, hours=hours, minutes=minutes)
    return local


# --- a model of windows, from DESIGN's words --------------------------------------------------------------


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clock_minutes(text: str) -> int:
    hours, minutes = map(int, text.split(":"))
    return hours * 60 + minutes


def open_at(windows: list[dict[str, Any]], minute_of_week: int) -> bool:
    """Whether some window, opened on one of its days at `start`, is still running at this minute."""
    for each in windows:
        start, end = _clock_minutes(each["start"]), _clock_minutes(each["end"])
        length = (end - start) % DAY
        for day in each["days"]:
            if (minute_of_week - (DAYS.index(day) * DAY + start)) % WEEK < length:
                return True
    return False


def open_local(windows: list[dict[str, Any]], local: datetime) -> bool:
    return open_at(windows, local.weekday() * DAY + local.hour * 60 + local.minute)


def all_week(windows: list[dict[str, Any]]) -> bool:
    return all(open_at(windows, minute) for minute in range(WEEK))


@st.composite
def window_sets(draw: st.DrawFn, max_windows: int = 4) -> list[dict[str, Any]]:
    """A valid set of windows: drawn one by one, each kept when it overlaps none kept before.

    Starts fall on the hour half the time, and a window often starts where the one before ends
    (touching windows are allowed and read as one stretch).
    """
    kept: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, max_windows))):
        days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
        touching = draw(st.booleans())
        if kept and touching:
            start = _clock_minutes(kept[-1]["end"])
        else:
            start = draw(st.one_of(st.integers(0, 23).map(lambda hour: hour * 60), st.integers(0, DAY - 1)))
        length = draw(st.one_of(st.integers(1, 6 * 60), st.integers(1, DAY - 1)))
        candidate = {"days": days, "start": _hhmm(start), "end": _hhmm((start + length) % DAY)}
        try:
            kept = validate_windows([*kept, candidate])
        except ValidationFailed:
            continue
    return kept


local_times = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.sampled_from(ZONES)
)


def _next_minute(local: datetime) -> datetime:
    """The first whole minute strictly after `local`."""
    return local.replace(second=0, microsecond=0) + MINUTE


# --- windows: examples ------------------------------------------------------------------------------------


def test_an_overnight_friday_window_runs_into_saturday_morning() -> None:
    late = [window("fri", "22:00", "02:00")]
    assert not is_open(late, at("fri", "21:59"))
    assert is_open(late, at("fri", "22:00")) and is_open(late, at("sat", "01:59"))
    assert not is_open(late, at("sat", "02:00"))
    assert closes_at(late, at("fri", "23:15")) == at("sat", "02:00")
    assert seconds_to_close(late, at("fri", "23:15")) == 2 * 3600 + 45 * 60
    assert next_opening(late, at("sat", "03:00")) == at("fri", "22:00", week=1)
    assert next_opening(late, at("thu", "12:00")) == at("fri", "22:00")


def test_a_sunday_night_window_wraps_into_monday() -> None:
    sunday = [window("sun", "22:00", "02:00")]
    assert intervals(sunday) == [(0, 120), (WEEK - 120, WEEK)]
    assert is_open(sunday, at("mon", "01:30")) and is_open(sunday, at("sun", "23:00"))
    assert not is_open(sunday, at("mon", "02:00"))
    assert closes_at(sunday, at("sun", "23:00")) == at("mon", "02:00", week=1)
    assert closes_at(sunday, at("mon", "00:10")) == at("mon", "02:00")
    # Monday 00:00 is no opening: that is Sunday's window running on.
    assert next_opening(sunday, at("mon", "03:00")) == at("sun", "22:00")
    assert next_opening(sunday, at("mon", "01:00")) == at("sun", "22:00")


def test_touching_windows_are_one_stretch() -> None:
    day = [window("mon", "08:00", "12:00"), window("mon", "12:00", "17:00")]
    assert intervals(day) == [(8 * 60, 17 * 60)]
    assert closes_at(day, at("mon", "09:00")) == at("mon", "17:00")
    assert window_hours(day) == {f"h{hour}": 1 for hour in range(8, 17)}
    across_midnight = [window("mon", "18:00", "00:00"), window("tue", "00:00", "06:00")]
    assert closes_at(across_midnight, at("mon", "20:00")) == at("tue", "06:00")
    assert next_opening(across_midnight, at("tue", "07:00")) == at("mon", "18:00", week=1)


def test_every_minute_of_the_week_is_one_stretch_that_never_closes() -> None:
    always = [window("mon tue wed thu fri sat sun", "00:00", "12:00"),
              window("mon tue wed thu fri sat sun", "12:00", "00:00")]  # fmt: skip
    assert intervals(always) == [(0, WEEK)]
    assert closes_at(always, at("wed", "10:00")) is None and next_opening(always, at("wed", "10:00")) is None


def test_the_condition_map_names_open_minutes_of_a_partly_open_hour() -> None:
    hours = window_hours([window("mon", "08:30", "09:15"), window("mon", "09:45", "11:00")])
    assert hours["h8"] == set(range(30, 60))
    assert hours["h9"] == set(range(0, 15)) | set(range(45, 60))
    assert hours["h10"] == 1
    assert "h11" not in hours and "h7" not in hours


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ([window("mon", "10:00", "12:00"), window("tue", "10:00", "12:00"), window("mon", "11:00", "13:00")],
         "windows[0] overlaps windows[2]"),
        ([window("fri", "22:00", "02:00"), window("sat", "01:00", "03:00")], "windows[0] overlaps windows[1]"),
        ([window("mon", "01:00", "03:00"), window("sun", "23:00", "02:00")], "windows[0] overlaps windows[1]"),
        ([window("mon", "08:00", "09:00"), window("tue", "10:00", "10:00")], "windows[1]: start and end are equal"),
        ([window("mon", "08:00", "09:00"), window("monday", "10:00", "11:00")],
         "windows[1].days: unknown day 'monday'"),
        ([window("mon", "08:00", "24:00")], "windows[0].end: not a time"),
        ([window("mon mon", "08:00", "09:00")], "windows[0].days: a day is named twice"),
        ([{"days": [], "start": "08:00", "end": "09:00"}], "windows[0].days: name at least one day"),
    ],
)  # fmt: skip
def test_a_bad_window_is_named_in_the_error(windows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_windows(windows)
    assert str(raised.value).startswith(message)


def test_touching_windows_are_valid_and_days_come_back_in_week_order() -> None:
    clean = validate_windows([window("sun fri", "22:00", "02:00"), window("sat", "02:00", "04:00")])
    assert clean[0]["days"] == ["fri", "sun"]


# --- periods: examples ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "tz", "keys"),
    [
        # 23:30 on Monday 30 November in Jakarta is already Tuesday 1 December in Makassar and Jayapura.
        (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), JAKARTA, ("d2026-11-30", "w2026-11-30", "m2026-11")),
        (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), MAKASSAR, ("d2026-12-01", "w2026-11-30", "m2026-12")),
        (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), JAYAPURA, ("d2026-12-01", "w2026-11-30", "m2026-12")),
        # Sunday 6 December 23:30 WIB is Monday 7 December in Makassar: a new week there.
        (datetime(2026, 12, 6, 16, 30, tzinfo=UTC), JAKARTA, ("d2026-12-06", "w2026-11-30", "m2026-12")),
        (datetime(2026, 12, 6, 16, 30, tzinfo=UTC), MAKASSAR, ("d2026-12-07", "w2026-12-07", "m2026-12")),
        # New year's eve in Jakarta is new year's day in Jayapura; its week began in the old year.
        (datetime(2026, 12, 31, 15, 30, tzinfo=UTC), JAKARTA, ("d2026-12-31", "w2026-12-28", "m2026-12")),
        (datetime(2026, 12, 31, 15, 30, tzinfo=UTC), JAYAPURA, ("d2027-01-01", "w2026-12-28", "m2027-01")),
    ],
)
def test_period_keys_follow_the_sites_calendar(instant: datetime, tz: ZoneInfo, keys: tuple[str, str, str]) -> None:
    local = instant.astimezone(tz)
    assert tuple(period_key(period, local) for period in ("day", "week", "month")) == keys


@pytest.mark.parametrize("tz", ZONES, ids=lambda tz: tz.key)
def test_periods_reset_at_local_midnight(tz: ZoneInfo) -> None:
    local = datetime(2026, 12, 2, 15, 45, 10, tzinfo=tz)  # a Wednesday
    assert period_resets("day", local) == datetime(2026, 12, 3, tzinfo=tz)
    assert period_resets("week", local) == datetime(2026, 12, 7, tzinfo=tz)  # the Monday after
    assert period_resets("month", local) == datetime(2027, 1, 1, tzinfo=tz)
    assert period_resets("month", datetime(2026, 12, 31, 23, 59, tzinfo=tz)) == datetime(2027, 1, 1, tzinfo=tz)
    assert period_resets("month", datetime(2027, 2, 10, tzinfo=tz)) == datetime(2027, 3, 1, tzinfo=tz)
    midnight = datetime(2026, 12, 7, tzinfo=tz)  # Monday 00:00: the new day and week have begun
    assert period_key("day", midnight) == "d2026-12-07" and period_key("week", midnight) == "w2026-12-07"
    assert period_key("day", midnight - timedelta(microseconds=1)) == "d2026-12-06"
    assert period_resets("week", midnight) == datetime(2026, 12, 14, tzinfo=tz)
    # The same reset, as the instant the guest is told: seven, eight or nine hours before UTC midnight.
    offset = int(tz.utcoffset(midnight).total_seconds() // 3600)  # type: ignore[union-attr]
    assert period_resets("day", local).astimezone(UTC) == datetime(2026, 12, 3, tzinfo=UTC) - timedelta(hours=offset)


def test_bytes_spanning_midnight_count_into_both_days() -> None:
    since = int(datetime(2026, 12, 2, 23, 0, tzinfo=JAKARTA).timestamp())
    shares = split_by_period(3000, since, since + 3 * 3600, "day", JAKARTA)
    assert shares == {"d2026-12-02": 1000, "d2026-12-03": 2000}
    assert split_by_period(500, since, since, "day", JAKARTA) == {"d2026-12-02": 500}


# --- properties -------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(windows=window_sets())
def test_the_redeem_conditions_map_and_is_open_agree_on_every_minute_of_the_week(
    windows: list[dict[str, Any]],
) -> None:
    """What DynamoDB tests (`wb.#hour = 1 OR contains(wb.#hour, :minute)`) is what Python decides."""
    hours = window_hours(windows)
    for key, entry in hours.items():  # what DynamoDB can store: 1, or a non-empty set short of a full hour
        assert entry == 1 or (isinstance(entry, set) and 0 < len(entry) < 60 and entry <= set(range(60))), key
    for minute in range(WEEK):
        local = MONDAY + timedelta(minutes=minute, seconds=minute % 60)
        key, minute_of_hour = hour_key(local)
        entry = hours.get(key)
        by_map = entry == 1 or (isinstance(entry, set) and minute_of_hour in entry)
        expected = open_at(windows, minute)
        assert by_map == expected, (local, key, entry)
        assert is_open(windows, local) == expected, local


@settings(max_examples=60, deadline=None)
@given(windows=window_sets(), local=local_times)
def test_a_window_closes_in_the_future_within_a_week_at_its_last_open_minute(
    windows: list[dict[str, Any]], local: datetime
) -> None:
    closing = closes_at(windows, local)
    if not open_local(windows, local) or all_week(windows):
        assert closing is None
        return
    assert closing is not None
    assert local < closing <= local + timedelta(days=7)
    assert (closing.second, closing.microsecond) == (0, 0)
    assert not open_local(windows, closing), "the stretch runs on: touching windows are one"
    minute = _next_minute(local)
    while minute < closing:  # open all the way there
        assert open_local(windows, minute), minute
        minute += MINUTE
    assert seconds_to_close(windows, local) == int((closing - local).total_seconds())


@settings(max_examples=60, deadline=None)
@given(windows=window_sets(), local=local_times)
def test_the_next_opening_is_the_first_minute_a_closed_stretch_ends(
    windows: list[dict[str, Any]], local: datetime
) -> None:
    opening = next_opening(windows, local)
    if all_week(windows):
        assert opening is None
        return
    assert opening is not None
    assert local < opening <= local + timedelta(days=7)
    assert (opening.second, opening.microsecond) == (0, 0)
    assert open_local(windows, opening) and not open_local(windows, opening - MINUTE)
    minute = _next_minute(local)
    while minute < opening:  # no window opened before it
        assert not (open_local(windows, minute) and not open_local(windows, minute - MINUTE)), minute
        minute += MINUTE


def _overlap(period: str, key_start: datetime, since: datetime, until: datetime) -> float:
    end = period_resets(period, key_start)
    return max((min(end, until) - max(key_start, since)).total_seconds(), 0.0)


EARLIEST, LATEST = (int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) for year in (2026, 2029))


@settings(max_examples=200, deadline=None)
@given(
    added=st.integers(0, 10**13),
    since=st.integers(EARLIEST, LATEST),
    span=st.one_of(st.integers(0, 2 * 86400), st.integers(0, 100 * 86400)),
    period=st.sampled_from(("day", "week", "month")),
    tz=st.sampled_from(ZONES),
)  # fmt: skip
def test_bytes_split_by_period_are_all_counted_and_only_in_periods_they_were_used_in(
    added: int, since: int, span: int, period: str, tz: ZoneInfo
) -> None:
    until = since + span
    shares = split_by_period(added, since, until, period, tz)
    assert sum(shares.values()) == added
    assert all(share >= 0 for share in shares.values())
    first, last = datetime.fromtimestamp(since, tz), datetime.fromtimestamp(until, tz)
    assert min(shares) == period_key(period, first) and max(shares) <= period_key(period, last)
    if span == 0:
        assert shares == {period_key(period, first): added}
        return
    # Each period gets its share of the time, give or take the rounding of each share before it.
    for key, share in shares.items():
        key_start = next(
            period_start(period, moment)
            for moment in (first, *(last - timedelta(days=days) for days in range(0, span // 86400 + 2)))
            if period_key(period, moment) == key
        )
        exact = added * _overlap(period, key_start, first, last) / span
        assert abs(share - exact) <= len(shares), (key, share, exact)
