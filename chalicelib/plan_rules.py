"""How venues sell: time windows and data per period, as pure functions of a voucher's terms and a clock.

Windows are in the site's local time (`{days, start, end}`: `days` names the day a window opens,
`start` inclusive, `end` exclusive, an `end` before `start` runs past midnight). Inside, a window is
an interval in minutes of the week from Monday 00:00; one that runs past Sunday midnight wraps to
Monday. Indonesia keeps no daylight saving, so a local minute is always sixty seconds; elsewhere a
window's edge may be an hour off on the night the clocks change.

The redeem write cannot run Python, so a voucher also carries its windows as a map DynamoDB can
test (`window_hours`): per open hour of the week, 1 when the whole hour is open, else the set of
its open minutes. One `contains` or `=` on the current hour's entry decides.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.errors import ValidationFailed

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 24 * 60
WEEK = 7 * DAY
PERIODS = ("day", "week", "month")
MB = 1024 * 1024

Interval = tuple[int, int]  # [start, end) in minutes of the week, 0 <= start < end <= WEEK


def _minutes(text: str, field: str) -> int:
    try:
        hours, minutes = text.split(":")
        value = int(hours) * 60 + int(minutes)
        if len(hours) != 2 or len(minutes) != 2 or not (0 <= int(hours) < 24 and 0 <= int(minutes) < 60):
            raise ValueError(text)
    except ValueError as exc:
        raise ValidationFailed(f"{field}: not a time HH:MM (00:00-23:59)", field=field) from exc
    return value


def _window_intervals(window: dict[str, Any]) -> list[Interval]:
    start, end = _minutes(window["start"], "start"), _minutes(window["end"], "end")
    length = (end - start) % DAY
    intervals: list[Interval] = []
    for day in window["days"]:
        opens = DAYS.index(day) * DAY + start
        closes = opens + length
        if closes <= WEEK:
            intervals.append((opens, closes))
        else:  # Sunday night into Monday morning
            intervals += [(opens, WEEK), (0, closes - WEEK)]
    return intervals


def validate_windows(windows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The windows in one spelling (days in week order), or a 400 naming the window at fault."""
    clean: list[dict[str, Any]] = []
    owner: list[tuple[Interval, int]] = []
    for index, window in enumerate(windows):
        field = f"windows[{index}]"
        days = list(window.get("days") or ())
        if not days:
            raise ValidationFailed(f"{field}.days: name at least one day", field="windows")
        unknown = [day for day in days if day not in DAYS]
        if unknown:
            raise ValidationFailed(f"{field}.days: unknown day {unknown[0]!r} (use mon..sun)", field="windows")
        if len(set(days)) != len(days):
            raise ValidationFailed(f"{field}.days: a day is named twice", field="windows")
        start = _minutes(str(window.get("start", "")), f"{field}.start")
        end = _minutes(str(window.get("end", "")), f"{field}.end")
        if start == end:
            raise ValidationFailed(f"{field}: start and end are equal (a window needs a length)", field="windows")
        spelled = {"days": [day for day in DAYS if day in days], "start": window["start"], "end": window["end"]}
        clean.append(spelled)
        owner += [(interval, index) for interval in _window_intervals(spelled)]
    owner.sort()
    for (first, i), (second, j) in itertools.pairwise(owner):
        if second[0] < first[1]:
            a, b = sorted((i, j))
            what = "overlaps itself" if a == b else f"overlaps windows[{b}]"
            raise ValidationFailed(f"windows[{a}] {what}", field="windows")
    return clean


