"""The monthly statement and the platform's revenue shares and settlements in a real browser.

An owner opens the month's statement of a site in Makassar (WITA) after a sale
and a void; the platform admin sets the organization's share, issues last
month's settlement, downloads its CSV, follows it with an adjustment, records a payment
the organization made towards it, reverses one recorded by mistake and sees what is outstanding.
The figures themselves are proven in tests/api/test_month_reports.py and
tests/api/test_settlement.py; this walks the screens people use.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageErrors, Stack, screenshot
from tests.e2e.test_console import _open, _select_containing, _sign_in, _sign_out

pytestmark = pytest.mark.e2e
OWNER_EMAIL, OWNER_PASSWORD = "owner@kedaimakassar.example", "owner-password-statement"
SITE_TZ = "Asia/Makassar"


def _org_with_a_sale_and_a_void(stack: Stack) -> str:
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": "Kedai Pantai Losari"}, token=admin)["org_id"])
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": OWNER_EMAIL, "password": OWNER_PASSWORD,
                                                    "role": "owner"}, token=admin)  # fmt: skip
    owner = stack.login(OWNER_EMAIL, OWNER_PASSWORD)
    site_id = stack.call("POST", f"/v1/orgs/{org_id}/sites", {"name": "Kedai Makassar", "timezone": SITE_TZ},
                         token=owner)["site_id"]  # fmt: skip
    plan = {"name": "1 Hari", "price": 15000, "duration_minutes": 1440, "validity_days": 30}
    plan_id = stack.call("POST", f"/v1/orgs/{org_id}/plans", plan, token=owner)["plan_id"]
    sale = {"site_id": site_id, "plan_id": plan_id, "quantity": 1}
    stack.call("POST", f"/v1/orgs/{org_id}/sales", sale, token=owner)
    voided = stack.call("POST", f"/v1/orgs/{org_id}/sales", sale, token=owner)
    stack.call("POST", f"/v1/orgs/{org_id}/sales/{voided['sale_id']}/void", {"reason": "salah paket"}, token=owner)
    return org_id


def test_owner_prints_a_statement_and_the_platform_settles(page: Any, stack: Stack, page_errors: PageErrors) -> None:
    _org_with_a_sale_and_a_void(stack)
    month = datetime.now(ZoneInfo(SITE_TZ)).strftime("%Y-%m")

    # --- the owner: this month's statement of the Makassar site ----------------------------
    _sign_in(page, OWNER_EMAIL, OWNER_PASSWORD)
    _open(page, "statement", "Monthly site statement")
    _select_containing(page.get_by_label("Site", exact=True), "Kedai Makassar")
    page.get_by_label("Month", exact=True).fill(month)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("heading", name=f"Monthly statement of Kedai Makassar, {month}")).to_be_visible()
    by_plan = page.locator("table").nth(1)
    expect(by_plan.get_by_role("cell", name="1 Hari", exact=True)).to_be_visible()
    total = by_plan.locator("tfoot tr")
    expect(total).to_contain_text("Rp 30.000")  # gross: two sold
    expect(total).to_contain_text("-Rp 15.000")  # one voided
    expect(page.get_by_role("button", name="Print", exact=True)).to_be_enabled()
    screenshot(page, "statement")
    _sign_out(page)

    # --- the platform admin: the organization's share ---------------------------------------
    _sign_in(page, stack.admin_email, stack.admin_password)
    _open(page, "shares", "Revenue shares")
    _select_containing(page.get_by_label("Organization", exact=True), "Kedai Pantai Losari")
    page.get_by_label("ISP share (%)", exact=True).fill("12.5")
    page.get_by_label("Effective from", exact=True).fill("2020-01-01")
    page.get_by_label("Reason", exact=True).fill("kontrak 2020")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Share saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Kedai Pantai Losari: 12,50 %")).to_be_visible()
    screenshot(page, "shares")

    # --- last month's settlement: issue, view, CSV, adjust ----------------------------------
    _open(page, "settlements", "Settlements")
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.get_by_role("heading", name="Settlement", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Revenue share settlement", exact=False)).to_be_visible()
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(Path(downloaded.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["org_name", "org_id", "gross"] and any(row[0] == "total" for row in rows), rows
    _select_containing(page.get_by_label("Organization", exact=True), "Kedai Pantai Losari")
    page.get_by_label("Amount (Rp)", exact=True).fill("1000")
    page.get_by_label("Reason", exact=True).fill("koreksi tagihan")
    page.get_by_role("button", name="Save adjustment", exact=True).click()
    expect(page.get_by_text("Adjustment saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="koreksi tagihan")).to_be_visible()
    screenshot(page, "settlement")

    # --- payments: the organization owes the adjustment (it sold nothing last month) -------------
    balances = page.get_by_role("table", name="Owed and paid")
    row = balances.get_by_role("row").filter(has_text="Kedai Pantai Losari")
    expect(row).to_contain_text("Rp 1.000")  # owed
    _select_containing(page.get_by_label("Paying organization", exact=True), "Kedai Pantai Losari")

    def record(amount: str, reference: str) -> None:
        page.get_by_label("Amount paid (Rp)", exact=True).fill(amount)
        page.get_by_label("Paid on", exact=True).fill("2026-11-30")
        page.get_by_label("Transfer reference", exact=True).fill(reference)
        page.get_by_role("button", name="Record payment", exact=True).click()

    record("300", "BRI 777 SALAH")
    expect(page.get_by_role("cell", name="BRI 777 SALAH", exact=True)).to_be_visible()
    # More than is outstanding is refused with the reason (the browser logs the 400).
    page_errors.expect(r"status of 400")
    record("5000", "BCA TRF 0101")
    expect(page.get_by_role("alert").filter(has_text="700 rupiah outstanding")).to_be_visible()
    record("400", "BCA TRF 0101")
    expect(page.get_by_role("cell", name="BCA TRF 0101", exact=True)).to_be_visible()
    expect(page.get_by_text("Payment recorded.")).to_be_visible()
    # The 300 was someone else's transfer: reversed, it stays listed but no longer counts.
    page.get_by_role("button", name="Reverse payment BRI 777 SALAH from Kedai Pantai Losari").click()
    page.get_by_label("Reason for the reversal", exact=True).fill("transfer organisasi lain")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reverse the payment", exact=True).click()
    expect(page.get_by_text("(reversed: transfer organisasi lain)")).to_be_visible()
    row = page.get_by_role("table", name="Owed and paid").get_by_role("row").filter(has_text="Kedai Pantai Losari")
    expect(row.get_by_role("cell").nth(2)).to_have_text("Rp 400")  # paid
    expect(row.get_by_role("cell").nth(3)).to_have_text("Rp 600")  # outstanding
    screenshot(page, "settlement-payments")
    # In Bahasa Indonesia too.
    language = page.locator('select[aria-label="Language"]')
    language.select_option(label="Bahasa Indonesia")
    expect(page.get_by_role("heading", name="Tagihan dan pembayaran")).to_be_visible()
    expect(page.get_by_text("(dibatalkan: transfer organisasi lain)")).to_be_visible()
    language.select_option(label="English")
    expect(page.get_by_role("heading", name="Owed and paid")).to_be_visible()

    _open(page, "settlements", "Settlements")
    expect(page.get_by_role("link", name=" to ", exact=False).first).to_be_visible()
    # Issuing the same period again is refused, with the reason shown (the browser logs the 409).
    page_errors.expect(r"status of 409")
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="already covers")).to_be_visible()
