"""The ISP's side in a real browser: a platform admin records a reseller's agreement, suspends it with
a reason and a note, is told in words when a move is refused, and reinstates it; the owner sees the
banner (in Bahasa Indonesia and in English) while suspended and no banner once reinstated;
terminating asks for the organisation's name typed out; the policy reads and saves percentages.

The address space names a bad line and a controller calling from a registered address shows it;
the owner reads a week of quality per site. The stage machine itself (every stage's effects, races,
the job), the address lookup and the figures are proven in the API tests; this walks the screens.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PageErrors, Stack, screenshot
from tests.e2e.test_console import _open, _sign_in, _sign_out

pytestmark = pytest.mark.e2e
PASSWORD = "compliance-e2e-password"
SITE_TZ = "Asia/Makassar"  # the banner's deadline and times in WITA
QUALITY_WAIT_SECONDS = 60  # accepted logins reach the quality figures through the outbox (drained every 10 s)


def _reseller(stack: Stack, name: str) -> tuple[str, str]:
    """An organization with an owner and a site in Makassar; its id and the owner's email."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": name}, token=admin)["org_id"])
    email = f"owner-{org_id}@compliance.example"
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": PASSWORD, "role": "owner"}, token=admin)
    owner = stack.login(email, PASSWORD)
    stack.call("POST", f"/v1/orgs/{org_id}/sites", {"name": "Pantai Losari", "timezone": SITE_TZ}, token=owner)
    return org_id, email


def _expect_refusals(page_errors: PageErrors) -> None:
    # The browser logs every non-2xx answer; these the test causes or the screens expect.
    page_errors.expect(r"status of 404 .*/agreement")  # no agreement recorded yet
    page_errors.expect(r"status of 409 .*/stage")  # the stale move the test makes on purpose


def _move(page: Any, stage: str, reason: str, note: str, button: str) -> None:
    form = page.get_by_test_id("org-stage")
    form.get_by_label("New stage", exact=True).select_option(label=stage)
    form.get_by_label("Reason (trigger)", exact=True).select_option(label=reason)
    form.get_by_label("Note", exact=True).fill(note)
    form.get_by_role("button", name=button, exact=True).click()


