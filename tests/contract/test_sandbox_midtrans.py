"""Midtrans's sandbox answers the way the adapter and the fake assume: skipped without a sandbox server key.

Run: `KUOTA_SANDBOX_MIDTRANS_SERVER_KEY=SB-Mid-server-... .venv/bin/python -m pytest tests/contract -q`
(the key from the sandbox dashboard, Settings > Access keys). Needs the internet; makes
real sandbox charges (no money moves). Paying needs Midtrans's QRIS simulator page, so the
notification itself is covered by the golden vector in `tests/unit/test_payment_signatures.py`
and by the status read's own `signature_key`, checked here with the same formula.
Sources: docs.midtrans.com reference-link/qris, reference/get-transaction-status,
reference/expire-transaction, reference/api-headers.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import urllib3

from chalicelib.config import get_settings
from chalicelib.payments import ChargeRequest, Credentials, Provider, ProviderRefused, provider
from chalicelib.payments.http import basic_auth
from chalicelib.payments.midtrans import SANDBOX_URL, signature

SERVER_KEY = os.environ.get("KUOTA_SANDBOX_MIDTRANS_SERVER_KEY", "")
pytestmark = pytest.mark.skipif(not SERVER_KEY, reason="KUOTA_SANDBOX_MIDTRANS_SERVER_KEY is not set")

CREDS = Credentials(environment="sandbox", server_key=SERVER_KEY)


def sandbox() -> Provider:
    return provider("midtrans", replace(get_settings(), midtrans_api_url=None))  # the real sandbox host


def new_request(amount: int = 10_000) -> ChargeRequest:
    return ChargeRequest(
        order_id="kuota-contract-" + uuid.uuid4().hex[:16],
        amount=amount,
        expiry_minutes=15,
        webhook_url="https://example.com/v1/payments/midtrans/webhook/contract",
        idempotency_key=str(uuid.uuid4()),
        created_at=datetime.now(UTC),
    )


def test_a_qris_charge_is_pending_with_the_asked_expiry_and_a_signed_status() -> None:
    midtrans, request = sandbox(), new_request()

    charge = midtrans.create_charge(CREDS, request)

    assert charge.qr_string.startswith("000201")
    assert charge.expires_at - datetime.now(UTC) == pytest.approx(timedelta(minutes=15), abs=timedelta(minutes=2))
    state = midtrans.read_status(CREDS, request.order_id, charge.provider_ref)
    assert (state.status, state.amount, state.provider_ref) == ("pending", 10_000, charge.provider_ref)
    raw = urllib3.request(
        "GET", f"{SANDBOX_URL}/v2/{request.order_id}/status", headers={"Authorization": basic_auth(SERVER_KEY)}
    ).json()
    assert raw["gross_amount"] == "10000.00"  # a string with two decimals, as the signature needs
    assert raw["signature_key"] == signature(raw["order_id"], raw["status_code"], raw["gross_amount"], SERVER_KEY)


def test_a_retry_with_the_same_idempotency_key_returns_the_same_charge() -> None:
    midtrans, request = sandbox(), new_request()

    first = midtrans.create_charge(CREDS, request)
    again = midtrans.create_charge(CREDS, request)

    assert again.provider_ref == first.provider_ref


def test_expire_closes_the_qr() -> None:
    midtrans, request = sandbox(), new_request()
    charge = midtrans.create_charge(CREDS, request)

    midtrans.expire(CREDS, request.order_id, charge.provider_ref)

    assert midtrans.read_status(CREDS, request.order_id, charge.provider_ref).status == "expired"


def test_a_wrong_server_key_is_refused() -> None:
    midtrans = sandbox()
    with pytest.raises(ProviderRefused):
        midtrans.create_charge(Credentials(environment="sandbox", server_key="SB-Mid-server-wrong"), new_request())
