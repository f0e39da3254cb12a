"""Midtrans Core API, `payment_type: qris`: create, status, expire, refund, and the notification's signature.

Sources [docs.midtrans.com]: reference-link/qris and docs/gopay-qris-pos-integration (the
charge, X-Override-Notification), reference/api-headers (Idempotency-Key),
reference/handle-notifications (signature_key), reference/expire-transaction,
reference-link/refund-transaction (refund_key). Midtrans's times are Jakarta time
(UTC+7) without an offset. Its signature does not cover `transaction_status`, so
only a settlement or capture under status_code 200 with fraud accepted is trusted
without a status read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
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
from chalicelib.payments.http import Reply, basic_auth, call

SANDBOX_URL = "https://api.sandbox.midtrans.com"
PRODUCTION_URL = "https://api.midtrans.com"
JAKARTA = timezone(timedelta(hours=7))  # WIB has no daylight saving time
ACQUIRER = "gopay"

STATUSES: dict[str, OrderStatus] = {
    "pending": "pending",
    "authorize": "pending",
    "settlement": "paid",
    "capture": "paid",
    "expire": "expired",
    "cancel": "cancelled",
    "deny": "failed",
    "failure": "failed",
    "refund": "refunded",
    "partial_refund": "refunded",
}
# Body fields kept out of what Kuota stores: the signature is a credential's derivative.
REDACTED_FIELDS = ("signature_key",)


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """SHA512(order_id + status_code + gross_amount + server_key), hex, over the body's own strings."""
    return hashlib.sha512((order_id + status_code + gross_amount + server_key).encode()).hexdigest()


