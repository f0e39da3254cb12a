"""The admin console in a real browser against the real local stack.

The issue's story: the platform admin signs in and switches language; an owner
sets up a site, a controller key and a plan, issues and prints a batch; a
cashier sells; a guest redeems through the API; the owner sees the sale in the
report and its CSV, revokes a voucher and finds the event in the audit log.
Every screen is saved at desktop and phone width (see docs/console.md).
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import UI_TIMEOUT_MS, Stack, screenshot

pytestmark = pytest.mark.e2e
OWNER_EMAIL, OWNER_PASSWORD = "owner@warungkopi.example", "owner-password-e2e"
CASHIER_EMAIL, CASHIER_PASSWORD = "kasir@warungkopi.example", "cashier-password-e2e"
MAC = "AA:BB:CC:00:00:01"
SITE_TZ = "Asia/Jakarta"
AUDIT_WAIT_SECONDS = 60  # redeem events reach the audit table through the outbox (drained every 10 s)


def _language(page: Any) -> Any:
    return page.locator('select[aria-label="Language"]')


def _choose_english(page: Any) -> None:
    _language(page).select_option(label="English")
    expect(_language(page)).to_have_value(re.compile("en"))


def _select_containing(select: Any, text: str) -> None:
    """Pick the option whose label contains `text` (labels carry more, e.g. the price)."""
    option = select.locator("option", has_text=text).first
    expect(option).to_be_attached()  # the options load from the API after the screen appears
    select.select_option(label=option.evaluate("o => o.label"))


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/#/login")
    _choose_english(page)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"#/login"))


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def _open(page: Any, route: str, heading: str) -> None:
    page.goto(f"/#/{route}")
    expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()


def _content_security_policy(response: Any, page: Any) -> str:
    header = response.headers.get("content-security-policy") if response is not None else None
    if header:
        return str(header)
    meta = page.locator('meta[http-equiv="Content-Security-Policy"]')
    return str(meta.get_attribute("content")) if meta.count() else ""


def test_platform_admin_signs_in_and_switches_language(page: Any, stack: Stack) -> None:
    response = page.goto("/#/login")
    policy = _content_security_policy(response, page)
    assert "script-src 'self'" in policy, f"no strict CSP on the console: {policy!r}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy

    # Bahasa Indonesia by default.
    expect(_language(page)).to_be_visible()
    assert _language(page).evaluate("s => s.options[s.selectedIndex].text") == "Bahasa Indonesia"
    expect(page.get_by_role("button", name="Masuk", exact=True)).to_be_visible()
    screenshot(page, "login")

    _choose_english(page)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    page.get_by_label("Email", exact=True).fill(stack.admin_email)
    page.get_by_label("Password", exact=True).fill(stack.admin_password)
    page.get_by_role("button", name="Sign in", exact=True).click()

    # The platform admin lands among the organizations and creates one.
    expect(page).to_have_url(re.compile(r"#/platform"))
    expect(page.get_by_role("heading", name="Platform", exact=True).first).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Kedai Nusantara")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_text("Kedai Nusantara").first).to_be_visible()
    screenshot(page, "platform")

    # Indonesian and back; the choice outlives a reload.
    _language(page).select_option(label="Bahasa Indonesia")
    expect(page.get_by_role("button", name="Keluar").first).to_be_visible()
    _choose_english(page)
    expect(page.get_by_role("button", name="Sign out").first).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign out").first).to_be_visible()
    assert _language(page).evaluate("s => s.options[s.selectedIndex].text") == "English"


def _set_up_org(stack: Stack) -> str:
    """The platform admin creates the org, its owner and a cashier (API: the story starts after this)."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": "Warung Kopi Senja"}, token=admin)["org_id"])
    for email, password, role in ((OWNER_EMAIL, OWNER_PASSWORD, "owner"), (CASHIER_EMAIL, CASHIER_PASSWORD, "cashier")):
        stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": password, "role": role},
                   token=admin)  # fmt: skip
    return org_id


def _hours_away_from_now() -> tuple[str, str]:
    """Business hours that exclude the present moment, so this run's events are off hours."""
    now = datetime.now(ZoneInfo(SITE_TZ))
    return (now + timedelta(hours=2)).strftime("%H:%M"), (now + timedelta(hours=3)).strftime("%H:%M")


