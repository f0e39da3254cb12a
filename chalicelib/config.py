"""Settings from environment variables: the only module that reads them.

Values per stage live in `.chalice/config.json`; AWS endpoints, region and
credentials come from the standard AWS variables (`AWS_ENDPOINT_URL` points
everything at the local emulator), so no code knows where it runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    stage: str
    app_table: str
    audit_table: str
    idempotency_table: str
    batch_queue: str
    # Signing keys: a local JSON file (dev, tests) or a Secrets Manager secret (prod).
    jwt_keys_file: str | None
    jwt_keys_secret_id: str | None
    # Voucher code keys (HMAC for lookup, FF3-1 for generation): file in dev, secret in prod.
    code_keys_file: str | None
    code_keys_secret_id: str | None
    # The Ed25519 key that signs each day's audit and ledger chains: never in a table.
    ledger_key_file: str | None
    ledger_key_secret_id: str | None
    jwt_issuer: str
    jwt_audience: str
    access_token_seconds: int
    refresh_token_days: int
    api_key_cache_seconds: int
    login_max_failures_per_account: int
    login_max_failures_per_ip: int
    login_window_seconds: int
    # Only behind a proxy we run (CloudFront) is X-Forwarded-For the client's address.
    trust_forwarded_for: bool
    # Redeem brute force: failed attempts per device MAC and per site in a fixed window.
    redeem_max_failures_per_mac: int
    redeem_max_failures_per_site: int
    redeem_window_seconds: int
    # Guest page (status, release): unknown codes per source address in the redeem window. A
    # venue's guests share its public address, hence more than redeem's per-device limit.
    guest_max_failures_per_address: int
    # Slots a guest may free per voucher per hour: enough for a phone that changed its MAC, too
    # few to take turns on one device's voucher. Staff releases are not limited.
    guest_max_releases_per_voucher: int
    # Online orders a guest page may open per site and source address, and per site, in the redeem
    # window: a guest retrying is fine, a script opening QR after QR is not.
    guest_max_orders_per_address: int
    guest_max_orders_per_site: int
    console_origin: str
    # argon2id cost; defaults are RFC 9106's second recommended profile (t=3, 64 MiB).
    password_time_cost: int
    password_memory_kib: int
    max_body_bytes: int
    # Vouchers an organization may issue (batches) per hour: two of the largest batches, and a stop
    # to a script or a stolen owner's session printing codes without end.
    issue_max_vouchers_per_hour: int
    # How long an ended voucher stays in the table (its TTL) for lookups and disputes.
    voucher_retention_days: int
    # `make dev` only: how often the expiry job runs (production: the EventBridge rate in chalicelib/jobs.py).
    expiry_interval_seconds: int
    # Connections each botocore client keeps: a Lambda serves one request at a time (botocore's
    # default suffices); the local server sets it to its worker threads.
    aws_max_pool_connections: int
    # RADIUS Access-Accept's Acct-Interim-Interval: how often a NAS reports usage (and can be told to disconnect).
    radius_interim_seconds: int
    # Where routers and phones reach the API (openNDS's fasremotefqdn/fasport/faspath come from it)
    # and the guest page that openNDS FAS redirects guests to.
    api_public_url: str
    guest_page_url: str
    # Anomaly alerts: one person revoking vouchers or voiding sales this many times in this
    # window raises one `bulk_revoke` alert per window.
    alert_bulk_revoke_count: int
    alert_bulk_revoke_window_seconds: int
    # Payment providers' API base URLs: unset in production (Midtrans follows the account's
    # environment, Xendit has one host); tests and `make dev` point them at the fake providers.
    midtrans_api_url: str | None = None
    xendit_api_url: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = os.environ.get("KUOTA_STAGE", "dev")
    prefix = f"kuota-{stage}"
    return Settings(
        stage=stage,
        app_table=os.environ.get("KUOTA_APP_TABLE", f"{prefix}-app"),
        audit_table=os.environ.get("KUOTA_AUDIT_TABLE", f"{prefix}-audit"),
        idempotency_table=os.environ.get("KUOTA_IDEMPOTENCY_TABLE", f"{prefix}-idempotency"),
        batch_queue=os.environ.get("KUOTA_BATCH_QUEUE", f"{prefix}-batches"),
        jwt_keys_file=os.environ.get("KUOTA_JWT_KEYS_FILE") or None,
        jwt_keys_secret_id=os.environ.get("KUOTA_JWT_KEYS_SECRET_ID") or None,
        code_keys_file=os.environ.get("KUOTA_CODE_KEYS_FILE") or None,
        code_keys_secret_id=os.environ.get("KUOTA_CODE_KEYS_SECRET_ID") or None,
        ledger_key_file=os.environ.get("KUOTA_LEDGER_KEY_FILE") or None,
        ledger_key_secret_id=os.environ.get("KUOTA_LEDGER_KEY_SECRET_ID") or None,
        jwt_issuer=os.environ.get("KUOTA_JWT_ISSUER", "kuota"),
        jwt_audience=os.environ.get("KUOTA_JWT_AUDIENCE", "kuota-api"),
        access_token_seconds=min(_int("KUOTA_ACCESS_TOKEN_SECONDS", 900), 900),
        refresh_token_days=_int("KUOTA_REFRESH_TOKEN_DAYS", 14),
        api_key_cache_seconds=min(_int("KUOTA_API_KEY_CACHE_SECONDS", 60), 60),
        login_max_failures_per_account=_int("KUOTA_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        login_max_failures_per_ip=_int("KUOTA_LOGIN_MAX_FAILURES_PER_IP", 30),
        login_window_seconds=_int("KUOTA_LOGIN_WINDOW_SECONDS", 900),
        trust_forwarded_for=_bool("KUOTA_TRUST_FORWARDED_FOR"),
        redeem_max_failures_per_mac=_int("KUOTA_REDEEM_MAX_FAILURES_PER_MAC", 10),
        redeem_max_failures_per_site=_int("KUOTA_REDEEM_MAX_FAILURES_PER_SITE", 300),
        redeem_window_seconds=_int("KUOTA_REDEEM_WINDOW_SECONDS", 600),
        guest_max_failures_per_address=_int("KUOTA_GUEST_MAX_FAILURES_PER_ADDRESS", 30),
        guest_max_releases_per_voucher=_int("KUOTA_GUEST_MAX_RELEASES_PER_VOUCHER", 3),
        guest_max_orders_per_address=_int("KUOTA_GUEST_MAX_ORDERS_PER_ADDRESS", 10),
        guest_max_orders_per_site=_int("KUOTA_GUEST_MAX_ORDERS_PER_SITE", 300),
        console_origin=os.environ.get("KUOTA_CONSOLE_ORIGIN", "http://127.0.0.1:8080"),
        password_time_cost=_int("KUOTA_PASSWORD_TIME_COST", 3),
        password_memory_kib=_int("KUOTA_PASSWORD_MEMORY_KIB", 64 * 1024),
        max_body_bytes=_int("KUOTA_MAX_BODY_BYTES", 64 * 1024),
        issue_max_vouchers_per_hour=max(_int("KUOTA_ISSUE_MAX_VOUCHERS_PER_HOUR", 200_000), 1),
        voucher_retention_days=max(_int("KUOTA_VOUCHER_RETENTION_DAYS", 180), 1),
        expiry_interval_seconds=max(_int("KUOTA_EXPIRY_INTERVAL", 60), 1),
        aws_max_pool_connections=max(_int("KUOTA_AWS_MAX_POOL_CONNECTIONS", 10), 1),
        radius_interim_seconds=min(max(_int("KUOTA_RADIUS_INTERIM_SECONDS", 300), 60), 3600),
        api_public_url=os.environ.get("KUOTA_API_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        guest_page_url=os.environ.get("KUOTA_GUEST_PAGE_URL")
        or os.environ.get("KUOTA_CONSOLE_ORIGIN", "http://127.0.0.1:8080").rstrip("/") + "/guest.html",
        alert_bulk_revoke_count=max(_int("KUOTA_ALERT_BULK_REVOKE_COUNT", 5), 2),
        alert_bulk_revoke_window_seconds=max(_int("KUOTA_ALERT_BULK_REVOKE_WINDOW_SECONDS", 600), 60),
        midtrans_api_url=(os.environ.get("KUOTA_MIDTRANS_API_URL") or "").rstrip("/") or None,
        xendit_api_url=(os.environ.get("KUOTA_XENDIT_API_URL") or "").rstrip("/") or None,
    )


def aws_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-southeast-3"