def intervals(windows: Iterable[dict[str, Any]]) -> list[Interval]:
    """The windows' open minutes of the week, touching intervals merged, in order."""
    merged: list[Interval] = []
    for start, end in sorted(interval for window in windows for interval in _window_intervals(window)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def window_hours(windows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The map the redeem's condition reads: `h<hour of week>` -> 1 (all open) or its open minutes."""
    hours: dict[str, Any] = {}
    for start, end in intervals(windows):
        minute = start
        while minute < end:
            hour, offset = divmod(minute, 60)
            upto = min(end, (hour + 1) * 60)
            key = f"h{hour}"
            if offset == 0 and upto - minute == 60:
                hours[key] = 1
            else:
                open_minutes = hours.get(key) or set()
                hours[key] = set(open_minutes) | set(range(offset, upto - hour * 60))
                if len(hours[key]) == 60:
                    hours[key] = 1
            minute = upto
    return hours


def minute_of_week(local: datetime) -> int:
    return local.weekday() * DAY + local.hour * 60 + local.minute


def hour_key(local: datetime) -> tuple[str, int]:
    """The condition's operands at this local time: the hour's key in `window_hours`, and the minute."""
    return f"h{local.weekday() * 24 + local.hour}", local.minute


def _seconds_until(local: datetime, minute: int) -> int:
    """Seconds from `local` to minute-of-week `minute` (this week, or next when already past)."""
    now = minute_of_week(local) * 60 + local.second
    return (minute * 60 - now) % (WEEK * 60) or WEEK * 60


def is_open(windows: Sequence[dict[str, Any]] | None, local: datetime) -> bool:
    if not windows:
        return True
    mow = minute_of_week(local)
    return any(start <= mow < end for start, end in intervals(windows))


def closes_at(windows: Sequence[dict[str, Any]] | None, local: datetime) -> datetime | None:
    """When the open stretch `local` is in ends (touching windows are one stretch); None: never (or closed)."""
    if not windows or not is_open(windows, local):
        return None
    spans = intervals(windows)
    if spans == [(0, WEEK)]:
        return None  # open all week
    mow = minute_of_week(local)
    _start, end = next(span for span in spans if span[0] <= mow < span[1])
    if end == WEEK and spans[0][0] == 0:
        end = WEEK + spans[0][1]  # runs on past Sunday midnight
    return local + timedelta(seconds=(end - mow) * 60 - local.second - local.microsecond / 1e6)


def next_opening(windows: Sequence[dict[str, Any]] | None, local: datetime) -> datetime | None:
    """The next time a window opens after `local` (a closed voucher's "come back at"); None without windows."""
    if not windows:
        return None
    spans = intervals(windows)
    if spans == [(0, WEEK)]:
        return None
    starts = [start for start, _ in spans if not (start == 0 and spans[-1][1] == WEEK)]
    wait = min(_seconds_until(local, start) for start in starts)
    return (local + timedelta(seconds=wait)).replace(second=0, microsecond=0)


def seconds_to_close(windows: Sequence[dict[str, Any]] | None, local: datetime) -> int | None:
    """How long a session admitted now may run before its window closes (None: no window bounds it)."""
    closing = closes_at(windows, local)
    if closing is None:
        return None
    return max(int((closing - local).total_seconds()), 0)


# --- data per period -----------------------------------------------------------------------------


def period_start(period: str, local: datetime) -> datetime:
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return midnight
    if period == "week":
        return midnight - timedelta(days=local.weekday())
    return midnight.replace(day=1)


def period_key(period: str, local: datetime) -> str:
    """The name of the period `local` falls in: d2026-12-02, w2026-11-30 (its Monday), m2026-12."""
    start = period_start(period, local)
    if period == "month":
        return f"m{start:%Y-%m}"
    return f"{period[0]}{start:%Y-%m-%d}"


def period_resets(period: str, local: datetime) -> datetime:
    """Local midnight at which the next period starts."""
    start = period_start(period, local)
    if period == "day":
        following = start + timedelta(days=1)
    elif period == "week":
        following = start + timedelta(days=7)
    else:
        following = (start + timedelta(days=32)).replace(day=1)
    # Re-attach the zone: a plain timedelta keeps the old offset across a change of it.
    return following.replace(tzinfo=None).replace(tzinfo=local.tzinfo)


def check_plan(terms: dict[str, Any]) -> None:
    """Rules across a plan's fields (each field's own shape is checked by the schema)."""
    if terms.get("kind") == "topup":
        for name in ("windows", "period_quota_mb", "pause"):
            if terms.get(name):
                raise ValidationFailed(
                    f"{name}: a top-up plan adds minutes and data to a code; its other terms stay the code's",
                    field=name,
                )
    if (terms.get("period_quota_mb") is None) != (terms.get("quota_period") is None):
        field = "quota_period" if terms.get("quota_period") is None else "period_quota_mb"
        raise ValidationFailed(f"{field}: data per period needs both period_quota_mb and quota_period", field=field)
    total, per_period = terms.get("data_quota_mb"), terms.get("period_quota_mb")
    if total is not None and per_period is not None and per_period > total:
        raise ValidationFailed("period_quota_mb: larger than the plan's total data_quota_mb", field="period_quota_mb")
    if terms.get("pause") and terms.get("time_mode") == "usage":
        raise ValidationFailed(
            "pause: only wallclock plans pause (a usage plan's time runs only while connected)", field="pause"
        )
    if terms.get("idle_release_minutes") is not None and terms.get("device_policy") == "first_devices":
        raise ValidationFailed(
            "idle_release_minutes: a first_devices plan keeps its devices; idle release is for shared plans",
            field="idle_release_minutes",
        )
