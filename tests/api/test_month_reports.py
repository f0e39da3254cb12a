"""A month of sales, sold and voided through the API, reported by site-local day, site, plan and cashier.

The month (tests/api/month_of_sales.py): three sites in WIB and WITA, two plans,
two cashiers, voids and a refund, sales near local midnight; the expected
figures are computed there from what the test sold, bucketed by local day.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.models import Plan, Site, User, Voucher
from chalicelib.models.base import dynamodb_client
from chalicelib.services.reporting import NO_CASHIER, ReportingService
from tests.api.month_of_sales import FIGURES, FIRST, LAST, MONTH, Month, seed_month
from tests.support import Api, FakeClock, World


@pytest.fixture
def month(api: Api, world: World, clock: FakeClock) -> Month:
    return seed_month(api, world, clock)


def sales_report(api: Api, month: Month, group_by: str, fmt: str = "json", token: str | None = None) -> Any:
    path = f"/v1/orgs/{month.tenant.org_id}/reports/sales?from={FIRST}&to={LAST}&group_by={group_by}&format={fmt}"
    return api.get(path, token=token or month.tenant.owner.token)


@pytest.mark.parametrize("group_by", ["day", "site", "plan", "cashier"])
def test_the_month_matches_what_was_sold_voided_and_refunded_in_json_and_csv(
    api: Api, month: Month, group_by: str
) -> None:
    expected = month.expected(group_by)
    names = month.names(group_by)

    body = sales_report(api, month, group_by).json
    assert {line["key"]: {name: line[name] for name in FIGURES} for line in body["lines"]} == expected
    assert {line["key"]: line["name"] for line in body["lines"]} == {key: names.get(key) for key in expected}
    totals = {name: sum(group[name] for group in expected.values()) for name in FIGURES}
    assert body["total"] == totals
    # Net is gross less voids and refunds, on every line.
    for line in body["lines"]:
        assert line["amount"] == line["gross_amount"] + line["voided_amount"] + line["refunded_amount"]

    reply = sales_report(api, month, group_by, "csv")
    header, *rows, total = list(csv.reader(io.StringIO(reply.body.decode("utf-8"))))
    assert header == [group_by, "name", *FIGURES]
    assert {key: dict(zip(FIGURES, map(int, numbers), strict=True)) for key, _, *numbers in rows} == expected
    assert {key: name or None for key, name, *_ in rows} == {key: names.get(key) for key in expected}
    assert total[:2] == ["total", ""] and dict(zip(FIGURES, map(int, total[2:]), strict=True)) == totals


def test_the_month_verifies_and_reconciles_report_ledger_and_audit_trail(api: Api, month: Month) -> None:
    path = f"/v1/orgs/{month.tenant.org_id}/audit/verify?from={FIRST}&to={LAST}"
    result = api.get(path, token=month.tenant.owner.token).json
    assert result["ok"], result["problems"]
    net = sales_report(api, month, "day").json["total"]["amount"]
    assert result["totals"] == {"report": net, "ledger": net, "pending": 0, "audit": net}


def test_the_totals_are_every_sale_of_the_local_month_less_voids_and_refunds(api: Api, month: Month) -> None:
    total = sales_report(api, month, "site").json["total"]

    sold = [line for line in month.lines if FIRST <= month.local_day(line.site, line.at) <= LAST]
    assert total["gross_amount"] == sum(line.amount for line in sold if line.kind == "sale")
    assert total["voided_amount"] == -(15000 + 2 * 5000) and total["voided_count"] == -3
    assert total["refunded_amount"] == -2 * 15000 and total["refunded_count"] == -2
    # The two sales at 16:59 UTC on 31 October: only Makassar's is November's.
    # The three at the end: only the one at 23:50 WIB on the 30th.
    outside = [line for line in month.lines if not FIRST <= month.local_day(line.site, line.at) <= LAST]
    assert len(outside) == 3


def test_days_are_the_sites_local_days_not_utc(api: Api, month: Month) -> None:
    by_day = {line["key"]: line for line in sales_report(api, month, "day").json["lines"]}
    makassar = month.sites["Makassar"]
    statement = api.get(
        f"/v1/orgs/{month.tenant.org_id}/reports/statement?site_id={makassar}&month={MONTH}",
        token=month.tenant.owner.token,
    ).json  # fmt: skip
    days = {line["key"]: line for line in statement["days"]}

    # Makassar's sale at 16:59 UTC on 31 October is on its 1 November.
    first = month.expected("day", site=makassar).get("2026-11-01", {"gross_count": 0})
    assert days["2026-11-01"]["count"] == first["gross_count"] >= 1
    # The 16:30 UTC sales of the 9th: Bandung's (2) on the 9th, Makassar's (3) on the 10th; Bandung's void on the 10th.
    assert by_day["2026-11-10"]["voided_count"] == -2
    assert days["2026-11-10"]["gross"] >= 3 * 5000
    assert by_day["2026-11-09"] == {**by_day["2026-11-09"], **month.expected("day")["2026-11-09"]}
    # 16:05 UTC on the 30th is 1 December in Makassar: not in its November.
    assert days["2026-11-30"]["gross"] == month.expected("day", site=makassar).get("2026-11-30", {}).get(
        "gross_amount", 0
    )


def test_the_monthly_statement_of_a_site_has_every_local_day_and_every_plan(api: Api, month: Month) -> None:
    for site_name, site_id in month.sites.items():
        reply = api.get(
            f"/v1/orgs/{month.tenant.org_id}/reports/statement?site_id={site_id}&month={MONTH}",
            token=month.tenant.owner.token,
        )  # fmt: skip
        assert reply.status == 200, reply.body
        body = reply.json
        assert (body["site_name"], body["month"], body["from"], body["to"]) == (
            f"Kedai {site_name}", MONTH, FIRST, LAST,
        )  # fmt: skip
        assert body["timezone"] == month.zones[site_id]
        by_day = month.expected("day", site=site_id)
        assert [line["key"] for line in body["days"]] == [f"2026-11-{day:02d}" for day in range(1, 31)]
        for line in body["days"]:
            figures = by_day.get(line["key"], dict.fromkeys(FIGURES, 0))
            assert line == {
                "key": line["key"], "name": None, "count": figures["count"], "gross": figures["gross_amount"],
                "voids": figures["voided_amount"], "refunds": figures["refunded_amount"], "net": figures["amount"],
            }  # fmt: skip
        by_plan = month.expected("plan", site=site_id)
        plan_names = month.names("plan")
        assert {line["key"]: (line["name"], line["net"], line["gross"]) for line in body["plans"]} == {
            key: (plan_names[key], figures["amount"], figures["gross_amount"]) for key, figures in by_plan.items()
        }
        assert body["total"]["net"] == sum(figures["amount"] for figures in by_day.values())
        assert body["total"]["net"] == sum(line["net"] for line in body["days"]) == sum(
            line["net"] for line in body["plans"]
        )


def test_the_statement_is_for_report_readers_of_the_org_only(api: Api, world: World, month: Month) -> None:
    site_id = month.sites["Pusat"]
    path = f"/v1/orgs/{month.tenant.org_id}/reports/statement?site_id={site_id}&month={MONTH}"
    for role in ("manager", "auditor"):
        assert api.get(path, token=world.member(month.tenant, role).token).status == 200
    assert api.get(path, token=world.admin.token).status == 200
    assert api.get(path, token=month.cashiers["ani"].token).error_code == "forbidden"
    stranger = world.org("Warung Lain")
    assert api.get(path, token=stranger.owner.token).status == 404
    # Another org's site inside my org's path does not exist either.
    other_site = world.site(stranger, "Cabang Lain")
    mixed = f"/v1/orgs/{month.tenant.org_id}/reports/statement?site_id={other_site}&month={MONTH}"
    assert api.get(mixed, token=month.tenant.owner.token).status == 404
    for bad in ("2026-13", "2026-1", "November", ""):
        reply = api.get(
            f"/v1/orgs/{month.tenant.org_id}/reports/statement?site_id={site_id}&month={bad}",
            token=month.tenant.owner.token,
        )  # fmt: skip
        assert (reply.status, reply.json["error"]["field"]) == (400, "month"), (bad, reply.body)


@contextmanager
def counting_requests() -> Iterator[Counter[str]]:
    """DynamoDB requests by operation, on every client the reporting models use."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    clients = {id(client): client for client in (dynamodb_client(m) for m in (Voucher, Site, Plan, User))}
    unique = f"month-count-{uuid.uuid4().hex}"
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", count, unique_id=unique)
    try:
        yield calls
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", unique_id=unique)


