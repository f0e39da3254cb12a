"""Service-quality figures per site and local day, kept as roll-ups by the paths that already write.

Who writes what (each an atomic ADD on the day's item, `models.quality`):

- accepted logins: the outbox drain, in the transaction that writes the `voucher.redeem`
  event (a drained entry is written once, so it is counted once); the redeem itself keeps
  its one write. It marks the interval of the redeem's time.
- rejected logins: the refusal branch of `RedeemService.redeem` (controllers, RADIUS and
  openNDS FAS all go through it) and RADIUS's own rejects before a redeem, one update each.
  Refusals from a container's blocklist (a guessing flood past its limit, answered without
  any I/O by design) are not counted: the guesses before the limit were, as `invalid_code`.
- sessions, bytes and session lengths: accounting, from the session's previous report as
  the voucher write returned it: a session counts when first seen, bytes by how much its
  cumulative counter grew, its length once, at its first stop.
- controller availability: every one of these marks its 5-minute interval; an openNDS
  authmon poll marks it too, at most once per interval per container.

A write here failing never changes a controller's answer: it is logged and the figure is short.
"""

from __future__ import annotations

import hashlib
import re
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.expressions.update import Action

from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.models import Site
from chalicelib.models.accounts import org_pk
from chalicelib.models.quality import (
    HISTOGRAM_PREFIX,
    INTERVALS_PER_DAY,
    LENGTH_SCALE,
    PREFIX,
    REJECTED_PREFIX,
    QualityRollup,
    add_length,
    bucket_middle,
    query_days,
    update_day,
)
from chalicelib.observability import get_logger
from chalicelib.services import Clock, utc_now

MAX_DAYS = 92  # a quarter: one query per organisation whatever the length, but the answer grows with it
# Reject rates leave these out: guesses (unknown codes) and the platform's own suspension.
NOT_QUALITY_REJECTS = frozenset({"invalid_code", "service_suspended"})
DEFAULT_TIMEZONE = ZoneInfo("Asia/Jakarta")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

TimezoneOf = Callable[[str, str], ZoneInfo]


