"""Sales reports: revenue lines of an organisation's local days, summed by day, site, plan or cashier.

Every revenue line lives on the sales index (GSI3) under its organisation and
the site-local day it was booked on: one per sold voucher (a POS sale, or a
printed voucher's first redeem) and one reversal per void, with negative count
and amount. A report therefore queries that index once per day in the range and
adds the lines up; it never scans and never looks at vouchers' current state, so
a revoke does not change revenue but a void does, on the day of the void.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, cast, get_args

from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import ValidationFailed
from chalicelib.models import Plan, Site, Voucher

GroupBy = Literal["day", "site", "plan", "cashier"]
GROUPINGS: tuple[str, ...] = get_args(GroupBy)
MAX_DAYS = 366  # one query per day: a year (leap or not) and no more
NO_CASHIER = "(printed)"  # printed vouchers are booked at first redeem, where no cashier is known

# Sold vouchers (Voucher items) and void reversals (LedgerEntry items) share the
# index and these attribute names; reading only them makes both kinds look alike.
_REVENUE_ATTRIBUTES = ["GSI3SK", "rev_site", "rev_plan", "rev_cashier", "rev_amount", "rev_count"]


@dataclass
class SalesLine:
    """One group's figures. `count`/`amount` are net of voids; `voided_*` are the reversals in them (<= 0)."""

    key: str
    name: str | None = None
    count: int = 0
    amount: int = 0
    voided_count: int = 0
    voided_amount: int = 0

    def add(self, count: int, amount: int) -> None:
        self.count += count
        self.amount += amount
        if count < 0 or amount < 0:
            self.voided_count += count
            self.voided_amount += amount


@dataclass
class SalesReport:
    org_id: str
    start: date
    end: date
    group_by: GroupBy
    lines: list[SalesLine]
    total: SalesLine = field(default_factory=lambda: SalesLine(key="total"))


@dataclass(frozen=True)
class _Revenue:
    day: str
    site_id: str | None
    plan_id: str | None
    cashier: str | None
    count: int
    amount: int


def days_between(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def sales_day_key(org_id: str, day: date) -> str:
    return f"ORG#{org_id}#DAY#{day.isoformat()}"


class ReportingService:
    def __init__(self, page_size: int | None = None) -> None:
        self._page_size = page_size  # None: DynamoDB's own 1 MB pages; tests make them tiny

    def sales(self, org_id: str, start: date, end: date, group_by: str = "day") -> SalesReport:
        """Net sales per group over the site-local days start..end (both included)."""
        if group_by not in GROUPINGS:
            raise ValidationFailed(f"group_by: must be one of {', '.join(GROUPINGS)}", field="group_by")
        if end < start:
            raise ValidationFailed("to: must not be before from", field="to")
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationFailed(f"to: a report covers at most {MAX_DAYS} days", field="to")
        grouping = cast(GroupBy, group_by)
        lines: dict[str, SalesLine] = {}
        report = SalesReport(org_id=org_id, start=start, end=end, group_by=grouping, lines=[])
        for revenue in self._revenue(org_id, start, end):
            key = _group_key(revenue, grouping)
            line = lines.get(key)
            if line is None:
                line = lines[key] = SalesLine(key=key, name=_name(org_id, grouping, key))
            line.add(revenue.count, revenue.amount)
            report.total.add(revenue.count, revenue.amount)
        # Keys are ISO days or ids, so a plain sort puts days in calendar order.
        report.lines = [lines[key] for key in sorted(lines)]
        return report

    def _revenue(self, org_id: str, start: date, end: date) -> Iterator[_Revenue]:
        for day in days_between(start, end):
            # The iterator follows LastEvaluatedKey, so a busy day is read in full.
            items = Voucher.by_sales_day.query(
                sales_day_key(org_id, day), attributes_to_get=_REVENUE_ATTRIBUTES, page_size=self._page_size
            )
            seen: set[str | None] = set()
            for item in items:
                line = cast(Voucher, item)
                # A sold voucher's line and its permanent copy (made before TTL removes the voucher)
                # share one sort key: count it once, whichever of the two the index holds right now.
                if line.gsi3sk in seen:
                    continue
                seen.add(line.gsi3sk)
                yield _Revenue(
                    day=day.isoformat(),
                    site_id=line.rev_site,
                    plan_id=line.rev_plan,
                    cashier=line.rev_cashier,
                    count=int(line.rev_count or 0),
                    amount=int(line.rev_amount or 0),
                )


def _group_key(revenue: _Revenue, group_by: GroupBy) -> str:
    if group_by == "day":
        return revenue.day
    if group_by == "site":
        return revenue.site_id or "(unknown)"
    if group_by == "plan":
        return revenue.plan_id or "(unknown)"
    return revenue.cashier or NO_CASHIER


def _name(org_id: str, group_by: GroupBy, key: str) -> str | None:
    """A site's or plan's name, read by key; called once per line, so once per report."""
    try:
        if group_by == "site":
            return str(Site.get(*Site.key(org_id, key)).name)
        if group_by == "plan":
            return str(Plan.get(*Plan.key(org_id, key)).name)
    except DoesNotExist:
        pass  # the revenue stays reported under its id
    return None
