"""Online purchase with QRIS: the guest page's plans and orders, providers' webhooks, merchant accounts, orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import OWNER_ONLY, REPORT_READERS
from chalicelib.config import get_settings
from chalicelib.errors import PayloadTooLarge, ValidationFailed

if TYPE_CHECKING:
    from chalicelib.api.payment_schemas import (
        GuestOrderCreatedOut,
        GuestOrderIn,
        GuestOrderOut,
        GuestPlansOut,
        GuestPlansQuery,
        OrderOut,
        OrderRefundIn,
        OrdersOut,
        OrdersQuery,
        PaymentAccountIn,
        PaymentAccountOut,
        WebhookOut,
    )
    from chalicelib.models.payments import Order, PaymentAccount
    from chalicelib.services.payments import GuestOrder

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.payment_schemas"
ACCOUNT = "/v1/orgs/{org_id}/payment-accounts/{provider}"
PROVIDERS = ("midtrans", "xendit")
UNAVAILABLE = "online_sales_unavailable (the site has no merchant account)"


@endpoint(
    bp, "/v1/guest/plans", "GET", summary="Plans a guest can buy online at a site (QRIS)", tag="guest",
    auth="none", query=Schema("GuestPlansQuery", SCHEMAS), response=Schema("GuestPlansOut", SCHEMAS),
)  # fmt: skip
def guest_plans(ctx: RequestContext, query: GuestPlansQuery) -> GuestPlansOut:
    from chalicelib.api.payment_schemas import GuestPlanOut, GuestPlansOut

    plans = services().payments.online_plans(query.site_id)
    return GuestPlansOut(plans=[
        GuestPlanOut(plan_id=plan.plan_id, name=plan.name, price=int(plan.price),
                     duration_minutes=int(plan.duration_minutes),
                     data_quota_mb=int(plan.data_quota_mb) if plan.data_quota_mb is not None else None)
        for plan in plans
    ])  # fmt: skip


@endpoint(
    bp, "/v1/guest/orders", "POST", summary="Buy a plan: an order with the provider's QRIS code", tag="guest",
    auth="none", body=Schema("GuestOrderIn", SCHEMAS), response=Schema("GuestOrderCreatedOut", SCHEMAS), status=201,
    extra_responses={409: UNAVAILABLE, 423: "org_restricted", 429: "too_many_attempts",
                     503: "provider_unavailable (nothing was charged; try again)"},
)  # fmt: skip
def create_order(ctx: RequestContext, body: GuestOrderIn) -> GuestOrderCreatedOut:
    from chalicelib.api.payment_schemas import GuestOrderCreatedOut

    order = services().payments.create_order(ctx.actor, body.site_id, body.plan_id, body.provider)
    return GuestOrderCreatedOut(order_id=order.order_id, status="pending", amount=int(order.amount),
                                qr_string=str(order.qr_string), deeplink=order.deeplink,
                                expires_at=order.expires_at)  # fmt: skip


@endpoint(
    bp, "/v1/guest/orders/{order_id}", "GET", summary="An order as its link shows it; the code once paid",
    tag="guest", auth="none", response=Schema("GuestOrderOut", SCHEMAS),
)  # fmt: skip
def get_guest_order(ctx: RequestContext, order_id: str) -> GuestOrderOut:
    return _guest_order(services().payments.guest_order(_order_id(order_id), ctx.actor))


@endpoint(
    bp, "/v1/guest/orders/{order_id}/cancel", "POST",
    summary="The guest gives up: the provider's QR is expired first (a payment that beat it still yields the code)",
    tag="guest", auth="none", response=Schema("GuestOrderOut", SCHEMAS), extra_responses={503: "provider_unavailable"},
)  # fmt: skip
def cancel_guest_order(ctx: RequestContext, order_id: str) -> GuestOrderOut:
    payments = services().payments
    payments.cancel_order(ctx.actor, _order_id(order_id))
    return _guest_order(payments.guest_order(order_id, ctx.actor))


@endpoint(
    bp, "/v1/payments/{provider}/webhook/{account_id}", "POST",
    summary="The provider's notification: verified on the raw body, then acted on once", tag="payments",
    auth="none", response=Schema("WebhookOut", SCHEMAS),
    extra_responses={401: "invalid_signature", 404: "not_found (no such order or account)",
                     503: "provider_unavailable (transient: the provider retries)"},
)  # fmt: skip
def payment_webhook(ctx: RequestContext, provider: str, account_id: str) -> WebhookOut:
    from chalicelib.api.payment_schemas import WebhookOut

    request = bp.current_request
    raw = request.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge()
    headers = {name.lower(): value for name, value in (request.headers or {}).items()}
    order = services().payments.handle_webhook(provider, account_id, headers, raw, ctx.actor)
    return WebhookOut.model_validate({"status": order.status})


@endpoint(
    bp, ACCOUNT, "PUT", summary="Connect the organization's merchant account (keys go to Secrets Manager)",
    tag="payments", roles=OWNER_ONLY, body=Schema("PaymentAccountIn", SCHEMAS),
    response=Schema("PaymentAccountOut", SCHEMAS),
)  # fmt: skip
def put_payment_account(ctx: RequestContext, org_id: str, provider: str, body: PaymentAccountIn) -> PaymentAccountOut:
    provider = _provider(provider)
    secrets = _secrets(provider, body)
    account = services().payments.connect(ctx.actor, org_id, provider, environment=body.environment,  # type: ignore[arg-type]
                                          secrets_in=secrets, site_ids=body.site_ids)  # fmt: skip
    return _account(account)


@endpoint(
    bp, ACCOUNT, "GET", summary="The connected merchant account (never its keys) and each plan's fee",
    tag="payments", roles=OWNER_ONLY, response=Schema("PaymentAccountOut", SCHEMAS),
)  # fmt: skip
def get_payment_account(ctx: RequestContext, org_id: str, provider: str) -> PaymentAccountOut:
    return _account(services().payments.account(org_id, _provider(provider)))


@endpoint(
    bp, ACCOUNT, "DELETE", summary="Disconnect the merchant account (its keys are deleted)", tag="payments",
    roles=OWNER_ONLY, status=204,
)  # fmt: skip
def delete_payment_account(ctx: RequestContext, org_id: str, provider: str) -> None:
    services().payments.disconnect(ctx.actor, org_id, _provider(provider))


@endpoint(
    bp, "/v1/orgs/{org_id}/orders", "GET", summary="Online orders by creation day (UTC), newest first, in pages",
    tag="payments", roles=REPORT_READERS, query=Schema("OrdersQuery", SCHEMAS), response=Schema("OrdersOut", SCHEMAS),
)  # fmt: skip
def list_orders(ctx: RequestContext, org_id: str, query: OrdersQuery) -> OrdersOut:
    from chalicelib.api.payment_schemas import OrdersOut

    if query.to < query.from_:
        raise ValidationFailed("to: must not be before from", field="to")
    if (query.to - query.from_).days > 92:
        raise ValidationFailed("to: at most 93 days at a time", field="to")
    page = services().payments.list_orders(
        org_id, query.from_, query.to, query.status, limit=query.limit, cursor=query.cursor
    )
    return OrdersOut(orders=[_order(order) for order in page.orders], next_cursor=page.next_cursor)


@endpoint(
    bp, "/v1/orgs/{org_id}/orders/{order_id}/refund", "POST",
    summary="Refund an online sale: the provider pays back, the voucher is revoked, a reversal is booked",
    tag="payments", roles=OWNER_ONLY, body=Schema("OrderRefundIn", SCHEMAS), response=Schema("OrderOut", SCHEMAS),
    extra_responses={409: "conflict (not a paid order)", 503: "provider_unavailable (safe to retry)"},
)  # fmt: skip
def refund_order(ctx: RequestContext, org_id: str, order_id: str, body: OrderRefundIn) -> OrderOut:
    return _order(services().payments.refund(ctx.actor, org_id, _order_id(order_id), body.reason))


def _provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ValidationFailed(f"provider: must be one of {', '.join(PROVIDERS)}", field="provider")
    return provider


def _order_id(order_id: str) -> str:
    if not (0 < len(order_id) <= 64) or not all(c.isalnum() or c in "-_" for c in order_id):
        raise ValidationFailed("order_id: not an order id", field="order_id")
    return order_id


def _secrets(provider: str, body: PaymentAccountIn) -> dict[str, str]:
    """Exactly the keys the provider uses: a missing one or one of the other provider's is named."""
    from chalicelib.services.payments import SECRET_FIELDS

    wanted = SECRET_FIELDS[provider]
    given = {name: getattr(body, name) for name in ("server_key", "secret_key", "callback_token")}
    for name, value in given.items():
        if name in wanted and value is None:
            raise ValidationFailed(f"{name}: required for {provider}", field=name)
        if name not in wanted and value is not None:
            raise ValidationFailed(f"{name}: not a {provider} key", field=name)
    return {name: str(given[name]) for name in wanted}