def slot(at: datetime, timezone: ZoneInfo) -> tuple[date, int]:
    """The site's local day of `at` and its 5-minute interval (0..287)."""
    local = at.astimezone(timezone)
    return local.date(), min((local.hour * 60 + local.minute) // 5, INTERVALS_PER_DAY - 1)


def length_tag(*parts: str) -> int:
    """A number that tells one session from another of the same length (a set keeps both)."""
    return int(hashlib.sha256("\n".join(parts).encode()).hexdigest()[:15], 16) % LENGTH_SCALE


@dataclass(frozen=True)
class QualityDay:
    site_id: str
    day: date
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    bytes: int = 0
    median_session_s: float | None = None  # None: no session stopped that day
    availability: float = 0.0  # share of the day's intervals (today: of those elapsed) with a controller call
    org_id: str = ""
    median_exact: bool = True  # False past LENGTHS_PER_HOUR stopped sessions in an hour (an estimate)

    @property
    def reject_rate(self) -> float:
        """Rejected logins that say something about the service, over those and the accepted; 0 when none."""
        rejects = sum(n for code, n in self.rejected.items() if code not in NOT_QUALITY_REJECTS)
        total = self.accepted + rejects
        return rejects / total if total else 0.0


class QualityRecorder:
    """The write side: called by the paths that already write (redeem refusals, accounting, the drain)."""

    def __init__(self, timezone_of: TimezoneOf) -> None:
        self._timezone_of = timezone_of
        self._marked: dict[tuple[str, str], tuple[date, int]] = {}  # (org, site) -> last interval marked here
        self._lock = threading.Lock()

    def rejected(self, org_id: str, site_id: str, code: str, at: datetime) -> None:
        if not _CODE.match(code):
            code = "other"
        self._safely(org_id, site_id, at, counts={f"{REJECTED_PREFIX}{code}": 1})

    def accounted(
        self,
        org_id: str,
        site_id: str,
        at: datetime,
        *,
        new_session: bool,
        added_bytes: int,
        stopped_after: int | None,
        tag: int,
    ) -> None:
        """One accounting report: counts only what it adds to what the session reported before."""
        counts = {"sessions": 1 if new_session else 0, "bytes": max(added_bytes, 0)}
        self._safely(org_id, site_id, at, counts={name: n for name, n in counts.items() if n})
        if stopped_after is None:
            return
        try:
            stopped = at.astimezone(self._timezone_of(org_id, site_id))
            add_length(org_id, stopped.date(), site_id, stopped.hour, stopped_after, tag)
        except Exception:  # a figure short, never a controller's answer changed
            get_logger().exception("quality: session length not recorded")

    def called(self, org_id: str, site_id: str, at: datetime) -> None:
        """A controller call that writes nothing else (an authmon poll, a stale accounting report): mark its
        interval, unless this container has written that site's interval already."""
        with self._lock:
            if self._marked.get((org_id, site_id)) == slot(at, self._timezone_of(org_id, site_id)):
                return
        self._safely(org_id, site_id, at, counts={})

    def _safely(self, org_id: str, site_id: str, at: datetime, *, counts: dict[str, int]) -> None:
        try:
            day, interval = slot(at, self._timezone_of(org_id, site_id))
            update_day(org_id, day, site_id, interval=interval, counts=counts)
        except Exception:  # a figure short, never a controller's answer changed
            get_logger().exception("quality: roll-up not updated")
            return
        with self._lock:
            self._marked[(org_id, site_id)] = (day, interval)


def accepted_update(org_id: str, site_id: str, at: datetime, timezone: ZoneInfo) -> tuple[QualityRollup, list[Action]]:
    """The update that counts one accepted login, for the transaction that writes its audit event."""
    day, interval = slot(at, timezone)
    item = QualityRollup(*QualityRollup.key(org_id, day, site_id))
    actions: list[Action] = [
        QualityRollup.accepted.add(1),
        QualityRollup.intervals.add({interval}),
        QualityRollup.site_id.set(QualityRollup.site_id | site_id),
        QualityRollup.day.set(QualityRollup.day | day.isoformat()),
    ]
    return item, actions


class QualityService:
    """The read side: a range of days of an organisation in one query (plus one for its sites)."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    def days(self, org_id: str, start: date, end: date, site_id: str | None = None) -> list[QualityDay]:
        """Each site's figures for each of its local days start..end that has begun since the site was created.

        Reads: the org's sites (one query) and its quality items over the key range (one
        query; 1 MB pages: a month of a busy site is a few hundred KB). Days with no calls at
        all are there too, as zeros, so a controller that was down all day shows.
        """
        check_range(start, end)
        sites = list(Site.query(org_pk(org_id), Site.sk.startswith("SITE#")))
        if site_id is not None:
            sites = [site for site in sites if site.site_id == site_id]
            if not sites:
                raise NotFound("No such site.")
        items = query_days(org_id, start, end)
        return self._figures(org_id, sites, items, start, end)

    def all_days(self, start: date, end: date) -> list[QualityDay]:
        """Every organisation's figures (platform admins): the org listing (one query, GSI1 `ORGS`),
        then two queries per organisation, as `days`: 1 + 2 x orgs requests, plus 1 MB pages."""
        from chalicelib.models import Org

        check_range(start, end)
        figures: list[QualityDay] = []
        for org in Org.by_listing.query("ORGS", Org.gsi1sk.startswith("ORG#")):
            figures.extend(self.days(org.org_id, start, end))
        return figures

    def _figures(
        self, org_id: str, sites: Iterable[Site], items: list[dict[str, Any]], start: date, end: date
    ) -> list[QualityDay]:
        counters: dict[tuple[str, str], dict[str, Any]] = {}
        lengths: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item in items:
            parts = str(item["SK"]).removeprefix(PREFIX).split("#")
            key = (parts[0], parts[1])
            if len(parts) == 2:
                counters[key] = item
            else:
                lengths.setdefault(key, []).append(item)
        now = self._clock()
        days: list[QualityDay] = []
        for site in sites:
            timezone = _timezone(site.timezone)
            today, interval_now = slot(now, timezone)
            first = max(start, site.created_at.astimezone(timezone).date())
            for offset in range((min(end, today) - first).days + 1):
                day = first + timedelta(days=offset)
                key = (day.isoformat(), site.site_id)
                elapsed = interval_now + 1 if day == today else INTERVALS_PER_DAY
                days.append(_day(org_id, site.site_id, day, counters.get(key, {}), lengths.get(key, []), elapsed))
        days.sort(key=lambda figures: (figures.day, figures.site_id))
        return days


def check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed("to: must not be before from", field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"to: quality figures cover at most {MAX_DAYS} days", field="to")


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return DEFAULT_TIMEZONE


def _day(
    org_id: str, site_id: str, day: date, counters: dict[str, Any], lengths: list[dict[str, Any]], elapsed: int
) -> QualityDay:
    intervals = {int(n) for n in counters.get("iv", set()) if 0 <= int(n) < elapsed}
    median, exact = _median(lengths)
    return QualityDay(
        org_id=org_id,
        site_id=site_id,
        day=day,
        accepted=int(counters.get("accepted", 0)),
        rejected=_rejected(counters),
        sessions=int(counters.get("sessions", 0)),
        bytes=int(counters.get("bytes", 0)),
        median_session_s=median,
        median_exact=exact,
        availability=len(intervals) / elapsed,
    )


def _rejected(counters: dict[str, Any]) -> dict[str, int]:
    prefixed = ((name, int(n)) for name, n in sorted(counters.items()) if name.startswith(REJECTED_PREFIX))
    return {name.removeprefix(REJECTED_PREFIX): n for name, n in prefixed if n}


def _median(lengths: list[dict[str, Any]]) -> tuple[float | None, bool]:
    """The median of the day's stopped sessions: exact from the sets, an estimate once buckets hold some."""
    values: list[float] = []
    buckets: Counter[int] = Counter()
    for item in lengths:
        values.extend(float(int(n) // LENGTH_SCALE) for n in item.get("len", set()))
        for name, count in item.items():
            if name.startswith(HISTOGRAM_PREFIX) and name[len(HISTOGRAM_PREFIX):].isdigit():
                buckets[int(name[len(HISTOGRAM_PREFIX):])] += int(count)
    for bucket, count in buckets.items():
        values.extend([bucket_middle(bucket)] * count)
    if not values:
        return None, True
    return float(statistics.median(values)), not buckets
