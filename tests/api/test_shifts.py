"""Cashier shifts: open with the cash in the drawer, sell, close by declaring the cash counted.

A cashier's shift expects opening cash + its sales - those of its sales voided
before close; the difference is what was declared less that. One open shift per
person; cashiers see and close only their own; a void says whether it reaches
back past a shift (`sale_before_shift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.models import Sale
from tests.support import Api, FakeClock, Member, Reply, Tenant, World, audit_events, walk_pages


@dataclass
class Shop:
    tenant: Tenant
    site_id: str
    plan_id: str  # Rp 5.000
    cashier: Member
    manager: Member

    @property
    def org(self) -> str:
        return f"/v1/orgs/{self.tenant.org_id}"


@pytest.fixture
def shop(world: World, clock: FakeClock) -> Shop:
    tenant = world.org()
    site_id = world.site(tenant, "Kios Pasar")
    plan_id = world.plan(tenant, price=5000)
    return Shop(tenant, site_id, plan_id, world.member(tenant, "cashier"), world.member(tenant, "manager"))


def open_shift(api: Api, shop: Shop, who: Member, opening_cash: int | None = 100_000) -> Reply:
    body: dict[str, Any] = {"site_id": shop.site_id}
    if opening_cash is not None:
        body["opening_cash"] = opening_cash
    return api.post(f"{shop.org}/shifts", body, token=who.token)


def close_shift(api: Api, shop: Shop, who: Member, shift_id: str, declared: int, **extra: Any) -> Reply:
    return api.post(f"{shop.org}/shifts/{shift_id}/close", {"declared_cash": declared, **extra}, token=who.token)


def sell(api: Api, shop: Shop, who: Member, quantity: int = 1) -> str:
    body = {"site_id": shop.site_id, "plan_id": shop.plan_id, "quantity": quantity}
    reply = api.post(f"{shop.org}/sales", body, token=who.token)
    assert reply.status == 201, reply.body
    return str(reply.json["sale_id"])


def void(api: Api, shop: Shop, sale_id: str, who: Member | None = None) -> None:
    token = (who or shop.tenant.owner).token
    reply = api.post(f"{shop.org}/sales/{sale_id}/void", {"reason": "salah paket"}, token=token)
    assert reply.status == 200, reply.body


def current(api: Api, shop: Shop, who: Member) -> Reply:
    return api.get(f"{shop.org}/shifts/current", token=who.token)


def events(shop: Shop, action: str) -> list[dict[str, Any]]:
    return [event for event in audit_events(shop.tenant.org_id) if event["action"] == action]


def stored_sale(shop: Shop, sale_id: str) -> Sale:
    return Sale.get(*Sale.key(shop.tenant.org_id, sale_id), consistent_read=True)


# --- open, live takings, close ----------------------------------------------------------


def test_a_cashier_opens_sells_and_closes_with_the_difference(api: Api, shop: Shop, clock: FakeClock) -> None:
    opened = open_shift(api, shop, shop.cashier, opening_cash=100_000)
    assert opened.status == 201, opened.body
    shift = opened.json
    assert (shift["status"], shift["site_id"], shift["user_id"], shift["opening_cash"]) == (
        "open", shop.site_id, shop.cashier.user_id, 100_000,
    )  # fmt: skip
    assert shift["user_email"] == shop.cashier.email and shift["opened_at"]

    clock.advance(60)
    two = sell(api, shop, shop.cashier, quantity=2)  # Rp 10.000
    clock.advance(60)
    one = sell(api, shop, shop.cashier)  # Rp 5.000
    clock.advance(60)
    voided = sell(api, shop, shop.cashier)  # Rp 5.000, voided below
    void(api, shop, voided)
    assert {stored_sale(shop, sale).shift_id for sale in (two, one, voided)} == {shift["shift_id"]}

    live = current(api, shop, shop.cashier)
    assert live.status == 200, live.body
    assert live.json["shift_id"] == shift["shift_id"]
    assert (live.json["sales_count"], live.json["sales_total"], live.json["voids_total"]) == (3, 20_000, 5_000)
    assert live.json["expected_cash"] == 100_000 + 20_000 - 5_000

    clock.advance(3600)
    closed = close_shift(api, shop, shop.cashier, shift["shift_id"], declared=112_000, note="kurang 3 ribu")
    assert closed.status == 200, closed.body
    body = closed.json
    assert (body["status"], body["expected_cash"], body["declared_cash"], body["difference"]) == (
        "closed", 115_000, 112_000, -3_000,
    )  # fmt: skip
    assert (body["sales_count"], body["sales_total"], body["voids_total"], body["note"]) == (
        3, 20_000, 5_000, "kurang 3 ribu",
    )  # fmt: skip
    assert body["closed_at"] is not None

    # The audit trail has both, with what was declared, expected, and the difference.
    (open_event,) = events(shop, "shift.open")
    assert open_event["target_id"] == shift["shift_id"] and open_event["after"]["opening_cash"] == 100_000
    (close_event,) = events(shop, "shift.close")
    after = close_event["after"]
    assert (after["declared"], after["expected"], after["difference"]) == (112_000, 115_000, -3_000)
    assert close_event["actor_id"] == shop.cashier.user_id

    # Closed: no shift is current, and later sales carry none.
    assert (current(api, shop, shop.cashier).status, current(api, shop, shop.cashier).error_code) == (
        404, "not_found",
    )  # fmt: skip
    assert stored_sale(shop, sell(api, shop, shop.cashier)).shift_id is None


def test_a_void_after_close_does_not_change_the_closed_shift(api: Api, shop: Shop, clock: FakeClock) -> None:
    shift = open_shift(api, shop, shop.cashier, opening_cash=0).json
    sale = sell(api, shop, shop.cashier)
    clock.advance(600)
    assert close_shift(api, shop, shop.cashier, shift["shift_id"], declared=5_000).json["difference"] == 0
    clock.advance(600)
    void(api, shop, sale)

    (row,) = list_shifts(api, shop, shop.manager)
    assert (row["sales_total"], row["voids_total"], row["expected_cash"], row["difference"]) == (5_000, 0, 5_000, 0)


def test_opening_cash_defaults_to_zero_and_a_sale_without_a_shift_has_none(api: Api, shop: Shop) -> None:
    before = sell(api, shop, shop.cashier)
    assert stored_sale(shop, before).shift_id is None
    opened = open_shift(api, shop, shop.cashier, opening_cash=None)
    assert (opened.status, opened.json["opening_cash"]) == (201, 0)
    live = current(api, shop, shop.cashier).json
    assert (live["sales_count"], live["sales_total"], live["expected_cash"]) == (0, 0, 0)  # the earlier sale is not its


# --- one open shift per person, closing once ------------------------------------------------


def test_one_open_shift_per_person(api: Api, shop: Shop) -> None:
    first = open_shift(api, shop, shop.cashier)
    again = open_shift(api, shop, shop.cashier)
    assert (again.status, again.error_code) == (409, "conflict")
    assert len(events(shop, "shift.open")) == 1
    # Someone else may open their own meanwhile.
    assert open_shift(api, shop, shop.manager).status == 201
    # Once closed, the cashier may open the next.
    assert close_shift(api, shop, shop.cashier, first.json["shift_id"], declared=100_000).status == 200
    assert open_shift(api, shop, shop.cashier).status == 201


def test_closing_twice_is_a_conflict(api: Api, shop: Shop) -> None:
    shift_id = open_shift(api, shop, shop.cashier).json["shift_id"]
    assert close_shift(api, shop, shop.cashier, shift_id, declared=100_000).status == 200
    twice = close_shift(api, shop, shop.manager, shift_id, declared=90_000)
    assert (twice.status, twice.error_code) == (409, "conflict")
    assert len(events(shop, "shift.close")) == 1


def test_current_is_404_when_no_shift_is_open(api: Api, shop: Shop) -> None:
    reply = current(api, shop, shop.cashier)
    assert (reply.status, reply.error_code) == (404, "not_found")


# --- who sees and closes what --------------------------------------------------------------


def list_shifts(api: Api, shop: Shop, who: Member, query: str | None = None) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    around_today = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    reply = api.get(f"{shop.org}/shifts?{query or around_today}", token=who.token)
    assert reply.status == 200, reply.body
    return list(reply.json["shifts"])


def test_cashiers_see_and_close_only_their_own_managers_all(api: Api, world: World, shop: Shop) -> None:
    other = world.user_in(shop.tenant.org_id, "cashier", as_token=shop.tenant.owner.token)
    mine = open_shift(api, shop, shop.cashier).json["shift_id"]
    theirs = open_shift(api, shop, other).json["shift_id"]
    managers = open_shift(api, shop, shop.manager).json["shift_id"]

    assert [row["shift_id"] for row in list_shifts(api, shop, shop.cashier)] == [mine]
    every = {row["shift_id"]: row for row in list_shifts(api, shop, shop.manager)}
    assert set(every) == {mine, theirs, managers}
    assert every[theirs]["user_email"] == other.email
    auditor = world.member(shop.tenant, "auditor")
    assert {row["shift_id"] for row in list_shifts(api, shop, auditor)} == {mine, theirs, managers}

    # Another cashier's shift does not exist for a cashier; a manager closes anyone's.
    refused = close_shift(api, shop, shop.cashier, theirs, declared=0)
    assert (refused.status, refused.error_code) == (404, "not_found")
    closed = close_shift(api, shop, shop.manager, theirs, declared=100_000)
    assert (closed.status, closed.json["user_id"], closed.json["difference"]) == (200, other.user_id, 0)
    (event,) = events(shop, "shift.close")
    assert (event["actor_id"], event["after"]["user_id"]) == (shop.manager.user_id, other.user_id)
    # Closed by the manager, the cashier may open again.
    assert open_shift(api, shop, other).status == 201


def test_the_list_is_bounded_by_the_days_asked(api: Api, shop: Shop, clock: FakeClock) -> None:
    first = open_shift(api, shop, shop.cashier).json
    close_shift(api, shop, shop.cashier, first["shift_id"], declared=100_000)
    clock.advance(3 * 86400)
    second = open_shift(api, shop, shop.cashier).json
    day_one, day_four = first["opened_at"][:10], second["opened_at"][:10]
    assert [r["shift_id"] for r in list_shifts(api, shop, shop.manager, f"from={day_one}&to={day_one}")] == [
        first["shift_id"]
    ]
    both = list_shifts(api, shop, shop.manager, f"from={day_one}&to={day_four}")
    assert [row["shift_id"] for row in both] == [second["shift_id"], first["shift_id"]]  # newest first
    assert both[1]["status"] == "closed" and both[0]["status"] == "open"


def test_another_orgs_shifts_do_not_exist(api: Api, world: World, shop: Shop) -> None:
    shift_id = open_shift(api, shop, shop.cashier).json["shift_id"]
    stranger = world.org("Lain")
    site = world.site(stranger)
    # Their own org in the path, our shift's id: not found; our org in the path: not found.
    reply = api.post(f"/v1/orgs/{stranger.org_id}/shifts/{shift_id}/close", {"declared_cash": 0},
                     token=stranger.owner.token)  # fmt: skip
    assert (reply.status, reply.error_code) == (404, "not_found")
    assert close_shift(api, shop, stranger.owner, shift_id, declared=0).status == 404
    assert api.get(f"{shop.org}/shifts/current", token=stranger.owner.token).status == 404
    other_site = api.post(f"{shop.org}/shifts", {"site_id": site}, token=shop.tenant.owner.token)
    assert (other_site.status, other_site.error_code) == (404, "not_found")  # a site of another org
    assert events(shop, "shift.close") == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/shifts", {"site_id": "", "opening_cash": 0}, "site_id"),
        ("/shifts", {"opening_cash": 0}, "site_id"),
        ("/shifts", {"site_id": "x", "opening_cash": -1}, "opening_cash"),
        ("/shifts", {"site_id": "x", "opening_cash": "lots"}, "opening_cash"),
        ("/shifts", {"site_id": "x", "till": 1}, "till"),
        ("/shifts/{shift}/close", {}, "declared_cash"),
        ("/shifts/{shift}/close", {"declared_cash": -5}, "declared_cash"),
        ("/shifts/{shift}/close", {"declared_cash": 1.5}, "declared_cash"),
        ("/shifts/{shift}/close", {"declared_cash": 0, "note": "x" * 501}, "note"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api: Api, shop: Shop, path: str, body: dict[str, Any], field: str) -> None:
    shift_id = open_shift(api, shop, shop.manager).json["shift_id"]
    reply = api.post(f"{shop.org}{path.format(shift=shift_id)}", body, token=shop.cashier.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", field)


@pytest.mark.parametrize(
    ("query", "field"),
    [("to=2026-11-01", "from"), ("from=2026-11-02&to=2026-11-01", "to"), ("from=20261101&to=2026-11-01", "from"),
     ("from=2026-01-01&to=2026-12-31", "to")],
)  # fmt: skip
def test_a_bad_list_query_is_a_400_naming_the_field(api: Api, shop: Shop, query: str, field: str) -> None:
    reply = api.get(f"{shop.org}/shifts?{query}", token=shop.manager.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", field)


# --- voids that reach back past a shift ----------------------------------------------------


def void_flag(shop: Shop, sale_id: str) -> bool:
    (event,) = [event for event in events(shop, "sale.void") if event["target_id"] == sale_id]
    return bool(event["after"]["sale_before_shift"])


def test_a_void_of_a_sale_in_the_current_shift_is_not_before_it(api: Api, shop: Shop, clock: FakeClock) -> None:
    open_shift(api, shop, shop.manager)
    clock.advance(60)
    sale = sell(api, shop, shop.cashier)  # the cashier has no shift; sold after the manager's opened
    void(api, shop, sale, shop.manager)
    assert void_flag(shop, sale) is False
    # Nobody with a shift, a sale in no shift: nothing to reach back past.
    plain = sell(api, shop, shop.cashier)
    void(api, shop, plain)
    assert void_flag(shop, plain) is False


def test_a_void_of_a_sale_sold_before_the_voiders_shift_began(api: Api, shop: Shop, clock: FakeClock) -> None:
    sale = sell(api, shop, shop.cashier)
    clock.advance(8 * 3600)
    open_shift(api, shop, shop.manager)
    void(api, shop, sale, shop.manager)
    assert void_flag(shop, sale) is True


def test_a_void_of_a_sale_of_a_closed_shift(api: Api, shop: Shop, clock: FakeClock) -> None:
    shift_id = open_shift(api, shop, shop.cashier).json["shift_id"]
    counted, open_one = sell(api, shop, shop.cashier), sell(api, shop, shop.cashier)
    void(api, shop, open_one)  # while its shift is still open: not before
    assert void_flag(shop, open_one) is False
    close_shift(api, shop, shop.cashier, shift_id, declared=110_000)
    clock.advance(60)
    void(api, shop, counted)  # its cash was counted at close already
    assert void_flag(shop, counted) is True


def test_the_shift_list_comes_a_page_at_a_time_each_shift_once(
    api: Api, world: World, shop: Shop, clock: FakeClock
) -> None:
    other = world.user_in(shop.tenant.org_id, "cashier", as_token=shop.tenant.owner.token)
    stranger = world.org("Lain")  # before the clock moves: tokens are checked on the real clock
    world.site(stranger)
    mine: list[str] = []
    theirs: list[str] = []
    for _ in range(3):
        for who, ids in ((shop.cashier, mine), (other, theirs)):
            shift_id = open_shift(api, shop, who).json["shift_id"]
            close_shift(api, shop, who, shift_id, declared=100_000)
            ids.append(shift_id)
            clock.advance(60)
    today = datetime.now(UTC).date()
    path = f"{shop.org}/shifts?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    every, pages = walk_pages(api, path, "shifts", token=shop.manager.token, limit=4)
    assert pages == 2 and [row["shift_id"] for row in every] == sorted(mine + theirs, reverse=True)
    # A cashier's pages hold only their own shifts (some pages short), each once.
    own, _ = walk_pages(api, path, "shifts", token=shop.cashier.token, limit=2)
    assert [row["shift_id"] for row in own] == sorted(mine, reverse=True)

    cursor = api.get(f"{path}&limit=1", token=shop.manager.token).json["next_cursor"]
    days = path.split("?")[1]
    reply = api.get(f"/v1/orgs/{stranger.org_id}/shifts?{days}&cursor={cursor}", token=stranger.owner.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")
    later = today + timedelta(days=5)  # a cursor of other days: its key is outside these (was a 500)
    reply = api.get(f"{shop.org}/shifts?from={later}&to={later}&cursor={cursor}", token=shop.manager.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")
