"""What a guest reads on the hotspot's login page, in the site's language: one table.

RADIUS replies carry these as Reply-Message. Keys are Kuota's error codes (see
`chalicelib.services.redeeming` and the API contract) plus a few RADIUS-only cases.
Messages contain no `%`: FreeRADIUS's rest module expands it in reply values.
"""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

REJECTIONS: dict[str, dict[str, str]] = {
    "invalid_code": {
        "id": "Kode voucher tidak dikenal. Periksa kembali kodenya.",
        "en": "Unknown voucher code. Please check the code.",
    },
    "voucher_expired": {
        "id": "Masa berlaku voucher ini sudah habis.",
        "en": "This voucher has expired.",
    },
    "voucher_revoked": {
        "id": "Voucher ini sudah dibatalkan. Hubungi kasir.",
        "en": "This voucher was cancelled. Please ask the cashier.",
    },
    "voucher_exhausted": {
        "id": "Kuota data voucher ini sudah habis.",
        "en": "This voucher's data allowance is used up.",
    },
    "device_limit_reached": {
        "id": "Voucher ini sudah dipakai di jumlah perangkat maksimum.",
        "en": "This voucher is already in use on its maximum number of devices.",
    },
    "wrong_site": {
        "id": "Voucher ini tidak berlaku di lokasi ini.",
        "en": "This voucher is not valid at this location.",
    },
    "too_many_attempts": {
        "id": "Terlalu banyak percobaan gagal. Coba lagi beberapa menit lagi.",
        "en": "Too many failed attempts. Please try again in a few minutes.",
    },
    "outside_window": {
        "id": "Voucher ini tidak berlaku pada jam ini.",
        "en": "This voucher cannot be used at this time of day.",
    },
    "period_quota_used": {
        "id": "Kuota data untuk periode ini sudah habis.",
        "en": "The data allowance for this period is used up.",
    },
    "voucher_paused": {
        "id": "Voucher ini sedang dijeda.",
        "en": "This voucher is paused.",
    },
    "service_suspended": {
        "id": "Layanan internet di lokasi ini sedang dihentikan sementara.",
        "en": "Internet service at this location is suspended.",
    },
    "not_found": {
        "id": "Voucher ini tidak dapat dipakai saat ini.",
        "en": "This voucher cannot be used right now.",
    },
    # RADIUS only: what the hotspot sent cannot be used.
    "missing_code": {
        "id": "Masukkan kode voucher.",
        "en": "Please enter your voucher code.",
    },
    "device_unknown": {
        "id": "Hotspot tidak mengirim alamat perangkat Anda. Hubungi petugas.",
        "en": "The hotspot did not send your device's address. Please ask the staff.",
    },
    "unknown_nas": {
        "id": "Hotspot ini belum terdaftar di Kuota. Hubungi pengelola tempat.",
        "en": "This hotspot is not registered with Kuota. Please ask the venue.",
    },
}


DAY_NAMES = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTH_NAMES = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def rejection(reason: str, language: str, *, usable_at: datetime | None = None, now: datetime | None = None) -> str:
    """The guest's message for `reason` (an unknown reason reads as 'cannot be used right now').

    With `usable_at` (the site's local time a window opens or the period's data resets) the
    message says when to come back: "... Berlaku lagi Senin 07:00." / "... Usable again Mon 07:00."
    """
    messages = REJECTIONS.get(reason, REJECTIONS["not_found"])
    text = messages.get(language, messages[DEFAULT_LANGUAGE])
    if usable_at is not None:
        text += " " + usable_again(language, usable_at, now)
    return text


def usable_again(language: str, at: datetime, now: datetime | None = None) -> str:
    """When a guest may come back, in the time of `at` (the site's): its day and time, and its date
    when a week or more away (a month's reset), where the day alone would not say which."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    when = f"{DAY_NAMES[language][at.weekday()]}"
    if now is not None and (at.date() - now.astimezone(at.tzinfo).date()).days >= 7:
        when += f" {at.day} {MONTH_NAMES[language][at.month - 1]}"
    when += f" {at:%H:%M}"
    return f"{'Usable again' if language == 'en' else 'Berlaku lagi'} {when}."


def welcome(language: str, seconds_left: int, data_left_bytes: int | None) -> str:
    """The Access-Accept's message: how long, and how much data, the guest has."""
    english = language == "en"
    text = f"{'Connected. Time left' if english else 'Tersambung. Sisa waktu'}: {_duration(seconds_left, english)}."
    if data_left_bytes is not None:
        text += f" {'Data left' if english else 'Sisa kuota'}: {_size(data_left_bytes, english)}."
    return text


def _duration(seconds: int, english: bool) -> str:
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    units = ("d", "h", "min") if english else ("hari", "jam", "menit")
    parts = [f"{value} {unit}" for value, unit in zip((days, hours, minutes), units, strict=True) if value]
    return " ".join(parts) if parts else f"< 1 {units[2]}"


def _size(size: int, english: bool) -> str:
    mib = size / 1048576
    text = f"{mib / 1024:.1f} GB" if mib >= 1024 else f"{int(mib)} MB"
    return text if english else text.replace(".", ",")
