"""A guest buys a voucher with QRIS on the guest page: a phone, both languages, the real local stack.

An owner connects a Midtrans account and sells a plan online at one site (through the API:
the story starts after). The stack's `KUOTA_MIDTRANS_API_URL` points at the fake Midtrans on
loopback (`tests/fakes/midtrans.py`), which creates the charge and, when told, pays it and POSTs
Midtrans's signed notification to the local API's webhook. The guest sees the plans, buys, sees
the QR (drawn in the page from `qr_string`) and the countdown, then the code, "connect now" and
the receipt; "connect now" hands the code to the MikroTik login, and FreeRADIUS (the router's
RADIUS server, infra/radius) accepts it. The screenshots in docs/payments/ come from here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from infra.radius import RadiusSettings, radclient, running
from tests.e2e.conftest import PHONE, RADIUS_NAS_SECRET, SCREENSHOTS, NasListener, PageErrors, Stack
from tests.e2e.processes import free_ports
from tests.fakes.midtrans import FakeMidtrans
from tests.fakes.xendit import FakeXendit

pytestmark = pytest.mark.e2e
SHOTS = SCREENSHOTS / "payments"  # the phone screenshots docs/payments.md shows
LOGIN = "http://10.5.50.1/login"
OWNER_PASSWORD = "owner-purchase-e2e"


@dataclass(frozen=True)
class Venue:
    org_id: str
    name: str
    site_id: str
    plan_id: str
    owner: str  # the owner's access token
    nas_identifier: str  # the site's router, as it names itself to RADIUS
    radius_key: str  # FreeRADIUS's key for this org


def _venue_selling_online(stack: Stack, provider: FakeMidtrans | FakeXendit) -> Venue:
    """An org whose owner connected a (fake) Midtrans or Xendit account and sells a 2-hour, 500 MB plan online
    at one site."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    name = f"Warung Kopi Senja {uuid.uuid4().hex[:4]}"
    org_id = str(stack.call("POST", "/v1/orgs", {"name": name}, token=admin)["org_id"])
    email = f"owner-{uuid.uuid4().hex[:6]}@senja.example"
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": OWNER_PASSWORD, "role": "owner"},
               token=admin)  # fmt: skip
    owner = stack.login(email, OWNER_PASSWORD)
    org = f"/v1/orgs/{org_id}"
    site_id = stack.call("POST", f"{org}/sites", {"name": "Teras", "timezone": "Asia/Jakarta"}, token=owner)["site_id"]
    nas_identifier = f"e2e-buy-{uuid.uuid4().hex[:8]}"  # registered once in all of Kuota
    stack.call("POST", f"{org}/sites/{site_id}/nas", {"name": "hAP", "nas_identifier": nas_identifier}, token=owner)
    radius_key = stack.call("POST", f"{org}/keys", {"kind": "radius", "name": "freeradius"}, token=owner)["api_key"]
    plan = stack.call("POST", f"{org}/plans", {"name": "2 Jam", "price": 5000, "duration_minutes": 120,
                                               "validity_days": 30, "data_quota_mb": 500, "sold_online": True,
                                               "online_sites": [site_id]}, token=owner)  # fmt: skip
    merchant = provider.register_account()
    if isinstance(provider, FakeMidtrans):
        keys = {"server_key": merchant.server_key}
    else:
        keys = {"secret_key": merchant.secret_key, "callback_token": merchant.callback_token}
    account = stack.call("PUT", f"{org}/payment-accounts/{'midtrans' if keys.get('server_key') else 'xendit'}",
                         {"environment": "sandbox", "site_ids": [site_id], **keys}, token=owner)  # fmt: skip
    assert account["webhook_url"].startswith(stack.api)  # the fake notifies the local API
    if isinstance(provider, FakeXendit):
        provider.set_callback_url(merchant, account["webhook_url"])  # pasted into Xendit's dashboard
    return Venue(org_id, name, site_id, plan["plan_id"], owner, nas_identifier, radius_key)


