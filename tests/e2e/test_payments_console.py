"""Online payments in the console, in a real browser against the real local stack.

The issue's story from the owner's side: connect a Midtrans sandbox account (the key goes in and
never comes back: the page shows its hint and the webhook URL to paste), see what each plan pays
per payment, mark a plan sold online at a site (the guest page then lists it), see the online
orders (guests buy through the API against the fake Midtrans on loopback: one pays, one does not),
refund the paid one, and disconnect. Managers and auditors see the orders but not the merchant
account, and cannot refund. The screens are saved under docs/payments/ as console-*.png.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageErrors, Stack, screenshot
from tests.fakes.midtrans import FakeMidtrans

pytestmark = pytest.mark.e2e
PASSWORD = "payments-console-e2e-password"
# The venue's sandbox key, known to the fake Midtrans (connecting only stores it).
SERVER_KEY = "SB-Mid-server-e2eConsoleFakeKey9Zq4"
FULFIL_WAIT_SECONDS = 30


def _shot(page: Any, name: str) -> None:
    """The screen at desktop and phone width, for the guide (docs/payments/console-*.png)."""
    screenshot(page, f"console-{name}", folder="payments")


def _sign_in(page: Any, email: str) -> None:
    page.goto("/#/login")
    page.locator('select[aria-label="Language"]').select_option(label="English")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"#/login"))


def _open(page: Any, route: str, heading: str) -> None:
    page.goto(f"/#/{route}")
    expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()


def _venue(stack: Stack, name: str) -> dict[str, Any]:
    """An org with an owner, a manager and an auditor, two sites and two plans (API: the story starts after)."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": name}, token=admin)["org_id"])
    org = f"/v1/orgs/{org_id}"
    emails = {role: f"{role}-{org_id}@payments.example" for role in ("owner", "manager", "auditor")}
    for role, email in emails.items():
        stack.call("POST", f"{org}/users", {"email": email, "password": PASSWORD, "role": role}, token=admin)
    owner = stack.login(emails["owner"], PASSWORD)
    sites = {
        site: stack.call("POST", f"{org}/sites", {"name": site, "timezone": "Asia/Jakarta"}, token=owner)["site_id"]
        for site in ("Kopi Pantai", "Kopi Kota")
    }
    plans = {
        plan_name: stack.call("POST", f"{org}/plans", {"name": plan_name, "price": price, "duration_minutes": minutes,
                                                       "validity_days": 30}, token=owner)["plan_id"]
        for plan_name, price, minutes in (("1 Jam", 5000, 60), ("1 Minggu", 50000, 7 * 24 * 60))
    }  # fmt: skip
    return {"org": org, "emails": emails, "owner": owner, "sites": sites, "plans": plans}


def _guest_buys(stack: Stack, site_id: str, plan_id: str) -> dict[str, Any]:
    """A guest's order at the portal (the API, as the guest page calls it): pending, with its QR."""
    created = stack.call("POST", "/v1/guest/orders", {"site_id": site_id, "plan_id": plan_id, "provider": "midtrans"})
    assert created["status"] == "pending" and created["qr_string"], created
    return dict(created)


def _wait_for_code(stack: Stack, order_id: str) -> dict[str, Any]:
    """The guest's poll until the webhook's voucher shows (the order link, as the guest page polls it)."""
    deadline = time.monotonic() + FULFIL_WAIT_SECONDS
    while True:
        order = stack.call("GET", f"/v1/guest/orders/{order_id}")
        if order.get("code") or time.monotonic() > deadline:
            assert order["status"] == "fulfilled" and order["code"], order
            return dict(order)
        time.sleep(0.5)


