"""Sales reports: net revenue per site-local day, site, plan and cashier, as JSON and CSV.

Revenue lines are written straight to the table the way selling, first redeem
and void write them (the flows that make them are tested on their own), so
these tests control every sale's time, site, plan and cashier.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.api import deps
from chalicelib.models import LedgerEntry
from chalicelib.services import epoch
from chalicelib.services.issuing import terms_of, voucher_item
from chalicelib.services.reporting import NO_CASHIER, ReportingService
from tests.support import Api, Tenant, World, audit_events

JAKARTA, JAYAPURA = "Asia/Jakarta", "Asia/Jayapura"  # UTC+7 and UTC+9


@dataclass(frozen=True)
class Line:
    """One revenue line as a report should count it: a sold voucher, or a void's reversal."""

    site: str
    plan: str
    cashier: str | None
    at: datetime
    count: int
    amount: int


@dataclass
class Shop:
    tenant: Tenant
    sites: dict[str, str]  # name -> id
    timezones: dict[str, str]  # id -> timezone
    plans: dict[str, str]  # name -> id
    prices: dict[str, int]  # id -> price
    lines: list[Line]

    def sell(self, site: str, plan: str, cashier: str | None, at: str, quantity: int = 1) -> str:
        """Sold vouchers, as a sale or a printed voucher's first redeem leaves them."""
        site_id, plan_id = self.sites[site], self.plans[plan]
        when = datetime.fromisoformat(at)
        sale_id = uuid.uuid4().hex[:24]
        terms = terms_of(deps.services().plans.get(self.tenant.org_id, plan_id))
        for _ in range(quantity):
            voucher = voucher_item(
                org_id=self.tenant.org_id, code=uuid.uuid4().hex, source_id=sale_id, site_id=site_id,
                terms=terms, issued_at=when, valid_until=when, status="sold",
            )  # fmt: skip
            voucher.sold_at, voucher.sale_id = epoch(when), sale_id
            voucher.gsi3pk = f"ORG#{self.tenant.org_id}#DAY#{self._local_day(site_id, when)}"
            voucher.gsi3sk = f"{when.isoformat()}#{voucher.pk.removeprefix('V#')}"
            voucher.rev_site, voucher.rev_plan, voucher.rev_cashier = site_id, plan_id, cashier
            voucher.rev_amount, voucher.rev_count = self.prices[plan_id], 1
            voucher.save()
            self.lines.append(Line(site_id, plan_id, cashier, when, 1, self.prices[plan_id]))
        return sale_id

    def void(self, site: str, plan: str, cashier: str | None, at: str, quantity: int = 1) -> None:
        """A void's reversal entry, on the day of the void."""
        site_id, plan_id = self.sites[site], self.plans[plan]
        when = datetime.fromisoformat(at)
        sale_id = uuid.uuid4().hex[:24]
        total = self.prices[plan_id] * quantity
        LedgerEntry(
            f"ORG#{self.tenant.org_id}", f"VOID#{sale_id}",
            gsi3pk=f"ORG#{self.tenant.org_id}#DAY#{self._local_day(site_id, when)}",
            gsi3sk=f"{when.isoformat()}#VOID#{sale_id}",
            rev_kind="void", rev_site=site_id, rev_plan=plan_id, rev_cashier=cashier, rev_amount=-total,
            rev_count=-quantity, sale_id=sale_id, reason="customer changed their mind", at=when,
        ).save()  # fmt: skip
        self.lines.append(Line(site_id, plan_id, cashier, when, -quantity, -total))

    def _local_day(self, site_id: str, when: datetime) -> str:
        return when.astimezone(ZoneInfo(self.timezones[site_id])).date().isoformat()

    def expected(self, start: str, end: str, group_by: str) -> dict[str, dict[str, int]]:
        """The report's figures, summed here from the inputs rather than from the table."""
        groups: dict[str, dict[str, int]] = defaultdict(
            lambda: {"count": 0, "amount": 0, "voided_count": 0, "voided_amount": 0}
        )
        for line in self.lines:
            day = self._local_day(line.site, line.at)
            if not start <= day <= end:
                continue
            key = {"day": day, "site": line.site, "plan": line.plan, "cashier": line.cashier or NO_CASHIER}[group_by]
            groups[key]["count"] += line.count
            groups[key]["amount"] += line.amount
            if line.count < 0:
                groups[key]["voided_count"] += line.count
                groups[key]["voided_amount"] += line.amount
        return dict(groups)


