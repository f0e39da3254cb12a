"""Guests buy a voucher with QRIS: the whole purchase against fake providers on loopback, and every bad input.

The fakes (`tests/fakes/`) are real HTTP servers answering like Midtrans and Xendit;
Kuota's adapters reach them through `KUOTA_MIDTRANS_API_URL` / `KUOTA_XENDIT_API_URL`.
Their webhooks, signed exactly as documented, are handed to the app in-process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.services.selling import sale_id_for
from tests.fakes.midtrans import FakeMidtrans
from tests.fakes.xendit import FakeXendit
from tests.support import Api, FakeClock, Tenant, World, audit_events, dump_app_table, redeem, walk_pages

MAC = "02:11:22:33:44:55"
POLL_SECONDS = 11  # past the guests' shared status read (10 s)


@dataclass
class Shop:
    """A venue selling one plan online at one site, with a controller key there."""

    tenant: Tenant
    site_id: str
    other_site: str
    plan_id: str
    controller: str
    account: dict[str, Any]


def _connect(api: Api, tenant: Tenant, provider: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.call("PUT", f"/v1/orgs/{tenant.org_id}/payment-accounts/{provider}", json_body=body,
                     token=tenant.owner.token)  # fmt: skip
    assert reply.status == 200, reply.body
    return dict(reply.json)


def _shop(api: Api, world: World, fake: FakeMidtrans | FakeXendit, provider: str) -> Shop:
    tenant = world.org("Kedai Online")
    site_id, other_site = world.site(tenant, "Teras"), world.site(tenant, "Gudang")
    plan_id = world.plan(tenant, name="3 Jam", price=10000, duration_minutes=180, sold_online=True,
                         online_sites=[site_id])  # fmt: skip
    _, controller = world.key(tenant, site_id)
    credentials = fake.credentials
    if provider == "midtrans":
        body = {"environment": "sandbox", "server_key": credentials.server_key}
    else:
        body = {"environment": "sandbox", "secret_key": credentials.secret_key,
                "callback_token": credentials.callback_token}  # fmt: skip
    account = _connect(api, tenant, provider, body)
    if isinstance(fake, FakeXendit):
        fake.set_callback_url(credentials, account["webhook_url"])
    return Shop(tenant, site_id, other_site, plan_id, controller, account)


@pytest.fixture
def midtrans(world: World) -> FakeMidtrans:
    return world.providers.midtrans


@pytest.fixture
def xendit(world: World) -> FakeXendit:
    return world.providers.xendit


@pytest.fixture
def shop(api: Api, world: World, midtrans: FakeMidtrans) -> Shop:
    return _shop(api, world, midtrans, "midtrans")


def _order(api: Api, shop: Shop, **extra: Any) -> Any:
    return api.post("/v1/guest/orders", {"site_id": shop.site_id, "plan_id": shop.plan_id, **extra})


def _capture(into: list[tuple[dict[str, str], bytes]]) -> Callable[[str, dict[str, str], bytes], int]:
    """Keep a fake's webhooks instead of delivering them (the provider's call never arrives)."""

    def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        into.append((headers, body))
        return 0

    return deliver


def _sales_of(shop: Shop) -> list[dict[str, Any]]:
    return [event for event in audit_events(shop.tenant.org_id) if event["action"] == "sale.create"]


# --- merchant accounts ------------------------------------------------------------------


def test_an_owner_connects_midtrans_and_never_sees_the_key_again(
    api: Api, world: World, midtrans: FakeMidtrans
) -> None:
    shop = _shop(api, world, midtrans, "midtrans")
    key = str(midtrans.credentials.server_key)
    account = shop.account
    assert account["provider"] == "midtrans" and account["environment"] == "sandbox"
    assert account["key_hint"] == f"…{key[-4:]}"
    assert account["webhook_url"].endswith(f"/v1/payments/midtrans/webhook/{account['account_id']}")
    assert account["fees"] == [{"plan_id": shop.plan_id, "price": 10000, "fee": 70}]
    again = api.get(f"/v1/orgs/{shop.tenant.org_id}/payment-accounts/midtrans", token=shop.tenant.owner.token)
    assert again.status == 200 and again.json["account_id"] == account["account_id"]
    assert key not in again.body.decode()
    events = [e for e in audit_events(shop.tenant.org_id) if e["action"].startswith("payment_account.")]
    assert [e["action"] for e in events] == ["payment_account.connect"]
    assert key not in json.dumps(events, default=str)


def test_only_the_owner_manages_merchant_accounts_and_each_provider_takes_its_own_keys(
    api: Api, world: World, shop: Shop
) -> None:
    path = f"/v1/orgs/{shop.tenant.org_id}/payment-accounts/midtrans"
    for role in ("manager", "cashier", "auditor"):
        member = world.member(shop.tenant, role)
        assert api.get(path, token=member.token).status == 403
        assert api.call("PUT", path, json_body={"environment": "sandbox", "server_key": "x" * 20},
                        token=member.token).status == 403  # fmt: skip
    stranger = world.org("Lain")
    assert api.get(path, token=stranger.owner.token).status in (403, 404)
    owner = shop.tenant.owner.token
    missing = api.call("PUT", path, json_body={"environment": "sandbox"}, token=owner)
    assert missing.status == 400 and missing.json["error"]["field"] == "server_key"
    wrong = api.call("PUT", path, json_body={"environment": "sandbox", "server_key": "s" * 20, "secret_key": "x" * 20},
                     token=owner)  # fmt: skip
    assert wrong.status == 400 and wrong.json["error"]["field"] == "secret_key"
    xendit_path = f"/v1/orgs/{shop.tenant.org_id}/payment-accounts/xendit"
    token_missing = api.call("PUT", xendit_path, json_body={"environment": "sandbox", "secret_key": "x" * 20},
                             token=owner)  # fmt: skip
    assert token_missing.status == 400 and token_missing.json["error"]["field"] == "callback_token"
    dana = f"/v1/orgs/{shop.tenant.org_id}/payment-accounts/dana"
    unknown = api.call("PUT", dana, json_body={"environment": "sandbox", "server_key": "s" * 20}, token=owner)
    assert unknown.status == 400
    waiting = _order(api, shop).json
    refused = api.delete(path, token=owner)  # the guest's QR could still be paid, and never read again
    assert refused.status == 409 and "can still be paid" in refused.json["error"]["message"]
    assert api.post(f"/v1/guest/orders/{waiting['order_id']}/cancel").json["status"] == "cancelled"
    assert api.delete(path, token=owner).status == 204
    assert api.get(path, token=owner).status == 404
    assert _order(api, shop).error_code == "online_sales_unavailable"


def test_a_plan_sold_online_names_its_own_sites_and_a_price_qris_takes(api: Api, world: World, shop: Shop) -> None:
    plans = f"/v1/orgs/{shop.tenant.org_id}/plans"
    owner = shop.tenant.owner.token
    base = {"name": "X", "duration_minutes": 60, "validity_days": 7, "sold_online": True}
    no_sites = api.post(plans, {**base, "price": 5000}, token=owner)
    assert no_sites.status == 400 and no_sites.json["error"]["field"] == "online_sites"
    foreign = api.post(plans, {**base, "price": 5000, "online_sites": ["nope"]}, token=owner)
    assert foreign.status == 400 and foreign.json["error"]["field"] == "online_sites"
    free = api.post(plans, {**base, "price": 0, "online_sites": [shop.site_id]}, token=owner)
    assert free.status == 400 and free.json["error"]["field"] == "price"
    plan = api.get(f"{plans}/{shop.plan_id}", token=owner).json
    assert plan["sold_online"] is True and plan["online_sites"] == [shop.site_id]


def test_the_guest_page_lists_what_is_sold_online_at_that_site_only(api: Api, world: World, shop: Shop) -> None:
    world.plan(shop.tenant, name="Kasir saja", price=3000)  # not sold online
    listed = api.get(f"/v1/guest/plans?site_id={shop.site_id}")
    assert listed.status == 200
    assert listed.json["plans"] == [{"plan_id": shop.plan_id, "name": "3 Jam", "price": 10000,
                                     "duration_minutes": 180, "data_quota_mb": None}]  # fmt: skip
    assert api.get(f"/v1/guest/plans?site_id={shop.other_site}").json["plans"] == []
    assert api.get("/v1/guest/plans?site_id=unknown").json["plans"] == []
    assert api.get("/v1/guest/plans").status == 400


# --- the purchase ---------------------------------------------------------------------------


def test_a_guest_buys_pays_and_the_code_gets_online(api: Api, shop: Shop, midtrans: FakeMidtrans) -> None:
    created = _order(api, shop)
    assert created.status == 201, created.body
    order = created.json
    assert order["status"] == "pending" and order["amount"] == 10000
    assert order["qr_string"].startswith("000201") and order["expires_at"]
    charge = midtrans.requests_to("POST", "/v2/charge")[-1]
    assert charge.body is not None and charge.body["transaction_details"]["gross_amount"] == 10000
    assert charge.headers["x-override-notification"] == shop.account["webhook_url"]
    assert charge.idempotency_key
    waiting = api.get(f"/v1/guest/orders/{order['order_id']}").json
    assert waiting["status"] == "pending" and waiting.get("code") is None and waiting["qr_string"]

    deliveries = midtrans.simulate_payment(order["order_id"])
    assert [d.status for d in deliveries] == [200]
    paid = api.get(f"/v1/guest/orders/{order['order_id']}").json
    assert paid["status"] == "fulfilled" and paid["code"] and paid["qr_string"] is None
    assert paid["venue"] == "Kedai Online" and paid["site_name"] == "Teras" and paid["plan"]["name"] == "3 Jam"
    assert api.get(f"/v1/guest/orders/{order['order_id']}").json["code"] == paid["code"]  # the same, every time
    admitted = redeem(api, shop.controller, paid["code"], MAC)
    assert admitted.status == 200, admitted.body
    sales = _sales_of(shop)
    assert len(sales) == 1 and sales[0]["after"]["total"] == 10000 and sales[0]["after"]["seller_id"] == "online"
    orders, owner = f"/v1/orgs/{shop.tenant.org_id}/orders", shop.tenant.owner.token
    assert api.get(f"{orders}?from=2000-01-01&to=2100-01-01", token=owner).status == 400  # at most 93 days at a time
    day = paid["created_at"][:10]
    listed = api.get(f"{orders}?from={day}&to={day}", token=owner).json["orders"]
    assert [(o["order_id"], o["status"], o["amount"]) for o in listed] == [(order["order_id"], "fulfilled", 10000)]


def test_duplicate_and_concurrent_webhooks_make_one_voucher(api: Api, shop: Shop, midtrans: FakeMidtrans) -> None:
    order = _order(api, shop).json
    deliveries = midtrans.simulate_payment(order["order_id"], copies=3)
    assert [d.status for d in deliveries] == [200, 200, 200]
    assert len(_sales_of(shop)) == 1
    again = midtrans.notify(order["order_id"])  # a late copy of the settlement
    assert [d.status for d in again] == [200]
    assert len(_sales_of(shop)) == 1


def test_forged_and_tampered_webhooks_are_refused_and_change_nothing(
    api: Api, shop: Shop, midtrans: FakeMidtrans
) -> None:
    order = _order(api, shop).json
    wrong_key = midtrans.notify(order["order_id"], transaction_status="settlement", status_code="200",
                                sign_with="SB-Mid-server-someone-else")  # fmt: skip
    assert [d.status for d in wrong_key] == [401]
    # A settlement signed with the merchant's key (the fake's record stays unpaid), captured, then sent on
    # with its amount reformatted or its JSON re-serialised through floats.
    captured: list[tuple[dict[str, str], bytes]] = []
    midtrans.deliver = _capture(captured)
    midtrans.notify(order["order_id"], transaction_status="settlement", status_code="200", fraud_status="accept")
    headers, genuine = captured[0]
    path = urlsplit(shop.account["webhook_url"]).path
    reformatted = genuine.replace(b'"10000.00"', b'"10000"')
    assert reformatted != genuine
    assert api.call("POST", path, raw=reformatted, headers=headers).status == 401
    reserialised = json.loads(genuine)
    reserialised["gross_amount"] = float(reserialised["gross_amount"])  # what a JSON round trip through floats does
    assert api.call("POST", path, raw=json.dumps(reserialised).encode(), headers=headers).status == 401
    body = {"order_id": order["order_id"], "status_code": "200", "gross_amount": "10000.00",
            "transaction_status": "settlement", "signature_key": "0" * 128}  # fmt: skip
    unsigned = api.call("POST", urlsplit(shop.account["webhook_url"]).path, raw=json.dumps(body).encode())
    assert unsigned.status == 401
    assert api.get(f"/v1/guest/orders/{order['order_id']}").json["status"] == "pending"
    assert _sales_of(shop) == []
    from chalicelib.models.payments import WebhookRecord

    kept = list(WebhookRecord.query(f"WEBHOOK#{shop.account['account_id']}"))
    assert [record.verdict for record in kept] == ["rejected"] * 4  # every one kept, with its verdict
    assert all(record.body and "signature_key" not in record.body for record in kept)


def test_a_pending_notification_relabelled_settlement_grants_nothing(
    api: Api, shop: Shop, midtrans: FakeMidtrans
) -> None:
    """Midtrans's signature does not cover transaction_status: a genuine 201 relabelled must be read back."""
    order = _order(api, shop).json
    relabelled = midtrans.notify(order["order_id"], transaction_status="settlement", status_code="201")
    assert [d.status for d in relabelled] == [200]
    assert api.get(f"/v1/guest/orders/{order['order_id']}").json["status"] == "pending"
    assert _sales_of(shop) == []