def test_owner_connects_midtrans_sells_a_plan_online_and_sees_orders(
    page: Any, stack: Stack, page_errors: PageErrors, midtrans: FakeMidtrans
) -> None:
    page_errors.expect(r"status of 404 .*/payment-accounts/")  # "not connected" is the API's 404
    midtrans.register_account(server_key=SERVER_KEY)
    venue = _venue(stack, "Kopi QRIS")
    org, owner = venue["org"], venue["owner"]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    _sign_in(page, venue["emails"]["owner"])
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Online payments", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Online orders", exact=True)).to_be_visible()

    # --- connect a Midtrans sandbox account: the key goes in, only its hint comes back -----------
    _open(page, "payments", "Online payments (QRIS)")
    card = page.locator('section[data-provider="midtrans"]')
    expect(card.get_by_text("Not connected")).to_be_visible()
    card.get_by_label("Environment", exact=True).select_option("sandbox")
    key_field = card.get_by_label("Server Key", exact=True)
    expect(key_field).to_have_attribute("type", "password")
    key_field.fill(SERVER_KEY)
    with page.expect_response(lambda r: r.request.method == "PUT" and "/payment-accounts/midtrans" in r.url) as saved:
        card.get_by_role("button", name="Connect Midtrans", exact=True).click()
    account = saved.value.json()
    assert saved.value.status == 200, account
    assert SERVER_KEY not in saved.value.text(), "the server key came back from the API"
    assert account["environment"] == "sandbox" and account["site_ids"] is None
    assert account["webhook_url"].endswith(f"/v1/payments/midtrans/webhook/{account['account_id']}")

    expect(card.get_by_text("Connected: Sandbox (test)")).to_be_visible()
    expect(page.get_by_test_id("midtrans-key-hint")).to_have_text(account["key_hint"])
    expect(page.get_by_test_id("midtrans-webhook-url")).to_have_text(account["webhook_url"])
    expect(card.get_by_label("Server Key", exact=True)).to_have_count(0)  # write-only: no field holds it now
    assert SERVER_KEY not in page.content()
    card.get_by_role("button", name="Copy the webhook URL").click()
    expect(card.get_by_text("Copied", exact=True)).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == account["webhook_url"]

    # The fee each plan pays: the cheap voucher and the dear one, side by side.
    fees = {row["plan_id"]: row for row in account.get("fees") or stack.call(
        "GET", f"{org}/payment-accounts/midtrans", token=owner)["fees"]}  # fmt: skip
    for plan_id in venue["plans"].values():
        row = card.locator(f'tr[data-plan="{plan_id}"]')
        expect(row).to_contain_text(f"Rp {fees[plan_id]['price']:,}".replace(",", "."))
        expect(row).to_contain_text(f"Rp {fees[plan_id]['fee']:,}".replace(",", "."))
    _shot(page, "payments")

    read_back = stack.request("GET", f"{org}/payment-accounts/midtrans", token=owner)
    assert read_back.status == 200 and SERVER_KEY.encode() not in read_back.body

    # --- a plan sold online at one site: the guest page there lists it, the other site's does not ----
    _open(page, "plans", "Plans")
    page.get_by_role("button", name="Edit 1 Jam", exact=True).click()
    page.get_by_label("Guests can buy this plan online", exact=True).check()
    page.get_by_label("Kopi Pantai", exact=True).check()
    _shot(page, "plan-online")
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/plans/" in r.url) as patched:
        page.get_by_role("button", name="Save", exact=True).click()
    assert patched.value.status == 200, patched.value.text()
    plan_row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="1 Jam", exact=True))
    expect(plan_row).to_contain_text("Kopi Pantai")

    beach, town = venue["sites"]["Kopi Pantai"], venue["sites"]["Kopi Kota"]
    listed = stack.call("GET", f"/v1/guest/plans?site_id={beach}")["plans"]
    assert [(p["name"], p["price"]) for p in listed] == [("1 Jam", 5000)]
    assert stack.call("GET", f"/v1/guest/plans?site_id={town}")["plans"] == []

    # --- the orders: none yet; then a guest pays for one and another walks away -----------------
    _open(page, "orders", "Online orders")
    expect(page.get_by_text("No orders in this range.")).to_be_visible()
    expect(page.get_by_test_id("orders-summary")).to_have_text("0 orders; 0 paid, Rp 0 in all.")

    paid = _guest_buys(stack, beach, venue["plans"]["1 Jam"])
    midtrans.simulate_payment(paid["order_id"])  # the signed notification goes to the webhook URL
    code = _wait_for_code(stack, paid["order_id"])["code"]
    waiting = _guest_buys(stack, beach, venue["plans"]["1 Jam"])

    page.get_by_role("button", name="Show", exact=True).click()
    paid_row = page.locator(f'tr[data-order="{paid["order_id"]}"]')
    expect(paid_row).to_contain_text("Paid, voucher issued")
    expect(paid_row).to_contain_text("Midtrans · provider: paid")
    expect(paid_row).to_contain_text("Kopi Pantai")
    expect(paid_row).to_contain_text("1 Jam")
    expect(paid_row).to_contain_text("Rp 5.000")
    expect(paid_row).to_contain_text("WIB")
    waiting_row = page.locator(f'tr[data-order="{waiting["order_id"]}"]')
    expect(waiting_row).to_contain_text("Awaiting payment")
    expect(waiting_row.get_by_role("button", name=re.compile("^Refund"))).to_have_count(0)
    expect(page.get_by_test_id("orders-summary")).to_have_text("2 orders; 1 paid, Rp 5.000 in all.")
    assert code not in page.content(), "the console shows the guest's voucher code"
    expect(paid_row).to_contain_text(f"…{paid['order_id'][-6:]}")
    expect(paid_row).not_to_contain_text(paid["order_id"])  # the whole id opens the guest's code
    _shot(page, "orders")

    page.get_by_label("Status", exact=True).select_option(label="Awaiting payment")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("tr[data-order]")).to_have_count(1)
    expect(waiting_row).to_be_visible()
    page.get_by_label("Status", exact=True).select_option(label="Any status")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("tr[data-order]")).to_have_count(2)

    # --- the owner refunds the paid one: the provider pays back, the voucher is revoked -----------
    paid_row.get_by_role("button", name=f"Refund order …{paid['order_id'][-6:]}").click()
    expect(page.get_by_role("heading", name="Refund an order")).to_be_visible()
    page.get_by_label("Reason for the refund", exact=True).fill("guest could not connect")
    _shot(page, "orders-refund")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/refund")) as refunded:
        page.get_by_role("button", name="Refund", exact=True).click()
    assert refunded.value.status == 200, refunded.value.text()
    expect(page.get_by_text("Refunded; the voucher is revoked.")).to_be_visible()
    expect(paid_row).to_contain_text("Refunded")
    assert [r["amount"] for r in midtrans.refunds if r["order_id"] == paid["order_id"]] == [5000]
    voucher = stack.call("GET", f"{org}/vouchers/{code}", token=owner)
    assert voucher["status"] == "revoked", voucher

    # --- a Xendit account for one site: the secret key and the callback token, both write-only ------
    _open(page, "payments", "Online payments (QRIS)")
    xendit = page.locator('section[data-provider="xendit"]')
    xendit.get_by_label("Secret key", exact=True).fill("xnd_development_e2eConsoleFakeSecret7Kp")
    xendit.get_by_label("Webhook verification token", exact=True).fill("e2e-console-callback-token")
    xendit.get_by_label("Only chosen sites", exact=True).check()
    xendit.get_by_label("Kopi Kota", exact=True).check()
    with page.expect_response(lambda r: r.request.method == "PUT" and "/payment-accounts/xendit" in r.url) as saved:
        xendit.get_by_role("button", name="Connect Xendit", exact=True).click()
    assert saved.value.status == 200, saved.value.text()
    assert "e2e-console-callback-token" not in saved.value.text() and "Secret7Kp" not in saved.value.text()
    assert saved.value.json()["site_ids"] == [town]
    expect(xendit.get_by_text("Connected: Sandbox (test)")).to_be_visible()
    expect(xendit).to_contain_text("Kopi Kota")
    expect(page.get_by_test_id("xendit-webhook-url")).to_contain_text("/v1/payments/xendit/webhook/")
    xendit_fees = {row["plan_id"]: row["fee"] for row in saved.value.json()["fees"]}
    expect(xendit.locator(f'tr[data-plan="{venue["plans"]["1 Jam"]}"]')).to_contain_text(
        f"Rp {xendit_fees[venue['plans']['1 Jam']]}"
    )

    # The same screen in Bahasa Indonesia (the default language).
    page.locator('select[aria-label="Language"]').select_option(label="Bahasa Indonesia")
    expect(page.get_by_role("heading", name="Pembayaran online (QRIS)", exact=True)).to_be_visible()
    expect(card.get_by_text("Terhubung: Sandbox (uji coba)")).to_be_visible()
    expect(card.get_by_role("button", name="Salin URL webhook")).to_be_visible()
    _shot(page, "payments-id")
    page.locator('select[aria-label="Language"]').select_option(label="English")

    # --- disconnect, after a confirmation (once no guest's QR on the account can still be paid) -----
    cancelled = stack.call("POST", f"/v1/guest/orders/{waiting['order_id']}/cancel", {})
    assert cancelled["status"] == "cancelled"
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.request.method == "DELETE" and "/payment-accounts/midtrans" in r.url) as gone:
        card.get_by_role("button", name="Disconnect", exact=True).click()
    assert gone.value.status == 204
    expect(card.get_by_text("Midtrans account disconnected.")).to_be_visible()
    expect(card.get_by_text("Not connected")).to_be_visible()
    assert stack.request("GET", f"{org}/payment-accounts/midtrans", token=owner).status == 404


@pytest.mark.parametrize("role", ["manager", "auditor"])
def test_managers_and_auditors_see_orders_but_not_the_merchant_account(page: Any, stack: Stack, role: str) -> None:
    venue = _venue(stack, f"Kopi Peran {role}")
    _sign_in(page, venue["emails"][role])
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav.get_by_role("link", name="Online orders", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Online payments", exact=True)).to_have_count(0)

    _open(page, "orders", "Online orders")
    expect(page.get_by_text("No orders in this range.")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Actions")).to_have_count(0)  # refunds are the owner's

    page.goto("/#/payments")
    expect(page.get_by_text("Your role cannot open this page.")).to_be_visible()
    refused = stack.request("GET", f"{venue['org']}/payment-accounts/midtrans",
                            token=stack.login(venue["emails"][role], PASSWORD))  # fmt: skip
    assert refused.status == 403
