"""Sales reports: revenue lines of an organisation's local days, summed by day, site, plan or cashier.

Every revenue line lives on the sales index (GSI3) under its organisation and
the site-local day it was booked on (WIB, WITA or WIT: the site's own calendar,
not UTC's): one per sale (a POS or console sale, or a printed voucher's first
redeem) and one reversal per void or refund, with negative count and amount,
told apart by `rev_kind`. A report therefore queries that index once per day
in the range and adds the lines up; it never scans and never looks at
vouchers' current state, so a revoke does not change revenue but a void or a
refund does, on the day it happened.

Requests per report (the bound): one GSI3 query per local day in the range,
plus one more per extra 1 MB page of a busy day, plus one query for the names
(the org's sites, plans or users). A month (at most 31 local days) is therefore
31 queries + extra pages + 1; a year, the longest report, 366 + pages + 1.
The monthly statement of a site is the same: its month's days, filtered to
the site on the index, plus one query for the plan names and one get of the site.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, cast, get_args

from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.models import Plan, Site, User, Voucher

GroupBy = Literal["day", "site", "plan", "cashier"]
GROUPINGS: tuple[str, ...] = get_args(GroupBy)
MAX_DAYS = 366  # one query per day: a year (leap or not) and no more
NO_CASHIER = "(printed)"  # printed vouchers are booked at first redeem, where no cashier is known

# Sold vouchers (Voucher items) and reversals (LedgerEntry items) share the
# index and these attribute names; reading only them makes both kinds look alike.
_REVENUE_ATTRIBUTES = ["GSI3SK", "rev_site", "rev_plan", "rev_cashier", "rev_amount", "rev_count", "rev_kind"]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

LineKind = Literal["sale", "void", "refund"]


def line_kind(rev_kind: str | None, amount: int) -> LineKind:
    """What a revenue line is: a refund or a void when it says so; older lines without a kind by their sign."""
    if rev_kind == "refund":
        return "refund"
    if rev_kind == "void" or (rev_kind is None and amount < 0):
        return "void"
    return "sale"  # "sale", "redeem_sale", or an older positive line


@dataclass
class SalesLine:
    """One group's figures: gross sales, the voids and refunds in the range (<= 0), and the net.

    `count`/`amount` are the net: gross + voided + refunded.
    """

    key: str
    name: str | None = None
    count: int = 0
    amount: int = 0
    gross_count: int = 0
    gross_amount: int = 0
    voided_count: int = 0
    voided_amount: int = 0
    refunded_count: int = 0
    refunded_amount: int = 0

    def add(self, kind: LineKind, count: int, amount: int) -> None:
        self.count += count
        self.amount += amount
        if kind == "refund":
            self.refunded_count += count
            self.refunded_amount += amount
        elif kind == "void":
            self.voided_count += count
            self.voided_amount += amount
        else:
            self.gross_count += count
            self.gross_amount += amount


@dataclass
class SalesReport:
    org_id: str
    start: date
    end: date
    group_by: GroupBy
    lines: list[SalesLine]
    total: SalesLine = field(default_factory=lambda: SalesLine(key="total"))


@dataclass
class Statement:
    """A site's month: every local day (zero days included) and every plan sold, with the total."""

    org_id: str
    site_id: str
    site_name: str
    timezone: str
    month: str
    start: date
    end: date
    days: list[SalesLine]
    plans: list[SalesLine]
    total: SalesLine = field(default_factory=lambda: SalesLine(key="total"))


@dataclass(frozen=True)
class _Revenue:
    day: str
    site_id: str | None
    plan_id: str | None
    cashier: str | None
    kind: LineKind
    count: int
    amount: int


