"""A month of sales made through the API, and the figures a report should show for it, summed independently.

Three sites (two in Jakarta, WIB = UTC+7; one in Makassar, WITA = UTC+8), two
plans and two cashiers (console users) sell through November 2026; the owner
voids some sales, one on a later local day than it was sold, and refunds a sale's
vouchers one by one the next day. Sales sit near local midnight,
where the UTC day and the site's day differ. `Month.expected` buckets what was
sold by the site's local day, without reading the table.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.support import Api, FakeClock, Member, Tenant, World

JAKARTA, MAKASSAR = "Asia/Jakarta", "Asia/Makassar"
MONTH, FIRST, LAST = "2026-11", "2026-11-01", "2026-11-30"
FIGURES = (
    "gross_count", "gross_amount", "voided_count", "voided_amount", "refunded_count", "refunded_amount",
    "count", "amount",
)  # fmt: skip


@dataclass(frozen=True)
class Sold:
    """One revenue line as the test made it: a sale (+), a void (-) or a refund (-)."""

    site: str
    plan: str
    cashier: str
    at: datetime
    kind: str  # sale | void | refund
    count: int
    amount: int


@dataclass
class Month:
    tenant: Tenant
    sites: dict[str, str]  # name -> id
    zones: dict[str, str]  # site id -> timezone
    plans: dict[str, str]  # name -> id
    prices: dict[str, int]  # plan id -> price
    cashiers: dict[str, Member]  # name -> member
    lines: list[Sold] = field(default_factory=list)
    sales: list[dict[str, Any]] = field(default_factory=list)

    def local_day(self, site_id: str, at: datetime) -> str:
        return at.astimezone(ZoneInfo(self.zones[site_id])).date().isoformat()

    def names(self, group_by: str) -> dict[str, str | None]:
        if group_by == "site":
            return {site_id: f"Kedai {name}" for name, site_id in self.sites.items()}
        if group_by == "plan":
            return {plan_id: name for name, plan_id in self.plans.items()}
        if group_by == "cashier":
            return {member.user_id: member.email for member in self.cashiers.values()}
        return {}

    def expected(self, group_by: str, start: str = FIRST, end: str = LAST, site: str | None = None) -> dict[str, Any]:
        groups: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
        for line in self.lines:
            day = self.local_day(line.site, line.at)
            if not start <= day <= end or (site is not None and line.site != site):
                continue
            key = {"day": day, "site": line.site, "plan": line.plan, "cashier": line.cashier}[group_by]
            figures = groups[key]
            prefix = {"sale": "gross", "void": "voided", "refund": "refunded"}[line.kind]
            figures[f"{prefix}_count"] += line.count
            figures[f"{prefix}_amount"] += line.amount
            figures["count"] += line.count
            figures["amount"] += line.amount
        return dict(groups)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def sell(api: Api, month: Month, clock: FakeClock, site: str, plan: str, cashier: str, at: str,
         quantity: int = 1) -> dict[str, Any]:  # fmt: skip
    clock.now = _at(at)
    site_id, plan_id = month.sites[site], month.plans[plan]
    member = month.cashiers[cashier]
    body = {"site_id": site_id, "plan_id": plan_id, "quantity": quantity}
    reply = api.post(f"/v1/orgs/{month.tenant.org_id}/sales", body, token=member.token)
    assert reply.status == 201, reply.body
    amount = month.prices[plan_id] * quantity
    month.lines.append(Sold(site_id, plan_id, member.user_id, clock.now, "sale", quantity, amount))
    sale = {**reply.json, "site_id": site_id, "plan_id": plan_id, "quantity": quantity, "cashier": member.user_id}
    month.sales.append(sale)
    return sale


def void(api: Api, month: Month, clock: FakeClock, sale: dict[str, Any], at: str) -> None:
    clock.now = _at(at)
    reply = api.post(
        f"/v1/orgs/{month.tenant.org_id}/sales/{sale['sale_id']}/void", {"reason": "salah paket"},
        token=month.tenant.owner.token,
    )  # fmt: skip
    assert reply.status == 200, reply.body
    month.lines.append(
        Sold(sale["site_id"], sale["plan_id"], sale["cashier"], clock.now, "void", -sale["quantity"], -sale["total"])
    )


def refund(api: Api, month: Month, clock: FakeClock, sale: dict[str, Any], at: str) -> None:
    """The owner gives back every voucher of the sale, one refund each (the refund route)."""
    clock.now = _at(at)
    unit = sale["total"] // sale["quantity"]
    for voucher in sale["vouchers"]:
        reply = api.post(f"/v1/orgs/{month.tenant.org_id}/vouchers/{voucher['code']}/refund",
                         {"reason": "jaringan mati"}, token=month.tenant.owner.token)  # fmt: skip
        assert reply.status == 200, reply.body
        month.lines.append(Sold(sale["site_id"], sale["plan_id"], sale["cashier"], clock.now, "refund", -1, -unit))


def seed_month(api: Api, world: World, clock: FakeClock, name: str = "Kopi Nusantara", seed: int = 10) -> Month:
    tenant = world.org(name)
    sites = {
        "Pusat": world.site(tenant, "Kedai Pusat", JAKARTA),
        "Bandung": world.site(tenant, "Kedai Bandung", JAKARTA),
        "Makassar": world.site(tenant, "Kedai Makassar", MAKASSAR),
    }
    plans = {
        "1 Jam": world.plan(tenant, name="1 Jam", price=5000),
        "1 Hari": world.plan(tenant, name="1 Hari", price=15000),
    }
    cashiers = {
        "ani": world.member(tenant, "cashier"),
        "budi": world.user_in(tenant.org_id, "cashier", as_token=tenant.owner.token),
    }
    month = Month(
        tenant=tenant, sites=sites,
        zones={sites["Pusat"]: JAKARTA, sites["Bandung"]: JAKARTA, sites["Makassar"]: MAKASSAR},
        plans=plans, prices={plans["1 Jam"]: 5000, plans["1 Hari"]: 15000}, cashiers=cashiers,
    )  # fmt: skip
    # Just before November: 23:59 WIB on 31 October is already 00:59 WITA on 1 November.
    sell(api, month, clock, "Pusat", "1 Hari", "ani", "2026-10-31T16:59:00+00:00")
    sell(api, month, clock, "Makassar", "1 Hari", "budi", "2026-10-31T16:59:00+00:00")
    # Every day of the month, one sale at a site, plan and cashier of the day, at a time of the day.
    rng = random.Random(seed)
    for day in range(1, 31):
        site, plan, cashier = rng.choice(list(sites)), rng.choice(list(plans)), rng.choice(list(cashiers))
        # The 30th's sales stay before 16:00 UTC, still the 30th at every site (later ones are tested below).
        hour, quantity = rng.randrange(0, 16 if day == 30 else 24), rng.choice((1, 1, 2, 3))
        sell(api, month, clock, site, plan, cashier, f"2026-11-{day:02d}T{hour:02d}:{rng.randrange(60):02d}:00+00:00",
             quantity)  # fmt: skip
    # 16:30 UTC on the 9th: 23:30 on the 9th in Jakarta, 00:30 on the 10th in Makassar.
    late_wib = sell(api, month, clock, "Bandung", "1 Jam", "ani", "2026-11-09T16:30:00+00:00", 2)
    sell(api, month, clock, "Makassar", "1 Jam", "ani", "2026-11-09T16:30:00+00:00", 3)
    # Voided after local midnight: the sale counts on the 9th, its void on the 10th (Jakarta).
    void(api, month, clock, late_wib, "2026-11-09T17:10:00+00:00")
    voided_same_day = sell(api, month, clock, "Makassar", "1 Hari", "budi", "2026-11-20T02:00:00+00:00")
    void(api, month, clock, voided_same_day, "2026-11-20T02:05:00+00:00")
    refunded = sell(api, month, clock, "Pusat", "1 Hari", "budi", "2026-11-25T09:00:00+00:00", 2)
    refund(api, month, clock, refunded, "2026-11-26T03:00:00+00:00")
    # The last evening: 23:50 WIB on the 30th is in November; 00:05 WIB on 1 December is not.
    sell(api, month, clock, "Pusat", "1 Jam", "budi", "2026-11-30T16:50:00+00:00")
    sell(api, month, clock, "Bandung", "1 Jam", "budi", "2026-11-30T17:05:00+00:00")
    # 00:05 WITA on 1 December (16:05 UTC on the 30th) is December in Makassar.
    sell(api, month, clock, "Makassar", "1 Hari", "ani", "2026-11-30T16:05:00+00:00")
    # Back to the present (after November): sign-ins from here on get tokens valid now.
    clock.now = datetime.now(UTC)
    return month
