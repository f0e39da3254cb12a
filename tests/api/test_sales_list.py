"""The sales list: newest first over UTC days, a bounded page at a time, a cashier's own only.

Each sale shows its site, plan, seller (by name too), status and shift; the
console maps the ids to names, the API names the seller itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support import Api, FakeClock, Member, Reply, Tenant, World


@dataclass
class Shop:
    tenant: Tenant
    site_id: str
    plan_id: str
    cashier: Member
    other: Member  # a second cashier

    @property
    def org(self) -> str:
        return f"/v1/orgs/{self.tenant.org_id}"


@pytest.fixture
def shop(world: World, clock: FakeClock) -> Shop:
    tenant = world.org()
    site_id = world.site(tenant, "Kios Pasar")
    plan_id = world.plan(tenant, price=5000)
    cashier = world.member(tenant, "cashier")
    other = world.user_in(tenant.org_id, "cashier", as_token=tenant.owner.token)
    return Shop(tenant, site_id, plan_id, cashier, other)


def sell(api: Api, shop: Shop, who: Member, quantity: int = 1) -> str:
    body = {"site_id": shop.site_id, "plan_id": shop.plan_id, "quantity": quantity}
    reply = api.post(f"{shop.org}/sales", body, token=who.token)
    assert reply.status == 201, reply.body
    return str(reply.json["sale_id"])


def day(at: datetime, offset: int = 0) -> str:
    return (at + timedelta(days=offset)).date().isoformat()


def listing(api: Api, shop: Shop, who: Member, query: str) -> Reply:
    return api.get(f"{shop.org}/sales?{query}", token=who.token)


def sale_ids(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.body
    return [sale["sale_id"] for sale in reply.json["sales"]]


def test_owner_sees_every_sale_newest_first_with_names_and_status(
    api: Api, world: World, shop: Shop, clock: FakeClock
) -> None:
    today = day(clock.now)
    readers = [world.member(shop.tenant, role) for role in ("manager", "auditor")]  # signed in before time moves
    _, pos_key = world.key(shop.tenant, shop.site_id, kind="pos")
    first = sell(api, shop, shop.cashier, quantity=2)
    clock.advance(60)
    shift = api.post(f"{shop.org}/shifts", {"site_id": shop.site_id}, token=shop.other.token).json
    second = sell(api, shop, shop.other)
    clock.advance(60)
    by_pos = api.post("/v1/pos/sales", {"plan_id": shop.plan_id, "quantity": 1, "cashier_ref": "kasir-2"},
                      token=pos_key, headers={"Idempotency-Key": "r-1"}).json["sale_id"]  # fmt: skip
    clock.advance(60)
    api.post(f"{shop.org}/sales/{first}/void", {"reason": "salah paket"}, token=shop.tenant.owner.token)

    reply = listing(api, shop, shop.tenant.owner, f"from={today}&to={today}")
    assert sale_ids(reply) == [by_pos, second, first]
    rows: dict[str, dict[str, Any]] = {sale["sale_id"]: sale for sale in reply.json["sales"]}
    assert rows[first]["status"] == "voided" and rows[first]["void_reason"] == "salah paket"
    assert (rows[first]["quantity"], rows[first]["total"], rows[first]["shift_id"]) == (2, 10_000, None)
    assert (rows[second]["status"], rows[second]["shift_id"]) == ("sold", shift["shift_id"])
    assert {sale["site_id"] for sale in rows.values()} == {shop.site_id}
    assert {sale["plan_id"] for sale in rows.values()} == {shop.plan_id}
    assert (rows[first]["seller_name"], rows[second]["seller_name"]) == (shop.cashier.email, shop.other.email)
    assert (rows[by_pos]["seller_name"], rows[by_pos]["cashier_ref"]) == ("pos 1", "kasir-2")
    assert reply.json["next_cursor"] is None
    # Codes are shown once, at the sale: never in a list.
    assert "code" not in str(reply.json["sales"]).replace("cashier_ref", "")

    for reader in readers:
        assert sale_ids(listing(api, shop, reader, f"from={today}&to={today}")) == [by_pos, second, first]


def test_a_cashier_sees_only_their_own_sales(api: Api, shop: Shop, clock: FakeClock) -> None:
    today = day(clock.now)
    mine = []
    for _ in range(2):
        mine.append(sell(api, shop, shop.cashier))
        clock.advance(1)  # sales of one microsecond would list in sale id order
    theirs = sell(api, shop, shop.other)
    assert sale_ids(listing(api, shop, shop.cashier, f"from={today}&to={today}")) == mine[::-1]
    assert sale_ids(listing(api, shop, shop.other, f"from={today}&to={today}")) == [theirs]
    # Nor can a cashier open another's sale by id.
    assert api.get(f"{shop.org}/sales/{theirs}", token=shop.cashier.token).status == 404


def test_the_days_asked_bound_the_list(api: Api, shop: Shop, clock: FakeClock) -> None:
    start = clock.now
    early = sell(api, shop, shop.cashier)
    clock.advance(2 * 86400)
    late = sell(api, shop, shop.cashier)
    owner = shop.tenant.owner
    assert sale_ids(listing(api, shop, owner, f"from={day(start)}&to={day(start)}")) == [early]
    assert sale_ids(listing(api, shop, owner, f"from={day(start, 1)}&to={day(start, 2)}")) == [late]
    assert sale_ids(listing(api, shop, owner, f"from={day(start, -1)}&to={day(start, 3)}")) == [late, early]
    assert sale_ids(listing(api, shop, owner, f"from={day(start, 5)}&to={day(start, 6)}")) == []


def test_pages_follow_a_cursor_without_repeats(api: Api, shop: Shop, clock: FakeClock) -> None:
    today = day(clock.now)
    sold = []
    for _ in range(5):
        sold.append(sell(api, shop, shop.cashier))
        clock.advance(1)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        reply = listing(api, shop, shop.tenant.owner, f"from={today}&to={today}&limit=2" + cursor)
        seen.extend(sale_ids(reply))
        assert len(reply.json["sales"]) <= 2
        pages += 1
        if reply.json["next_cursor"] is None:
            break
        cursor = f"&cursor={reply.json['next_cursor']}"
    assert seen == sold[::-1] and pages >= 3


def test_a_page_is_bounded(api: Api, shop: Shop) -> None:
    reply = listing(api, shop, shop.tenant.owner, "from=2026-11-01&to=2026-11-02&limit=201")
    assert (reply.status, reply.json["error"]["field"]) == (400, "limit")


def test_a_cursor_from_another_org_is_rejected(api: Api, world: World, shop: Shop, clock: FakeClock) -> None:
    today = day(clock.now)
    stranger = world.org("Lain")
    for _ in range(2):
        sell(api, shop, shop.cashier)
        clock.advance(1)
    cursor = listing(api, shop, shop.tenant.owner, f"from={today}&to={today}&limit=1").json["next_cursor"]
    assert cursor
    reply = api.get(f"/v1/orgs/{stranger.org_id}/sales?from={today}&to={today}&cursor={cursor}",
                    token=stranger.owner.token)  # fmt: skip
    assert (reply.status, reply.json["error"]["field"]) == (400, "cursor")
    garbage = listing(api, shop, shop.tenant.owner, f"from={today}&to={today}&cursor=bm90LWpzb24=")
    assert (garbage.status, garbage.json["error"]["field"]) == (400, "cursor")
    # A cursor of other days: its key lies outside the range asked (DynamoDB would refuse it: a 500).
    elsewhere = listing(api, shop, shop.tenant.owner, f"from=2020-01-01&to=2020-01-02&cursor={cursor}")
    assert (elsewhere.status, elsewhere.json["error"]["field"]) == (400, "cursor")


def test_another_orgs_sales_do_not_exist(api: Api, world: World, shop: Shop, clock: FakeClock) -> None:
    today = day(clock.now)
    sell(api, shop, shop.cashier)
    stranger = world.org("Lain")
    reply = api.get(f"{shop.org}/sales?from={today}&to={today}", token=stranger.owner.token)
    assert (reply.status, reply.error_code) == (404, "not_found")
    assert sale_ids(api.get(f"/v1/orgs/{stranger.org_id}/sales?from={today}&to={today}",
                            token=stranger.owner.token)) == []  # fmt: skip


@pytest.mark.parametrize(
    ("query", "field"),
    [("to=2026-11-01", "from"), ("from=2026-11-01", "to"), ("from=2026-11-02&to=2026-11-01", "to"),
     ("from=2026-13-01&to=2026-11-01", "from"), ("from=2025-01-01&to=2026-11-01", "to"),
     ("from=2026-11-01&to=2026-11-02&limit=0", "limit"), ("from=2026-11-01&to=2026-11-02&seller=x", "seller")],
)  # fmt: skip
def test_a_bad_query_is_a_400_naming_the_field(api: Api, shop: Shop, query: str, field: str) -> None:
    reply = listing(api, shop, shop.tenant.owner, query)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", field)


def test_a_voucher_names_the_sale_it_was_sold_in(api: Api, shop: Shop) -> None:
    body = {"site_id": shop.site_id, "plan_id": shop.plan_id, "quantity": 1}
    receipt = api.post(f"{shop.org}/sales", body, token=shop.cashier.token).json
    code = receipt["vouchers"][0]["code"]
    view = api.get(f"{shop.org}/vouchers/{code}", token=shop.tenant.owner.token).json
    assert view["sale_id"] == receipt["sale_id"]
    # ...and that sale, opened from the voucher, names its seller too.
    sale = api.get(f"{shop.org}/sales/{receipt['sale_id']}", token=shop.tenant.owner.token).json
    assert (sale["seller_name"], sale["shift_id"], sale["status"]) == (shop.cashier.email, None, "sold")
