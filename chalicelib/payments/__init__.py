"""Payment providers behind one interface: what the payments service calls, whichever provider a venue uses.

Each provider is one module (`midtrans`, `xendit`) speaking the provider's HTTP API
through `chalicelib.payments.http`; the providers' SDKs verify no webhooks, so they
are references only. Base URLs come from settings, so the fake providers in
`tests/fakes/`, the sandboxes and production run the same code. Facts, formulas
and sources: `notes/qris.md` in the steering repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

from chalicelib.config import Settings, get_settings

ProviderName = Literal["midtrans", "xendit"]
Environment = Literal["sandbox", "production"]
OrderStatus = Literal["pending", "paid", "expired", "cancelled", "failed", "refunded"]


@dataclass(frozen=True)
class Credentials:
    environment: Environment
    server_key: str | None = None  # Midtrans
    secret_key: str | None = None  # Xendit
    callback_token: str | None = None  # Xendit


@dataclass(frozen=True)
class ChargeRequest:
    order_id: str  # ours, unguessable, [A-Za-z0-9_-], <= 50 chars
    amount: int  # rupiah, from the plan on the server
    expiry_minutes: int  # asked for; the provider's answer is what counts
    webhook_url: str  # Midtrans: X-Override-Notification; Xendit: ignored (dashboard setting)
    idempotency_key: str  # the same on every retry of this create
    # Added beyond the agreed interface: the order's creation time (UTC), the same on every retry, so
    # that a retry's body is the same too (Xendit's expires_at counts from it). None: now.
    created_at: datetime | None = None


@dataclass(frozen=True)
class Charge:
    provider_ref: str  # Midtrans transaction_id, Xendit qr id ("qr_...")
    qr_string: str
    deeplink: str | None
    expires_at: datetime  # UTC, from the provider's answer (Midtrans: expiry_time is WIB w/o offset)


@dataclass(frozen=True)
class PaymentState:
    """What the provider says about an order (from a status read or a verified webhook)."""

    order_id: str
    status: OrderStatus
    amount: int | None  # paid/charged amount in whole rupiah; None when not a whole number
    currency: str  # "IDR"
    payment_id: str | None  # the provider's id of this payment (dedupe key): Midtrans transaction_id, Xendit "qrpy_..."
    provider_ref: str | None  # Midtrans transaction_id, Xendit qr id
    merchant: str | None  # Midtrans merchant_id, Xendit business_id, when given
    paid_at: datetime | None


@dataclass(frozen=True)
class WebhookEvent:
    state: PaymentState
    # False: grant only after read_status confirms (Xendit always; Midtrans unless status_code == "200"
    # with settlement/capture and fraud accept).
    trusted: bool
    redacted: dict[str, Any]  # the body with signature_key etc. removed, to keep


class WebhookRejected(Exception):
    """Bad or missing signature or token, an unset secret, a body that is not a provider's JSON: 401."""


class ProviderUnavailable(Exception):
    """5xx, timeout, connection error: retry later with the same idempotency key."""


class ProviderRefused(Exception):
    """The provider's 4xx (bad key, bad request): retrying the same call will not help."""


class ProviderNotFound(ProviderRefused):
    """The provider knows no such order or QR (404): a create that never reached it, or a wrong account."""


class Provider(Protocol):
    name: ProviderName

    def create_charge(self, creds: Credentials, request: ChargeRequest) -> Charge: ...

    def read_status(self, creds: Credentials, order_id: str, provider_ref: str | None) -> PaymentState: ...

    def verify_webhook(self, creds: Credentials, headers: Mapping[str, str], raw_body: bytes) -> WebhookEvent: ...

    def expire(self, creds: Credentials, order_id: str, provider_ref: str | None) -> None: ...

    def refund(
        self,
        creds: Credentials,
        order_id: str,
        provider_ref: str | None,
        payment_id: str | None,
        amount: int,
        refund_key: str,
        reason: str,
    ) -> str: ...  # the provider's refund id


def provider(name: ProviderName, settings: Settings | None = None) -> Provider:
    """The adapter for `name`, reaching the provider at the base URL the settings give (or its real host)."""
    from chalicelib.payments.midtrans import Midtrans
    from chalicelib.payments.xendit import Xendit

    resolved = settings or get_settings()
    if name == "midtrans":
        return Midtrans(resolved)
    if name == "xendit":
        return Xendit(resolved)
    raise ValueError(f"unknown payment provider {name!r}")


@dataclass(frozen=True)
class FeeSchedule:
    """What one QRIS payment costs the venue: a rate of the amount, a fixed part, and VAT on the provider's fee."""

    rate: Decimal
    fixed: int
    vat_on_fee: Decimal


# QRIS MDR for non-micro merchants is 0.7% (Bank Indonesia; surcharging the buyer is forbidden).
# Midtrans charges the MDR for QRIS; Xendit charges 0.7% plus VAT (11%) on that fee
# [docs.xendit.co fees-and-vat]. Neither adds a fixed part per QRIS payment (a provider that does,
# like Tripay's Rp750, weighs far more on a Rp5,000 voucher). Check both price lists before launch.
FEES: dict[ProviderName, FeeSchedule] = {
    "midtrans": FeeSchedule(rate=Decimal("0.007"), fixed=0, vat_on_fee=Decimal(0)),
    "xendit": FeeSchedule(rate=Decimal("0.007"), fixed=0, vat_on_fee=Decimal("0.11")),
}


def fee(provider: ProviderName, amount: int) -> int:
    """The venue's cost of one payment of `amount` rupiah, rounded to whole rupiah (half up)."""
    schedule = FEES[provider]
    before_vat = Decimal(amount) * schedule.rate + schedule.fixed
    return int((before_vat * (1 + schedule.vat_on_fee)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
