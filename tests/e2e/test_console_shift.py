"""The console's cashier shift, sales list and voucher extension in a real browser against the local stack.

Two stories from issue 10: a cashier opens a shift, sells, and closes it
declaring less cash than expected, and sees the difference; an owner looks a
sold voucher up, extends it with a reason, voids its sale from the sales
screen, and finds both in the audit log. Screens are saved at desktop and
phone width (`shift`, `voucher-extend`, `sales`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageErrors, Stack, screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "shift-story-password"


@dataclass
class Shop:
    org_id: str
    owner: str  # emails
    cashier: str
    site_id: str
    plan_id: str

    @property
    def org(self) -> str:
        return f"/v1/orgs/{self.org_id}"


def _set_up_shop(stack: Stack, name: str) -> Shop:
    """An org with an owner, a cashier, a site and a Rp 5.000 plan (API: the stories start after this)."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": name}, token=admin)["org_id"])
    tag = uuid.uuid4().hex[:6]
    owner, cashier = f"owner-{tag}@tokoshift.example", f"kasir-{tag}@tokoshift.example"
    for email, role in ((owner, "owner"), (cashier, "cashier")):
        stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": PASSWORD, "role": role},
                   token=admin)  # fmt: skip
    token = stack.login(owner, PASSWORD)
    site_id = stack.call("POST", f"/v1/orgs/{org_id}/sites", {"name": "Kios Dermaga", "timezone": "Asia/Makassar"},
                         token=token)["site_id"]  # fmt: skip
    plan = {"name": "2 Jam", "price": 5000, "duration_minutes": 120, "validity_days": 30}
    plan_id = stack.call("POST", f"/v1/orgs/{org_id}/plans", plan, token=token)["plan_id"]
    return Shop(org_id, owner, cashier, str(site_id), str(plan_id))


def _sign_in(page: Any, email: str) -> None:
    page.goto("/#/login")
    language = page.locator('select[aria-label="Language"]')
    language.select_option(label="English")
    expect(language).to_have_value(re.compile("en"))
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"#/login"))


def _open(page: Any, route: str, heading: str) -> None:
    page.goto(f"/#/{route}")
    expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()


def _accept_the_next_dialog(page: Any) -> None:
    page.once("dialog", lambda dialog: dialog.accept())


def test_a_cashier_opens_a_shift_sells_and_closes_with_a_difference(
    page: Any, stack: Stack, page_errors: PageErrors
) -> None:
    shop = _set_up_shop(stack, "Toko Shift Kasir")
    page_errors.expect(r"status of 404")  # "no shift open" is the API's 404, logged by the browser

    _sign_in(page, shop.cashier)
    expect(page.get_by_role("link", name="Cashier shift")).to_be_visible()  # in the cashier's menu
    _open(page, "shift", "Cashier shift")
    expect(page.get_by_text("You have no shift open.")).to_be_visible()
    expect(page.get_by_label("Site", exact=True)).to_have_value(shop.site_id)
    page.get_by_label("Opening cash in the drawer (Rp)").fill("50000")
    page.get_by_role("button", name="Open shift", exact=True).click()
    expect(page.get_by_role("heading", name="Your shift", exact=True).first).to_be_visible()
    expect(page.get_by_test_id("opening-cash")).to_have_text("Rp 50.000")

    # Two vouchers at the counter.
    page.get_by_role("link", name="Sell vouchers").click()
    expect(page.get_by_role("heading", name="Sell vouchers", exact=True)).to_be_visible()
    plan = page.get_by_label("Plan", exact=True)
    expect(plan.locator("option", has_text="2 Jam")).to_be_attached()
    plan.select_option(label="2 Jam")
    page.get_by_label("Quantity", exact=True).fill("2")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/sales")) as sold:
        page.get_by_role("button", name="Sell", exact=True).click()
    assert sold.value.status == 201 and sold.value.json()["total"] == 10_000
    sale_id = sold.value.json()["sale_id"]

    # The shift's takings so far, then close declaring Rp 2.000 less than expected.
    _open(page, "shift", "Cashier shift")
    expect(page.get_by_test_id("sales-total")).to_have_text("Rp 10.000")
    expect(page.get_by_test_id("expected-cash")).to_have_text("Rp 60.000")
    page.get_by_label("Cash counted in the drawer (Rp)").fill("58000")
    page.get_by_label("Note", exact=True).fill("uang kembalian kurang")
    _accept_the_next_dialog(page)
    page.get_by_role("button", name="Close shift", exact=True).click()
    expect(page.get_by_role("heading", name="Shift summary")).to_be_visible()
    expect(page.get_by_test_id("expected-cash")).to_have_text("Rp 60.000")
    expect(page.get_by_test_id("declared-cash")).to_have_text("Rp 58.000")
    expect(page.get_by_test_id("difference")).to_have_text("-Rp 2.000")
    expect(page.get_by_text("Short by Rp 2.000")).to_be_visible()
    # The cashier's own shifts below, closed, with the difference; and a new one may be opened.
    expect(page.get_by_role("table", name="Your shifts").get_by_role("cell", name="closed")).to_be_visible()
    expect(page.get_by_role("button", name="Open shift", exact=True)).to_be_visible()
    screenshot(page, "shift")

    # What the API recorded: the sale in the shift, the shift closed with its difference.
    token = stack.login(shop.owner, PASSWORD)
    today = datetime.now(UTC).date().isoformat()
    (shift,) = stack.call("GET", f"{shop.org}/shifts?from={today}&to={today}", token=token)["shifts"]
    (sale,) = stack.call("GET", f"{shop.org}/sales?from={today}&to={today}", token=token)["sales"]
    assert (sale["sale_id"], sale["shift_id"]) == (sale_id, shift["shift_id"])
    assert (shift["status"], shift["expected_cash"], shift["declared_cash"], shift["difference"]) == (
        "closed", 60_000, 58_000, -2_000,
    )  # fmt: skip
    assert shift["user_email"] == shop.cashier and shift["note"] == "uang kembalian kurang"