def test_a_payment_of_another_amount_makes_no_voucher_and_raises_an_alert(
    api: Api, shop: Shop, midtrans: FakeMidtrans
) -> None:
    order = _order(api, shop).json
    midtrans.simulate_payment(order["order_id"], amount=1000)
    seen = api.get(f"/v1/guest/orders/{order['order_id']}").json
    assert seen["status"] == "failed" and seen.get("code") is None
    assert _sales_of(shop) == []
    alerts = api.get(f"/v1/orgs/{shop.tenant.org_id}/alerts?kind=payment_problem", token=shop.tenant.owner.token)
    assert alerts.status == 200 and [a["details"]["problem"] for a in alerts.json["alerts"]] == ["amount_mismatch"]


def test_unknown_orders_and_accounts_are_404(api: Api, shop: Shop, midtrans: FakeMidtrans) -> None:
    assert api.get("/v1/guest/orders/not-an-order").status == 404
    from chalicelib.payments.midtrans import signature

    key = str(midtrans.credentials.server_key)
    stranger = {"order_id": "someone-elses-order", "status_code": "200", "gross_amount": "10000.00",
                "transaction_status": "settlement", "transaction_id": "t-1", "fraud_status": "accept",
                "signature_key": signature("someone-elses-order", "200", "10000.00", key)}  # fmt: skip
    hook = urlsplit(shop.account["webhook_url"]).path
    assert api.call("POST", hook, raw=json.dumps(stranger).encode()).status == 404
    path = urlsplit(shop.account["webhook_url"]).path.replace(shop.account["account_id"], "no-such-account")
    assert api.call("POST", path, raw=b"{}").status == 404


