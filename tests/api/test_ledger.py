"""The tamper-evident ledger: chains, digests, verification, reconciliation and refunds."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.models import AuditEvent, ChainHead, LedgerEntry
from chalicelib.models.accounts import org_pk
from chalicelib.services.chain import link_hash, seal_due
from chalicelib.services.outbox import AuditOutbox
from tests.support import Api, FakeClock, Tenant, World, redeem

TIMEZONE = "Asia/Makassar"  # WITA, UTC+8


@pytest.fixture
def shop(world: World, clock: FakeClock) -> dict[str, Any]:
    tenant = world.org()
    site_id = world.site(tenant, "Kios", timezone=TIMEZONE)
    _, pos_key = world.key(tenant, site_id, kind="pos")
    _, controller = world.key(tenant, site_id)
    plan_id = world.plan(tenant, price=5000)
    return {"tenant": tenant, "site_id": site_id, "pos_key": pos_key, "controller": controller, "plan_id": plan_id}


def sell(api: Api, shop: dict[str, Any], key: str, quantity: int = 2) -> dict[str, Any]:
    reply = api.post("/v1/pos/sales", {"plan_id": shop["plan_id"], "quantity": quantity, "cashier_ref": "ani"},
                     token=shop["pos_key"], headers={"Idempotency-Key": key})  # fmt: skip
    assert reply.status == 201, reply.body
    return dict(reply.json)


def verify(api: Api, tenant: Tenant, day: str) -> dict[str, Any]:
    """Verify the UTC day `day` (the chains' days) and the next: after 16:00 UTC the shop's WITA day (its
    revenue lines' day) is already the next one."""
    following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    reply = api.get(f"/v1/orgs/{tenant.org_id}/audit/verify?from={day}&to={following}", token=tenant.owner.token)
    assert reply.status == 200, reply.body
    return dict(reply.json)


def a_day_of_business(api: Api, world: World, shop: dict[str, Any]) -> dict[str, Any]:
    """A sale, a void, a refund and a printed voucher sold at its first redeem (drained)."""
    tenant = shop["tenant"]
    kept = sell(api, shop, "receipt-1")
    voided = sell(api, shop, "receipt-2")
    reply = api.post(f"/v1/orgs/{tenant.org_id}/sales/{voided['sale_id']}/void", {"reason": "salah paket"},
                     token=tenant.owner.token)  # fmt: skip
    assert reply.status == 200, reply.body
    refunded = kept["vouchers"][0]["code"]
    reply = api.post(f"/v1/orgs/{tenant.org_id}/vouchers/{refunded}/refund", {"reason": "tidak bisa konek"},
                     token=tenant.owner.token)  # fmt: skip
    assert reply.status == 200, reply.body
    batch = api.post(f"/v1/orgs/{tenant.org_id}/batches", {"plan_id": shop["plan_id"], "quantity": 1},
                     token=tenant.owner.token).json  # fmt: skip
    printed = api.get(f"/v1/orgs/{tenant.org_id}/batches/{batch['batch_id']}/codes", token=tenant.owner.token)
    assert redeem(api, shop["controller"], printed.json["codes"][0]).status == 200
    AuditOutbox().drain()
    return {"kept": kept, "voided": voided, "refunded": refunded}


def raw_client() -> Any:
    return boto3.client("dynamodb")


def test_a_day_of_business_verifies_and_reconciles(api: Api, world: World, shop: dict[str, Any],
                                                   clock: FakeClock) -> None:  # fmt: skip
    a_day_of_business(api, world, shop)
    result = verify(api, shop["tenant"], clock.now.date().isoformat())
    assert result["ok"], result["problems"]
    # 2 sales of 2 x 5000, one voided, one voucher of the other refunded, one printed voucher sold at redeem.
    assert result["totals"] == {"report": 10_000, "ledger": 10_000, "pending": 0, "audit": 10_000}
    assert result["records"] > 10 and result["first_problem"] is None


def test_an_undrained_first_redeem_is_pending_not_a_difference(api: Api, world: World, shop: dict[str, Any],
                                                               clock: FakeClock) -> None:  # fmt: skip
    tenant = shop["tenant"]
    batch = api.post(f"/v1/orgs/{tenant.org_id}/batches", {"plan_id": shop["plan_id"], "quantity": 1},
                     token=tenant.owner.token).json  # fmt: skip
    code = api.get(f"/v1/orgs/{tenant.org_id}/batches/{batch['batch_id']}/codes", token=tenant.owner.token)
    assert redeem(api, shop["controller"], code.json["codes"][0]).status == 200
    result = verify(api, tenant, clock.now.date().isoformat())
    assert result["ok"] and result["totals"] == {"report": 5000, "ledger": 0, "pending": 5000, "audit": 0}
    AuditOutbox().drain()
    assert verify(api, tenant, clock.now.date().isoformat())["totals"]["ledger"] == 5000


def test_a_first_redeem_booked_while_verifying_is_not_a_difference(
    api: Api, world: World, shop: dict[str, Any], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox books a first redeem (its event and ledger line at once) after the ledger lines were read
    and before the audit trail is: that reading is stale, and the verification reads again."""
    from chalicelib.services import ledger

    tenant = shop["tenant"]
    batch = api.post(f"/v1/orgs/{tenant.org_id}/batches", {"plan_id": shop["plan_id"], "quantity": 1},
                     token=tenant.owner.token).json  # fmt: skip
    code = api.get(f"/v1/orgs/{tenant.org_id}/batches/{batch['batch_id']}/codes", token=tenant.owner.token)
    assert redeem(api, shop["controller"], code.json["codes"][0]).status == 200
    audited_revenue = ledger._audited_revenue
    drained: list[int] = []

    def drain_first(org_id: str, start: date, end: date) -> Any:
        if not drained:
            drained.append(AuditOutbox().drain())
        return audited_revenue(org_id, start, end)

    monkeypatch.setattr(ledger, "_audited_revenue", drain_first)
    result = verify(api, tenant, clock.now.date().isoformat())
    assert drained == [1]
    assert result["ok"], result["problems"]
    assert result["totals"] == {"report": 5000, "ledger": 5000, "pending": 0, "audit": 5000}


def _ledger_items(org_id: str) -> list[dict[str, Any]]:
    page = raw_client().query(
        TableName=get_settings().app_table, KeyConditionExpression="PK = :pk AND begins_with(SK, :ledger)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{org_id}"}, ":ledger": {"S": "LEDGER#"}},
    )  # fmt: skip
    return list(page["Items"])


def _audit_items(org_id: str) -> list[dict[str, Any]]:
    page = raw_client().query(TableName=get_settings().audit_table, KeyConditionExpression="PK = :pk",
                              ExpressionAttributeValues={":pk": {"S": org_pk(org_id)}})  # fmt: skip
    return list(page["Items"])


def _edit_ledger_amount(org_id: str) -> dict[str, str]:
    item = next(item for item in _ledger_items(org_id) if item["rev_kind"]["S"] == "void")
    raw_client().update_item(TableName=get_settings().app_table, Key={"PK": item["PK"], "SK": item["SK"]},
                             UpdateExpression="SET rev_amount = :less",
                             ExpressionAttributeValues={":less": {"N": "-1"}})  # fmt: skip
    return {"kind": "edited", "sk": item["SK"]["S"]}


def _edit_audit_actor(org_id: str) -> dict[str, str]:
    item = next(item for item in _audit_items(org_id) if item["action"]["S"] == "voucher.refund")
    item["source_ip"] = {"S": "10.9.9.9"}
    raw_client().put_item(TableName=get_settings().audit_table, Item=item)
    return {"kind": "edited", "sk": item["SK"]["S"]}


def _delete_audit_event(org_id: str) -> dict[str, str]:
    items = sorted((item for item in _audit_items(org_id) if "chain_seq" in item),
                   key=lambda item: (item["chain_id"]["S"], int(item["chain_seq"]["N"])))  # fmt: skip
    victim = next(item for item in items if item["action"]["S"] == "sale.void")
    raw_client().delete_item(TableName=get_settings().audit_table, Key={"PK": victim["PK"], "SK": victim["SK"]})
    return {"kind": "deleted", "seq": victim["chain_seq"]["N"]}


def _insert_ledger_line(org_id: str) -> dict[str, str]:
    item = dict(next(item for item in _ledger_items(org_id) if item["rev_kind"]["S"] == "sale"))
    item["SK"] = {"S": item["SK"]["S"].replace("#sale#", "#sale#forged")}
    for name in ("chain_id", "chain_seq", "chain_prev", "chain_hash"):
        item.pop(name)
    raw_client().put_item(TableName=get_settings().app_table, Item=item)
    return {"kind": "unchained", "sk": item["SK"]["S"]}


def _insert_linked_line(org_id: str) -> dict[str, str]:
    """A forger who knows the scheme: a record claiming a place, with a hash that fits its own content."""
    item = dict(next(item for item in _ledger_items(org_id) if item["rev_kind"]["S"] == "sale"))
    item["SK"] = {"S": item["SK"]["S"].replace("#sale#", "#sale#forged")}
    item["chain_hash"] = {"S": link_hash(item["chain_prev"]["S"], item)}
    raw_client().put_item(TableName=get_settings().app_table, Item=item)
    return {"kind": "inserted", "sk": item["SK"]["S"]}


@pytest.mark.parametrize(
    "tamper", [_edit_ledger_amount, _edit_audit_actor, _delete_audit_event, _insert_ledger_line, _insert_linked_line]
)
def test_verification_names_the_record_that_was_changed(api: Api, world: World, shop: dict[str, Any],
                                                        clock: FakeClock, tamper: Any) -> None:  # fmt: skip
    a_day_of_business(api, world, shop)
    day = clock.now.date().isoformat()
    assert verify(api, shop["tenant"], day)["ok"]
    expected = tamper(shop["tenant"].org_id)
    result = verify(api, shop["tenant"], day)
    assert not result["ok"]
    first = result["first_problem"]
    assert first["kind"] == expected["kind"], result["problems"]
    if "sk" in expected:
        assert first["record"]["sk"] == expected["sk"]
    else:
        assert str(first["seq"]) == expected["seq"]


def test_thirty_concurrent_sales_leave_one_unbroken_chain(api: Api, world: World, shop: dict[str, Any],
                                                          clock: FakeClock) -> None:  # fmt: skip
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import Actor, Principal, RequestMeta

    # Through the service: Chalice's test client shares one `current_request` between threads.
    key = Principal(kind="api_key", id="pos-1", org_id=shop["tenant"].org_id, site_id=shop["site_id"],
                    key_kind="pos")  # fmt: skip
    replies: list[int] = []

    def sell_one(index: int) -> None:
        actor = Actor(principal=key, meta=RequestMeta(source_ip="127.0.0.1", user_agent="pos", request_id=f"r{index}"))
        services().selling.sell(
            actor, shop["tenant"].org_id, site_id=shop["site_id"], plan_id=shop["plan_id"], quantity=1,
            cashier_ref="ani", seller_id="pos-1", idempotency_key=f"r-{index}",
        )  # fmt: skip
        replies.append(201)

    threads = [threading.Thread(target=sell_one, args=(index,)) for index in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies.count(201) == 30, replies
    day = clock.now.date().isoformat()
    lanes = ChainHead.sk.startswith(f"{day}#{shop['site_id']}#")
    heads = list(ChainHead.query(f"CHAIN#ORG#{shop['tenant'].org_id}", lanes, consistent_read=True))
    sale_records = [item for item in _ledger_items(shop["tenant"].org_id) if item["rev_kind"]["S"] == "sale"]
    sale_events = [item for item in _audit_items(shop["tenant"].org_id) if item["action"]["S"] == "sale.create"]
    assert len(sale_records) == len(sale_events) == 30
    records = [*_ledger_items(shop["tenant"].org_id), *_audit_items(shop["tenant"].org_id)]
    chains = {head.sk for head in heads}
    assert all(item.get("chain_id", {}).get("S") in chains for item in [*sale_records, *sale_events])
    for head in heads:  # each of the site's lanes: one place per record, no gaps, no place taken twice
        in_chain = [item for item in records if item.get("chain_id", {}).get("S") == head.sk]
        assert sorted(int(item["chain_seq"]["N"]) for item in in_chain) == list(range(1, int(head.seq) + 1))
    result = verify(api, shop["tenant"], day)
    assert result["ok"] and result["totals"]["ledger"] == 30 * 5000


def test_a_sealed_day_holds_even_against_a_rewritten_chain(api: Api, world: World, shop: dict[str, Any],
                                                           clock: FakeClock) -> None:  # fmt: skip
    a_day_of_business(api, world, shop)
    tenant, day = shop["tenant"], clock.now.date()
    assert seal_due([org_pk(tenant.org_id)], clock.now + timedelta(days=2)) == 1
    assert seal_due([org_pk(tenant.org_id)], clock.now + timedelta(days=2)) == 0  # sealed once
    result = verify(api, tenant, day.isoformat())
    assert result["ok"] and result["days_sealed"] == [day.isoformat()]
    # Someone with write access edits the void's line and recomputes its hash and the head: the chain
    # alone looks whole again, the signed digest does not.
    item = next(item for item in _ledger_items(tenant.org_id) if item["rev_kind"]["S"] == "void")
    item["rev_amount"] = {"N": "-1"}
    item["chain_hash"] = {"S": link_hash(item["chain_prev"]["S"], item)}
    raw_client().put_item(TableName=get_settings().app_table, Item=item)
    chain = item["chain_id"]["S"]
    place = int(item["chain_seq"]["N"])
    later = [entry for entry in [*_ledger_items(tenant.org_id), *_audit_items(tenant.org_id)]
             if entry.get("chain_id", {}).get("S") == chain and int(entry["chain_seq"]["N"]) > place]  # fmt: skip
    previous = item["chain_hash"]["S"]
    for entry in sorted(later, key=lambda entry: int(entry["chain_seq"]["N"])):
        entry["chain_prev"] = {"S": previous}
        entry["chain_hash"] = {"S": link_hash(previous, entry)}
        previous = entry["chain_hash"]["S"]
        table = get_settings().audit_table if "action" in entry else get_settings().app_table
        raw_client().put_item(TableName=table, Item=entry)
    ChainHead(f"CHAIN#ORG#{tenant.org_id}", chain, seq=int(item["chain_seq"]["N"]) + len(later), hash=previous).save()
    result = verify(api, tenant, day.isoformat())
    assert not result["ok"]
    kinds = {problem["kind"] for problem in result["problems"]}
    assert "digest_mismatch" in kinds and "edited" not in kinds  # the chain was made consistent; the digest says no


def test_refunds_and_voids_reverse_each_voucher_once(api: Api, world: World, shop: dict[str, Any],
                                                     clock: FakeClock) -> None:  # fmt: skip
    tenant = shop["tenant"]
    sale = sell(api, shop, "receipt-9", quantity=3)
    code = sale["vouchers"][0]["code"]
    path = f"/v1/orgs/{tenant.org_id}/vouchers/{code}/refund"
    assert api.post(path, {"reason": "rusak"}, token=tenant.owner.token).status == 200
    again = api.post(path, {"reason": "rusak"}, token=tenant.owner.token)
    assert again.status == 409 and again.error_code == "conflict"
    cashier = world.member(tenant, "cashier")
    assert api.post(path, {"reason": "x"}, token=cashier.token).status == 403
    reply = api.post(f"/v1/orgs/{tenant.org_id}/sales/{sale['sale_id']}/void", {"reason": "batal"},
                     token=tenant.owner.token)  # fmt: skip
    assert reply.status == 200, reply.body
    lines = {item["rev_kind"]["S"]: int(item["rev_amount"]["N"]) for item in _ledger_items(tenant.org_id)}
    assert lines == {"sale": 15_000, "refund": -5000, "void": -10_000}
    utc_day = clock.now.date()
    report = api.get(f"/v1/orgs/{tenant.org_id}/reports/sales?from={utc_day}&to={utc_day + timedelta(days=1)}"
                     f"&group_by=site", token=tenant.owner.token)  # fmt: skip
    assert report.json["total"]["amount"] == 0
    assert verify(api, tenant, clock.now.date().isoformat())["totals"]["audit"] == 0


def test_a_never_sold_voucher_cannot_be_refunded(api: Api, world: World, shop: dict[str, Any]) -> None:
    tenant = shop["tenant"]
    batch = api.post(f"/v1/orgs/{tenant.org_id}/batches", {"plan_id": shop["plan_id"], "quantity": 1},
                     token=tenant.owner.token).json  # fmt: skip
    code = api.get(f"/v1/orgs/{tenant.org_id}/batches/{batch['batch_id']}/codes", token=tenant.owner.token)
    reply = api.post(f"/v1/orgs/{tenant.org_id}/vouchers/{code.json['codes'][0]}/refund", {"reason": "x"},
                     token=tenant.owner.token)  # fmt: skip
    assert reply.status == 409 and "never sold" in reply.json["error"]["message"]


def test_verify_is_for_owners_and_auditors_of_the_org(api: Api, world: World, shop: dict[str, Any],
                                                      clock: FakeClock) -> None:  # fmt: skip
    tenant, other = shop["tenant"], world.org("Lain")
    path = f"/v1/orgs/{tenant.org_id}/audit/verify?from=2026-01-01&to=2026-01-02"
    assert api.get(path, token=world.member(tenant, "auditor").token).status == 200
    assert api.get(path, token=world.member(tenant, "cashier").token).status == 403
    assert api.get(path, token=other.owner.token).status in (403, 404)
    backwards = api.get(f"/v1/orgs/{tenant.org_id}/audit/verify?from=2026-01-02&to=2026-01-01",
                        token=tenant.owner.token)  # fmt: skip
    assert backwards.status == 400 and backwards.json["error"]["field"] == "to"


@pytest.mark.parametrize(("span", "field"), [("from=0001-01-01&to=0001-01-02", "from"),
                                             ("from=9999-12-30&to=9999-12-31", "to")])  # fmt: skip
def test_verify_at_the_ends_of_the_calendar_is_a_400_not_a_500(api: Api, world: World, span: str, field: str) -> None:
    # Found by the schema fuzzer: the audit trail is read a day either side, past date.min and date.max.
    tenant = world.org()
    reply = api.get(f"/v1/orgs/{tenant.org_id}/audit/verify?{span}", token=tenant.owner.token)
    assert (reply.status, reply.json["error"]["field"]) == (400, field)


def test_every_event_of_the_day_is_in_a_chain(api: Api, world: World, shop: dict[str, Any]) -> None:
    a_day_of_business(api, world, shop)
    events = list(AuditEvent.query(org_pk(shop["tenant"].org_id)))
    lines = list(LedgerEntry.query(f"ORG#{shop['tenant'].org_id}", LedgerEntry.sk.startswith("LEDGER#")))
    assert events and lines
    assert all(event.chain_hash and event.chain_seq for event in events)
    assert all(line.chain_hash and line.chain_seq for line in lines)
