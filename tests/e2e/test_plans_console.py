"""Plans as venues sell them, in a real browser against the real local stack, in both languages.

The issue's story from the owner's side: in the plan editor, a school plan with usage hours on
weekdays and 2 GB a day (the summary line says so in plain words as the form fills, and the plan
list repeats it; usage hours that overlap are refused by the API and the refusal shows by the
form); a daily plan open around now with 500 MB a day that guests may pause twice; a top-up plan.
On the voucher screen the owner pauses and resumes a running code with a reason and tops it up;
on the guest page a guest sees until when the code may be used, the data left today, and pauses
and resumes it. Screenshots go to docs/console/ (see docs/console.md).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, PageErrors, Stack, screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "plans-console-e2e-password"
SITE_TZ = "Asia/Jakarta"
MB = 1048576

# What the owner and the guest read, in each language (the console's and the guest page's tables).
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "language": "English", "password": "Password", "sign_in": "Sign in",
        "plans": "Plans", "kind": "Kind", "topup_kind": "Top-up (added onto an existing code)",
        "name": "Name", "price": "Price (Rp)", "duration": "Duration (minutes)", "validity": "Shelf life (days)",
        "quota": "Data quota (MB)", "add_window": "Add usage hours", "window": "Usage hours {n}",
        "remove_window": "Remove usage hours {n}", "starts": "Starts", "ends": "Ends",
        "sat": "Sat", "sun": "Sun", "mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri",
        "period_mb": "Data per period (MB)", "period": "Period", "per_day": "Per day",
        "pause_by": "Who can pause", "guests": "Guests (on the guest page) and staff",
        "max_pauses": "Max pauses", "max_pause_minutes": "Max minutes per pause",
        "create": "Create", "saved": "Plan saved.", "invalid": "Invalid input", "edit": "Edit", "save": "Save",
        "school": "Mon–Fri 07:00–15:00, 2 GB per day, 30 days",  # noqa: RUF001 (the console writes en dashes)
        "school_1gb": "Mon–Fri 07:00–15:00, 1 GB per day, 30 days",  # noqa: RUF001 (the console writes en dashes)
        "daily": "Every day {start}–{end}, 500 MB per day, 1 day, guests can pause it 2× (up to 1 hour each)",  # noqa: RUF001 (the console writes en dashes)
        "topup": "Top-up: adds 1 hour, 500 MB",
        "plan": "Plan", "vouchers": "Find a voucher", "code": "Voucher code", "find": "Find",
        "open_closes": "Open, closes", "period_left": "Data left today", "pauses_of": "{used} of 2",
        "pause_reason": "Reason for the pause", "pause": "Pause voucher", "paused": "Voucher paused.",
        "status_paused": "paused", "status_active": "active",
        "resume_reason": "Reason for resuming", "resume": "Resume voucher", "resumed": "Voucher resumed.",
        "topup_plan": "Top-up plan", "top_up": "Top up", "topped_up": "Topped up with {plan}.",
        "event_topped_up": "topped up", "topup_refused": "A top-up is not allowed",
        "guest_lang": "EN", "guest_code": "Voucher code", "guest_check": "Check voucher",
        "open_until": "Open until", "left_today": "400 MB left today, resets",
        "left_period": "400 MB left this period, resets", "pauses_left": "Pauses left: {n}",
        "guest_pause": "Pause voucher", "guest_paused": "Voucher paused.", "guest_badge_paused": "Paused",
        "guest_resume": "Resume voucher", "guest_resumed": "Voucher resumed.", "guest_badge_active": "Active",
    },
    "id": {
        "language": "Bahasa Indonesia", "password": "Kata sandi", "sign_in": "Masuk",
        "plans": "Paket", "kind": "Jenis", "topup_kind": "Isi ulang (ditambahkan ke kode yang ada)",
        "name": "Nama", "price": "Harga (Rp)", "duration": "Durasi (menit)", "validity": "Masa berlaku (hari)",
        "quota": "Kuota data (MB)", "add_window": "Tambah jam pakai", "window": "Jam pakai {n}",
        "remove_window": "Hapus jam pakai {n}", "starts": "Mulai", "ends": "Selesai",
        "sat": "Sab", "sun": "Min", "mon": "Sen", "tue": "Sel", "wed": "Rab", "thu": "Kam", "fri": "Jum",
        "period_mb": "Data per periode (MB)", "period": "Periode", "per_day": "Per hari",
        "pause_by": "Siapa yang dapat menjeda", "guests": "Tamu (di halaman tamu) dan petugas",
        "max_pauses": "Maks. jumlah jeda", "max_pause_minutes": "Maks. menit per jeda",
        "create": "Buat", "saved": "Paket disimpan.", "invalid": "Isian tidak valid", "edit": "Ubah", "save": "Simpan",
        "school": "Sen–Jum 07:00–15:00, 2 GB per hari, 30 hari",  # noqa: RUF001 (the console writes en dashes)
        "school_1gb": "Sen–Jum 07:00–15:00, 1 GB per hari, 30 hari",  # noqa: RUF001 (the console writes en dashes)
        "daily": "Setiap hari {start}–{end}, 500 MB per hari, 1 hari, tamu dapat menjeda 2× (maks. 1 jam tiap jeda)",  # noqa: RUF001 (the console writes en dashes)
        "topup": "Isi ulang: menambah 1 jam, 500 MB",
        "plan": "Paket", "vouchers": "Cari voucher", "code": "Kode voucher", "find": "Cari",
        "open_closes": "Buka, tutup", "period_left": "Sisa data hari ini", "pauses_of": "{used} dari 2",
        "pause_reason": "Alasan jeda", "pause": "Jeda voucher", "paused": "Voucher dijeda.",
        "status_paused": "dijeda", "status_active": "aktif",
        "resume_reason": "Alasan melanjutkan", "resume": "Lanjutkan voucher", "resumed": "Voucher dilanjutkan.",
        "topup_plan": "Paket isi ulang", "top_up": "Isi ulang", "topped_up": "Diisi ulang dengan {plan}.",
        "event_topped_up": "diisi ulang", "topup_refused": "Isi ulang tidak diizinkan",
        "guest_lang": "ID", "guest_code": "Kode voucher", "guest_check": "Cek voucher",
        "open_until": "Bisa dipakai sampai", "left_today": "Sisa 400 MB hari ini, diatur ulang",
        "left_period": "Sisa 400 MB periode ini, diatur ulang",
        "pauses_left": "Sisa jeda: {n}",
        "guest_pause": "Jeda voucher", "guest_paused": "Voucher dijeda.", "guest_badge_paused": "Dijeda",
        "guest_resume": "Lanjutkan voucher", "guest_resumed": "Voucher dilanjutkan.", "guest_badge_active": "Aktif",
    },
}  # fmt: skip


def _venue(stack: Stack) -> dict[str, Any]:
    """An org with an owner, one site in Jakarta and its controller key (API: the story starts after)."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = str(stack.call("POST", "/v1/orgs", {"name": f"Sekolah Cendekia {uuid.uuid4().hex[:4]}"},
                            token=admin)["org_id"])  # fmt: skip
    email = f"owner-{uuid.uuid4().hex[:6]}@cendekia.example"
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": PASSWORD, "role": "owner"}, token=admin)
    owner = stack.login(email, PASSWORD)
    org = f"/v1/orgs/{org_id}"
    site_id = stack.call("POST", f"{org}/sites", {"name": "Gerbang", "timezone": SITE_TZ}, token=owner)["site_id"]
    key = stack.call("POST", f"{org}/sites/{site_id}/keys", {"kind": "controller", "name": "AP"}, token=owner)
    return {"org_id": org_id, "org": org, "email": email, "owner": owner, "controller": key["api_key"]}