# --- faults -----------------------------------------------------------------------------------


def test_a_provider_fault_on_create_is_retried_with_the_same_key(api: Api, shop: Shop, midtrans: FakeMidtrans) -> None:
    before = len(midtrans.idempotency_keys)
    midtrans.fail_next_create(503)
    created = _order(api, shop)
    assert created.status == 201, created.body
    keys = midtrans.idempotency_keys[before:]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_a_provider_down_on_create_is_a_clear_503_and_the_order_failed(
    api: Api, shop: Shop, midtrans: FakeMidtrans
) -> None:
    midtrans.fail_next_create(502, times=2)
    reply = _order(api, shop)
    assert reply.status == 503 and reply.error_code == "provider_unavailable"
    assert "try again" in reply.json["error"]["message"]


def test_a_guest_opening_orders_in_a_loop_is_rate_limited(api: Api, shop: Shop) -> None:
    replies = [_order(api, shop).status for _ in range(11)]
    assert replies[:10] == [201] * 10 and replies[10] == 429


def test_a_payment_after_expiry_or_cancel_is_honoured(
    api: Api, shop: Shop, midtrans: FakeMidtrans, clock: FakeClock
) -> None:
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import scheduler_actor

    order = _order(api, shop).json
    clock.advance(16 * 60)
    midtrans.expire_now(order["order_id"])
    services().payments.reconcile(scheduler_actor("test"))
    assert api.get(f"/v1/guest/orders/{order['order_id']}").json["status"] == "expired"
    midtrans.simulate_payment(order["order_id"], even_if_closed=True)
    late = api.get(f"/v1/guest/orders/{order['order_id']}").json
    assert late["status"] == "fulfilled" and late["code"]

    cancelled = _order(api, shop).json
    reply = api.post(f"/v1/guest/orders/{cancelled['order_id']}/cancel")
    assert reply.status == 200 and reply.json["status"] == "cancelled"
    assert cancelled["order_id"] in " ".join(midtrans.expire_calls)  # expired at the provider first
    midtrans.simulate_payment(cancelled["order_id"], even_if_closed=True)
    assert api.get(f"/v1/guest/orders/{cancelled['order_id']}").json["status"] == "fulfilled"
    assert len(_sales_of(shop)) == 2


