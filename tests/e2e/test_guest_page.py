"""The guest page on a phone, against the real local stack, in both languages.

A guest opened by a MikroTik hotspot (its login variables in the address) types
a code, sees the time (counting down) and data left and the devices using it,
frees the slot of a device whose MAC changed, and continues to the router's
login. The screenshots the guide shows (docs/integrations/guest-page.md) come
from here.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, PageErrors, Stack, screenshot

pytestmark = pytest.mark.e2e
DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrations"
LOGIN = "http://10.5.50.1/login"
MB = 1048576


def _venue(stack: Stack) -> dict[str, Any]:
    """An org with a site, a controller key and a 2-hour, 500 MB, two-device plan (API: the story starts after)."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": f"Kedai Tepi Sawah {uuid.uuid4().hex[:4]}"},
                            token=admin)["org_id"])  # fmt: skip
    email = f"owner-{uuid.uuid4().hex[:6]}@kedai.example"
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": "owner-guest-e2e", "role": "owner"},
               token=admin)  # fmt: skip
    owner = stack.login(email, "owner-guest-e2e")
    org = f"/v1/orgs/{org_id}"
    site_id = stack.call("POST", f"{org}/sites", {"name": "Teras", "timezone": "Asia/Makassar"}, token=owner)["site_id"]
    key = stack.call("POST", f"{org}/sites/{site_id}/keys", {"kind": "controller", "name": "MikroTik"}, token=owner)
    plan = stack.call("POST", f"{org}/plans", {"name": "2 Jam", "price": 5000, "duration_minutes": 120,
                                               "validity_days": 30, "data_quota_mb": 500, "max_devices": 2},
                      token=owner)  # fmt: skip
    batch = stack.call("POST", f"{org}/batches", {"plan_id": plan["plan_id"], "quantity": 3}, token=owner)
    codes = stack.call("GET", f"{org}/batches/{batch['batch_id']}/codes", token=owner)["codes"]
    return {"org_id": org_id, "site_id": site_id, "controller": key["api_key"], "codes": codes, "owner_email": email}


def _redeem(stack: Stack, venue: dict[str, Any], code: str, mac: str) -> Any:
    return stack.request("POST", "/v1/redeem", {"code": code, "mac": mac}, token=venue["controller"])


def _use(stack: Stack, venue: dict[str, Any], code: str, mac: str, megabytes: int) -> None:
    assert _redeem(stack, venue, code, mac).status == 200
    body = {"code": code, "mac": mac, "session_id": f"s-{mac}", "event": "interim", "input_octets": megabytes * MB,
            "output_octets": 0, "session_time": 60}  # fmt: skip
    assert stack.call("POST", "/v1/accounting", body, token=venue["controller"])["continue"] is True


def _phone(page: Any) -> None:
    page.set_viewport_size(PHONE)


def _shot(page: Any, name: str) -> None:
    """Save desktop and phone screenshots; the phone one is what the guide (docs/integrations/) shows."""
    screenshot(page, name, folder="integrations")
    _phone(page)


