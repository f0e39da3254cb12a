"""Revenue shares and settlements: what each organisation owes the ISP for a month, issued once.

Two organisations sell a month (tests/api/month_of_sales.py seeds it through
the API: three sites in WIB and WITA, two plans, two cashiers, voids, a refund)
at different shares, one of which changes in the middle of the month. The
expected shares are computed here from what was sold, day by local day.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from chalicelib.models import LedgerEntry
from tests.api.month_of_sales import FIRST, LAST, Month, seed_month
from tests.support import Api, FakeClock, World, audit_events, walk_pages

SHARES = {
    "Kopi Nusantara": [("10", "2026-10-01"), ("12.5", "2026-11-16")],  # changes mid-month
    "Warnet Sejahtera": [("7.77", "2026-11-01")],
}


@pytest.fixture
def months(api: Api, world: World, clock: FakeClock) -> dict[str, Month]:
    seeded = {name: seed_month(api, world, clock, name, seed) for seed, name in enumerate(SHARES, start=10)}
    for name, shares in SHARES.items():
        for percent, effective_from in shares:
            reply = set_share(api, world, seeded[name].tenant.org_id, percent, effective_from)
            assert reply.status == 200, reply.body
    world.org("Toko Tanpa Penjualan")  # sold nothing: not in the settlement
    return seeded


def set_share(api: Api, world: World, org_id: str, percent: str | float, effective_from: str,
              token: str | None = None) -> Any:  # fmt: skip
    body = {"percent": float(percent), "effective_from": effective_from, "reason": "kontrak 2026"}
    return api.call("PUT", f"/v1/platform/orgs/{org_id}/share", json_body=body, token=token or world.admin.token)


def issue(api: Api, world: World, start: str = FIRST, end: str = LAST) -> Any:
    return api.post("/v1/platform/settlements", {"from": start, "to": end}, token=world.admin.token)


def expected_isp_share(month: Month, shares: list[tuple[str, str]]) -> int:
    """Sum over local days of net x the percent in force that day, rounded once, halves away from zero."""
    exact = Decimal(0)
    for day, figures in month.expected("day").items():
        percent = max((s for s in shares if s[1] <= day), key=lambda s: s[1])[0]
        exact += Decimal(figures["amount"]) * Decimal(percent) / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_a_settlement_is_the_sum_of_the_organisations_reports_split_by_their_shares(
    api: Api, world: World, months: dict[str, Month]
) -> None:
    reply = issue(api, world)

    assert reply.status == 201, reply.body
    settlement = reply.json
    assert (settlement["from"], settlement["to"]) == (FIRST, LAST)
    lines = {line["org_name"]: line for line in settlement["lines"]}
    assert set(lines) == set(SHARES)  # the organisation that sold nothing has no line
    for name, month in months.items():
        line = lines[name]
        report = api.get(
            f"/v1/orgs/{month.tenant.org_id}/reports/sales?from={FIRST}&to={LAST}&group_by=site",
            token=month.tenant.owner.token,
        ).json["total"]  # fmt: skip
        # The same figures as the organisation's own report, and as what the test sold.
        assert line["org_id"] == month.tenant.org_id
        assert line["gross"] == report["gross_amount"]
        assert line["voids"] == report["voided_amount"] + report["refunded_amount"] < 0
        assert line["net"] == report["amount"] == line["gross"] + line["voids"]
        sold = month.expected("day")
        assert line["net"] == sum(figures["amount"] for figures in sold.values())
        assert line["isp_share"] == expected_isp_share(month, SHARES[name])
        assert line["isp_share"] + line["reseller_share"] == line["net"]
        assert sum(segment["net"] for segment in line["segments"]) == line["net"]
    assert lines["Kopi Nusantara"]["percent"] == 12.5
    assert [(s["from"], s["to"], s["percent"]) for s in lines["Kopi Nusantara"]["segments"]] == [
        ("2026-11-01", "2026-11-15", 10.0), ("2026-11-16", "2026-11-30", 12.5),
    ]  # fmt: skip
    assert lines["Warnet Sejahtera"]["percent"] == 7.77
    totals = settlement["totals"]
    for name in ("gross", "voids", "net", "isp_share", "reseller_share"):
        assert totals[name] == sum(line[name] for line in settlement["lines"])
    assert totals["isp_share"] + totals["reseller_share"] == totals["net"]
    assert settlement["adjustments"] == [] and settlement["adjusted_totals"] == {
        "isp_share": totals["isp_share"], "reseller_share": totals["reseller_share"],
    }  # fmt: skip
    assert settlement["issued_by"] == "platform@example.com"


def test_a_settlement_is_issued_once_and_only_followed_by_adjustments(
    api: Api, world: World, months: dict[str, Month]
) -> None:
    first = issue(api, world).json
    kopi = months["Kopi Nusantara"].tenant

    # The same month again, or any period overlapping it: refused.
    for start, end in ((FIRST, LAST), ("2026-11-20", "2026-11-30"), ("2026-10-25", "2026-11-01")):
        reply = issue(api, world, start, end)
        assert (reply.status, reply.error_code) == (409, "conflict"), (start, end, reply.body)
    # A share cannot reach back into settled days.
    reply = set_share(api, world, kopi.org_id, 20, "2026-11-30")
    assert (reply.status, reply.error_code) == (409, "conflict")
    assert set_share(api, world, kopi.org_id, 20, "2026-12-01").status == 200

    adjustment = api.post(
        f"/v1/platform/settlements/{first['settlement_id']}/adjustments",
        {"org_id": kopi.org_id, "amount": -1500, "reason": "voucher rusak dikembalikan"}, token=world.admin.token,
    )  # fmt: skip
    assert adjustment.status == 201, adjustment.body
    assert adjustment.json["org_name"] == "Kopi Nusantara" and adjustment.json["amount"] == -1500

    after = api.get(f"/v1/platform/settlements/{first['settlement_id']}", token=world.admin.token).json
    # The settlement as issued is unchanged; the adjustment follows it.
    assert {k: after[k] for k in ("lines", "totals", "issued_at", "from", "to")} == {
        k: first[k] for k in ("lines", "totals", "issued_at", "from", "to")
    }
    assert [a["adjustment_id"] for a in after["adjustments"]] == [adjustment.json["adjustment_id"]]
    assert after["adjusted_totals"] == {
        "isp_share": first["totals"]["isp_share"] - 1500, "reseller_share": first["totals"]["reseller_share"] + 1500,
    }  # fmt: skip
    listed = api.get("/v1/platform/settlements", token=world.admin.token).json["settlements"]
    assert [(s["settlement_id"], s["organizations"]) for s in listed] == [(first["settlement_id"], 2)]

    # In the platform's ledger (chained): the settlement with every line, then the adjustment; none on the
    # sales index.
    entries = list(LedgerEntry.query("PLATFORM", LedgerEntry.sk.startswith("LEDGER#")))
    assert [str(entry.rev_kind) for entry in entries] == ["settlement", "settlement_adjustment"]
    assert entries[0].details["lines"] == first["lines"] and entries[1].details["org_id"] == kopi.org_id
    assert all(entry.gsi3pk is None and entry.chain_hash for entry in entries)
    report = api.get(f"/v1/orgs/{kopi.org_id}/reports/sales?from={FIRST}&to={LAST}", token=kopi.owner.token).json
    assert report["total"]["amount"] == next(
        line["net"] for line in first["lines"] if line["org_id"] == kopi.org_id
    )
    # Audited in the platform's trail.
    actions = [event["action"] for event in audit_events(None)]
    assert actions.count("settlement.issue") == 1 and actions.count("settlement.adjust") == 1


def test_the_settlement_csv_has_a_row_per_organisation_and_the_total(
    api: Api, world: World, months: dict[str, Month]
) -> None:
    settlement = issue(api, world).json
    api.post(
        f"/v1/platform/settlements/{settlement['settlement_id']}/adjustments",
        {"org_id": months["Warnet Sejahtera"].tenant.org_id, "amount": 700, "reason": "=koreksi"},
        token=world.admin.token,
    )  # fmt: skip

    reply = api.get(f"/v1/platform/settlements/{settlement['settlement_id']}?format=csv", token=world.admin.token)

    assert reply.status == 200
    headers = {name.lower(): value for name, value in reply.headers.items()}
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == f'attachment; filename="settlement-{FIRST}-{LAST}.csv"'
    header, *rows = list(csv.reader(io.StringIO(reply.body.decode("utf-8"))))
    assert header == ["org_name", "org_id", "gross", "voids", "net", "percent", "isp_share", "reseller_share",
                      "owed", "paid", "outstanding", "note"]  # fmt: skip
    numbers = ("gross", "voids", "net", "isp_share", "reseller_share")
    by_org = {row[0]: dict(zip(header, row, strict=True)) for row in rows if row[-1] == ""}
    for line in settlement["lines"]:
        row = by_org[line["org_name"]]
        assert {name: int(row[name]) for name in numbers} == {name: line[name] for name in numbers}
        assert row["org_id"] == line["org_id"] and float(row["percent"]) == line["percent"]
    total = next(row for row in rows if row[0] == "total")
    assert [int(total[header.index(name)]) for name in numbers] == [settlement["totals"][name] for name in numbers]
    adjusted = next(row for row in rows if row[0] == "adjusted total")
    assert int(adjusted[header.index("isp_share")]) == settlement["totals"]["isp_share"] + 700
    assert [(row[0], row[-1]) for row in rows if row[-1]] == [("Warnet Sejahtera", "adjustment: =koreksi")]


def test_a_share_has_two_decimals_and_a_history(api: Api, world: World, clock: FakeClock) -> None:
    tenant = world.org("Kopi Nusantara")
    today = clock.now.date()
    assert set_share(api, world, tenant.org_id, 10, "2026-01-01").status == 200
    reply = set_share(api, world, tenant.org_id, "12.25", (today + timedelta(days=10)).isoformat())
    assert reply.status == 200, reply.body

    body = api.get(f"/v1/platform/orgs/{tenant.org_id}/share", token=world.admin.token).json
    assert body["org_name"] == "Kopi Nusantara"
    assert body["current"]["percent"] == 10.0  # the later one is not in force yet
    assert [(share["percent"], share["effective_from"]) for share in body["history"]] == [
        (10.0, "2026-01-01"), (12.25, (today + timedelta(days=10)).isoformat()),
    ]  # fmt: skip
    assert body["history"][0]["set_by"] == "platform@example.com"
    for percent in (12.345, 100.01, -1, "sepuluh"):
        bad = api.call(
            "PUT", f"/v1/platform/orgs/{tenant.org_id}/share", token=world.admin.token,
            json_body={"percent": percent, "effective_from": "2026-02-01", "reason": "x"},
        )  # fmt: skip
        assert (bad.status, bad.json["error"]["field"]) == (400, "percent"), (percent, bad.body)
    events = [event for event in audit_events(tenant.org_id) if event["action"] == "org.share.set"]
    assert len(events) == 2 and all(event["platform_action"] for event in events)
    later = next(event for event in events if event["after"]["percent"] == 12.25)
    assert later["before"]["percent"] == 10.0


def test_only_platform_admins_see_shares_and_settlements(api: Api, world: World, clock: FakeClock) -> None:
    tenant, other = world.org("Kopi Nusantara"), world.org("Warnet Lain")
    settlement = issue(api, world, "2026-10-01", "2026-10-31").json
    for role in ("owner", "manager", "auditor", "cashier"):
        token = world.member(tenant, role).token
        for method, path, body in (
            ("GET", f"/v1/platform/orgs/{tenant.org_id}/share", None),
            ("PUT", f"/v1/platform/orgs/{tenant.org_id}/share",
             {"percent": 1, "effective_from": "2027-01-01", "reason": "x"}),
            ("POST", "/v1/platform/settlements", {"from": "2026-09-01", "to": "2026-09-30"}),
            ("GET", "/v1/platform/settlements", None),
            ("GET", f"/v1/platform/settlements/{settlement['settlement_id']}", None),
            ("POST", f"/v1/platform/settlements/{settlement['settlement_id']}/adjustments",
             {"org_id": tenant.org_id, "amount": 1, "reason": "x"}),
        ):  # fmt: skip
            reply = api.call(method, path, token=token, json_body=body)
            assert (reply.status, reply.error_code) == (403, "forbidden"), (role, method, path, reply.body)
        # Another organisation's share does not exist for them.
        assert api.get(f"/v1/platform/orgs/{other.org_id}/share", token=token).status == 404
    assert api.get("/v1/platform/orgs/nosuchorg/share", token=world.admin.token).status == 404
    assert api.get("/v1/platform/settlements/nosuch", token=world.admin.token).status == 404
    missing_org = api.post(
        f"/v1/platform/settlements/{settlement['settlement_id']}/adjustments",
        {"org_id": "nosuchorg", "amount": 1, "reason": "x"}, token=world.admin.token,
    )  # fmt: skip
    assert missing_org.status == 404


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-11-02", "2026-11-01", "to"),
        ("2026-10-01", "2026-11-01", "to"),  # 32 days
        ("2026-11-31", "2026-12-01", "from"),
    ],
)
def test_bad_periods_are_400(api: Api, world: World, start: str, end: str, field: str) -> None:
    reply = issue(api, world, start, end)
    assert (reply.status, reply.json["error"]["field"]) == (400, field), reply.body


def test_only_days_that_are_over_can_be_settled(api: Api, world: World, clock: FakeClock) -> None:
    today = clock.now.astimezone(UTC).date()
    reply = issue(api, world, (today - timedelta(days=3)).isoformat(), today.isoformat())
    assert (reply.status, reply.json["error"]["field"]) == (400, "to")
    assert issue(api, world, (today - timedelta(days=3)).isoformat(), (today - timedelta(days=1)).isoformat()).status \
        == 201  # fmt: skip


def test_the_settlement_list_comes_a_page_at_a_time_newest_period_first(api: Api, world: World) -> None:
    months = [("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31"),
              ("2026-04-01", "2026-04-30"), ("2026-05-01", "2026-05-31")]  # fmt: skip
    made = [issue(api, world, start, end).json["settlement_id"] for start, end in months]
    listed, pages = walk_pages(api, "/v1/platform/settlements", "settlements", token=world.admin.token, limit=2)
    assert pages >= 3 and [s["settlement_id"] for s in listed] == made[::-1]
    assert [s["from"] for s in listed] == [start for start, _ in months[::-1]]

    tenant = world.org()  # a cursor of another list (an org's batches) reads nothing here
    plan_id = world.plan(tenant)
    for _ in range(2):
        api.post(f"/v1/orgs/{tenant.org_id}/batches", {"plan_id": plan_id, "quantity": 1}, token=tenant.owner.token)
    other = api.get(f"/v1/orgs/{tenant.org_id}/batches?limit=1", token=tenant.owner.token).json["next_cursor"]
    reply = api.get(f"/v1/platform/settlements?cursor={other}", token=world.admin.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")