def test_a_lost_webhook_is_made_good_by_the_guests_poll_or_the_reconciler(
    api: Api, shop: Shop, midtrans: FakeMidtrans, clock: FakeClock
) -> None:
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import scheduler_actor

    first, second = _order(api, shop).json, _order(api, shop).json
    midtrans.deliver = lambda url, headers, body: 0  # the notifications never arrive
    midtrans.simulate_payment(first["order_id"])
    midtrans.simulate_payment(second["order_id"])
    clock.advance(11)
    assert api.get(f"/v1/guest/orders/{first['order_id']}").json["status"] == "fulfilled"
    clock.advance(14 * 60)
    counts = services().payments.reconcile(scheduler_actor("test"))
    assert counts["fulfilled"] == 1
    assert api.get(f"/v1/guest/orders/{second['order_id']}").json["status"] == "fulfilled"
    assert len(_sales_of(shop)) == 2


def test_webhooks_polls_and_the_reconciler_at_once_make_exactly_one_voucher(
    api: Api, shop: Shop, midtrans: FakeMidtrans, clock: FakeClock
) -> None:
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import Actor, RequestMeta, scheduler_actor

    order = _order(api, shop).json
    payments = services().payments
    bodies: list[tuple[dict[str, str], bytes]] = []
    midtrans.deliver = _capture(bodies)
    midtrans.simulate_payment(order["order_id"])
    headers, body = bodies[0]
    account_id = shop.account["account_id"]
    guest = Actor(principal=None, meta=RequestMeta(source_ip="10.0.0.9", user_agent="guest", request_id="poll"))
    clock.advance(15 * 60 + 1)  # due for the reconciler too
    start = threading.Barrier(24)
    errors: list[BaseException] = []

    def run(work: Any) -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)

    hook = scheduler_actor("hook")
    work: list[Callable[[], object]] = [
        lambda: payments.handle_webhook("midtrans", account_id, headers, body, hook)
    ] * 20
    work += [lambda: payments.guest_order(order["order_id"], guest)] * 3
    work += [lambda: payments.reconcile(scheduler_actor("reconcile"))]
    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert api.get(f"/v1/guest/orders/{order['order_id']}").json["status"] == "fulfilled"
    assert len(_sales_of(shop)) == 1
    items = dump_app_table()
    ledger = [i for i in items if i["SK"]["S"].startswith("LEDGER#") and i.get("rev_kind") == {"S": "sale"}]
    assert len(ledger) == 1 and ledger[0]["rev_amount"] == {"N": "10000"}
    vouchers = [i for i in items if i["PK"]["S"].startswith("V#")]
    assert len(vouchers) == 1
    claims = [i for i in items if i["PK"]["S"].startswith("PAYMENT#midtrans#")]
    assert len(claims) == 1