def _save(page: Any, name: str) -> None:
    """The phone screenshot docs/payments/ shows, full height (`make console-screenshots` copies it there)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)  # let the layout settle
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _seconds(clock: str) -> int:
    minutes, seconds = (int(part) for part in clock.split(":"))
    return minutes * 60 + seconds


def _order_in_address(page: Any) -> str:
    (order_id,) = parse_qs(urlparse(str(page.url)).fragment)["order"]
    return order_id


def _expect_a_live_qr(page: Any, provider: FakeMidtrans | FakeXendit, alt: str) -> str:
    """The QR is drawn in the page (a data: URL), the countdown runs from the provider's 15 minutes; the order id."""
    qr = page.get_by_role("img", name=alt)
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/png;base64,")  # never a third-party image service
    countdown = page.get_by_test_id("pay-countdown")
    expect(countdown).to_have_text(re.compile(r"^1[45]:\d\d$"))
    first = _seconds(countdown.inner_text())
    page.wait_for_timeout(2200)
    assert 1 <= first - _seconds(countdown.inner_text()) <= 4  # a live countdown
    order_id = _order_in_address(page)
    if isinstance(provider, FakeMidtrans):
        charged = [r.body for r in provider.requests if r.method == "POST" and r.path == "/v2/charge" and r.body]
        assert order_id in [body["transaction_details"]["order_id"] for body in charged]
    else:
        charged = [r.body for r in provider.requests if r.method == "POST" and r.path == "/qr_codes" and r.body]
        assert order_id in [body["reference_id"] for body in charged]
    return order_id


def _radius_login(stack: Stack, nas: NasListener, venue: Venue, username: str, password: str) -> str | None:
    """What the venue's MikroTik does with the login form: an Access-Request to FreeRADIUS; the answer's type."""
    auth_port, acct_port = free_ports(2)
    settings = RadiusSettings(api_url=stack.api, radius_key=venue.radius_key, nas_secret=RADIUS_NAS_SECRET,
                              auth_port=auth_port, acct_port=acct_port, nas_coa_port=nas.port)  # fmt: skip
    attributes: dict[str, str | int] = {
        "User-Name": username, "User-Password": password, "Calling-Station-Id": "AA-BB-CC-15-00-01",
        "NAS-Identifier": venue.nas_identifier, "NAS-IP-Address": "127.0.0.1", "NAS-Port-Type": "Wireless-802.11",
    }  # fmt: skip
    with running(settings) as server:
        return radclient(f"127.0.0.1:{server.settings.auth_port}", "auth", RADIUS_NAS_SECRET, attributes).code