def _seconds(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def test_a_guest_checks_a_code_and_frees_a_device_in_bahasa_indonesia(
    page: Any, stack: Stack, page_errors: PageErrors
) -> None:
    venue = _venue(stack)
    code = venue["codes"][0]
    _use(stack, venue, code, "AA:BB:CC:00:00:01", 100)
    _use(stack, venue, code, "AA:BB:CC:00:00:02", 0)
    new_mac = "DA:BB:CC:00:00:03"  # the first phone again, with a fresh randomised MAC
    assert _redeem(stack, venue, code, new_mac).status == 409

    _phone(page)
    response = page.goto(f"/guest.html?org={venue['org_id']}&link-login-only={LOGIN}&dst=http://example.com/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # Bahasa Indonesia by default.
    expect(page.get_by_role("heading", name="Internet WiFi")).to_be_visible()
    expect(page.get_by_role("button", name="Cek voucher")).to_be_visible()

    page_errors.expect(r"Failed to load resource.*404")  # the browser logs the wrong code's 404
    page.get_by_label("Kode voucher").fill("ZZZZ-ZZZZ-ZZ")
    page.get_by_role("button", name="Cek voucher").click()
    expect(page.get_by_role("alert")).to_contain_text("Kode ini tidak dikenal")
    _shot(page, "guest-wrong-code-id")

    page.get_by_label("Kode voucher").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Cek voucher").click()
    expect(page.get_by_role("heading", name=re.compile("Status voucher"))).to_contain_text("Aktif")
    expect(page.get_by_test_id("data-left")).to_have_text("400 MB")
    expect(page.get_by_test_id("devices-used")).to_have_text("2 dari 2 perangkat dipakai")
    time_left = page.get_by_test_id("time-left")
    expect(time_left).to_have_text(re.compile(r"^1:5\d:\d\d$"))
    first = _seconds(time_left.inner_text())
    page.wait_for_timeout(2200)
    assert 1 <= first - _seconds(time_left.inner_text()) <= 4  # a live countdown
    continue_link = page.get_by_role("link", name="Lanjut ke login hotspot")
    target = urlparse(continue_link.get_attribute("href"))
    assert f"{target.scheme}://{target.netloc}{target.path}" == LOGIN
    query = parse_qs(target.query)
    assert query["username"] == query["password"] and query["dst"] == ["http://example.com/"]
    _shot(page, "guest-status-id")

    page.get_by_role("button", name="Lepaskan perangkat 2").click()
    expect(page.get_by_role("status")).to_contain_text("Perangkat dilepas")
    expect(page.get_by_test_id("devices-used")).to_have_text("1 dari 2 perangkat dipakai")
    _shot(page, "guest-released-id")
    assert _redeem(stack, venue, code, new_mac).status == 200  # the phone's new MAC gets in


def test_the_guest_page_in_english_remembers_the_choice_and_shows_an_unused_code(
    page: Any, stack: Stack
) -> None:
    venue = _venue(stack)
    unused, shared = venue["codes"][1], venue["codes"][2]
    _phone(page)
    page.goto(f"/guest.html?org={venue['org_id']}")
    page.get_by_role("button", name="EN", exact=True).click()
    expect(page.get_by_role("button", name="Check voucher")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Check voucher")).to_be_visible()  # remembered

    page.get_by_label("Voucher code").fill(unused)
    page.get_by_role("button", name="Check voucher").click()
    expect(page.get_by_role("heading", name=re.compile("Voucher status"))).to_contain_text("Not used yet")
    expect(page.get_by_test_id("time-left")).to_have_text("2 h")
    expect(page.get_by_test_id("data-left")).to_have_text("500 MB")
    expect(page.get_by_text("No device uses this code yet.")).to_be_visible()
    expect(page.get_by_role("link", name="Continue to the hotspot login")).to_have_count(0)  # no controller here
    _shot(page, "guest-unused-en")

    _use(stack, venue, shared, "AA:BB:CC:00:01:01", 25)
    _use(stack, venue, shared, "AA:BB:CC:00:01:02", 0)
    assert _redeem(stack, venue, shared, "DA:BB:CC:00:01:03").status == 409
    page.get_by_label("Voucher code").fill(shared)
    page.get_by_role("button", name="Check voucher").click()
    expect(page.get_by_role("heading", name=re.compile("Voucher status"))).to_contain_text("Active")
    expect(page.get_by_test_id("data-left")).to_have_text("475 MB")
    expect(page.get_by_test_id("devices-used")).to_have_text("2 of 2 devices in use")
    expect(page.get_by_test_id("time-left")).to_have_text(re.compile(r"^1:5\d:\d\d$"))
    expect(page.get_by_text(re.compile("^last active"))).to_have_count(2)
    _shot(page, "guest-status-en")

    page.get_by_role("button", name="Release device 1").click()
    expect(page.get_by_role("status")).to_contain_text("Device released")
    expect(page.get_by_test_id("devices-used")).to_have_text("1 of 2 devices in use")
    _shot(page, "guest-released-en")
    assert _redeem(stack, venue, shared, "DA:BB:CC:00:01:03").status == 200


def test_opened_by_opennds_without_fas_routes_the_page_still_checks_codes(
    page: Any, stack: Stack, page_errors: PageErrors
) -> None:
    venue = _venue(stack)
    page_errors.expect(r"Failed to load resource")  # /v1/fas/session is not served by this build
    page_errors.expect(r"CORS|Access-Control")
    _phone(page)
    page.goto(f"/guest.html?org={venue['org_id']}&site={venue['site_id']}&fas=Zm9v&iv=YmFy")
    expect(page.get_by_text("Login hotspot tempat ini sedang tidak tersedia")).to_be_visible()
    page.get_by_label("Kode voucher").fill(venue["codes"][1])
    page.get_by_role("button", name="Cek voucher").click()
    expect(page.get_by_role("heading", name=re.compile("Status voucher"))).to_contain_text("Belum dipakai")


def test_the_guide_shows_screenshots_this_file_takes() -> None:
    """Every image guest-page.md shows is a phone screenshot taken above (`make console-screenshots` copies it)."""
    guide = (DOCS / "guest-page.md").read_text()
    shown = re.findall(r"\((guest-[a-z-]+-phone\.png)\)", guide)
    assert shown, "the guide shows no screenshot"
    source = Path(__file__).read_text()
    for name in shown:
        assert name.removesuffix("-phone.png") in source, name
        assert (DOCS / name).is_file(), f"{name}: run the browser tests, then `make console-screenshots`"


def test_an_owner_sees_the_devices_in_the_console_and_frees_one(page: Any, stack: Stack) -> None:
    venue = _venue(stack)
    code = venue["codes"][0]
    _use(stack, venue, code, "AA:BB:CC:00:02:01", 10)
    _use(stack, venue, code, "AA:BB:CC:00:02:02", 0)
    page.goto("/#/login")
    page.locator('select[aria-label="Language"]').select_option(label="English")
    page.get_by_label("Email", exact=True).fill(venue["owner_email"])
    page.get_by_label("Password", exact=True).fill("owner-guest-e2e")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"#/login"))
    page.goto("/#/vouchers")
    page.get_by_label("Voucher code", exact=True).fill(code)
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_role("button", name=re.compile("^Release device"))).to_have_count(2)
    page.get_by_role("button", name="Release device 2").click()
    expect(page.get_by_text("Device released").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Release device"))).to_have_count(1)
    assert _redeem(stack, venue, code, "DA:BB:CC:00:02:03").status == 200


# --- the MikroTik pages (infra/hotspot/mikrotik/), rendered as RouterOS would and driven in the browser -------------

HOTSPOT = Path(__file__).resolve().parents[2] / "infra" / "hotspot" / "mikrotik"
ROUTEROS_VARIABLES = {"identity", "error", "link-login-only", "link-orig", "username", "refresh-timeout",
                      "refresh-timeout-secs", "session-time-left", "remain-bytes-total", "bytes-in-nice",
                      "bytes-out-nice", "uptime", "link-logout"}  # fmt: skip


def render_routeros(template: str, values: dict[str, str]) -> str:
    """RouterOS's servlet-page substitution, enough for these pages: $(var) and $(if var)...$(else)...$(endif)."""

    def branch(match: re.Match[str]) -> str:
        taken, _, otherwise = match.group(2).partition("$(else)")
        return taken if values.get(match.group(1)) else otherwise

    text = re.sub(r"\$\(if ([a-z-]+)\)(.*?)\$\(endif\)", branch, template, flags=re.S)
    return re.sub(r"\$\(([a-z-]+)\)", lambda m: values.get(m.group(1), ""), text)


@pytest.fixture
def router() -> Any:
    """A stand-in for the router's hotspot web server on loopback: serves the pages, records login posts."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = urlparse(self.path).path.strip("/")
            if name not in ("login", "status"):
                self.send_response(204)
                self.end_headers()
                return
            values = {"identity": "Kedai", "link-login-only": f"{base}/login", "link-orig": "http://example.com/",
                      "link-logout": f"{base}/logout", "username": "K7QF-M2XD-9P" if name == "status" else "",
                      "session-time-left": "1h59m", "remain-bytes-total": "400.0 MiB", "uptime": "1m",
                      "bytes-in-nice": "3 MiB", "bytes-out-nice": "1 MiB", "error": ""}  # fmt: skip
            body = render_routeros((HOTSPOT / f"{name}.html").read_text(), values).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            posts.append(parse_qs(self.rfile.read(length).decode()))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"logged in")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, posts
    finally:
        server.shutdown()
        server.server_close()


def test_the_mikrotik_pages_use_only_routeros_variables_and_nothing_from_outside() -> None:
    for name in ("login.html", "status.html"):
        text = (HOTSPOT / name).read_text()
        used = set(re.findall(r"\$\((?:if )?([a-z-]+)\)", text)) - {"else", "endif"}
        assert used <= ROUTEROS_VARIABLES, (name, used - ROUTEROS_VARIABLES)
        assert not re.search(r"""(src|href)=["']https?:""", text), name  # no CDN: the router serves it all
        assert 'var KUOTA_GUEST = "https://KUOTA-HOST/guest.html?org=ORG_ID";' in text


def test_the_mikrotik_login_page_sends_the_code_as_username_and_password(page: Any, router: Any) -> None:
    base, posts = router
    _phone(page)
    page.goto(f"{base}/login")
    status_link = page.get_by_role("link", name=re.compile("Cek sisa waktu"))
    target = urlparse(status_link.get_attribute("href"))
    assert target.path == "/guest.html" and parse_qs(target.query) == {
        "org": ["ORG_ID"], "link-login-only": [f"{base}/login"], "dst": ["http://example.com/"]
    }  # fmt: skip
    page.get_by_label(re.compile("Kode voucher")).fill("k7qf m2xd 9p")
    page.get_by_role("button", name=re.compile("Masuk")).click()
    expect(page.get_by_text("logged in")).to_be_visible()
    (sent,) = posts
    assert sent["username"] == sent["password"] == ["k7qfm2xd9p"]
    assert sent["dst"] == ["http://example.com/"]

    page.goto(f"{base}/status")
    expect(page.get_by_text("1h59m")).to_be_visible()
    link = page.get_by_role("link", name=re.compile("Voucher dan perangkat")).get_attribute("href")
    assert link == "https://KUOTA-HOST/guest.html?org=ORG_ID#code=K7QF-M2XD-9P"