def test_an_owner_extends_a_voucher_then_voids_its_sale_and_finds_both_in_the_audit_log(
    page: Any, stack: Stack
) -> None:
    shop = _set_up_shop(stack, "Toko Shift Pemilik")
    cashier = stack.login(shop.cashier, PASSWORD)
    # Yesterday's shift, closed: the sale the owner voids today belongs to it (an anomaly to look into).
    shift = stack.call("POST", f"{shop.org}/shifts", {"site_id": shop.site_id, "opening_cash": 0}, token=cashier)
    receipt = stack.call("POST", f"{shop.org}/sales", {"site_id": shop.site_id, "plan_id": shop.plan_id, "quantity": 1},
                         token=cashier)  # fmt: skip
    stack.call("POST", f"{shop.org}/shifts/{shift['shift_id']}/close", {"declared_cash": 5000}, token=cashier)
    code, sale_id = receipt["vouchers"][0]["code"], receipt["sale_id"]

    # --- look the voucher up and extend it with a reason ---------------------------------
    _sign_in(page, shop.owner)
    _open(page, "vouchers", "Find a voucher")
    page.get_by_label("Voucher code", exact=True).fill(code)
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_text("sold").first).to_be_visible()
    extend = page.get_by_role("form", name="Extend voucher")
    extend.get_by_label("Minutes to add").fill("90")
    extend.get_by_label("Reason for the extension").fill("jaringan putus 1,5 jam")
    with page.expect_response(lambda r: r.url.endswith("/extend")) as extended:
        extend.get_by_role("button", name="Extend voucher").click()
    assert extended.value.status == 200
    expect(page.get_by_text("Voucher extended by 90 min.")).to_be_visible()
    expect(page.get_by_role("cell", name="jaringan putus 1,5 jam")).to_be_visible()  # in the timeline
    expect(page.get_by_role("form", name="Revoke voucher")).to_be_visible()  # beside revoke
    screenshot(page, "voucher-extend")

    # --- its sale, voided from the sales screen -------------------------------------------
    page.get_by_role("link", name="View the sale").click()
    expect(page).to_have_url(re.compile(rf"#/sales/{sale_id}$"))
    expect(page.get_by_role("heading", name="Sales", exact=True)).to_be_visible()
    chosen = page.get_by_role("table", name="The voucher's sale")
    expect(chosen.get_by_role("cell", name="Kios Dermaga")).to_be_visible()  # names, not ids
    expect(chosen.get_by_role("cell", name="2 Jam")).to_be_visible()
    expect(chosen.get_by_text(shop.cashier)).to_be_visible()
    chosen.get_by_role("button", name=re.compile(r"^Void the sale of")).click()
    page.get_by_label("Reason for the void").fill("pelanggan batal")
    _accept_the_next_dialog(page)
    with page.expect_response(lambda r: r.url.endswith("/void")) as voided:
        page.get_by_role("button", name="Void the sale", exact=True).click()
    assert voided.value.status == 200
    expect(page.get_by_text("Sale voided.")).to_be_visible()
    expect(chosen.get_by_text("voided")).to_be_visible()
    listed = page.get_by_role("table", name="Sales", exact=True)
    expect(listed.locator(f'tr[data-sale="{sale_id}"]').get_by_text("voided")).to_be_visible()
    screenshot(page, "sales")
    owner = stack.login(shop.owner, PASSWORD)
    assert stack.call("GET", f"{shop.org}/vouchers/{code}", token=owner)["status"] == "revoked"

    # --- the audit log shows both, by whom -------------------------------------------------
    _open(page, "audit", "Audit log")
    expect(page.get_by_text("voucher.extend").first).to_be_visible()
    expect(page.get_by_text("sale.void").first).to_be_visible()
    events = stack.call("GET", f"{shop.org}/audit?action=sale.void", token=owner)["events"]
    assert [event["after"]["reason"] for event in events] == ["pelanggan batal"]
    assert events[0]["after"]["sale_before_shift"] is True  # its shift was closed

    # --- the alert it raised, and from it the audit entry ---------------------------------
    _open(page, "alerts", "Anomaly alerts")
    alert = page.locator('tr[data-kind="void_after_shift"]')
    expect(alert).to_contain_text("Void of an earlier shift's sale")
    expect(alert).to_contain_text(shop.owner)  # who, by name
    expect(alert).to_contain_text("Kios Dermaga")  # where, by name
    alert.get_by_role("link", name="Open in the audit log (1)").click()
    expect(page).to_have_url(re.compile(r"#/audit/"))
    expect(page.locator("tr.marked")).to_contain_text("sale.void")
    screenshot(page, "alert-void")
