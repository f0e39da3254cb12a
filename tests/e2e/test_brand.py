"""The ISP's brand in a real browser: a platform admin sets it, and it shows wherever guests and staff look.

The platform admin fills in the console's brand editor (a logo with a script in it
is refused, naming the logo); the brand then shows on the sign-in screen, on every
printed voucher beside the venue's own name and logo (A4 sheet and 58 mm
receipt), and on the guest page, in Bahasa Indonesia and in English. Screenshots
go to docs/console/ (see docs/console.md).
"""

from __future__ import annotations

import base64
import re
import struct
import uuid
import zlib
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, PageErrors, Stack, screenshot

pytestmark = pytest.mark.e2e
ISP_NAME = "NusaNet"
ISP_TAGLINE = "Internet resmi, aman untuk tamu"
ISP_COLOUR = "#8e1b1b"  # dark enough that the name may take it (contrast >= 4.5 on white)
ISP_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="30" fill="#8e1b1b"/>'
    '<path d="M18 46V18h6l16 18V18h6v28h-6L24 28v18z" fill="#fff"/></svg>'
)
EVIL_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
OWNER_PASSWORD = "owner-brand-e2e"


def _png(colour: bytes = b"\x1e\x6b\x34", size: int = 24) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + colour * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _language(page: Any) -> Any:
    return page.locator('select[aria-label="Language"]')


def _choose(page: Any, label: str) -> None:
    _language(page).select_option(label=label)


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/#/login")
    _choose(page, "English")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"#/login"))


def _set_brand(stack: Stack) -> None:
    admin = stack.login(stack.admin_email, stack.admin_password)
    logo = "data:image/svg+xml;base64," + base64.b64encode(ISP_SVG.encode()).decode()
    body = {"name": ISP_NAME, "tagline": ISP_TAGLINE, "logo": logo, "colour": ISP_COLOUR}
    stack.call("PUT", "/v1/platform/brand", body, token=admin)