@pytest.mark.parametrize("group_by", ["day", "site", "plan", "cashier"])
def test_a_month_is_read_in_one_query_per_local_day_plus_one_for_names(month: Month, group_by: str) -> None:
    org_id = month.tenant.org_id
    with counting_requests() as calls:
        ReportingService().sales(org_id, date(2026, 11, 1), date(2026, 11, 30), group_by)
    names = 0 if group_by == "day" else 1
    assert calls == Counter({"Query": 30 + names})

    with counting_requests() as calls:
        ReportingService().statement(org_id, month.sites["Makassar"], MONTH)
    assert calls == Counter({"Query": 30 + 1, "GetItem": 1})


def test_busy_days_cost_one_more_query_per_page_and_nothing_else(month: Month) -> None:
    org_id = month.tenant.org_id
    whole = ReportingService().sales(org_id, date(2026, 11, 1), date(2026, 11, 30), "cashier")
    with counting_requests() as calls:
        paged = ReportingService(page_size=1).sales(org_id, date(2026, 11, 1), date(2026, 11, 30), "cashier")

    assert paged == whole
    # Page size 1: a page per line on the index that day, and the empty page that ends the day.
    assert calls["Query"] == sum(count + 1 for count in _index_lines_per_day(org_id)) + 1


def _index_lines_per_day(org_id: str) -> list[int]:
    days = [(date(2026, 11, 1) + timedelta(days=offset)).isoformat() for offset in range(30)]
    return [
        sum(1 for _ in Voucher.by_sales_day.query(f"ORG#{org_id}#DAY#{day}", attributes_to_get=["GSI3SK"]))
        for day in days
    ]


def test_cashiers_are_named_by_their_email(api: Api, month: Month) -> None:
    body = sales_report(api, month, "cashier").json
    assert NO_CASHIER not in {line["key"] for line in body["lines"]}
    assert {line["name"] for line in body["lines"]} == {member.email for member in month.cashiers.values()}
