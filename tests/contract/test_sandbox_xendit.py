"""Xendit's test mode answers the way the adapter and the fake assume: skipped without a test secret key.

Run: `KUOTA_SANDBOX_XENDIT_SECRET_KEY=xnd_development_... .venv/bin/python -m pytest tests/contract -q`
(a test-mode secret key with the QR Codes permission, from Settings > API keys). Needs the
internet. Test mode's `POST /qr_codes/{id}/payments/simulate` pays a QR; Xendit then sends
its callback to the dashboard's URL, which a test on this machine cannot receive, so the
callback's shapes are covered in `tests/unit/test_payment_signatures.py` and the payment is
confirmed here by the status read, as Kuota does before granting.
Sources: docs.xendit.co qr-codes (create, get, payments, simulate, refunds), qr-codes/test-scenarios.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import urllib3

from chalicelib.config import get_settings
from chalicelib.payments import ChargeRequest, Credentials, PaymentState, Provider, ProviderRefused, provider
from chalicelib.payments.http import basic_auth
from chalicelib.payments.xendit import API_VERSION, DEFAULT_URL

SECRET_KEY = os.environ.get("KUOTA_SANDBOX_XENDIT_SECRET_KEY", "")
pytestmark = pytest.mark.skipif(not SECRET_KEY, reason="KUOTA_SANDBOX_XENDIT_SECRET_KEY is not set")

CREDS = Credentials(environment="sandbox", secret_key=SECRET_KEY, callback_token="unused-here")


def sandbox() -> Provider:
    return provider("xendit", replace(get_settings(), xendit_api_url=None))  # the real host; test keys pick test mode


def new_request(amount: int = 10_000) -> ChargeRequest:
    return ChargeRequest(
        order_id="kuota-contract-" + uuid.uuid4().hex[:16],
        amount=amount,
        expiry_minutes=15,
        webhook_url="ignored by Xendit",
        idempotency_key=str(uuid.uuid4()),
        created_at=datetime.now(UTC),
    )


def read_until_paid(xendit: Provider, order_id: str, qr_id: str) -> PaymentState:
    deadline = time.monotonic() + 30
    while True:
        state = xendit.read_status(CREDS, order_id, qr_id)
        if state.status == "paid" or time.monotonic() > deadline:
            return state
        time.sleep(1)


def test_a_dynamic_qr_is_pending_with_the_asked_expiry() -> None:
    xendit, request = sandbox(), new_request()

    charge = xendit.create_charge(CREDS, request)

    assert charge.provider_ref.startswith("qr_")
    assert charge.qr_string.startswith("000201")
    assert charge.expires_at - datetime.now(UTC) == pytest.approx(timedelta(minutes=15), abs=timedelta(minutes=2))
    state = xendit.read_status(CREDS, request.order_id, charge.provider_ref)
    assert (state.status, state.amount, state.currency) == ("pending", 10_000, "IDR")


def test_a_retry_with_the_same_idempotency_key_returns_the_same_qr() -> None:
    xendit, request = sandbox(), new_request()

    first = xendit.create_charge(CREDS, request)
    again = xendit.create_charge(CREDS, request)

    assert again.provider_ref == first.provider_ref


def test_a_simulated_payment_shows_in_the_status_read_and_can_be_refunded() -> None:
    xendit, request = sandbox(), new_request()
    charge = xendit.create_charge(CREDS, request)

    answer = urllib3.request(
        "POST",
        f"{DEFAULT_URL}/qr_codes/{charge.provider_ref}/payments/simulate",
        json={"amount": request.amount},
        headers={"Authorization": basic_auth(SECRET_KEY), "api-version": API_VERSION},
    )
    assert answer.status == 200, answer.data

    state = read_until_paid(xendit, request.order_id, charge.provider_ref)
    assert (state.status, state.amount) == ("paid", request.amount)
    assert state.payment_id is not None and state.payment_id.startswith("qrpy_")
    refund_id = xendit.refund(
        CREDS, request.order_id, charge.provider_ref, state.payment_id, request.amount, str(uuid.uuid4()), "OTHERS"
    )
    assert refund_id


def test_a_wrong_secret_key_is_refused() -> None:
    wrong = Credentials(environment="sandbox", secret_key="xnd_development_wrong", callback_token="x")
    with pytest.raises(ProviderRefused):
        sandbox().create_charge(wrong, new_request())