def _venue(stack: Stack) -> dict[str, Any]:
    """An org whose site prints its own venue name, SSID and logo, and a finished batch of 4."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": f"Kafe Lereng {uuid.uuid4().hex[:4]}"}, token=admin)["org_id"])
    email = f"owner-{uuid.uuid4().hex[:6]}@lereng.example"
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": OWNER_PASSWORD, "role": "owner"},
               token=admin)  # fmt: skip
    owner = stack.login(email, OWNER_PASSWORD)
    org = f"/v1/orgs/{org_id}"
    site_id = stack.call("POST", f"{org}/sites", {"name": "Teras", "timezone": "Asia/Jakarta"}, token=owner)["site_id"]
    venue_logo = "data:image/png;base64," + base64.b64encode(_png()).decode()
    stack.call("PATCH", f"{org}/sites/{site_id}", {"venue_name": "Kafe Lereng", "ssid": "Lereng-WiFi",
                                                   "logo": venue_logo}, token=owner)  # fmt: skip
    plan = stack.call("POST", f"{org}/plans", {"name": "3 Jam", "price": 7000, "duration_minutes": 180,
                                               "validity_days": 30}, token=owner)  # fmt: skip
    batch = stack.call("POST", f"{org}/batches", {"plan_id": plan["plan_id"], "site_id": site_id, "quantity": 4},
                       token=owner)  # fmt: skip
    return {"org_id": org_id, "owner_email": email, "batch_id": batch["batch_id"]}


def test_a_platform_admin_sets_the_brand_and_the_sign_in_screen_shows_it_in_both_languages(
    page: Any, stack: Stack, page_errors: PageErrors, tmp_path: Any
) -> None:
    _sign_in(page, stack.admin_email, stack.admin_password)
    page.get_by_role("link", name="ISP brand").click()
    expect(page.get_by_role("heading", name="ISP brand", exact=True).first).to_be_visible()

    page.get_by_label("ISP name").fill(ISP_NAME)
    page.get_by_label("Tagline").fill(ISP_TAGLINE)
    page.get_by_label("Use a colour").check()
    page.get_by_label("Colour", exact=True).fill(ISP_COLOUR)

    # A logo with a script in it: the console sends it, the API refuses it and names the logo.
    evil = tmp_path / "evil.svg"
    evil.write_text(EVIL_SVG)
    page.get_by_label("Logo (PNG or SVG)").set_input_files(str(evil))
    expect(page.get_by_test_id("logo-size")).to_be_visible()
    page_errors.expect(r"Failed to load resource.*400")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="logo")).to_contain_text("script")
    assert stack.call("GET", "/v1/brand")["name"] is None  # nothing was stored

    logo = tmp_path / "nusanet.svg"
    logo.write_text(ISP_SVG)
    page.get_by_label("Logo (PNG or SVG)").set_input_files(str(logo))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="ISP brand saved")).to_be_visible()
    expect(page.get_by_test_id("brand-preview")).to_contain_text(ISP_NAME)
    # The header carries the ISP's mark too, small.
    expect(page.locator(".topbar-isp")).to_contain_text(ISP_NAME)
    screenshot(page, "brand")

    brand = stack.call("GET", "/v1/brand")
    assert brand["name"] == ISP_NAME and brand["tagline"] == ISP_TAGLINE and brand["colour"] == ISP_COLOUR
    assert brand["logo"] == "data:image/svg+xml;base64," + base64.b64encode(ISP_SVG.encode()).decode()

    page.get_by_role("button", name="Sign out").first.click()
    mark = page.locator(".login-isp")
    expect(mark).to_contain_text("Internet service by")
    expect(mark).to_contain_text(ISP_NAME)
    expect(mark).to_contain_text(ISP_TAGLINE)
    expect(mark.locator("img.isp-logo")).to_have_attribute("src", brand["logo"])
    # The colour tints the name only because it keeps readable contrast on white.
    assert mark.locator(".isp-name").evaluate("e => getComputedStyle(e).color") == "rgb(142, 27, 27)"
    screenshot(page, "login-brand-en")
    _choose(page, "Bahasa Indonesia")
    expect(mark).to_contain_text("Layanan internet oleh")
    expect(page.get_by_role("button", name="Masuk", exact=True)).to_be_visible()
    screenshot(page, "login-brand-id")


def test_the_brand_shows_beside_the_venue_on_both_print_formats_in_both_languages(page: Any, stack: Stack) -> None:
    _set_brand(stack)
    venue = _venue(stack)
    _sign_in(page, venue["owner_email"], OWNER_PASSWORD)
    page.goto(f"/#/batches/{venue['batch_id']}/print")
    cards = page.locator(".voucher-card")
    expect(cards).to_have_count(4)
    layout = page.locator(".print-controls select")
    layout.select_option("a4")
    for card in cards.all():
        expect(card.locator(".vc-venue")).to_have_text("Kafe Lereng")  # the venue's own name and logo ...
        expect(card.locator("img.vc-logo")).to_be_visible()
        isp = card.locator(".vc-isp")  # ... and the ISP's on the same card
        expect(isp).to_contain_text(f"Internet service by {ISP_NAME}")
        expect(isp.locator("img.isp-logo")).to_be_visible()
    screenshot(page, "print-brand-a4")

    layout.select_option("thermal")
    expect(page.locator(".sheet.thermal")).to_be_visible()
    slip = cards.first
    box = slip.bounding_box()
    assert box is not None and 200 <= box["width"] <= 240  # 58 mm at 96 dpi is 219 px
    isp_box = slip.locator(".vc-isp").bounding_box()
    assert isp_box is not None and isp_box["width"] <= box["width"]  # the mark fits on the slip
    expect(page.locator(".vc-isp")).to_have_count(4)
    # What the printer gets: the mark is not among what print CSS hides.
    page.emulate_media(media="print")
    expect(slip.locator(".vc-isp")).to_be_visible()
    page.emulate_media(media="screen")
    screenshot(page, "print-brand-thermal")

    _choose(page, "Bahasa Indonesia")
    expect(slip.locator(".vc-isp")).to_contain_text(f"Layanan internet oleh {ISP_NAME}")
    layout.select_option("a4")
    expect(cards.first.locator(".vc-isp")).to_contain_text("Layanan internet oleh")
    screenshot(page, "print-brand-a4-id")


def test_the_guest_page_shows_the_isp_brand_in_both_languages(page: Any, stack: Stack, page_errors: PageErrors) -> None:
    _set_brand(stack)
    venue = _venue(stack)
    page.set_viewport_size(PHONE)
    brand_requests: list[str] = []
    page.on("request", lambda request: brand_requests.append(request.url) if "/v1/brand" in request.url else None)
    page.goto(f"/guest.html?org={venue['org_id']}")
    mark = page.get_by_test_id("isp-mark")
    expect(mark).to_contain_text("Layanan internet oleh")  # Bahasa Indonesia by default
    expect(mark).to_contain_text(ISP_NAME)
    expect(mark).to_contain_text(ISP_TAGLINE)
    expect(mark.locator("img.isp-logo")).to_be_visible()
    expect(page.get_by_role("heading", name="Internet WiFi")).to_be_visible()
    assert len(brand_requests) == 1  # one small GET for the brand, nothing else
    screenshot(page, "brand-guest-id")

    page.get_by_role("button", name="EN").click()
    expect(mark).to_contain_text("Internet service by")
    screenshot(page, "brand-guest-en")

    # A return visit draws the brand from the phone's own copy, before the network answers.
    page_errors.expect(r"Failed to load resource")  # the refused brand request, on purpose
    page.route("**/v1/brand", lambda route: route.abort())
    page.reload()
    expect(page.get_by_test_id("isp-mark")).to_contain_text(ISP_NAME)