# --- refunds --------------------------------------------------------------------------------


def test_an_owner_refunds_an_online_sale(api: Api, world: World, shop: Shop, midtrans: FakeMidtrans) -> None:
    order = _order(api, shop).json
    midtrans.simulate_payment(order["order_id"])
    code = api.get(f"/v1/guest/orders/{order['order_id']}").json["code"]
    path = f"/v1/orgs/{shop.tenant.org_id}/orders/{order['order_id']}/refund"
    assert api.post(path, {"reason": "Koneksi mati"}, token=world.member(shop.tenant, "manager").token).status == 403
    refunded = api.post(path, {"reason": "Koneksi mati"}, token=shop.tenant.owner.token)
    assert refunded.status == 200, refunded.body
    assert refunded.json["status"] == "refunded"
    assert len(midtrans.refunds) >= 1
    assert redeem(api, shop.controller, code, MAC).status in (403, 409, 410)
    again = api.post(path, {"reason": "Koneksi mati"}, token=shop.tenant.owner.token)
    assert again.status == 200 and again.json["status"] == "refunded"
    refunds = [e for e in audit_events(shop.tenant.org_id) if e["action"].endswith(".refund")]
    assert [e["action"] for e in refunds] == ["voucher.refund"]  # one event: voucher, reversal and order at once
    assert refunds[0]["after"]["order_id"] == order["order_id"] and refunds[0]["after"]["amount"] == 10000
    guest = api.get(f"/v1/guest/orders/{order['order_id']}").json
    assert guest["status"] == "refunded" and guest.get("code") is None