def test_owner_cashier_story(page: Any, stack: Stack) -> None:
    org_id = _set_up_org(stack)
    org = f"/v1/orgs/{org_id}"

    # --- the owner: dashboard, a site with a controller key, a plan -----------------
    _sign_in(page, OWNER_EMAIL, OWNER_PASSWORD)
    expect(page).to_have_url(re.compile(r"#/dashboard"))
    _open(page, "sites", "Sites & controllers")
    page.get_by_label("Name", exact=True).first.fill("Senja Utama")
    timezone = page.get_by_label("Timezone", exact=True).first
    if timezone.evaluate("e => e.tagName") == "SELECT":
        timezone.select_option(SITE_TZ)
    else:
        timezone.fill(SITE_TZ)
    opens, closes = _hours_away_from_now()
    page.get_by_label("Opens", exact=True).first.fill(opens)  # "HH:MM" suits type=time and text alike
    page.get_by_label("Closes", exact=True).first.fill(closes)
    page.get_by_role("button", name="Create", exact=True).first.click()
    expect(page.get_by_text("Senja Utama").first).to_be_visible()
    sites = stack.call("GET", f"{org}/sites", token=stack.login(OWNER_EMAIL, OWNER_PASSWORD))["sites"]
    assert [(s["name"], s["timezone"]) for s in sites] == [("Senja Utama", SITE_TZ)]

    page.get_by_role("button", name="Manage API keys").first.click()
    page.get_by_label("Kind", exact=True).select_option(label="Controller")
    page.get_by_label("Name", exact=True).last.fill("AP lobi")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/keys")) as created:
        page.get_by_role("button", name="Create key", exact=True).click()
    controller_key = created.value.json()["api_key"]
    expect(page.get_by_text(controller_key).first).to_be_visible()  # shown once, to copy
    expect(page.get_by_text("Copy this key now. It is shown only once.")).to_be_visible()
    screenshot(page, "sites")

    _open(page, "plans", "Plans")
    expect(page.get_by_text("Duration is how long the internet access lasts")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("1 Jam")
    page.get_by_label("Price (Rp)", exact=True).fill("5000")
    page.get_by_label("Duration (minutes)", exact=True).fill("60")
    page.get_by_label("Shelf life (days)", exact=True).fill("30")
    page.get_by_role("button", name=re.compile(r"^(Create|Save)$")).first.click()
    expect(page.get_by_role("cell", name="1 Jam").first).to_be_visible()
    expect(page.get_by_role("cell", name="Rp 5.000").first).to_be_visible()
    screenshot(page, "plans")

    # --- a batch of 20, printed -------------------------------------------------------
    _open(page, "batches", "Batches")
    _select_containing(page.get_by_label("Plan", exact=True), "1 Jam")
    page.get_by_label("Quantity", exact=True).fill("20")
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.get_by_text("20 of 20 issued").first).to_be_visible()
    screenshot(page, "batches")
    with page.expect_response(lambda r: r.url.endswith("/codes") and r.ok) as listed:
        page.get_by_role("link", name="Open to print").first.click()
    printed_codes = listed.value.json()["codes"]
    assert len(printed_codes) == 20
    expect(page).to_have_url(re.compile(r"#/batches/[^/]+/print"))
    expect(page.locator(".voucher-card")).to_have_count(20)
    expect(page.locator(".voucher-card img.qr")).to_have_count(20)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.voucher-card img.qr')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=UI_TIMEOUT_MS,
    )
    expect(page.get_by_text("Senja Utama").first).to_be_visible()
    screenshot(page, "print")
    _open(page, "users", "Users")
    expect(page.get_by_text(CASHIER_EMAIL).first).to_be_visible()
    screenshot(page, "users")
    _sign_out(page)

    # --- the cashier sells one ---------------------------------------------------------
    _sign_in(page, CASHIER_EMAIL, CASHIER_PASSWORD)
    _open(page, "sell", "Sell vouchers")
    _select_containing(page.get_by_label("Plan", exact=True), "1 Jam")
    page.get_by_label("Quantity", exact=True).fill("1")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/sales")) as sold:
        page.get_by_role("button", name="Sell", exact=True).click()
    receipt = sold.value.json()
    assert sold.value.status == 201 and receipt["total"] == 5000 and len(receipt["vouchers"]) == 1
    sold_code = receipt["vouchers"][0]["code"]
    expect(page.get_by_text(sold_code).first).to_be_visible()
    screenshot(page, "sell")
    _sign_out(page)

    # --- a guest connects: the controller redeems the sold code ---------------------------
    redeemed = stack.request("POST", "/v1/redeem", {"code": sold_code, "mac": MAC}, token=controller_key)
    assert redeemed.status == 200, redeemed.body

    # --- the owner: report and CSV, revoke, audit -----------------------------------------
    _sign_in(page, OWNER_EMAIL, OWNER_PASSWORD)
    _open(page, "reports", "Sales report")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("cell", name="Rp 5.000").first).to_be_visible()
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download CSV").or_(page.get_by_role("link", name="Download CSV")).click()
    rows = list(csv.DictReader(io.StringIO(Path(downloaded.value.path()).read_text(encoding="utf-8"))))
    total = [row for row in rows if "total" in row.values()]
    assert total and int(total[0]["count"]) == 1 and int(total[0]["amount"]) == 5000, rows
    screenshot(page, "reports")

    _open(page, "vouchers", "Find a voucher")
    page.get_by_label("Voucher code", exact=True).fill(printed_codes[0])
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_text("issued").first).to_be_visible()
    page.get_by_label("Reason", exact=True).fill("card lost")
    page.get_by_role("button", name="Revoke voucher", exact=True).click()
    expect(page.get_by_text("Voucher revoked.").first).to_be_visible()
    screenshot(page, "vouchers")
    looked_up = stack.call("GET", f"{org}/vouchers/{printed_codes[0]}", token=stack.login(OWNER_EMAIL, OWNER_PASSWORD))
    assert looked_up["status"] == "revoked"

    _open(page, "audit", "Audit log")
    deadline = time.monotonic() + AUDIT_WAIT_SECONDS
    while page.get_by_text("voucher.redeem").count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(2000)  # the redeem's event arrives with the next outbox drain
        page.reload()
    expect(page.get_by_text("voucher.revoke").first).to_be_visible()
    expect(page.get_by_text("voucher.redeem").first).to_be_visible()
    expect(page.locator(".off-hours").first).to_be_visible()  # the site is closed now (see its hours)
    screenshot(page, "audit")

    _open(page, "dashboard", "Dashboard")
    expect(page.get_by_text("Rp 5.000").filter(visible=True).first).to_be_visible()
    screenshot(page, "dashboard")
