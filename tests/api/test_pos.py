"""Selling at the till: POS sales with an Idempotency-Key, console sales, sale details, voids."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from chalicelib.codes import code_hash, normalise
from chalicelib.config import get_settings
from chalicelib.models import LedgerEntry, Sale, Voucher
from chalicelib.models.base import transaction_client
from tests.support import MAC, Api, FakeClock, Reply, Tenant, Venue, World, audit_events, dump_app_table

TIMEZONE = "Asia/Jayapura"  # UTC+9: the local day differs from UTC's for nine hours of every day


@dataclass
class Till:
    tenant: Tenant
    site_id: str
    plan_id: str
    key_id: str
    pos_key: str


@pytest.fixture
def till(world: World, clock: FakeClock) -> Till:
    tenant = world.org()
    site_id = world.site(tenant, "Kios Pantai", timezone=TIMEZONE)
    key_id, pos_key = world.key(tenant, site_id, kind="pos")
    return Till(tenant, site_id, world.plan(tenant, price=5000, validity_days=30), key_id, pos_key)


def pos_sale(api: Api, till: Till, key: str | None = "till-1-receipt-0001", **body: Any) -> Reply:
    payload = {"plan_id": till.plan_id, "quantity": 2, "cashier_ref": "kasir-ani", **body}
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post("/v1/pos/sales", payload, token=till.pos_key, headers=headers)


def sales_of(org_id: str) -> list[Sale]:
    return list(Sale.query(f"ORG#{org_id}", Sale.sk.startswith("SALE#"), consistent_read=True))


def vouchers_of(sale_id: str) -> list[dict[str, Any]]:
    items = dump_app_table()
    return [item for item in items if item["PK"]["S"].startswith("V#") and item["sale_id"]["S"] == sale_id]


def voucher(org_id: str, code: str) -> Voucher:
    return Voucher.get(*Voucher.key(code_hash(org_id, code)), consistent_read=True)


def actions(org_id: str) -> list[str]:
    return [event["action"] for event in audit_events(org_id)]


def dump_idempotency_table() -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = client.scan(TableName=get_settings().idempotency_table)["Items"]
    return items


# --- selling from a POS ------------------------------------------------------------------


def test_a_pos_sale_returns_codes_and_total_and_the_vouchers_are_sold(api: Api, till: Till, clock: FakeClock) -> None:
    reply = pos_sale(api, till, quantity=3)

    assert reply.status == 201, reply.body
    assert reply.json["total"] == 3 * 5000
    codes = [line["code"] for line in reply.json["vouchers"]]
    assert len(set(codes)) == 3 and all(len(code) == 12 and code[4] == code[9] == "-" for code in codes)
    shelf_life_end = (clock.now + timedelta(days=30)).replace(microsecond=0)
    assert {line["expires_at"] for line in reply.json["vouchers"]} == {shelf_life_end.strftime("%Y-%m-%dT%H:%M:%SZ")}

    local_day = clock.now.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
    for code in codes:
        sold = voucher(till.tenant.org_id, code)
        assert (sold.status, sold.sale_id, sold.site_id) == ("sold", reply.json["sale_id"], till.site_id)
        assert sold.sold_at == int(clock.now.timestamp())
        # A line worth nothing on the site's calendar day (the sale's ledger line carries the money),
        # and a shelf-life expiry to carry out.
        assert sold.gsi3pk == f"ORG#{till.tenant.org_id}#DAY#{local_day}"
        assert (sold.rev_site, sold.rev_plan, sold.rev_cashier) == (till.site_id, till.plan_id, "kasir-ani")
        assert (sold.rev_amount, sold.rev_count) == (0, 0)
        assert sold.gsi2pk is not None and sold.gsi2pk.startswith("EXP#")
        assert sold.gsi2sk == sold.valid_until == int(shelf_life_end.timestamp())

    # Codes are secrets: neither the table nor the idempotency store holds one readably.
    dump = str(dump_app_table()) + str(dump_idempotency_table())
    for code in codes:
        assert code not in dump and normalise(code) not in dump
    assert actions(till.tenant.org_id).count("sale.create") == 1
    [line] = LedgerEntry.query(f"ORG#{till.tenant.org_id}", LedgerEntry.sk.startswith("LEDGER#"))
    assert (line.rev_kind, line.rev_count, line.rev_amount, line.sale_id) == ("sale", 3, 15_000, reply.json["sale_id"])
    assert line.gsi3pk == f"ORG#{till.tenant.org_id}#DAY#{local_day}" and line.rev_cashier == "kasir-ani"


def test_the_org_and_site_come_from_the_key_not_the_body(api: Api, till: Till) -> None:
    reply = pos_sale(api, till, site_id="elsewhere")
    assert (reply.status, reply.json["error"]["field"]) == (400, "site_id")
    assert sales_of(till.tenant.org_id) == []


def test_quantity_is_between_1_and_50(api: Api, till: Till) -> None:
    for quantity in (0, 51):
        reply = pos_sale(api, till, key=f"q-{quantity}", quantity=quantity)
        assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "quantity")
    assert pos_sale(api, till, key="q-50", quantity=50).status == 201


# --- idempotency -------------------------------------------------------------------------


def test_the_same_key_and_body_give_the_same_response_and_one_sale(api: Api, till: Till) -> None:
    first = pos_sale(api, till)
    again = pos_sale(api, till)

    assert (again.status, again.json) == (first.status, first.json) == (201, first.json)
    assert [sale.sale_id for sale in sales_of(till.tenant.org_id)] == [first.json["sale_id"]]
    assert len(vouchers_of(first.json["sale_id"])) == 2
    assert actions(till.tenant.org_id).count("sale.create") == 1
    # Another key is another sale.
    other = pos_sale(api, till, key="till-1-receipt-0002")
    assert other.status == 201 and other.json["sale_id"] != first.json["sale_id"]


def test_the_same_key_with_another_body_is_refused(api: Api, till: Till) -> None:
    assert pos_sale(api, till, quantity=2).status == 201
    reply = pos_sale(api, till, quantity=5)
    assert (reply.status, reply.error_code) == (422, "idempotency_mismatch")
    assert len(sales_of(till.tenant.org_id)) == 1


def test_keys_are_per_till(api: Api, world: World, till: Till) -> None:
    _, other_till = world.key(till.tenant, till.site_id, kind="pos")
    mine = pos_sale(api, till, key="receipt-1")
    theirs = api.post(
        "/v1/pos/sales",
        {"plan_id": till.plan_id, "quantity": 1},
        token=other_till,
        headers={"Idempotency-Key": "receipt-1"},
    )
    assert theirs.status == 201 and theirs.json["sale_id"] != mine.json["sale_id"]


def test_a_sale_without_an_idempotency_key_is_refused(api: Api, till: Till) -> None:
    reply = pos_sale(api, till, key=None)
    assert (reply.status, reply.error_code) == (400, "validation_error")
    assert reply.json["error"]["field"] == "Idempotency-Key"
    assert pos_sale(api, till, key="has space").status == 400
    assert sales_of(till.tenant.org_id) == []


def test_a_retry_while_the_first_request_still_runs_is_a_conflict(api: Api, till: Till) -> None:
    """Two requests really in flight: the first is held inside its write until the second is answered."""
    client = transaction_client()
    entered, release = threading.Event(), threading.Event()

    def hold_the_first_write(**_: Any) -> None:
        entered.set()
        release.wait(timeout=30)

    replies: dict[str, Reply] = {}
    first = threading.Thread(target=lambda: replies.setdefault("first", pos_sale(api, till)))
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", hold_the_first_write)
    try:
        first.start()
        assert entered.wait(timeout=30), "the first request never reached its write"
        second = pos_sale(api, till)
    finally:
        release.set()
        first.join(timeout=30)
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", hold_the_first_write)

    assert (second.status, second.error_code) == (409, "conflict")
    assert replies["first"].status == 201
    # Once the first is done, a retry gets its answer.
    assert pos_sale(api, till).json == replies["first"].json
    assert len(sales_of(till.tenant.org_id)) == 1


def test_a_lost_response_is_recovered_by_retrying_with_the_same_key(api: Api, till: Till) -> None:
    """The write lands but the answer never reaches the till; its retry must not sell again."""
    client = transaction_client()
    faults: list[str] = []

    def lose_the_first_answer(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if not faults and http_response.status_code == 200 and "Error" not in parsed:
            faults.append("lost")  # the server applied the transaction; now the answer goes missing
            raise ReadTimeoutError(endpoint_url="dynamodb")

    client.meta.events.register("after-call.dynamodb.TransactWriteItems", lose_the_first_answer)
    try:
        lost = pos_sale(api, till, quantity=3)
        retried = pos_sale(api, till, quantity=3)
    finally:
        client.meta.events.unregister("after-call.dynamodb.TransactWriteItems", lose_the_first_answer)

    assert faults == ["lost"]
    assert (lost.status, lost.error_code) == (500, "internal_error")
    assert retried.status == 201, retried.body
    (sale,) = sales_of(till.tenant.org_id)  # exactly one sale in the ledger
    assert retried.json["sale_id"] == sale.sale_id
    assert len(vouchers_of(sale.sale_id)) == 3
    # The codes handed out are the ones the first attempt wrote, and they are sold.
    for line in retried.json["vouchers"]:
        assert voucher(till.tenant.org_id, line["code"]).sale_id == sale.sale_id
    assert actions(till.tenant.org_id).count("sale.create") == 1
    assert pos_sale(api, till, quantity=3).json == retried.json


# --- who may sell what ---------------------------------------------------------------------


def test_a_controller_key_cannot_sell(api: Api, world: World, till: Till) -> None:
    _, controller = world.key(till.tenant, till.site_id, kind="controller")
    reply = api.post(
        "/v1/pos/sales", {"plan_id": till.plan_id, "quantity": 1}, token=controller, headers={"Idempotency-Key": "k"}
    )
    assert (reply.status, reply.error_code) == (403, "forbidden")
    assert sales_of(till.tenant.org_id) == []


def test_a_pos_key_cannot_sell_another_orgs_plan(api: Api, world: World, till: Till) -> None:
    other = world.org("Lain")
    their_plan = world.plan(other)
    reply = pos_sale(api, till, plan_id=their_plan)
    assert (reply.status, reply.error_code) == (404, "not_found")
    assert sales_of(till.tenant.org_id) == [] and sales_of(other.org_id) == []


def test_unknown_and_archived_plans_cannot_be_sold(api: Api, till: Till) -> None:
    assert pos_sale(api, till, key="a", plan_id="nosuchplan").status == 404
    api.post(f"/v1/orgs/{till.tenant.org_id}/plans/{till.plan_id}/archive", token=till.tenant.owner.token)
    reply = pos_sale(api, till, key="b")
    assert (reply.status, reply.error_code) == (409, "conflict")
    assert sales_of(till.tenant.org_id) == []


# --- console sales and reading a sale ----------------------------------------------------------


def console_sale(api: Api, till: Till, token: str, **body: Any) -> Reply:
    payload = {"site_id": till.site_id, "plan_id": till.plan_id, "quantity": 1, **body}
    return api.post(f"/v1/orgs/{till.tenant.org_id}/sales", payload, token=token)


def test_a_cashier_sells_at_the_console_and_sees_only_their_own_sales(api: Api, world: World, till: Till) -> None:
    ani, budi = (
        world.member(till.tenant, "cashier"),
        world.user_in(till.tenant.org_id, "cashier", as_token=till.tenant.owner.token),
    )
    reply = console_sale(api, till, ani.token, quantity=2)
    assert reply.status == 201 and reply.json["total"] == 10_000
    sale_id = reply.json["sale_id"]
    sold = voucher(till.tenant.org_id, reply.json["vouchers"][0]["code"])
    assert (sold.rev_cashier, sold.site_id) == (ani.user_id, till.site_id)  # the signed-in cashier is the cashier

    path = f"/v1/orgs/{till.tenant.org_id}/sales/{sale_id}"
    mine = api.get(path, token=ani.token)
    assert mine.status == 200
    assert {k: mine.json[k] for k in ("quantity", "total", "seller_id", "status")} == {
        "quantity": 2, "total": 10_000, "seller_id": ani.user_id, "status": "sold",
    }  # fmt: skip
    assert "vouchers" not in mine.json and "codes" not in mine.json
    assert api.get(path, token=budi.token).status == 404  # another cashier's sale does not exist for Budi
    assert api.get(path, token=world.member(till.tenant, "auditor").token).status == 200
    pos = pos_sale(api, till).json["sale_id"]
    assert api.get(f"/v1/orgs/{till.tenant.org_id}/sales/{pos}", token=ani.token).status == 404


def test_the_console_honours_an_idempotency_key_when_sent(api: Api, world: World, till: Till) -> None:
    cashier = world.member(till.tenant, "cashier")
    headers = {"Idempotency-Key": "double-click"}
    body = {"site_id": till.site_id, "plan_id": till.plan_id, "quantity": 1}
    path = f"/v1/orgs/{till.tenant.org_id}/sales"
    first = api.post(path, body, token=cashier.token, headers=headers)
    again = api.post(path, body, token=cashier.token, headers=headers)
    assert first.status == again.status == 201 and first.json == again.json
    assert console_sale(api, till, cashier.token).json["sale_id"] != first.json["sale_id"]  # no key: a new sale
    assert len(sales_of(till.tenant.org_id)) == 2


def test_a_console_sale_at_another_orgs_site_is_not_found(api: Api, world: World, till: Till) -> None:
    other = world.org("Lain")
    reply = console_sale(api, till, till.tenant.owner.token, site_id=world.site(other))
    assert (reply.status, reply.error_code) == (404, "not_found")


# --- voids ----------------------------------------------------------------------------------------


def void(api: Api, till: Till, sale_id: str, token: str, reason: str = "salah paket") -> Reply:
    return api.post(f"/v1/orgs/{till.tenant.org_id}/sales/{sale_id}/void", {"reason": reason}, token=token)


def test_a_void_revokes_the_vouchers_and_reverses_the_revenue_on_the_day_of_the_void(
    api: Api, world: World, till: Till, clock: FakeClock
) -> None:
    sale = pos_sale(api, till, quantity=2).json
    codes = [line["code"] for line in sale["vouchers"]]
    _, controller = world.key(till.tenant, till.site_id, kind="controller")
    assert api.post("/v1/redeem", {"code": codes[0], "mac": MAC}, token=controller).status == 200  # one in use
    sold_day_lines = {voucher(till.tenant.org_id, code).gsi3pk for code in codes}
    clock.advance(86400)  # voided the next day

    reply = void(api, till, sale["sale_id"], till.tenant.owner.token, reason="pelanggan minta refund")

    assert reply.status == 200 and reply.json == {"sale_id": sale["sale_id"], "status": "voided"}
    for code in codes:  # a refund ends access, even for the voucher in use
        revoked = voucher(till.tenant.org_id, code)
        assert (revoked.status, revoked.ended_at) == ("revoked", int(clock.now.timestamp()))
        assert revoked.gsi2pk is None  # nothing left for the expiry job
        assert revoked.gsi3pk in sold_day_lines  # the sale's own lines stay
    assert api.post("/v1/redeem", {"code": codes[0], "mac": MAC}, token=controller).error_code == "voucher_revoked"

    [entry] = (line for line in LedgerEntry.query(f"ORG#{till.tenant.org_id}", LedgerEntry.sk.startswith("LEDGER#"))
               if line.rev_kind == "void")  # fmt: skip
    void_day = clock.now.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
    assert entry.gsi3pk == f"ORG#{till.tenant.org_id}#DAY#{void_day}"
    assert entry.gsi3sk.endswith(f"#VOID#{sale['sale_id']}")
    assert (entry.rev_count, entry.rev_amount) == (-2, -10_000)
    assert (entry.rev_site, entry.rev_plan, entry.rev_cashier) == (till.site_id, till.plan_id, "kasir-ani")
    assert entry.reason == "pelanggan minta refund" and entry.at == clock.now

    details = api.get(f"/v1/orgs/{till.tenant.org_id}/sales/{sale['sale_id']}", token=till.tenant.owner.token).json
    assert details["status"] == "voided" and details["void_reason"] == "pelanggan minta refund"
    assert len(sales_of(till.tenant.org_id)) == 1  # nothing deleted
    # The POS retrying its old request still gets its receipt, not a new sale.
    assert pos_sale(api, till, quantity=2).json == sale


def test_a_sale_is_voided_once(api: Api, till: Till) -> None:
    sale_id = pos_sale(api, till).json["sale_id"]
    assert void(api, till, sale_id, till.tenant.owner.token).status == 200
    again = void(api, till, sale_id, till.tenant.owner.token)
    assert (again.status, again.error_code) == (409, "conflict")
    assert void(api, till, "nosuchsale", till.tenant.owner.token).status == 404


def test_only_owners_and_managers_void(api: Api, world: World, till: Till) -> None:
    sale_id = pos_sale(api, till).json["sale_id"]
    for role in ("cashier", "auditor"):
        reply = void(api, till, sale_id, world.member(till.tenant, role).token)
        assert (reply.status, reply.error_code) == (403, "forbidden")
    assert void(api, till, sale_id, world.member(till.tenant, "manager").token).status == 200
    assert void(api, till, "x" * 10, till.tenant.owner.token, reason="").status == 400


def test_each_sale_and_void_writes_exactly_one_audit_event(api: Api, till: Till, clock: FakeClock) -> None:
    sale_id = pos_sale(api, till).json["sale_id"]
    pos_sale(api, till)  # a replay changes nothing
    clock.advance(60)
    void(api, till, sale_id, till.tenant.owner.token, reason="double charge")
    void(api, till, sale_id, till.tenant.owner.token)  # refused: no event

    events = [e for e in audit_events(till.tenant.org_id) if e["action"].startswith("sale.")]
    assert [e["action"] for e in events] == ["sale.create", "sale.void"]
    created, voided = events
    assert (created["actor_kind"], created["actor_id"], created["actor_role"]) == ("api_key", till.key_id, "pos")
    assert created["target_id"] == voided["target_id"] == sale_id
    assert created["site_id"] == till.site_id and created["off_hours"] is not None
    assert created["after"]["total"] == 10_000
    assert voided["after"]["reason"] == "double charge" and voided["actor_id"] == till.tenant.owner.user_id


def test_a_sale_can_be_voided_after_ttl_removed_one_of_its_vouchers(api: Api, world: World, venue: Venue) -> None:
    _, pos_key = world.key(venue.tenant, venue.site_a, kind="pos")
    plan_id = world.plan(venue.tenant)
    sale = api.post("/v1/pos/sales", {"plan_id": plan_id, "quantity": 2}, token=pos_key,
                    headers={"Idempotency-Key": "void-after-ttl"}).json  # fmt: skip
    first = next(item for item in dump_app_table() if item["PK"]["S"].startswith("V#"))
    Voucher(first["PK"]["S"], "META").delete()
    path = f"/v1/orgs/{venue.tenant.org_id}/sales/{sale['sale_id']}/void"
    assert api.post(path, {"reason": "refund"}, token=venue.tenant.owner.token).status == 200
