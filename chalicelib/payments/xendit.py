"""Xendit QR Codes API (`api-version: 2022-07-31`): create, status, refund, and the callback's token.

Sources [docs.xendit.co]: qr-codes (create, get, payments by QR id, simulate,
refunds of a QR payment at `/qr_codes/payments/{qrpy_id}/refunds`), the callback
setup page (the `x-callback-token` header), webhook delivery and retries. The
token is a static shared secret, not a signature over the body, so no callback is
trusted: the payments service reads the status from Xendit before granting.
Xendit's QR Codes API has no call to close a dynamic QR before its `expires_at`.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from chalicelib.config import Settings
from chalicelib.payments import (
    Charge,
    ChargeRequest,
    Credentials,
    OrderStatus,
    PaymentState,
    ProviderName,
    ProviderNotFound,
    ProviderRefused,
    ProviderUnavailable,
    WebhookEvent,
    WebhookRejected,
)
from chalicelib.payments.http import basic_auth, call

DEFAULT_URL = "https://api.xendit.co"
API_VERSION = "2022-07-31"
CALLBACK_TOKEN_HEADER = "x-callback-token"  # noqa: S105 (a header name)  # nosec B105
PAID = ("SUCCEEDED", "COMPLETED")  # the 2022-07-31 callback says SUCCEEDED, the older flat one COMPLETED
# Xendit accepts only these refund reasons; the owner's own words stay in Kuota's records.
REFUND_REASONS = ("FRAUDULENT", "DUPLICATE", "REQUESTED_BY_CUSTOMER", "CANCELLATION", "OTHERS")


def iso_time(text: object) -> datetime | None:
    """Xendit's ISO 8601 times ("2026-12-02T10:15:00.123Z") in UTC; None when absent or malformed."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def whole_rupiah(value: object) -> int | None:
    """25000 or 25000.0 -> 25000; None for fractions and anything that is not a JSON number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class Xendit:
    name: ProviderName = "xendit"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _call(
        self,
        creds: Credentials,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        if not creds.secret_key:
            raise ProviderRefused("xendit: the account has no secret key")
        headers = {"api-version": API_VERSION}
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        base = self._settings.xendit_api_url or DEFAULT_URL
        reply = call(
            method,
            base + path,
            provider="xendit",
            authorization=basic_auth(creds.secret_key),
            headers=headers,
            body=body,
        )
        return reply.body

    def create_charge(self, creds: Credentials, request: ChargeRequest) -> Charge:
        # From the order's creation, not from now: a retry must send the very same body.
        asked_expiry = (request.created_at or datetime.now(UTC)) + timedelta(minutes=request.expiry_minutes)
        body = {
            "reference_id": request.order_id,
            "type": "DYNAMIC",
            "currency": "IDR",
            "amount": request.amount,
            "expires_at": asked_expiry.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        answer = self._call(creds, "POST", "/qr_codes", body=body, idempotency_key=request.idempotency_key)
        qr_id, qr_string = _text(answer.get("id")), _text(answer.get("qr_string"))
        expires_at = iso_time(answer.get("expires_at"))
        if qr_id is None or qr_string is None or expires_at is None:
            raise ProviderUnavailable("xendit: the QR code's answer has no id, qr_string or expires_at")
        return Charge(provider_ref=qr_id, qr_string=qr_string, deeplink=None, expires_at=expires_at)

    def read_status(self, creds: Credentials, order_id: str, provider_ref: str | None) -> PaymentState:
        if not provider_ref:
            # Without its id the QR was never shown to a guest; the create's retry (same key) finds it.
            raise ProviderNotFound("xendit: no QR id for this order")
        qr_path = f"/qr_codes/{quote(provider_ref, safe='')}"
        qr_code = self._call(creds, "GET", qr_path)
        if qr_code.get("reference_id") != order_id:
            raise ProviderRefused("xendit: the QR code belongs to another order")
        payments = self._call(creds, "GET", qr_path + "/payments").get("data")
        for payment in payments if isinstance(payments, list) else []:
            if isinstance(payment, dict) and payment.get("status") in (*PAID, "REFUNDED"):
                return _payment_state(payment, order_id, provider_ref, _text(qr_code.get("business_id")))
        expires_at = iso_time(qr_code.get("expires_at"))
        still_open = qr_code.get("status") == "ACTIVE" and (expires_at is None or expires_at > datetime.now(UTC))
        return PaymentState(
            order_id=order_id,
            status="pending" if still_open else "expired",
            amount=whole_rupiah(qr_code.get("amount")),
            currency=_text(qr_code.get("currency")) or "IDR",
            payment_id=None,
            provider_ref=provider_ref,
            merchant=_text(qr_code.get("business_id")),
            paid_at=None,
        )

    def verify_webhook(self, creds: Credentials, headers: Mapping[str, str], raw_body: bytes) -> WebhookEvent:
        if not creds.callback_token:
            raise WebhookRejected("xendit: the account has no callback token")
        token = next((value for key, value in headers.items() if key.lower() == CALLBACK_TOKEN_HEADER), None)
        if not token or not hmac.compare_digest(token.encode(), creds.callback_token.encode()):
            raise WebhookRejected("xendit: the callback token is missing or wrong")
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookRejected("xendit: the body is not JSON") from None
        if not isinstance(body, dict):
            raise WebhookRejected("xendit: the body is not a JSON object")
        return WebhookEvent(state=_callback_state(body), trusted=False, redacted=_redacted(body))

    def expire(self, creds: Credentials, order_id: str, provider_ref: str | None) -> None:
        """Nothing to call: a dynamic QR stays payable until its `expires_at`, and such a payment is honoured."""

    def refund(
        self,
        creds: Credentials,
        order_id: str,
        provider_ref: str | None,
        payment_id: str | None,
        amount: int,
        refund_key: str,
        reason: str,
    ) -> str:
        if not payment_id:
            payment_id = self.read_status(creds, order_id, provider_ref).payment_id
        if not payment_id:
            raise ProviderRefused("xendit: the order has no payment to refund")
        wanted = reason.strip().upper()
        body = {
            "reference_id": refund_key,
            "amount": amount,
            "reason": wanted if wanted in REFUND_REASONS else "OTHERS",
        }
        path = f"/qr_codes/payments/{quote(payment_id, safe='')}/refunds"
        answer = self._call(creds, "POST", path, body=body, idempotency_key=refund_key)
        refund_id = _text(answer.get("id"))
        if refund_id is None:
            raise ProviderUnavailable("xendit: the refund's answer has no id")
        return refund_id


def _payment_state(payment: dict[str, Any], order_id: str, qr_id: str, business_id: str | None) -> PaymentState:
    status: OrderStatus = "refunded" if payment.get("status") == "REFUNDED" else "paid"
    return PaymentState(
        order_id=order_id,
        status=status,
        amount=whole_rupiah(payment.get("amount")),
        currency=_text(payment.get("currency")) or "IDR",
        payment_id=_text(payment.get("id")),
        provider_ref=qr_id,
        merchant=_text(payment.get("business_id")) or business_id,
        paid_at=iso_time(payment.get("created")),
    )


def _callback_state(body: dict[str, Any]) -> PaymentState:
    """Either callback shape: 2022-07-31 (`event: qr.payment`, `data`) or the older flat one (`qr_code`)."""
    data, qr_code = body.get("data"), body.get("qr_code")
    if body.get("event") == "qr.payment" and isinstance(data, dict):
        order_id, qr_id, payment = _text(data.get("reference_id")), _text(data.get("qr_id")), data
    elif isinstance(qr_code, dict):
        order_id, qr_id, payment = _text(qr_code.get("external_id")), _text(qr_code.get("id")), body
    else:
        raise WebhookRejected("xendit: not a QR payment callback")
    if order_id is None or qr_id is None or _text(payment.get("id")) is None:
        raise WebhookRejected("xendit: the callback names no order, QR or payment")
    status: OrderStatus = "paid" if payment.get("status") in PAID else "failed"
    return PaymentState(
        order_id=order_id,
        status=status,
        amount=whole_rupiah(payment.get("amount")),
        currency=_text(payment.get("currency")) or "IDR",
        payment_id=_text(payment.get("id")),
        provider_ref=qr_id,
        merchant=_text(body.get("business_id")) or _text(payment.get("business_id")),
        paid_at=iso_time(payment.get("created")) if status == "paid" else None,
    )


def _redacted(body: dict[str, Any]) -> dict[str, Any]:
    """The callback without the payer's name and account details (personal data Kuota has no use for)."""
    kept: dict[str, Any] = json.loads(json.dumps(body))
    for holder in (kept, kept.get("data")):
        if not isinstance(holder, dict):
            continue
        for detail_key in ("payment_detail", "payment_details"):
            detail = holder.get(detail_key)
            if isinstance(detail, dict):
                detail.pop("name", None)
                detail.pop("account_details", None)
    return kept
