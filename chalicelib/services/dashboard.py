"""The owner's dashboard: today's sales, vouchers in use, and the last 30 days at a glance.

Read from the revenue index (GSI3), one query per day, so its cost follows the
days shown, not the table. Redemptions and active vouchers are counted among
vouchers sold in the window (a voucher sold earlier and first used inside it
is not counted: the index is by day of sale).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from chalicelib.models import Site, Voucher
from chalicelib.services import Clock, utc_now
from chalicelib.services.reporting import sales_day_key

WINDOW_DAYS = 30
DEFAULT_TIMEZONE = "Asia/Jakarta"


@dataclass
class DayFigures:
    day: str
    amount: int = 0
    count: int = 0
    redemptions: int = 0


@dataclass
class Dashboard:
    today: DayFigures
    active_vouchers: int
    days: list[DayFigures] = field(default_factory=list)


class DashboardService:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    def dashboard(self, org_id: str) -> Dashboard:
        zone = _org_timezone(org_id)
        now = self._clock()
        today = now.astimezone(zone).date()
        first = today - timedelta(days=WINDOW_DAYS - 1)
        days = {first + timedelta(days=n): DayFigures(day=(first + timedelta(days=n)).isoformat())
                for n in range(WINDOW_DAYS)}  # fmt: skip
        active = 0
        for day, figures in days.items():
            seen: set[str | None] = set()
            for item in Voucher.by_sales_day.query(sales_day_key(org_id, day)):
                line = cast(Voucher, item)
                if line.gsi3sk in seen:
                    continue  # a voucher's line and its ledger copy are one sale
                seen.add(line.gsi3sk)
                figures.amount += int(line.rev_amount or 0)
                figures.count += int(line.rev_count or 0)
                if not line.pk.startswith("V#"):
                    continue  # a ledger line (void, or the copy of an expired voucher's sale)
                if line.activated_at is not None:
                    used_on = _local_day(int(line.activated_at), zone)
                    if used_on in days:
                        days[used_on].redemptions += 1
                if line.status == "active" and (line.expires_at or 0) > now.timestamp():
                    active += 1
        return Dashboard(today=days[today], active_vouchers=active, days=list(days.values()))


def _local_day(epoch_seconds: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch_seconds, zone).date()


def _org_timezone(org_id: str) -> ZoneInfo:
    """The org's days are its sites' days; with several timezones, the first site's."""
    sites = sorted(Site.query(f"ORG#{org_id}", Site.sk.startswith("SITE#")), key=lambda site: site.created_at)
    return ZoneInfo(sites[0].timezone if sites else DEFAULT_TIMEZONE)