def jakarta_time(text: object) -> datetime | None:
    """A Midtrans time ("2026-12-02 17:38:49", WIB) in UTC; None when absent or malformed."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=JAKARTA).astimezone(UTC)
    except ValueError:
        return None


def whole_rupiah(text: object) -> int | None:
    """ "25000.00" -> 25000; None for fractions, numbers sent as JSON numbers, or anything else."""
    if not isinstance(text, str):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class Midtrans:
    name: ProviderName = "midtrans"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _base_url(self, creds: Credentials) -> str:
        if self._settings.midtrans_api_url:
            return self._settings.midtrans_api_url
        return PRODUCTION_URL if creds.environment == "production" else SANDBOX_URL

    def _call(
        self,
        creds: Credentials,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if not creds.server_key:
            raise ProviderRefused("midtrans: the account has no server key")
        reply = call(
            method,
            self._base_url(creds) + path,
            provider="midtrans",
            authorization=basic_auth(creds.server_key),
            headers=headers,
            body=body,
        )
        return _checked(reply)

    def create_charge(self, creds: Credentials, request: ChargeRequest) -> Charge:
        body = {
            "payment_type": "qris",
            "transaction_details": {"order_id": request.order_id, "gross_amount": request.amount},
            "qris": {"acquirer": ACQUIRER},
            "custom_expiry": {"expiry_duration": request.expiry_minutes, "unit": "minute"},
        }
        headers = {"Idempotency-Key": request.idempotency_key, "X-Override-Notification": request.webhook_url}
        answer = self._call(creds, "POST", "/v2/charge", body=body, headers=headers)
        transaction_id, qr_string = _text(answer.get("transaction_id")), _text(answer.get("qr_string"))
        if transaction_id is None or qr_string is None:
            raise ProviderUnavailable("midtrans: the charge's answer has no transaction_id or qr_string")
        expires_at = jakarta_time(answer.get("expiry_time"))
        if expires_at is None:
            # Midtrans counts custom_expiry from transaction_time; older answers omit expiry_time.
            started = jakarta_time(answer.get("transaction_time"))
            if started is None:
                raise ProviderUnavailable("midtrans: the charge's answer has no expiry_time or transaction_time")
            expires_at = started + timedelta(minutes=request.expiry_minutes)
        deeplink = _deeplink(answer)
        return Charge(provider_ref=transaction_id, qr_string=qr_string, deeplink=deeplink, expires_at=expires_at)

    def read_status(self, creds: Credentials, order_id: str, provider_ref: str | None) -> PaymentState:
        # By order id: it also finds a charge whose create answer was lost.
        answer = self._call(creds, "GET", f"/v2/{quote(order_id, safe='')}/status")
        return _state(answer, order_id)

    def verify_webhook(self, creds: Credentials, headers: Mapping[str, str], raw_body: bytes) -> WebhookEvent:
        if not creds.server_key:
            raise WebhookRejected("midtrans: the account has no server key")
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookRejected("midtrans: the body is not JSON") from None
        if not isinstance(body, dict):
            raise WebhookRejected("midtrans: the body is not a JSON object")
        fields = [body.get(name) for name in ("order_id", "status_code", "gross_amount", "signature_key")]
        if not all(isinstance(field, str) and field for field in fields):
            raise WebhookRejected("midtrans: order_id, status_code, gross_amount or signature_key missing")
        order_id, status_code, gross_amount, signature_key = (str(field) for field in fields)
        expected = signature(order_id, status_code, gross_amount, creds.server_key)
        if not hmac.compare_digest(expected.encode(), signature_key.encode()):
            raise WebhookRejected("midtrans: the signature does not match")
        state = _state(body, order_id)
        trusted = (
            status_code == "200"
            and body.get("transaction_status") in ("settlement", "capture")
            and body.get("fraud_status") == "accept"
        )
        redacted = {key: value for key, value in body.items() if key not in REDACTED_FIELDS}
        return WebhookEvent(state=state, trusted=trusted, redacted=redacted)

    def expire(self, creds: Credentials, order_id: str, provider_ref: str | None) -> None:
        """Close the QR at Midtrans; an order that is already final there is left as it is (its status says why)."""
        try:
            self._call(creds, "POST", f"/v2/{quote(order_id, safe='')}/expire")
        except ProviderNotFound:
            return  # the charge never reached Midtrans: there is no QR to close
        except ProviderRefused:
            # Midtrans refuses to expire a settled or already expired order: read it to tell those apart.
            if self.read_status(creds, order_id, provider_ref).status == "pending":
                raise

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
        # The transaction id names exactly the paid charge (Midtrans may reuse an expired order id).
        target = quote(provider_ref or payment_id or order_id, safe="")
        body = {"refund_key": refund_key, "amount": amount, "reason": reason[:255]}
        answer = self._call(creds, "POST", f"/v2/{target}/refund", body=body, headers={"Idempotency-Key": refund_key})
        refund_id = answer.get("refund_chargeback_id") or answer.get("refund_key") or refund_key
        return str(refund_id)


def _checked(reply: Reply) -> dict[str, Any]:
    """Midtrans also reports errors in the body's status_code under HTTP 200: treat those like the HTTP status."""
    body = reply.body
    code = body.get("status_code")
    status = int(code) if isinstance(code, str) and code.isdigit() else reply.status
    message = _text(body.get("status_message")) or "no message"
    if status >= 500 or status == 429:
        raise ProviderUnavailable(f"midtrans answered {status}: {message}")
    if status == 202 and "transaction_id" not in body:
        raise ProviderUnavailable("midtrans: the first request with this idempotency key is still running")
    if status == 404:
        raise ProviderNotFound(f"midtrans answered 404: {message}")
    if status >= 400 and status != 407:  # 407 is an expired transaction's status, not an error
        raise ProviderRefused(f"midtrans answered {status}: {message}")
    return body


def _deeplink(answer: dict[str, Any]) -> str | None:
    """A link into the payment app, when Midtrans gives one (its GoPay charges do; QRIS ones usually don't)."""
    actions = answer.get("actions")
    if not isinstance(actions, list):
        return None
    for action in actions:
        if isinstance(action, dict) and action.get("name") == "deeplink-redirect":
            return _text(action.get("url"))
    return None


def _state(body: dict[str, Any], order_id: str) -> PaymentState:
    transaction_status = body.get("transaction_status")
    status = STATUSES.get(transaction_status) if isinstance(transaction_status, str) else None
    if status is None:
        raise ProviderUnavailable(f"midtrans: unknown transaction_status {transaction_status!r}")
    if body.get("order_id", order_id) != order_id:
        raise ProviderUnavailable("midtrans: the answer is about another order")
    transaction_id = _text(body.get("transaction_id"))
    paid_at = jakarta_time(body.get("settlement_time")) if status in ("paid", "refunded") else None
    if status == "paid" and paid_at is None:
        paid_at = jakarta_time(body.get("transaction_time"))
    return PaymentState(
        order_id=order_id,
        status=status,
        amount=whole_rupiah(body.get("gross_amount")),
        currency=_text(body.get("currency")) or "IDR",
        payment_id=transaction_id,
        provider_ref=transaction_id,
        merchant=_text(body.get("merchant_id")),
        paid_at=paid_at,
    )