def test_a_guest_buys_a_voucher_with_qris_and_connects_in_bahasa_indonesia(
    page: Any, stack: Stack, midtrans: FakeMidtrans, browser: Any, nas: NasListener
) -> None:
    venue = _venue_selling_online(stack, midtrans)
    page.set_viewport_size(PHONE)
    page.goto(f"/guest.html?org={venue.org_id}&site={venue.site_id}&link-login-only={LOGIN}&dst=http://example.com/")
    plans = page.get_by_role("region", name="Belum punya voucher? Beli di sini")
    expect(plans).to_contain_text("2 Jam")
    expect(plans).to_contain_text("2 jam")
    expect(plans).to_contain_text("500 MB")
    _save(page, "guest-plans-id")

    plans.get_by_role("button", name="Beli 2 Jam seharga Rp 5.000").click()
    expect(page.get_by_test_id("order-amount")).to_have_text("Rp 5.000")
    order_id = _expect_a_live_qr(page, midtrans, "Kode QR QRIS untuk membayar Rp 5.000")
    save = page.get_by_role("link", name="Simpan gambar QR")
    assert save.get_attribute("download") == f"qris-{order_id}.png"
    assert save.get_attribute("href") == page.get_by_role("img", name=re.compile("^Kode QR QRIS")).get_attribute("src")
    expect(page.get_by_role("status").filter(has_text="Menunggu pembayaran")).to_be_visible()
    _save(page, "guest-pay-qr-id")

    midtrans.simulate_payment(order_id)  # Midtrans's signed notification to the local API
    code_shown = page.get_by_test_id("order-code")
    expect(code_shown).to_have_text(re.compile(r"^[A-Z0-9-]{4,40}$"))
    code = code_shown.inner_text()
    assert any(delivery.status == 200 for delivery in midtrans.deliveries if order_id in delivery.body.decode())
    expect(page.get_by_role("heading", name="Voucher Anda sudah siap")).to_be_focused()
    receipt = page.get_by_test_id("receipt")
    for shown in (venue.name, "Teras", "2 Jam", "Rp 5.000", "QRIS", order_id):
        expect(receipt).to_contain_text(shown)
    connect = urlparse(page.get_by_role("link", name="Sambungkan sekarang").get_attribute("href"))
    assert f"{connect.scheme}://{connect.netloc}{connect.path}" == LOGIN
    sent = parse_qs(connect.query)
    assert sent["username"] == sent["password"] == [code] and sent["dst"] == ["http://example.com/"]
    _save(page, "guest-paid-code-id")
    assert _radius_login(stack, nas, venue, sent["username"][0], sent["password"][0]) == "Access-Accept"

    # The order's link, opened on another phone (no storage of this one), shows the same code.
    other = browser.new_context(viewport=PHONE, base_url=stack.console)
    try:
        again = other.new_page()
        again.goto(f"/guest.html?org={venue.org_id}&site={venue.site_id}#order={order_id}")
        expect(again.get_by_test_id("order-code")).to_have_text(code)
        expect(again.get_by_role("region", name="Belum punya voucher? Beli di sini")).to_have_count(0)
    finally:
        other.close()


def test_a_guest_buys_a_voucher_in_english_and_sees_its_time(page: Any, stack: Stack, midtrans: FakeMidtrans) -> None:
    venue = _venue_selling_online(stack, midtrans)
    page.set_viewport_size(PHONE)
    page.goto(f"/guest.html?org={venue.org_id}&site={venue.site_id}")
    page.get_by_role("button", name="EN", exact=True).click()
    plans = page.get_by_role("region", name="No voucher yet? Buy one here")
    expect(plans).to_contain_text("2 h")
    _save(page, "guest-plans-en")

    plans.get_by_role("button", name="Buy 2 Jam for Rp 5.000").click()
    order_id = _expect_a_live_qr(page, midtrans, "QRIS code to pay Rp 5.000")
    expect(page.get_by_role("link", name="Save the QR image")).to_be_visible()
    expect(page.get_by_text("pick the QR from your gallery")).to_be_visible()
    _save(page, "guest-pay-qr-en")

    page.reload()  # the guest left and came back: the address keeps the order
    expect(page.get_by_test_id("pay-countdown")).to_be_visible()
    assert _order_in_address(page) == order_id

    midtrans.simulate_payment(order_id)
    expect(page.get_by_role("heading", name="Your voucher is ready")).to_be_visible()
    code = page.get_by_test_id("order-code").inner_text()
    expect(page.get_by_test_id("receipt")).to_contain_text(order_id)
    _save(page, "guest-paid-code-en")

    page.get_by_role("button", name="See this voucher's time left").click()  # no controller opened this page
    expect(page.get_by_role("heading", name=re.compile("Voucher status"))).to_contain_text("Not used yet")
    expect(page.get_by_test_id("data-left")).to_have_text("500 MB")
    assert page.get_by_label("Voucher code").input_value() == code