def test_platform_admin_suspends_and_reinstates_a_reseller_and_the_owner_sees_the_banner(
    page: Any, stack: Stack, page_errors: PageErrors
) -> None:
    _expect_refusals(page_errors)
    org_id, owner_email = _reseller(stack, "Warung Senja")

    # --- the platform admin: the resellers list, filtered, then the reseller's page ------------------
    _sign_in(page, stack.admin_email, stack.admin_password)
    _open(page, "resellers", "Resellers")
    row = page.locator('tr[data-org="Warung Senja"]')
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("no agreement")
    page.get_by_label("Stage", exact=True).select_option(label="Suspended")
    expect(row).to_have_count(0)
    page.get_by_label("Stage", exact=True).select_option(label="Active")
    expect(row).to_have_count(1)
    screenshot(page, "resellers")
    row.get_by_role("link", name="Warung Senja").click()
    expect(page.get_by_role("heading", name="Reseller: Warung Senja")).to_be_visible()

    # The agreement, recorded through the form (an end before the start is refused first).
    page.get_by_role("button", name="Record the agreement").click()
    agreement = page.get_by_role("form", name="Cooperation agreement")
    agreement.get_by_label("Legal name").fill("CV Senja Abadi")
    agreement.get_by_label("NIB (business number)").fill("9120001234567")
    agreement.get_by_label("Agreement number").fill("PKS/ISP/2026/014")
    agreement.get_by_label("Starts on").fill("2026-01-01")
    agreement.get_by_label("Ends on").fill("2025-12-31")
    agreement.get_by_label("Person in charge").fill("Ibu Sari")
    agreement.get_by_label("Their phone").fill("+62 811 4000 123")
    agreement.get_by_role("button", name="Save").click()
    expect(agreement.get_by_text("The end date cannot be before the start date.")).to_be_visible()
    agreement.get_by_label("Ends on").fill("2027-12-31")
    agreement.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Agreement saved.")).to_be_visible()
    expect(page.get_by_test_id("agreement")).to_contain_text("PKS/ISP/2026/014")

    # Suspend at once (a platform admin may skip grace), with a reason and a note.
    _move(page, "Suspended", "A settlement is overdue", "Bagi hasil Oktober belum dibayar", "Move to Suspended")
    expect(page.get_by_text("Warung Senja is now in the stage Suspended.")).to_be_visible()
    expect(page.locator("#stage-title")).to_contain_text("Suspended")
    timeline = page.get_by_test_id("stage-timeline")
    expect(timeline.locator("li").first).to_contain_text("Active → Suspended")
    expect(timeline.locator("li").first).to_contain_text("A settlement is overdue")
    expect(timeline.locator("li").first).to_contain_text("Bagi hasil Oktober belum dibayar")
    expect(timeline.locator("li").first).to_contain_text(stack.admin_email)
    screenshot(page, "reseller")
    _sign_out(page)

    # --- the owner: the banner on every screen, in both languages ------------------------------------
    page.goto("/#/login")
    page.locator('select[aria-label="Language"]').select_option(label="Bahasa Indonesia")
    page.get_by_label("Email", exact=True).fill(owner_email)
    page.get_by_label("Kata sandi", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    banner = page.get_by_test_id("compliance-banner")
    expect(banner).to_contain_text("Organisasi Anda dalam tahap: Ditangguhkan.")
    expect(banner).to_contain_text("Penyelesaian bagi hasil terlambat")
    expect(banner).to_contain_text("Tamu tidak bisa login lagi")
    expect(banner).to_contain_text("WITA")  # the time in the site's zone
    expect(banner).to_contain_text("Selesaikan bagi hasil yang terlambat dengan ISP")
    screenshot(page, "compliance-banner")
    page.locator('select[aria-label="Language"]').select_option(label="English")
    expect(banner).to_contain_text("Your organization is in the stage: Suspended.")
    expect(banner).to_contain_text("A settlement is overdue")
    expect(banner).to_contain_text("Guests can no longer log in")
    page.get_by_role("link", name="Plans", exact=True).click()  # still there after navigation
    expect(banner).to_contain_text("Settle the overdue revenue share with the ISP")
    banner.get_by_role("link", name="See the details on the Compliance page").click()
    expect(page.get_by_role("heading", name="Compliance", exact=True)).to_be_visible()
    expect(page.get_by_test_id("org-stage")).to_contain_text("Suspended")
    expect(page.get_by_test_id("agreement")).to_contain_text("CV Senja Abadi")
    expect(page.locator('tr[data-site="Pantai Losari"]')).to_contain_text("Unknown")  # never called yet
    expect(page.get_by_test_id("stage-timeline")).to_contain_text("Bagi hasil Oktober belum dibayar")
    screenshot(page, "compliance")
    _sign_out(page)

    # --- the admin again: a stale move is refused in words, then the reinstatement -------------------
    _sign_in(page, stack.admin_email, stack.admin_password)
    page.goto(f"/#/resellers/{org_id}")
    expect(page.locator("#stage-title")).to_contain_text("Suspended")
    # Another admin reinstates meanwhile; this page still shows Suspended and tries the same.
    admin = stack.login(stack.admin_email, stack.admin_password)
    stack.call("POST", f"/v1/platform/orgs/{org_id}/stage", {"stage": "active", "reason": "settlement_overdue",
                                                             "note": "lunas"}, token=admin)  # fmt: skip
    _move(page, "Active (reinstate)", "A settlement is overdue", "Sudah dibayar", "Reinstate")
    form = page.get_by_test_id("org-stage")
    expect(form.get_by_role("alert")).to_contain_text("Cannot move from Suspended to Active")
    expect(page.locator("#stage-title")).to_contain_text("Active")  # reloaded: what it is now

    # Suspended once more through the console, then reinstated through it.
    _move(page, "Suspended", "A platform admin's decision", "Jalur rumahan dijual ulang", "Move to Suspended")
    expect(page.locator("#stage-title")).to_contain_text("Suspended")
    _move(page, "Active (reinstate)", "A platform admin's decision", "Sudah pindah ke jalur ISP", "Reinstate")
    expect(page.get_by_text("Warung Senja is now in the stage Active.")).to_be_visible()
    expect(page.get_by_test_id("stage-timeline").locator("li").first).to_contain_text("Suspended → Active")
    compliance = stack.call("GET", f"/v1/orgs/{org_id}/compliance", token=admin)
    assert compliance["stage"] == "active"
    moves = sorted((h["from"], h["to"]) for h in compliance["history"])
    assert moves == [("active", "suspended")] * 2 + [("suspended", "active")] * 2
    _sign_out(page)

    # --- the owner: no banner once reinstated --------------------------------------------------------
    _sign_in(page, owner_email, PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    page.goto("/#/compliance")
    expect(page.get_by_test_id("org-stage")).to_contain_text("Active")
    expect(page.get_by_test_id("compliance-banner")).to_have_count(0)


def test_terminating_asks_for_the_name_typed_out(page: Any, stack: Stack, page_errors: PageErrors) -> None:
    _expect_refusals(page_errors)
    org_id, _ = _reseller(stack, "Kopi Tutup Buku")
    _sign_in(page, stack.admin_email, stack.admin_password)
    page.goto(f"/#/resellers/{org_id}")
    form = page.get_by_test_id("org-stage")
    form.get_by_label("New stage", exact=True).select_option(label="Terminated")
    form.get_by_label("Note", exact=True).fill("Perjanjian diakhiri")
    terminate = form.get_by_role("button", name="Terminate", exact=True)
    confirm = form.get_by_label("Type “Kopi Tutup Buku” to confirm")
    confirm.fill("Kopi Tutup")
    expect(terminate).to_be_disabled()
    confirm.fill("Kopi Tutup Buku")
    expect(terminate).to_be_enabled()
    terminate.click()
    expect(page.locator("#stage-title")).to_contain_text("Terminated")
    expect(page.get_by_text("Terminated: this stage cannot be changed any more.")).to_be_visible()


def test_policy_reads_and_saves_rates_as_percentages(page: Any, stack: Stack) -> None:
    admin = stack.login(stack.admin_email, stack.admin_password)
    before = stack.call("GET", "/v1/platform/policy", token=admin)
    _sign_in(page, stack.admin_email, stack.admin_password)
    _open(page, "policy", "Suspension policy")
    availability = page.get_by_label("Minimum availability (%)")
    expect(availability).to_have_value(re.compile(r"^\d"))
    availability.fill("97.5")
    page.get_by_label("Maximum reject rate (%)").fill("4")
    page.get_by_label("Settlement due within (days)").fill("45")
    page.get_by_label("An uplink not registered with the ISP").select_option(label="Warn")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Policy saved.")).to_be_visible()
    screenshot(page, "policy")
    after = stack.call("GET", "/v1/platform/policy", token=admin)
    assert after["quality"] == {"min_availability": 0.975, "max_reject_rate": 0.04}
    assert after["triggers"]["uplink_unregistered"] == "warn"
    assert after["settlement_due_days"] == 45
    stack.call("PUT", "/v1/platform/policy", before, token=admin)  # as it was, for the other tests


def test_a_site_suspended_on_its_own_is_named_in_the_managers_banner(
    page: Any, stack: Stack, page_errors: PageErrors
) -> None:
    _expect_refusals(page_errors)
    org_id, _ = _reseller(stack, "Losmen Dua Lokasi")
    admin = stack.login(stack.admin_email, stack.admin_password)
    emails = {role: f"{role}-{org_id}@compliance.example" for role in ("manager", "auditor")}
    for role, email in emails.items():
        user = {"email": email, "password": PASSWORD, "role": role}
        stack.call("POST", f"/v1/orgs/{org_id}/users", user, token=admin)
    stack.call("POST", f"/v1/orgs/{org_id}/sites", {"name": "Bukit Hijau", "timezone": "Asia/Jakarta"}, token=admin)

    # The platform admin moves one site, from the reseller page's sites table.
    _sign_in(page, stack.admin_email, stack.admin_password)
    page.goto(f"/#/resellers/{org_id}")
    row = page.locator('tr[data-site="Pantai Losari"]')
    row.get_by_role("button", name="Change the stage of Pantai Losari").click()
    form = row.locator("form")
    form.get_by_label("New stage", exact=True).select_option(label="Grace period")
    form.get_by_label("Reason (trigger)", exact=True).select_option(label="An uplink not registered with the ISP")
    form.get_by_label("Note", exact=True).fill("Kontroler memanggil dari jalur rumahan")
    form.get_by_role("button", name="Move to Grace period", exact=True).click()
    expect(row).to_contain_text("Grace period")
    expect(page.locator('tr[data-site="Bukit Hijau"]')).to_contain_text("Active")
    expect(page.locator("#stage-title")).to_contain_text("Active")  # the organization itself is untouched
    latest = page.get_by_test_id("stage-timeline").locator("li").first
    expect(latest).to_contain_text("Pantai Losari: Active → Grace period")
    _sign_out(page)

    # A manager sees the site named, its deadline in WITA, and what to do.
    _sign_in(page, emails["manager"], PASSWORD)
    banner = page.get_by_test_id("compliance-banner")
    expect(banner).to_contain_text("Site Pantai Losari is in the stage: Grace period.")
    expect(banner).to_contain_text("An uplink not registered with the ISP")
    expect(banner).to_contain_text("it moves to Restricted: new batches and sales stop")
    expect(banner).to_contain_text("WITA")
    expect(banner).to_contain_text("Connect the site's controller through the ISP's registered line, or contact")
    expect(banner).not_to_contain_text("Your organization is in the stage")
    _sign_out(page)

    # An auditor reads the Compliance page (no banner, no agreement, no actions).
    _sign_in(page, emails["auditor"], PASSWORD)
    _open(page, "compliance", "Compliance")
    expect(page.locator('tr[data-site="Pantai Losari"]')).to_contain_text("Grace period")
    expect(page.get_by_test_id("compliance-banner")).to_have_count(0)
    expect(page.get_by_role("heading", name="Cooperation agreement")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Change the stage"))).to_have_count(0)


def _site_with_a_controller(stack: Stack, name: str) -> tuple[str, str, str, str, str]:
    """A reseller with a site, a controller key and a sold voucher: org id, owner email, site id, key, code."""
    org_id, email = _reseller(stack, name)
    owner = stack.login(email, PASSWORD)
    org = f"/v1/orgs/{org_id}"
    site_id = stack.call("GET", f"{org}/sites", token=owner)["sites"][0]["site_id"]
    key = stack.call("POST", f"{org}/sites/{site_id}/keys", {"kind": "controller", "name": "AP lobi"}, token=owner)
    plan = stack.call("POST", f"{org}/plans", {"name": "2 Jam", "price": 5000, "duration_minutes": 120,
                                               "validity_days": 30}, token=owner)["plan_id"]  # fmt: skip
    sale = stack.call("POST", f"{org}/sales", {"site_id": site_id, "plan_id": plan, "quantity": 1}, token=owner)
    return org_id, email, site_id, str(key["api_key"]), str(sale["vouchers"][0]["code"])


def test_the_address_space_names_a_bad_line_and_a_registered_controller_shows_it(
    page: Any, stack: Stack, page_errors: PageErrors
) -> None:
    _expect_refusals(page_errors)
    page_errors.expect(r"status of 400 .*/v1/platform/address-space")  # the overlap the test types
    admin = stack.login(stack.admin_email, stack.admin_password)
    before = stack.call("GET", "/v1/platform/address-space", token=admin)
    org_id, owner_email, site_id, key, code = _site_with_a_controller(stack, "Kedai Alamat Terdaftar")
    try:
        _sign_in(page, stack.admin_email, stack.admin_password)
        _open(page, "address-space", "Registered address space")
        prefixes = page.get_by_label("Prefixes, one a line")
        # Loopback is "the ISP's" here: every controller in the browser tests calls from 127.0.0.1.
        prefixes.fill("127.0.0.0/8 AS64500 Loopback lab\n127.1.0.0/16 AS64501 overlaps\n2001:db8::/32 AS64502 IPv6")
        page.get_by_role("button", name="Save", exact=True).click()
        problem = page.locator("[data-line]")
        expect(problem).to_have_attribute("data-line", "2")
        expect(problem).to_contain_text("Line 2 (127.1.0.0/16)")
        expect(problem).to_contain_text("overlaps 127.0.0.0/8 (line 1)")
        screenshot(page, "address-space")
        prefixes.fill("127.0.0.0/8 AS64500 Loopback lab\n2001:db8::/32 AS64502 IPv6")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("2 prefixes saved.")).to_be_visible()
        page.reload()
        expect(page.get_by_label("Prefixes, one a line")).to_have_value(
            "127.0.0.0/8 AS64500 Loopback lab\n2001:db8::/32 AS64502 IPv6"
        )
        _sign_out(page)

        # The controller redeems from 127.0.0.1 (the lookup may keep the old list up to a minute).
        owner = stack.login(owner_email, PASSWORD)
        status = "unknown"
        for _ in range(40):
            redeemed = stack.request("POST", "/v1/redeem", {"code": code, "mac": "AA:BB:CC:00:14:01"}, token=key)
            assert redeemed.status == 200, redeemed.body
            sites = stack.call("GET", f"/v1/orgs/{org_id}/compliance", token=owner)["sites"]
            status = next(s["uplink"]["status"] for s in sites if s["site_id"] == site_id)
            if status == "registered":
                break
            page.wait_for_timeout(2_000)
        assert status == "registered"

        _sign_in(page, owner_email, PASSWORD)
        _open(page, "compliance", "Compliance")
        row = page.locator('tr[data-site="Pantai Losari"]')
        expect(row).to_contain_text("Registered")
        expect(row).to_contain_text("127.0.0.1")
        expect(row).to_contain_text("WITA")
    finally:
        stack.call("PUT", "/v1/platform/address-space", {"prefixes": before["prefixes"]}, token=admin)


def test_the_owner_reads_a_week_of_quality_per_site(page: Any, stack: Stack, page_errors: PageErrors) -> None:
    _expect_refusals(page_errors)
    org_id, owner_email, _, key, code = _site_with_a_controller(stack, "Kedai Kualitas")
    assert stack.request("POST", "/v1/redeem", {"code": code, "mac": "AA:BB:CC:00:14:02"}, token=key).status == 200
    wrong = stack.request("POST", "/v1/redeem", {"code": "ZZZZ-ZZZZ-ZZ", "mac": "AA:BB:CC:00:14:03"}, token=key)
    assert wrong.status == 404
    # An accepted login is counted when its audit event leaves the outbox (drained every 10 s).
    owner = stack.login(owner_email, PASSWORD)
    today = datetime.now(ZoneInfo(SITE_TZ)).date().isoformat()
    deadline = time.monotonic() + QUALITY_WAIT_SECONDS
    while True:
        days = stack.call("GET", f"/v1/orgs/{org_id}/quality?from={today}&to={today}", token=owner)["days"]
        if (days and days[0]["accepted"] == 1) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert days and days[0]["accepted"] == 1, days
    _sign_in(page, owner_email, PASSWORD)
    _open(page, "compliance", "Compliance")
    table = page.locator('[data-site="Pantai Losari"] table.quality-table')
    expect(table.locator("tbody tr")).to_have_count(7)
    row = table.locator(f'tbody tr[data-day="{today}"]')
    expect(row.locator('td[data-label="Logins accepted"]')).to_have_text("1")
    expect(row.locator('td[data-label="Logins rejected"]')).to_contain_text("wrong code 1")
    expect(row.locator('td[data-label="Reject rate"]')).to_have_text("0 %")  # a wrong code is the guest's
    screenshot(page, "compliance-quality")