def _account(account: PaymentAccount) -> PaymentAccountOut:
    from chalicelib.api.payment_schemas import PaymentAccountOut

    payments = services().payments
    return PaymentAccountOut.model_validate({
        "account_id": account.account_id, "provider": account.provider, "environment": account.environment,
        "key_hint": account.key_hint, "webhook_url": payments.webhook_url(account),
        "site_ids": sorted(account.site_ids) if account.site_ids else None, "connected_at": account.connected_at,
        "updated_at": account.updated_at, "fees": payments.fees(account.org_id, account.provider),  # type: ignore[arg-type]
    })  # fmt: skip


def _order(order: Order) -> OrderOut:
    from chalicelib.api.payment_schemas import OrderOut

    return OrderOut.model_validate({
        "order_id": order.order_id, "site_id": order.site_id, "plan_id": order.plan_id,
        "plan_name": order.plan_name, "amount": int(order.amount), "status": order.status, "provider": order.provider,
        "provider_status": order.provider_status, "failure": order.failure, "created_at": order.created_at,
        "paid_at": order.paid_at, "refunded_at": order.refunded_at,
    })  # fmt: skip


def _guest_order(view: GuestOrder) -> GuestOrderOut:
    from chalicelib.api.payment_schemas import GuestOrderOut

    order = view.order
    pending = order.status == "pending"
    return GuestOrderOut.model_validate({
        "order_id": order.order_id, "status": order.status, "amount": int(order.amount),
        "plan": {"plan_id": order.plan_id, "name": order.plan_name, "duration_minutes": int(order.duration_minutes),
                 "data_quota_mb": int(order.data_quota_mb) if order.data_quota_mb is not None else None},
        "expires_at": order.expires_at, "code": view.code, "org_id": order.org_id, "site_id": order.site_id,
        "venue": view.venue, "site_name": view.site_name, "provider": order.provider,
        "created_at": order.created_at, "paid_at": order.paid_at,
        "qr_string": order.qr_string if pending else None, "deeplink": order.deeplink if pending else None,
    })  # fmt: skip