@pytest.fixture
def shop(world: World) -> Shop:
    """Two sites an hour and two timezones apart, two plans, cashiers and printed vouchers, over a week."""
    tenant = world.org("Kopi Nusantara")
    sites = {"barat": world.site(tenant, "Kedai Barat", JAKARTA), "timur": world.site(tenant, "Kedai Timur", JAYAPURA)}
    plans = {
        "hour": world.plan(tenant, name="1 Jam", price=5000),
        "day": world.plan(tenant, name="1 Hari", price=15000),
    }
    shop = Shop(
        tenant=tenant,
        sites=sites,
        timezones={sites["barat"]: JAKARTA, sites["timur"]: JAYAPURA},
        plans=plans,
        prices={plans["hour"]: 5000, plans["day"]: 15000},
        lines=[],
    )
    # Before the range, in both sites' calendars.
    shop.sell("barat", "hour", "ani", "2026-11-08T10:00:00+00:00", quantity=3)
    # 2026-11-09.
    shop.sell("barat", "hour", "ani", "2026-11-09T02:00:00+00:00", quantity=2)
    shop.sell("timur", "day", "budi", "2026-11-09T01:00:00+00:00")
    shop.sell("timur", "hour", None, "2026-11-09T05:00:00+00:00")  # printed, sold at first redeem
    # 16:30 UTC on the 10th: still the 10th in Jakarta, already the 11th in Jayapura.
    shop.sell("barat", "day", "ani", "2026-11-10T16:30:00+00:00")
    shop.sell("timur", "day", "budi", "2026-11-10T16:30:00+00:00", quantity=2)
    shop.sell("barat", "day", "citra", "2026-11-10T03:00:00+00:00")
    # The 11th: citra's only sale is voided, and one of budi's two.
    shop.void("barat", "day", "citra", "2026-11-11T04:00:00+00:00")
    shop.void("timur", "day", "budi", "2026-11-11T06:00:00+00:00")
    shop.sell("barat", "hour", None, "2026-11-11T09:00:00+00:00", quantity=4)
    # The 12th, last day of the range; 15:30 UTC is the 13th in Jayapura, so out of it.
    shop.sell("barat", "hour", "budi", "2026-11-12T15:30:00+00:00")
    shop.sell("timur", "hour", "budi", "2026-11-12T15:30:00+00:00")
    # After the range.
    shop.sell("timur", "day", "ani", "2026-11-14T03:00:00+00:00", quantity=5)
    return shop


START, END = "2026-11-09", "2026-11-12"


def report(api: Api, shop: Shop, group_by: str | None = None, token: str | None = None, **params: str) -> Any:
    query = {"from": START, "to": END, **params}
    if group_by:
        query["group_by"] = group_by
    path = f"/v1/orgs/{shop.tenant.org_id}/reports/sales?" + "&".join(f"{k}={v}" for k, v in query.items())
    return api.get(path, token=token or shop.tenant.owner.token)


