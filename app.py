"""Kuota's Chalice app: registers blueprints, middleware and CORS; nothing else."""

from __future__ import annotations

from chalice.app import Chalice, CORSConfig

from chalicelib import jobs
from chalicelib.api import (
    address_space,
    alerts,
    audit,
    auth,
    batches,
    brand,
    compliance,
    dashboard,
    fas,
    guest,
    openapi,
    orgs,
    payments,
    plans,
    platform,
    pos,
    quality,
    radius,
    redeem,
    reports,
    shifts,
    sites,
    vouchers,
)
from chalicelib.api.http import security_headers
from chalicelib.config import get_settings
from chalicelib.observability import log_requests

app = Chalice(app_name="kuota", configure_logs=False)  # Powertools logs (JSON); the app name is its logger name too
app.api.cors = CORSConfig(
    allow_origin=get_settings().console_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
    expose_headers=["X-Request-Id", "Retry-After"],
    max_age=600,
)
app.register_middleware(log_requests, "http")
app.register_middleware(security_headers, "http")

for module in (auth, orgs, sites, plans, batches, redeem, radius, vouchers, pos, reports, dashboard, audit, alerts,
               guest, fas, shifts, platform, compliance, brand, address_space, quality, payments, openapi):
    app.register_blueprint(module.bp)
app.register_blueprint(jobs.bp)  # scheduled handlers: expiry, audit outbox