def test_the_guest_sees_clear_messages_when_buying_fails_and_can_change_their_mind(
    page: Any, stack: Stack, midtrans: FakeMidtrans, page_errors: PageErrors
) -> None:
    venue = _venue_selling_online(stack, midtrans)
    page_errors.expect(r"Failed to load resource.*(503|409)")  # the browser logs the refused creates
    page.set_viewport_size(PHONE)
    page.goto(f"/guest.html?org={venue.org_id}&site={venue.site_id}")
    buy = page.get_by_role("button", name="Beli 2 Jam seharga Rp 5.000")

    # Midtrans down: Kuota's create and its one retry (same idempotency key) both get 503.
    keys_before = len(midtrans.idempotency_keys)
    midtrans.fail_next_create(503, times=2)
    buy.click()
    expect(page.get_by_role("alert")).to_contain_text("Layanan pembayaran sedang tidak menjawab")
    failed_keys = midtrans.idempotency_keys[keys_before:]
    assert len(failed_keys) == 2 and len(set(failed_keys)) == 1
    _save(page, "guest-provider-down-id")
    page.get_by_role("button", name="Coba lagi").click()
    order_id = _expect_a_live_qr(page, midtrans, "Kode QR QRIS untuk membayar Rp 5.000")

    # Changing their mind: the QR is expired at Midtrans before the order is cancelled.
    page.get_by_role("button", name="Batalkan dan pilih paket lain").click()
    expect(buy).to_be_visible()
    assert order_id in midtrans.expire_calls
    assert "order=" not in urlparse(page.url).fragment

    # A QR left unpaid: it expires at Midtrans, which says so to Kuota. Its link says the time ran out;
    # the portal opened again on this phone (no link) shows the plans, not the stale order.
    buy.click()
    left_unpaid = _expect_a_live_qr(page, midtrans, "Kode QR QRIS untuk membayar Rp 5.000")
    page.goto("about:blank")
    midtrans.expire_now(left_unpaid, notify=True)
    page.goto(f"/guest.html?org={venue.org_id}&site={venue.site_id}#order={left_unpaid}")
    expect(page.get_by_role("alert")).to_contain_text("Waktu bayar habis")
    _save(page, "guest-order-expired-id")
    page.goto(f"/guest.html?org={venue.org_id}&site={venue.site_id}")
    expect(buy).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)

    # The venue disconnects its merchant account while the page still lists the plan.
    disconnected = stack.request("DELETE", f"/v1/orgs/{venue.org_id}/payment-accounts/midtrans", token=venue.owner)
    assert disconnected.status == 204
    buy.click()
    expect(page.get_by_role("alert")).to_contain_text("Pembelian online belum tersedia di tempat ini")
    expect(page.get_by_role("button", name="Coba lagi")).to_have_count(0)  # trying again would not help
    _save(page, "guest-unavailable-id")


def test_a_guest_buys_through_xendit_and_the_code_gets_access_accept(
    page: Any, stack: Stack, xendit: FakeXendit, nas: NasListener
) -> None:
    """The same purchase on a venue that uses Xendit: a QR code, Xendit's callback (token, then a status
    read), the code on the page, and the router's RADIUS login with it accepted."""
    venue = _venue_selling_online(stack, xendit)
    page.set_viewport_size(PHONE)
    page.goto(f"/guest.html?org={venue.org_id}&site={venue.site_id}&link-login-only={LOGIN}")
    page.get_by_role("button", name="Beli 2 Jam seharga Rp 5.000").click()
    order_id = _expect_a_live_qr(page, xendit, "Kode QR QRIS untuk membayar Rp 5.000")
    (delivery,) = xendit.simulate_payment(order_id)  # Xendit's callback to the local API
    assert delivery.status == 200
    code = page.get_by_test_id("order-code")
    expect(code).to_have_text(re.compile(r"^[A-Z0-9-]{4,40}$"))
    sent = parse_qs(urlparse(page.get_by_role("link", name="Sambungkan sekarang").get_attribute("href")).query)
    assert sent["username"] == [code.inner_text()]
    assert _radius_login(stack, nas, venue, sent["username"][0], sent["password"][0]) == "Access-Accept"
