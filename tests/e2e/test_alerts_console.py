"""Anomaly alerts in the console: the dashboard counts them, the Alerts screen names who, where and
when, and links to the audit entries; the owner sets "sells only through the POS" on the Sites screen."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Stack, screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "alerts-e2e-password"


def _sign_in(page: Any, email: str) -> None:
    page.goto("/#/login")
    page.locator('select[aria-label="Language"]').select_option(label="English")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"#/login"))


def _org_with_two_alerts(stack: Stack) -> tuple[str, dict[str, str]]:
    """An org whose controller at the beach tried a code of the town site, and whose owner exported codes."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": "Kopi Alarm"}, token=admin)["org_id"])
    org = f"/v1/orgs/{org_id}"
    emails = {role: f"{role}-{org_id}@alerts.example" for role in ("owner", "manager", "cashier")}
    for role, email in emails.items():
        stack.call("POST", f"{org}/users", {"email": email, "password": PASSWORD, "role": role}, token=admin)
    owner = stack.login(emails["owner"], PASSWORD)
    local = datetime.now(ZoneInfo("Asia/Jakarta"))
    hours = {"opens": f"{local - timedelta(hours=3):%H:%M}", "closes": f"{local + timedelta(hours=9):%H:%M}"}
    town, beach = (
        stack.call("POST", f"{org}/sites", {"name": name, "timezone": "Asia/Jakarta", "business_hours": hours},
                   token=owner)["site_id"]
        for name in ("Kota Tua", "Pantai Indah")
    )  # fmt: skip
    controller = stack.call("POST", f"{org}/sites/{beach}/keys", {"kind": "controller", "name": "AP pantai"},
                            token=owner)["api_key"]  # fmt: skip
    plan = stack.call("POST", f"{org}/plans", {"name": "1 Jam", "price": 5000, "duration_minutes": 60,
                                               "validity_days": 30}, token=owner)["plan_id"]  # fmt: skip
    sale = stack.call("POST", f"{org}/sales", {"site_id": town, "plan_id": plan, "quantity": 1}, token=owner)
    refused = stack.request("POST", "/v1/redeem", {"code": sale["vouchers"][0]["code"], "mac": "AA:BB:CC:00:00:09"},
                            token=controller)  # fmt: skip
    assert refused.status == 403 and refused.json["error"]["code"] == "wrong_site"
    batch = stack.call("POST", f"{org}/batches", {"plan_id": plan, "quantity": 2}, token=owner)
    stack.call("GET", f"{org}/batches/{batch['batch_id']}/codes", token=owner)
    alerts = stack.call("GET", f"{org}/alerts", token=owner)["alerts"]
    assert sorted(alert["kind"] for alert in alerts) == ["code_export", "wrong_site"]
    return org_id, emails


def test_owner_sees_alerts_on_the_dashboard_and_follows_one_to_the_audit_log(page: Any, stack: Stack) -> None:
    org_id, emails = _org_with_two_alerts(stack)

    _sign_in(page, emails["owner"])
    expect(page).to_have_url(re.compile(r"#/dashboard"))
    expect(page.get_by_role("heading", name="Anomaly alerts")).to_be_visible()
    expect(page.get_by_test_id("alerts-count")).to_have_text("2")

    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.get_by_role("heading", name="Anomaly alerts", exact=True).first).to_be_visible()
    wrong_site = page.locator('tr[data-kind="wrong_site"]')
    expect(wrong_site).to_contain_text("Wrong site")
    expect(wrong_site).to_contain_text("AP pantai")  # the key by its name
    expect(wrong_site).to_contain_text("Pantai Indah")  # the site by its name, never its id
    expect(wrong_site).to_contain_text("WIB")  # the time in the site's zone
    expect(wrong_site).to_contain_text("refusals are not in the audit log")
    export = page.locator('tr[data-kind="code_export"]')
    expect(export).to_contain_text(emails["owner"])
    screenshot(page, "alerts")

    page.get_by_label("Kind", exact=True).select_option(label="Wrong site")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("tr[data-kind]")).to_have_count(1)
    page.get_by_label("Kind", exact=True).select_option(label="All kinds")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("tr[data-kind]")).to_have_count(2)

    page.locator('tr[data-kind="code_export"]').get_by_role("link", name="Open in the audit log (1)").click()
    expect(page).to_have_url(re.compile(r"#/audit/"))
    marked = page.locator("tr.marked")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("batch.codes_exported")

    # The owner says the org sells only through the POS (audited).
    page.goto("/#/sites")
    setting = page.get_by_label("Sells only through the POS")
    expect(setting).not_to_be_checked()
    setting.click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(setting).to_be_checked()
    assert stack.call("GET", f"/v1/orgs/{org_id}", token=stack.login(emails["owner"], PASSWORD))["pos_only_sales"]


def test_managers_see_alerts_and_cashiers_do_not(page: Any, stack: Stack) -> None:
    _, emails = _org_with_two_alerts(stack)

    _sign_in(page, emails["manager"])
    expect(page.get_by_test_id("alerts-count")).to_have_text("2")  # the dashboard has loaded
    page.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.locator("tr[data-kind]")).to_have_count(2)
    # Managers may not read the audit log: the alert says so instead of linking to it.
    expect(page.locator('tr[data-kind="code_export"]')).to_contain_text("for owners and auditors only")
    page.get_by_role("button", name="Sign out").first.click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()

    _sign_in(page, emails["cashier"])
    expect(page.get_by_role("link", name="Sell", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Alerts", exact=True)).to_have_count(0)