def test_orders_are_read_by_owner_manager_and_auditor_only(api: Api, world: World, shop: Shop) -> None:
    path = f"/v1/orgs/{shop.tenant.org_id}/orders?from=2026-01-01&to=2026-01-31"
    for role, status in (("manager", 200), ("auditor", 200), ("cashier", 403)):
        assert api.get(path, token=world.member(shop.tenant, role).token).status == status
    assert api.get(path, token=world.org("Lain").owner.token).status in (403, 404)


def test_the_order_list_comes_a_page_at_a_time_each_order_once(api: Api, world: World, shop: Shop) -> None:
    made = [_order(api, shop).json["order_id"] for _ in range(5)]
    cancelled = made[1:3]
    for order_id in cancelled:
        assert api.post(f"/v1/guest/orders/{order_id}/cancel", {}).status == 200
    today = datetime.now(UTC).date()
    days = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    path = f"/v1/orgs/{shop.tenant.org_id}/orders?{days}"
    every, pages = walk_pages(api, path, "orders", token=shop.tenant.owner.token, limit=2)
    assert pages == 3 and sorted(order["order_id"] for order in every) == sorted(made)
    # Filtered on a status, the pages hold only those (a page may be short), each once.
    only, _ = walk_pages(api, f"{path}&status=cancelled", "orders", token=shop.tenant.owner.token, limit=1)
    assert sorted(order["order_id"] for order in only) == sorted(cancelled)

    cursor = api.get(f"{path}&limit=1", token=shop.tenant.owner.token).json["next_cursor"]
    stranger = world.org("Lain")
    reply = api.get(f"/v1/orgs/{stranger.org_id}/orders?{days}&cursor={cursor}", token=stranger.owner.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")
    later = today + timedelta(days=5)  # a cursor of other days: its key is outside these
    reply = api.get(f"/v1/orgs/{shop.tenant.org_id}/orders?from={later}&to={later}&cursor={cursor}",
                    token=shop.tenant.owner.token)  # fmt: skip
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")


# --- Xendit -----------------------------------------------------------------------------------


def test_a_guest_buys_through_xendit_in_either_callback_shape(api: Api, world: World, xendit: FakeXendit) -> None:
    shop = _shop(api, world, xendit, "xendit")
    for shape in ("2022-07-31", "legacy"):
        order = _order(api, shop, provider="xendit").json
        deliveries = xendit.simulate_payment(order["order_id"], shape=shape)
        assert [d.status for d in deliveries] == [200]
        assert api.get(f"/v1/guest/orders/{order['order_id']}").json["status"] == "fulfilled"
    forged = _order(api, shop, provider="xendit").json
    wrong = xendit.simulate_payment(forged["order_id"], callback_token="not-the-token")
    assert [d.status for d in wrong] == [401]
    assert len(_sales_of(shop)) == 2


# --- orderings --------------------------------------------------------------------------------

EVENTS = ("pay", "duplicate", "expire", "cancel", "reconcile", "poll")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=6))
def test_no_ordering_of_provider_and_guest_events_makes_two_vouchers_or_loses_a_payment(
    api: Api, shop: Shop, midtrans: FakeMidtrans, clock: FakeClock, events: list[str]
) -> None:
    """Paid, expired (at the provider, notified), cancelled by the guest, duplicate callbacks, the
    reconciler and polls, in any order: a paid order ends with exactly one voucher, an unpaid one with none."""
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import Actor, RequestMeta, scheduler_actor

    payments = services().payments
    guest = Actor(principal=None, meta=RequestMeta(source_ip=f"10.1.{len(events)}.{clock.ticks % 250:.0f}",
                                                   user_agent="guest", request_id="order"))  # fmt: skip
    clock.advance(1)
    order_id = payments.create_order(guest, shop.site_id, shop.plan_id, "midtrans").order_id
    paid = False
    for event in events:
        if event == "pay":
            if not paid:
                midtrans.simulate_payment(order_id, even_if_closed=True)
                paid = True
        elif event == "duplicate" and paid:
            midtrans.notify(order_id)
        elif event == "expire":
            clock.advance(16 * 60)
            if not paid:
                midtrans.expire_now(order_id, notify=True)
        elif event == "cancel":
            payments.cancel_order(guest, order_id)
        elif event == "reconcile":
            payments.reconcile(scheduler_actor("reconcile"))
        elif event == "poll":
            clock.advance(POLL_SECONDS)
            payments.guest_order(order_id, guest)
    clock.advance(POLL_SECONDS)
    final = payments.guest_order(order_id, guest)  # the guest looks once more: the provider is read again
    sales = [e for e in _sales_of(shop) if e["target_id"] == sale_id_for(shop.tenant.org_id, "online", order_id)]
    if paid:
        assert final.order.status == "fulfilled" and final.code is not None, events
        assert len(sales) == 1, events
    else:
        assert final.order.status in ("pending", "expired", "cancelled"), events
        assert sales == [] and final.code is None, events