def _hours_around_now() -> tuple[str, str]:
    """Usage hours open now in the site's zone: from the last whole hour but one, four hours long."""
    now = datetime.now(ZoneInfo(SITE_TZ))
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return start.strftime("%H:%M"), (start + timedelta(hours=4)).strftime("%H:%M")


def _guest_period_words() -> str:
    """The guest page reads the period from its reset; when tomorrow is a Monday or the 1st, a day's
    reset could be a week's or a month's too, and it says only "this period"."""
    tomorrow = datetime.now(ZoneInfo(SITE_TZ)) + timedelta(days=1)
    return "left_period" if tomorrow.weekday() == 0 or tomorrow.day == 1 else "left_today"


def _clock(hhmm: str) -> re.Pattern[str]:
    """A time of day as either language writes it: 15:00 (English) or 15.00 (Indonesian)."""
    return re.compile(hhmm.replace(":", "[.:]"))


def _sign_in(page: Any, email: str, words: dict[str, str]) -> None:
    page.goto("/#/login")
    page.locator('select[aria-label="Language"]').select_option(label=words["language"])
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label(words["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    expect(page).not_to_have_url(re.compile(r"#/login"))


def _fill_plan(page: Any, words: dict[str, str], name: str, price: int, minutes: int) -> None:
    page.get_by_label(words["name"], exact=True).fill(name)
    page.get_by_label(words["price"], exact=True).fill(str(price))
    page.get_by_label(words["duration"], exact=True).fill(str(minutes))
    page.get_by_label(words["validity"], exact=True).fill("60")


def _window(page: Any, words: dict[str, str], n: int) -> Any:
    return page.get_by_role("group", name=words["window"].format(n=n), exact=True)


def _create(page: Any, words: dict[str, str]) -> dict[str, Any]:
    """Submit the editor; the API's answer (the plan as saved)."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/plans")) as created:
        page.get_by_role("button", name=words["create"], exact=True).click()
    assert created.value.status == 201, created.value.text()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    return dict(created.value.json())


def _redeem_and_use(stack: Stack, venue: dict[str, Any], code: str, mac: str, megabytes: int) -> None:
    redeemed = stack.request("POST", "/v1/redeem", {"code": code, "mac": mac}, token=venue["controller"])
    assert redeemed.status == 200, redeemed.body
    if megabytes:
        body = {"code": code, "mac": mac, "session_id": f"s-{mac}", "event": "interim",
                "input_octets": megabytes * MB, "output_octets": 0, "session_time": 60}  # fmt: skip
        assert stack.call("POST", "/v1/accounting", body, token=venue["controller"])["continue"] is True


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_owner_sells_hours_data_per_day_pauses_and_top_ups(
    page: Any, stack: Stack, page_errors: PageErrors, lang: str
) -> None:
    page_errors.expect(r"status of 400 .*/plans")  # the browser logs the refused overlapping hours
    page_errors.expect(r"status of 409 .*/topup")  # and the top-up of a code revoked meanwhile
    words = WORDS[lang]
    venue = _venue(stack)
    org, owner = venue["org"], venue["owner"]
    _sign_in(page, venue["email"], words)
    page.goto("/#/plans")
    expect(page.get_by_role("heading", name=words["plans"], exact=True).first).to_be_visible()
    preview = page.get_by_test_id("plan-preview")

    # --- a school plan: weekdays 07:00-15:00, 2 GB a day, 30 days --------------------------------
    _fill_plan(page, words, "Sekolah", 150000, 30 * 24 * 60)
    page.get_by_role("button", name=words["add_window"], exact=True).click()
    school_hours = _window(page, words, 1)
    school_hours.get_by_label(words["sat"], exact=True).uncheck()
    school_hours.get_by_label(words["sun"], exact=True).uncheck()
    school_hours.get_by_label(words["starts"], exact=True).fill("07:00")
    school_hours.get_by_label(words["ends"], exact=True).fill("15:00")
    page.get_by_label(words["period_mb"], exact=True).fill("2048")
    page.get_by_label(words["period"], exact=True).select_option(label=words["per_day"])
    expect(preview).to_have_text(words["school"])
    screenshot(page, f"plan-editor-{lang}")

    # Usage hours that overlap: the API refuses them, and says so next to the form.
    page.get_by_role("button", name=words["add_window"], exact=True).click()
    overlap = _window(page, words, 2)
    for day in ("tue", "wed", "thu", "fri", "sat", "sun"):
        overlap.get_by_label(words[day], exact=True).uncheck()
    overlap.get_by_label(words["starts"], exact=True).fill("14:00")
    overlap.get_by_label(words["ends"], exact=True).fill("16:00")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/plans")) as refused:
        page.get_by_role("button", name=words["create"], exact=True).click()
    assert refused.value.status == 400 and refused.value.json()["error"]["code"] == "validation_error"
    expect(page.locator("form.card [role=alert]").first).to_contain_text(words["invalid"])
    screenshot(page, f"plan-editor-refused-{lang}")
    page.get_by_role("button", name=words["remove_window"].format(n=2), exact=True).click()
    expect(preview).to_have_text(words["school"])
    school = _create(page, words)
    assert school["windows"] == [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "15:00"}]
    assert (school["period_quota_mb"], school["quota_period"], school["pause"]) == (2048, "day", None)
    expect(page.get_by_role("cell", name=words["school"], exact=True)).to_be_visible()  # the plan list says it too

    # Editing sends only what changed of the new terms (the data per period goes with its period).
    page.get_by_role("button", name=f"{words['edit']} Sekolah", exact=True).click()
    expect(preview).to_have_text(words["school"])
    page.get_by_label(words["period_mb"], exact=True).fill("1024")
    expect(preview).to_have_text(words["school_1gb"])
    with page.expect_request(lambda r: r.method == "PATCH" and r.url.endswith(school["plan_id"])) as edited:
        page.get_by_role("button", name=words["save"], exact=True).click()
    sent = edited.value.post_data_json
    assert {"windows", "pause", "kind", "device_policy", "idle_release_minutes"}.isdisjoint(sent), sent
    assert (sent["period_quota_mb"], sent["quota_period"]) == (1024, "day"), sent
    expect(page.get_by_role("cell", name=words["school_1gb"], exact=True)).to_be_visible()

    # --- a daily plan open now, 500 MB a day, that guests may pause twice ------------------------
    start, end = _hours_around_now()
    _fill_plan(page, words, "Harian", 10000, 24 * 60)
    page.get_by_role("button", name=words["add_window"], exact=True).click()
    daily_hours = _window(page, words, 1)
    daily_hours.get_by_label(words["starts"], exact=True).fill(start)
    daily_hours.get_by_label(words["ends"], exact=True).fill(end)
    page.get_by_label(words["period_mb"], exact=True).fill("500")
    page.get_by_label(words["period"], exact=True).select_option(label=words["per_day"])
    page.get_by_label(words["pause_by"], exact=True).select_option(label=words["guests"])
    page.get_by_label(words["max_pauses"], exact=True).fill("2")
    page.get_by_label(words["max_pause_minutes"], exact=True).fill("60")
    shown_end = "24:00" if end == "00:00" else end
    expect(preview).to_have_text(words["daily"].format(start=start, end=shown_end))
    daily = _create(page, words)
    assert daily["pause"] == {"by": "guest", "max_pauses": 2, "max_pause_minutes": 60}

    # --- a top-up: one more hour and 500 MB onto a code ------------------------------------------
    page.get_by_label(words["kind"], exact=True).select_option(label=words["topup_kind"])
    _fill_plan(page, words, "Tambah 1 Jam", 3000, 60)
    page.get_by_label(words["quota"], exact=True).fill("500")
    expect(page.get_by_role("button", name=words["add_window"], exact=True)).to_have_count(0)  # a top-up only adds
    expect(preview).to_have_text(words["topup"])
    topup = _create(page, words)
    assert topup["kind"] == "topup" and topup["windows"] is None
    expect(page.get_by_role("cell", name=words["topup"], exact=True)).to_be_visible()
    screenshot(page, f"plan-list-{lang}")

    # A top-up is not sold as a new voucher: the Sell screen does not offer it.
    page.goto("/#/sell")
    offered = page.get_by_label(words["plan"], exact=True)
    expect(offered.locator("option", has_text="Harian")).to_have_count(1)
    expect(offered.locator("option", has_text="Tambah 1 Jam")).to_have_count(0)

    # Two codes of the daily plan, both in use (the guest's has used 100 MB today).
    batch = stack.call("POST", f"{org}/batches", {"plan_id": daily["plan_id"], "quantity": 2}, token=owner)
    staff_code, guest_code = stack.call("GET", f"{org}/batches/{batch['batch_id']}/codes", token=owner)["codes"]
    _redeem_and_use(stack, venue, staff_code, "AA:BB:CC:16:00:01", 0)
    _redeem_and_use(stack, venue, guest_code, "AA:BB:CC:16:00:02", 100)

    # --- the voucher screen: pause, resume, top up ------------------------------------------------
    page.goto("/#/vouchers")
    expect(page.get_by_role("heading", name=words["vouchers"], exact=True).first).to_be_visible()
    page.get_by_label(words["code"], exact=True).fill(staff_code)
    page.get_by_role("button", name=words["find"], exact=True).click()
    expect(page.get_by_test_id("voucher-window")).to_contain_text(words["open_closes"])
    expect(page.get_by_test_id("voucher-window")).to_contain_text(_clock(end))
    expect(page.get_by_text(words["period_left"], exact=True)).to_be_visible()
    expect(page.get_by_test_id("voucher-period")).to_contain_text("500")
    expect(page.get_by_test_id("voucher-pauses")).to_have_text(words["pauses_of"].format(used=0))

    page.get_by_label(words["pause_reason"], exact=True).fill("listrik padam")
    page.get_by_role("button", name=words["pause"], exact=True).click()
    expect(page.get_by_text(words["paused"], exact=True)).to_be_visible()
    expect(page.locator(".voucher-detail h2 .status")).to_have_text(words["status_paused"])
    expect(page.get_by_test_id("voucher-paused-at")).to_be_visible()
    expect(page.get_by_test_id("voucher-pauses")).to_have_text(words["pauses_of"].format(used=1))
    expect(page.get_by_role("cell", name="listrik padam", exact=True)).to_be_visible()  # the timeline's reason
    screenshot(page, f"voucher-pause-{lang}")

    page.get_by_label(words["resume_reason"], exact=True).fill("listrik menyala")
    page.get_by_role("button", name=words["resume"], exact=True).click()
    expect(page.get_by_text(words["resumed"], exact=True)).to_be_visible()
    expect(page.locator(".voucher-detail h2 .status")).to_have_text(words["status_active"])

    before = stack.call("GET", f"{org}/vouchers/{staff_code}", token=owner)
    page.get_by_label(words["topup_plan"], exact=True).select_option(value=topup["plan_id"])
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/topup")) as topped:
        page.get_by_role("button", name=words["top_up"], exact=True).click()
    assert topped.value.status == 201, topped.value.text()
    expect(page.get_by_text(words["topped_up"].format(plan="Tambah 1 Jam"), exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=words["event_topped_up"], exact=True)).to_be_visible()
    after = stack.call("GET", f"{org}/vouchers/{staff_code}", token=owner)
    added = datetime.fromisoformat(after["expires_at"]) - datetime.fromisoformat(before["expires_at"])
    assert added == timedelta(hours=1), (before["expires_at"], after["expires_at"])
    screenshot(page, f"voucher-topup-{lang}")

    # Revoked meanwhile (another person, another tab): the refusal says why, in the API's words.
    stack.call("POST", f"{org}/vouchers/{staff_code}/revoke", {"reason": "kartu hilang"}, token=owner)
    page.get_by_role("button", name=words["top_up"], exact=True).click()
    refusal = page.get_by_role("form", name=words["top_up"], exact=True).get_by_role("alert")
    expect(refusal).to_have_text(f"{words['topup_refused']}: This code is revoked: sell a new voucher instead.")

    # --- the guest page: until when, data left today, pause and resume ----------------------------
    page.context.new_cdp_session(page).send("Emulation.setTimezoneOverride", {"timezoneId": SITE_TZ})
    page.set_viewport_size(PHONE)
    page.goto(f"/guest.html?org={venue['org_id']}")
    page.get_by_role("button", name=words["guest_lang"], exact=True).click()
    page.get_by_label(words["guest_code"]).fill(guest_code)
    page.get_by_role("button", name=words["guest_check"]).click()
    expect(page.get_by_test_id("window")).to_contain_text(words["open_until"])
    expect(page.get_by_test_id("window")).to_contain_text(_clock(end))
    expect(page.get_by_test_id("period")).to_contain_text(words[_guest_period_words()])
    expect(page.get_by_test_id("data-left")).to_have_text("400 MB")  # no total: what today leaves
    expect(page.get_by_test_id("pauses-left")).to_have_text(words["pauses_left"].format(n=2))
    screenshot(page, f"guest-status-{lang}")

    page.get_by_role("button", name=words["guest_pause"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(words["guest_paused"])
    expect(page.locator(".g-badge")).to_have_text(words["guest_badge_paused"])
    expect(page.get_by_test_id("pauses-left")).to_have_text(words["pauses_left"].format(n=1))
    screenshot(page, f"guest-paused-{lang}")
    page.get_by_role("button", name=words["guest_resume"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(words["guest_resumed"])
    expect(page.locator(".g-badge")).to_have_text(words["guest_badge_active"])
    assert stack.call("GET", f"{org}/vouchers/{guest_code}", token=owner)["pauses_used"] == 1
