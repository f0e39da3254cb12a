"""Request and response models of online purchase: merchant accounts, guests' orders, the organisation's orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.report_schemas import Day
from chalicelib.api.schemas import Out, Reason, SiteIdIn, Strict

Provider = Literal["midtrans", "xendit"]
Environment = Literal["sandbox", "production"]
Key = Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")]
OrderId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
OrderStatus = Literal["pending", "paid", "fulfilled", "expired", "cancelled", "failed", "refunded"]


class PaymentAccountIn(Strict):
    environment: Environment
    server_key: Key | None = Field(None, description="Midtrans: the merchant's server key")
    secret_key: Key | None = Field(None, description="Xendit: the secret API key")
    callback_token: Key | None = Field(None, description="Xendit: the callback verification token")
    site_ids: list[SiteIdIn] | None = Field(None, max_length=500, description="null: every site of the organization")


class PlanFeeOut(Out):
    plan_id: str
    price: int
    fee: int = Field(description="What the venue pays per online sale of this plan (rupiah, MDR and provider fee)")


class PaymentAccountOut(Out):
    account_id: str
    provider: Provider
    environment: Environment
    key_hint: str = Field(description="The last characters of the key; the keys themselves are never returned")
    webhook_url: str = Field(description="Paste into the provider's dashboard as the notification / callback URL")
    site_ids: list[str] | None
    connected_at: datetime
    updated_at: datetime
    fees: list[PlanFeeOut]


class GuestPlansQuery(Strict):
    site_id: SiteIdIn


class GuestPlanOut(Out):
    plan_id: str
    name: str
    price: int
    duration_minutes: int
    data_quota_mb: int | None


class GuestPlansOut(Out):
    plans: list[GuestPlanOut]


class GuestOrderIn(Strict):
    site_id: SiteIdIn
    plan_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    provider: Provider | None = None


class GuestOrderCreatedOut(Out):
    order_id: str
    status: OrderStatus
    amount: int
    qr_string: str
    deeplink: str | None = None
    expires_at: datetime


class OrderPlanOut(Out):
    plan_id: str
    name: str
    duration_minutes: int
    data_quota_mb: int | None


class GuestOrderOut(Out):
    order_id: str
    status: OrderStatus
    amount: int
    plan: OrderPlanOut
    expires_at: datetime | None
    code: str | None = Field(None, description="Only once paid; the same code every time")
    org_id: str
    site_id: str
    venue: str | None
    site_name: str | None
    provider: Provider
    created_at: datetime
    paid_at: datetime | None
    qr_string: str | None = Field(None, description="While pending")
    deeplink: str | None = None


class OrdersQuery(Strict):
    from_: Day = Field(alias="from")
    to: Day
    status: OrderStatus | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


class OrderOut(Out):
    order_id: str
    site_id: str
    plan_id: str
    plan_name: str
    amount: int
    status: OrderStatus
    provider: Provider
    provider_status: str | None
    failure: str | None
    created_at: datetime
    paid_at: datetime | None
    refunded_at: datetime | None


class OrdersOut(Out):
    orders: list[OrderOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null at the end")


class OrderRefundIn(Strict):
    reason: Reason


class WebhookOut(Out):
    received: bool = True
    status: OrderStatus