def test_the_daily_check_finds_a_payment_without_its_voucher_and_makes_it(
    api: Api, shop: Shop, midtrans: FakeMidtrans
) -> None:
    """An order given up on here while the provider took the money (a lost webhook, an outage): the
    day's comparison with the provider fulfils it and tells the owner."""
    from datetime import UTC, datetime

    from chalicelib.api.deps import services
    from chalicelib.auth.principal import scheduler_actor
    from chalicelib.models.payments import Order

    order = _order(api, shop).json
    midtrans.deliver = _capture([])  # the notification never arrives
    midtrans.simulate_payment(order["order_id"])
    Order(*Order.key(order["order_id"])).update(actions=[Order.status.set("expired")])  # as if given up on
    counts = services().payments.daily_check(scheduler_actor("daily"), datetime.now(UTC).date())
    assert counts["paid_without_voucher"] == 1
    assert api.get(f"/v1/guest/orders/{order['order_id']}").json["status"] == "fulfilled"
    alerts = api.get(f"/v1/orgs/{shop.tenant.org_id}/alerts?kind=payment_problem", token=shop.tenant.owner.token)
    assert [a["details"]["problem"] for a in alerts.json["alerts"]] == ["payment_without_voucher"]
    assert services().payments.daily_check(scheduler_actor("daily"), datetime.now(UTC).date())["orders"] == 1


def test_a_restricted_venue_sells_nothing_online_but_its_paid_orders_still_get_their_code(
    api: Api, world: World, shop: Shop, midtrans: FakeMidtrans
) -> None:
    waiting = _order(api, shop).json
    stage = {"stage": "restricted", "reason": "manual", "note": "agreement lapsed"}
    moved = api.post(f"/v1/platform/orgs/{shop.tenant.org_id}/stage", stage, token=world.admin.token)
    assert moved.status == 200, moved.body
    refused = _order(api, shop)
    assert refused.status == 423 and refused.error_code == "org_restricted"
    midtrans.simulate_payment(waiting["order_id"])  # paid before: the guest's money is honoured
    assert api.get(f"/v1/guest/orders/{waiting['order_id']}").json["code"]