def days_between(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def month_range(month: str) -> tuple[date, date]:
    """The first and last day of a month written YYYY-MM."""
    match = _MONTH.match(month)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise ValidationFailed("month: use a month written YYYY-MM", field="month")
    year, number = int(match.group(1)), int(match.group(2))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def sales_day_key(org_id: str, day: date) -> str:
    return f"ORG#{org_id}#DAY#{day.isoformat()}"


class ReportingService:
    def __init__(self, page_size: int | None = None) -> None:
        self._page_size = page_size  # None: DynamoDB's own 1 MB pages; tests make them tiny

    def sales(self, org_id: str, start: date, end: date, group_by: str = "day") -> SalesReport:
        """Gross, voids, refunds and net per group over the site-local days start..end (both included)."""
        if group_by not in GROUPINGS:
            raise ValidationFailed(f"group_by: must be one of {', '.join(GROUPINGS)}", field="group_by")
        _check_range(start, end)
        grouping = cast(GroupBy, group_by)
        lines: dict[str, SalesLine] = {}
        report = SalesReport(org_id=org_id, start=start, end=end, group_by=grouping, lines=[])
        for revenue in self._revenue(org_id, start, end):
            key = _group_key(revenue, grouping)
            line = lines.get(key)
            if line is None:
                line = lines[key] = SalesLine(key=key)
            line.add(revenue.kind, revenue.count, revenue.amount)
            report.total.add(revenue.kind, revenue.count, revenue.amount)
        names = self._names(org_id, grouping) if lines else {}
        for key, line in lines.items():
            line.name = names.get(key, key if grouping == "cashier" and key != NO_CASHIER else None)
        # Keys are ISO days or ids, so a plain sort puts days in calendar order.
        report.lines = [lines[key] for key in sorted(lines)]
        return report

    def statement(self, org_id: str, site_id: str, month: str) -> Statement:
        """One site's month: per local day and per plan, from the same revenue lines as the report."""
        start, end = month_range(month)
        try:
            site = Site.get(*Site.key(org_id, site_id))
        except DoesNotExist as exc:
            raise NotFound("No such site.") from exc
        days = {day.isoformat(): SalesLine(key=day.isoformat()) for day in days_between(start, end)}
        plans: dict[str, SalesLine] = {}
        statement = Statement(
            org_id=org_id, site_id=site_id, site_name=str(site.name), timezone=str(site.timezone), month=month,
            start=start, end=end, days=list(days.values()), plans=[],
        )  # fmt: skip
        for revenue in self._revenue(org_id, start, end, site_id=site_id):
            days[revenue.day].add(revenue.kind, revenue.count, revenue.amount)
            plan_key = revenue.plan_id or "(unknown)"
            plan = plans.get(plan_key)
            if plan is None:
                plan = plans[plan_key] = SalesLine(key=plan_key)
            plan.add(revenue.kind, revenue.count, revenue.amount)
            statement.total.add(revenue.kind, revenue.count, revenue.amount)
        names = self._names(org_id, "plan") if plans else {}
        for key, plan in plans.items():
            plan.name = names.get(key)
        statement.plans = sorted(plans.values(), key=lambda line: (line.name or line.key, line.key))
        return statement

    def _revenue(self, org_id: str, start: date, end: date, site_id: str | None = None) -> Iterator[_Revenue]:
        only_site = Voucher.rev_site == site_id if site_id is not None else None
        for day in days_between(start, end):
            # The iterator follows LastEvaluatedKey, so a busy day is read in full.
            items = Voucher.by_sales_day.query(
                sales_day_key(org_id, day), filter_condition=only_site, attributes_to_get=_REVENUE_ATTRIBUTES,
                page_size=self._page_size,
            )  # fmt: skip
            seen: set[str | None] = set()
            for item in items:
                line = cast(Voucher, item)
                # A sold voucher's line and its permanent copy (made before TTL removes the voucher)
                # share one sort key: count it once, whichever of the two the index holds right now.
                if line.gsi3sk in seen:
                    continue
                seen.add(line.gsi3sk)
                amount = int(line.rev_amount or 0)
                yield _Revenue(
                    day=day.isoformat(),
                    site_id=line.rev_site,
                    plan_id=line.rev_plan,
                    cashier=line.rev_cashier,
                    kind=line_kind(line.rev_kind, amount),
                    count=int(line.rev_count or 0),
                    amount=amount,
                )

    def _names(self, org_id: str, group_by: GroupBy) -> dict[str, str]:
        """Names of the org's sites, plans or users (by email), in one query; days have none."""
        partition = f"ORG#{org_id}"
        if group_by == "day":
            return {}
        if group_by == "site":
            return {str(site.site_id): str(site.name) for site in Site.query(partition, Site.sk.startswith("SITE#"))}
        if group_by == "plan":
            return {str(plan.plan_id): str(plan.name) for plan in Plan.query(partition, Plan.sk.startswith("PLAN#"))}
        # Console sales name the user; a POS names its cashier itself (cashier_ref), which stays as typed.
        return {str(user.user_id): str(user.email) for user in User.query(partition, User.sk.startswith("USER#"))}


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed("to: must not be before from", field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"to: a report covers at most {MAX_DAYS} days", field="to")


def _group_key(revenue: _Revenue, group_by: GroupBy) -> str:
    if group_by == "day":
        return revenue.day
    if group_by == "site":
        return revenue.site_id or "(unknown)"
    if group_by == "plan":
        return revenue.plan_id or "(unknown)"
    return revenue.cashier or NO_CASHIER