def figures(lines: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    names = ("count", "amount", "voided_count", "voided_amount")
    return {line["key"]: {name: line[name] for name in names} for line in lines}


@pytest.mark.parametrize("group_by", ["day", "site", "plan", "cashier"])
def test_each_grouping_adds_up_to_the_sales_and_voids_of_the_range(api: Api, shop: Shop, group_by: str) -> None:
    reply = report(api, shop, group_by)

    assert reply.status == 200, reply.body
    body = reply.json
    assert (body["from"], body["to"], body["group_by"]) == (START, END, group_by)
    expected = shop.expected(START, END, group_by)
    assert figures(body["lines"]) == expected
    assert [line["key"] for line in body["lines"]] == sorted(expected)
    net = {name: sum(group[name] for group in expected.values()) for name in ("count", "amount")}
    assert (body["total"]["count"], body["total"]["amount"]) == (net["count"], net["amount"])
    # Every grouping splits the same money.
    assert (net["count"], net["amount"]) == (11, 85_000)


def test_days_are_site_local_and_the_range_includes_both_ends_only(api: Api, shop: Shop) -> None:
    days = {line["key"]: line for line in report(api, shop, "day").json["lines"]}

    assert sorted(days) == ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12"]
    # Jakarta's 10th has ani's and citra's sales; the Jayapura sale at the same instant is on the 11th.
    assert (days["2026-11-10"]["count"], days["2026-11-10"]["amount"]) == (2, 30_000)
    # The 12th in Jakarta only: the same instant in Jayapura is the 13th.
    assert (days["2026-11-12"]["count"], days["2026-11-12"]["amount"]) == (1, 5000)
    only_the_14th = report(api, shop, "day", **{"from": "2026-11-14", "to": "2026-11-14"}).json
    assert figures(only_the_14th["lines"]) == {
        "2026-11-14": {"count": 5, "amount": 75_000, "voided_count": 0, "voided_amount": 0}
    }


def test_voids_reduce_their_group_and_show_as_negative_amounts(api: Api, shop: Shop) -> None:
    by_cashier = {line["key"]: line for line in report(api, shop, "cashier").json["lines"]}
    by_day = {line["key"]: line for line in report(api, shop, "day").json["lines"]}

    # Everything citra sold was voided: the line stays, at zero, with the void visible.
    assert by_cashier["citra"] == {
        "key": "citra", "name": "citra", "count": 0, "amount": 0, "gross_count": 1, "gross_amount": 15_000,
        "voided_count": -1, "voided_amount": -15_000, "refunded_count": 0, "refunded_amount": 0,
    }  # fmt: skip
    assert (by_cashier[NO_CASHIER]["count"], by_cashier[NO_CASHIER]["amount"]) == (5, 25_000)
    # The 11th: a void at each site (-30,000), four printed vouchers in Jakarta (+20,000) and
    # the two day passes sold at 01:30 Jayapura time (+30,000).
    eleventh = by_day["2026-11-11"]
    assert (eleventh["voided_count"], eleventh["voided_amount"]) == (-2, -30_000)
    assert (eleventh["count"], eleventh["amount"]) == (4, 20_000)


def test_site_and_plan_lines_carry_their_names(api: Api, shop: Shop) -> None:
    sites = {line["key"]: line["name"] for line in report(api, shop, "site").json["lines"]}
    plans = {line["key"]: line["name"] for line in report(api, shop, "plan").json["lines"]}

    assert sites == {shop.sites["barat"]: "Kedai Barat", shop.sites["timur"]: "Kedai Timur"}
    assert plans == {shop.plans["hour"]: "1 Jam", shop.plans["day"]: "1 Hari"}
    assert {line["name"] for line in report(api, shop, "day").json["lines"]} == {None}


@pytest.mark.parametrize("group_by", ["day", "site", "plan", "cashier"])
def test_csv_download_has_the_same_figures_as_json(api: Api, shop: Shop, group_by: str) -> None:
    as_json = report(api, shop, group_by).json
    reply = report(api, shop, group_by, format="csv")

    assert reply.status == 200, reply.body
    headers = {name.lower(): value for name, value in reply.headers.items()}
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == f'attachment; filename="sales-{START}-{END}-{group_by}.csv"'
    header, *rows, total = list(csv.reader(io.StringIO(reply.body.decode("utf-8"))))
    assert header == [
        group_by, "name", "gross_count", "gross_amount", "voided_count", "voided_amount", "refunded_count",
        "refunded_amount", "count", "amount",
    ]  # fmt: skip
    parsed = [
        {"key": key, "name": name or None, **dict(zip(header[2:], map(int, numbers), strict=True))}
        for key, name, *numbers in rows
    ]
    assert parsed == as_json["lines"]
    assert total[0] == "total"
    assert dict(zip(header[2:], map(int, total[2:]), strict=True)) == as_json["total"]


def test_csv_cells_cannot_become_spreadsheet_formulas(api: Api, world: World, shop: Shop) -> None:
    shop.plans["odd"] = world.plan(shop.tenant, name="=HYPERLINK(1)", price=1000)
    shop.prices[shop.plans["odd"]] = 1000
    shop.sell("barat", "odd", "@kasir", "2026-11-10T03:00:00+00:00")

    by_plan = list(csv.reader(io.StringIO(report(api, shop, "plan", format="csv").body.decode())))
    by_cashier = list(csv.reader(io.StringIO(report(api, shop, "cashier", format="csv").body.decode())))

    assert [shop.plans["odd"], "'=HYPERLINK(1)", "1", "1000", "0", "0", "0", "0", "1", "1000"] in by_plan
    assert ["'@kasir", "'@kasir", "1", "1000", "0", "0", "0", "0", "1", "1000"] in by_cashier
    names = {line["name"] for line in report(api, shop, "plan").json["lines"]}
    assert "=HYPERLINK(1)" in names  # JSON keeps the name as typed


def test_managers_and_auditors_may_read_reports_cashiers_may_not(api: Api, world: World, shop: Shop) -> None:
    for role in ("manager", "auditor"):
        assert report(api, shop, token=world.member(shop.tenant, role).token).status == 200
    assert report(api, shop, token=world.admin.token).status == 200
    reply = report(api, shop, token=world.member(shop.tenant, "cashier").token)
    assert (reply.status, reply.error_code) == (403, "forbidden")


def test_a_download_per_cashier_names_people_so_only_the_owner_takes_it_and_it_is_audited(
    api: Api, world: World, shop: Shop
) -> None:
    for role in ("manager", "auditor"):
        token = world.member(shop.tenant, role).token
        refused = report(api, shop, "cashier", format="csv", token=token)
        assert (refused.status, refused.error_code) == (403, "forbidden")
        assert "owner" in refused.json["error"]["message"]
        assert report(api, shop, "cashier", token=token).status == 200  # on screen, as before
        assert report(api, shop, "site", format="csv", token=token).status == 200  # no one named
    assert report(api, shop, "cashier", format="csv").status == 200
    exported = [event for event in audit_events(shop.tenant.org_id) if event["action"] == "report.cashiers_exported"]
    assert len(exported) == 1 and exported[0]["actor_id"] == shop.tenant.owner.user_id
    assert exported[0]["after"] == {"from": START, "to": END, "group_by": "cashier"}


def test_another_orgs_report_is_not_found(api: Api, world: World, shop: Shop) -> None:
    stranger = world.org("Warung Lain")
    reply = report(api, shop, token=stranger.owner.token)
    assert (reply.status, reply.error_code) == (404, "not_found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026/11/01"}, "from"),
        ({"from": "20261101"}, "from"),
        ({"to": "2026-11-31"}, "to"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-11-12", "to": "2026-11-11"}, "to"),
        ({"from": "2025-11-11", "to": "2026-11-12"}, "to"),  # 367 days, one too many
        ({"group_by": "week"}, "group_by"),
        ({"format": "xlsx"}, "format"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(api: Api, shop: Shop, params: dict[str, str], field: str) -> None:
    reply = report(api, shop, **params)

    assert (reply.status, reply.error_code) == (400, "validation_error"), reply.body
    assert reply.json["error"]["field"] == field


def test_from_and_to_are_required(api: Api, shop: Shop) -> None:
    path = f"/v1/orgs/{shop.tenant.org_id}/reports/sales"
    for query, field in (("", "from"), (f"?from={START}", "to"), (f"?to={END}", "from")):
        reply = api.get(path + query, token=shop.tenant.owner.token)
        assert (reply.status, reply.json["error"]["field"]) == (400, field)


def test_366_days_is_the_longest_report(api: Api, shop: Shop) -> None:
    reply = report(api, shop, "plan", **{"from": "2026-01-01", "to": "2027-01-01"})  # both ends included

    assert reply.status == 200, reply.body
    assert reply.json["total"]["amount"] == sum(line.amount for line in shop.lines)


def test_busy_days_are_read_to_the_last_page(shop: Shop) -> None:
    paged = ReportingService(page_size=2).sales(shop.tenant.org_id, date(2026, 11, 9), date(2026, 11, 12), "site")
    whole = ReportingService().sales(shop.tenant.org_id, date(2026, 11, 9), date(2026, 11, 12), "site")

    assert paged == whole
    assert paged.total.count == 11


def test_no_sales_is_an_empty_report(api: Api, shop: Shop) -> None:
    body = report(api, shop, "day", **{"from": "2026-12-01", "to": "2026-12-31"}).json
    assert body["lines"] == []
    assert set(body["total"].values()) == {0}
