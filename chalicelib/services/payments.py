"""Guests buy a voucher with QRIS on the venue's own merchant account; Kuota never holds the money.

The order's price comes from the plan on the server. A paid order is fulfilled by
one function, `fulfil`, whichever of the provider's webhook, the guest's poll or the
reconciler learns of the payment first: one `TransactWriteItems` moves the order to
fulfilled on its condition, claims the provider's payment id, and writes the sale,
its voucher, its revenue line and the audit event. Two callers at once: one wins,
the other reads the fulfilled order. A payment for an order that expired or was
cancelled here is honoured all the same (the guest paid).

Nothing from a provider is believed unverified: webhooks are checked on the raw body
by the provider's adapter, and an event the adapter marks untrusted (Xendit's static
token, a Midtrans notification that is not a 200 settlement) is confirmed with a
status read before anything is granted. The amount and currency must match the
order's; otherwise there is no voucher, and an alert.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.auth.principal import Actor
from chalicelib.config import Settings
from chalicelib.errors import Conflict, KuotaError, NotFound, TooManyAttempts, Unauthorized, ValidationFailed
from chalicelib.models import Org, Plan, Sale, Site, Voucher
from chalicelib.models.base import failed_condition, update_if
from chalicelib.models.payments import (
    ACCOUNTS_PARTITION,
    DUE_PARTITION,
    FINAL,
    Order,
    PaymentAccount,
    PaymentAccountRef,
    PaymentClaim,
    SiteRef,
    WebhookRecord,
)
from chalicelib.observability import get_logger
from chalicelib.payments import (
    Charge,
    ChargeRequest,
    Credentials,
    PaymentState,
    Provider,
    ProviderName,
    ProviderRefused,
    ProviderUnavailable,
    WebhookRejected,
    fee,
)
from chalicelib.services import Clock, epoch, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.ratelimit import FailureLimiter, scope_key
from chalicelib.services.selling import SALE_SHAPE, SellingService, sale_id_for
from chalicelib.services.vouchers import Along, VoucherService

if TYPE_CHECKING:
    from chalicelib.services.alerts import AlertService
    from chalicelib.services.compliance import ComplianceGate

M = TypeVar("M", bound=Model)

ONLINE_SELLER = "online"  # the seller of every online sale: the guest page, not a person
QR_MINUTES = 15  # asked of the provider; its own expiry is what counts
POLL_EVERY_SECONDS = 10  # guests' polls share one status read per order in this time
RECONCILE_AHEAD_SECONDS = 120  # the reconciler asks about orders this close to their expiry
GIVE_UP_AFTER = timedelta(hours=24)  # an unpaid order's QR expired this long ago: expired for good
WEBHOOK_RETENTION_DAYS = 400
CREATE_ATTEMPTS = 2
FULFIL_ATTEMPTS = 6
SECRET_FIELDS = {"midtrans": ("server_key",), "xendit": ("secret_key", "callback_token")}
_ORDER_CURSOR_KEYS = frozenset({"PK", "SK", "GSI1PK", "GSI1SK"})


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next_cursor: str | None


class OnlineSalesUnavailable(KuotaError):
    status = 409
    code = "online_sales_unavailable"
    default_message = "This venue does not sell vouchers online; ask at the counter."


class PaymentProviderUnavailable(KuotaError):
    status = 503
    code = "provider_unavailable"
    default_message = "The payment provider did not answer; try again in a moment."


class WebhookUnauthorized(Unauthorized):
    code = "invalid_signature"
    default_message = "The webhook's signature or token does not verify."


@dataclass(frozen=True)
class GuestOrder:
    order: Order
    code: str | None  # only once fulfilled (and not refunded)
    venue: str | None
    site_name: str | None


class MerchantKeys:
    """Venues' provider keys in Secrets Manager (moto server locally), read at most once a minute per container."""

    def __init__(self, settings: Settings, ttl_seconds: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._prefix = f"kuota/{settings.stage}/payments"
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Credentials]] = {}

    def secret_id(self, org_id: str, provider: str) -> str:
        return f"{self._prefix}/{org_id}/{provider}"

    def _client(self) -> Any:
        import boto3

        from chalicelib.config import aws_region

        return boto3.client("secretsmanager", region_name=aws_region())

    def put(self, secret_id: str, credentials: Credentials) -> None:
        value = json.dumps({k: v for k, v in vars(credentials).items() if v is not None})
        client = self._client()
        try:
            client.put_secret_value(SecretId=secret_id, SecretString=value)
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(Name=secret_id, SecretString=value)
        self._cache.pop(secret_id, None)

    def get(self, secret_id: str) -> Credentials | None:
        cached = self._cache.get(secret_id)
        if cached is not None and self._monotonic() - cached[0] < self._ttl:
            return cached[1]
        client = self._client()
        try:
            raw = client.get_secret_value(SecretId=secret_id)["SecretString"]
        except client.exceptions.ResourceNotFoundException:
            return None
        credentials = Credentials(**json.loads(raw))
        self._cache[secret_id] = (self._monotonic(), credentials)
        return credentials

    def delete(self, secret_id: str) -> None:
        client = self._client()
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        self._cache.pop(secret_id, None)


def key_hint(credentials: Credentials) -> str:
    """The last four characters of the main key, so an owner can tell which key is connected."""
    key = credentials.server_key or credentials.secret_key or ""
    return f"…{key[-4:]}" if len(key) >= 8 else "…"


def order_code(order: Order) -> str | None:
    """The voucher's code, re-derived from the sale's code number (codes are never stored)."""
    if order.code_number is None or order.status != "fulfilled":
        return None
    from chalicelib.codes import CodeGenerator

    return CodeGenerator(order.org_id, SALE_SHAPE).code(int(order.code_number))


class PaymentService:
    def __init__(
        self,
        settings: Settings,
        audit: AuditLog,
        selling: SellingService,
        vouchers: VoucherService,
        gate: ComplianceGate,
        alerts: AlertService,
        providers: Callable[[ProviderName], Provider],
        keys: MerchantKeys,
        clock: Clock = utc_now,
    ) -> None:
        self._settings = settings
        self._audit = audit
        self._selling = selling
        self._vouchers = vouchers
        self._gate = gate
        self._alerts = alerts
        self._providers = providers
        self._keys = keys
        self._clock = clock
        window = settings.redeem_window_seconds
        self._per_address = FailureLimiter(settings.guest_max_orders_per_address, window, clock)
        self._per_site = FailureLimiter(settings.guest_max_orders_per_site, window, clock)

    # --- merchant accounts --------------------------------------------------------

    def connect(
        self, actor: Actor, org_id: str, provider: ProviderName, *, environment: str, secrets_in: Mapping[str, str],
        site_ids: list[str] | None,
    ) -> PaymentAccount:  # fmt: skip
        """Connect (or replace the keys of) the org's account at a provider; the keys go to Secrets Manager."""
        for site_id in site_ids or []:
            _site(org_id, site_id, field="site_ids")
        keys = {name: secrets_in[name] for name in SECRET_FIELDS[provider]}
        credentials = Credentials(environment=environment, **keys)  # type: ignore[arg-type]
        now = self._clock()
        try:
            account = PaymentAccount.get(*PaymentAccount.key(org_id, provider), consistent_read=True)
            before: dict[str, Any] | None = _account_view(account)
        except DoesNotExist:
            account_id = secrets.token_urlsafe(18)
            account = PaymentAccount(
                *PaymentAccount.key(org_id, provider), account_id=account_id, org_id=org_id, provider=provider,
                secret_id=self._keys.secret_id(org_id, provider), connected_at=now, gsi1sk=f"{org_id}#{provider}",
            )  # fmt: skip
            before = None
        account.environment = environment
        account.key_hint = key_hint(credentials)
        account.site_ids = set(site_ids) if site_ids else None
        account.updated_at = now
        self._keys.put(account.secret_id, credentials)
        after = {**_account_view(account), "keys_changed": True}  # never the keys themselves
        event = self._audit.event(
            actor, org_id=org_id, action="payment_account.connect" if before is None else "payment_account.update",
            target_type="payment_account", target_id=provider, before=before, after=after,
        )  # fmt: skip
        with self._audit.transaction() as tx:
            tx.save(account)
            tx.save(PaymentAccountRef(*PaymentAccountRef.key(account.account_id), org_id=org_id, provider=provider))
            tx.append(event)
        return account

    def account(self, org_id: str, provider: str) -> PaymentAccount:
        try:
            return PaymentAccount.get(*PaymentAccount.key(org_id, provider))
        except DoesNotExist as exc:
            raise NotFound(f"No {provider} account is connected.") from exc

    def disconnect(self, actor: Actor, org_id: str, provider: str) -> None:
        """Remove the account and its keys; refused while a guest's QR on it can still be paid (its payment
        could then never be read, nor its voucher made)."""
        account = self.account(org_id, provider)
        now = self._clock()
        recent = Order.by_org.query(
            Order.list_key(org_id), Order.gsi1sk >= (now - timedelta(days=1)).isoformat(), scan_index_forward=False
        )
        payable = [
            order for order in recent
            if order.account_id == account.account_id and order.status == "pending"
            and (order.expires_at is None or order.expires_at > now)
        ]  # fmt: skip
        if payable:
            until = max(order.expires_at or order.created_at + timedelta(minutes=QR_MINUTES) for order in payable)
            raise Conflict(
                f"{len(payable)} guest order(s) can still be paid with this account until "
                f"{until.isoformat(timespec='minutes')}; disconnect after that, or change its keys instead."
            )
        event = self._audit.event(
            actor, org_id=org_id, action="payment_account.disconnect", target_type="payment_account",
            target_id=provider, before=_account_view(account),
        )  # fmt: skip
        with self._audit.transaction() as tx:
            tx.delete(account)
            tx.delete(PaymentAccountRef(*PaymentAccountRef.key(account.account_id)))
            tx.append(event)
        self._keys.delete(account.secret_id)

    def webhook_url(self, account: PaymentAccount) -> str:
        return f"{self._settings.api_public_url}/v1/payments/{account.provider}/webhook/{account.account_id}"

    def fees(self, org_id: str, provider: ProviderName) -> list[dict[str, int | str]]:
        """What each current plan pays the provider per online sale (QRIS MDR and the provider's own fee)."""
        plans = Plan.query(f"ORG#{org_id}", Plan.sk.startswith("PLAN#"))
        return [
            {"plan_id": plan.plan_id, "price": int(plan.price), "fee": fee(provider, int(plan.price))}
            for plan in plans
            if plan.archived_at is None
        ]

    # --- the guest's side ---------------------------------------------------------

    def online_plans(self, site_id: str) -> list[Plan]:
        """Plans sold online at a site that has a merchant account; empty when nothing can be bought there."""
        org_id = _org_of_site(site_id)
        if org_id is None or not self._accounts_for(org_id, site_id):
            return []
        return [plan for plan in _plans(org_id) if _sold_online_at(plan, site_id)]

    def create_order(self, actor: Actor, site_id: str, plan_id: str, provider: ProviderName | None) -> Order:
        """A pending order with the provider's QR; the price is the plan's, here, now."""
        address = actor.meta.source_ip or "unknown"
        by_address, by_site = scope_key("order-ip", f"{site_id}|{address}"), scope_key("order-site", site_id)
        try:
            self._per_address.check(by_address)
            self._per_site.check(by_site)
        except TooManyAttempts as exc:
            raise TooManyAttempts("Too many orders from here; try again in a few minutes.",
                                  retry_after=exc.retry_after) from exc  # fmt: skip
        org_id = _org_of_site(site_id)
        if org_id is None:
            raise NotFound("No such site.")
        self._gate.require_selling(org_id, site_id)
        plan = next((plan for plan in _plans(org_id) if plan.plan_id == plan_id), None)
        if plan is None or not _sold_online_at(plan, site_id):
            raise NotFound("This plan is not sold online here.", field="plan_id")
        accounts = self._accounts_for(org_id, site_id)
        account = next((a for a in accounts if provider in (None, a.provider)), None)
        if account is None:
            raise OnlineSalesUnavailable()
        credentials = self._credentials(account)
        if credentials is None:
            raise OnlineSalesUnavailable()
        self._per_address.record_failure(by_address)  # counts orders, not failures
        self._per_site.record_failure(by_site)
        now = self._clock()
        order_id = secrets.token_urlsafe(16)  # 128 bits: the link is the guest's only credential
        org, site = _get(Org, *Org.key(org_id)), _get(Site, *Site.key(org_id, site_id))
        order = Order(
            *Order.key(order_id), order_id=order_id, org_id=org_id, site_id=site_id, plan_id=plan.plan_id,
            venue_name=org.name if org else None, site_name=site.name if site else None,
            plan_name=plan.name, duration_minutes=int(plan.duration_minutes),
            data_quota_mb=int(plan.data_quota_mb) if plan.data_quota_mb is not None else None,
            amount=int(plan.price), provider=account.provider, account_id=account.account_id, status="pending",
            created_at=now, gsi1pk=Order.list_key(org_id),
            gsi1sk=f"{now.isoformat(timespec='microseconds')}#{order_id}",
            # Until the QR exists, the reconciler looks at it soon: a create that timed out may have landed.
            gsi2pk=DUE_PARTITION, gsi2sk=epoch(now) + 60 * QR_MINUTES,
        )  # fmt: skip
        order.save(condition=Order.pk.does_not_exist())
        request = ChargeRequest(
            order_id=order_id, amount=int(plan.price), expiry_minutes=QR_MINUTES,
            webhook_url=self.webhook_url(account), idempotency_key=f"create-{order_id}", created_at=now,
        )  # fmt: skip
        charge = self._create_charge(account, credentials, request)
        if charge is None:
            self._end(order, "failed", failure="provider_unavailable", keep_due=True)
            raise PaymentProviderUnavailable()
        actions = [
            Order.provider_ref.set(charge.provider_ref), Order.qr_string.set(charge.qr_string),
            Order.expires_at.set(charge.expires_at), Order.gsi2sk.set(epoch(charge.expires_at)),
        ]  # fmt: skip
        if charge.deeplink is not None:
            actions.append(Order.deeplink.set(charge.deeplink))
        update_if(order, actions, Order.status == "pending")  # paid already (a fast guest): the QR is moot
        order.provider_ref, order.qr_string, order.deeplink = charge.provider_ref, charge.qr_string, charge.deeplink
        order.expires_at = charge.expires_at
        return order

    def _create_charge(
        self, account: PaymentAccount, credentials: Credentials, request: ChargeRequest
    ) -> Charge | None:
        """Ask for the QR; a fault is retried once with the same idempotency key, never a new one."""
        adapter = self._providers(account.provider)  # type: ignore[arg-type]
        for attempt in range(CREATE_ATTEMPTS):
            try:
                return adapter.create_charge(credentials, request)
            except ProviderUnavailable:
                extra = {"provider": account.provider, "attempt": attempt + 1}
                get_logger().warning("payment provider unavailable on create", extra=extra)
                time.sleep(0.2 * (attempt + 1))
            except ProviderRefused as exc:
                extra = {"provider": account.provider, "reason": str(exc)[:200]}
                get_logger().warning("payment provider refused a charge", extra=extra)
                return None
        return None

    def guest_order(self, order_id: str, actor: Actor) -> GuestOrder:
        """The order as its link shows it; a pending one asks the provider (at most every few seconds)."""
        order = self._order(order_id)
        if order.status not in FINAL and order.provider_ref is not None and self._claim_check(order):
            order = self._check(order, actor)
        return GuestOrder(order, order_code(order), order.venue_name, order.site_name)

    def cancel_order(self, actor: Actor, order_id: str) -> Order:
        """The guest gives up: the provider expires the QR first, so nobody can pay it after the cancel."""
        order = self._order(order_id)
        if order.status != "pending":
            return order
        credentials = self._credentials_of(order)
        adapter = self._providers(order.provider)  # type: ignore[arg-type]
        try:
            if order.provider_ref is not None:
                adapter.expire(credentials, order.order_id, order.provider_ref)
            state = adapter.read_status(credentials, order.order_id, order.provider_ref)
        except ProviderUnavailable as exc:
            raise PaymentProviderUnavailable() from exc
        except ProviderRefused:
            state = None
        if state is not None and state.status == "paid":
            return self.apply(order, state, actor)  # paid just before the cancel: the guest gets the voucher
        return self._end(order, "cancelled")

    # --- the organisation's side ---------------------------------------------------

    def list_orders(
        self, org_id: str, start: date, end: date, status: str | None, *, limit: int, cursor: str | None = None
    ) -> OrderPage:
        """A page of orders created on UTC days start..end, newest first; a page read with a `status`
        holds only those (and may hold fewer than `limit` while more follow)."""
        partition, low, high = Order.list_key(org_id), start.isoformat(), f"{end.isoformat()}~"
        results = Order.by_org.query(
            partition, Order.gsi1sk.between(low, high),
            filter_condition=(Order.status == status) if status is not None else None,
            scan_index_forward=False, limit=limit,
            last_evaluated_key=decode_cursor(
                cursor, attributes=_ORDER_CURSOR_KEYS, partition=("GSI1PK", partition),
                sort_range=("GSI1SK", low, high),
            ),
        )  # fmt: skip
        orders = list(results)
        return OrderPage(orders=orders, next_cursor=encode_cursor(results.last_evaluated_key))

    def refund(self, actor: Actor, org_id: str, order_id: str, reason: str) -> Order:
        """Money back through the provider (idempotent key), then the voucher revoked and a reversal booked."""
        order = self._order(order_id)
        if order.org_id != org_id:
            raise NotFound("No such order.")
        if order.status == "refunded":
            return order
        if order.status != "fulfilled":
            raise Conflict("Only a paid order with its voucher can be refunded.")
        credentials = self._credentials_of(order)
        adapter = self._providers(order.provider)  # type: ignore[arg-type]
        try:
            refund_id = adapter.refund(
                credentials, order.order_id, order.provider_ref, order.payment_id, int(order.amount),
                f"refund-{order.order_id}", reason,
            )  # fmt: skip
        except ProviderUnavailable as exc:
            raise PaymentProviderUnavailable("The provider did not answer; the refund is safe to retry.") from exc
        except ProviderRefused as exc:
            raise Conflict(f"The provider refused the refund: {str(exc)[:200]}") from exc
        refunded = Along(
            Order(*Order.key(order.order_id)),
            [Order.status.set("refunded"), Order.refunded_at.set(self._clock()), Order.refund_id.set(refund_id),
             Order.refund_reason.set(reason)],
            Order.status == "fulfilled",
        )  # fmt: skip
        details = {"order_id": order.order_id, "provider": order.provider, "refund_id": refund_id}
        code = order_code(order)
        try:
            # One transaction and one audit event: the voucher revoked, its reversal booked, the order refunded.
            self._vouchers.refund(actor, org_id, str(code), reason, along=refunded, details=details)
        except Conflict:
            # The voucher was refunded by hand at the counter already: the order follows, with its own event.
            event = self._audit.event(
                actor, org_id=org_id, action="order.refund", target_type="order", target_id=order_id,
                before={"status": "fulfilled"}, after={"status": "refunded", "reason": reason, **details},
            )  # fmt: skip
            try:
                with self._audit.transaction() as tx:
                    tx.update(refunded.item, actions=list(refunded.actions), condition=refunded.condition)
                    tx.append(event)
            except TransactWriteError as exc:
                if not failed_condition(exc):
                    raise
        return self._order(order_id)

    # --- what the provider says -----------------------------------------------------

    def handle_webhook(self, provider: str, account_id: str, headers: Mapping[str, str], raw_body: bytes,
                       actor: Actor) -> Order:  # fmt: skip
        """Verify, then act. Raises WebhookUnauthorized (401), NotFound (404), PaymentProviderUnavailable (503)."""
        ref = _get(PaymentAccountRef, *PaymentAccountRef.key(account_id))
        if ref is None or ref.provider != provider:
            self._keep(account_id, provider, None, None, "unknown_account", _unverified(raw_body))
            raise NotFound("No such payment account.")
        account = _get(PaymentAccount, *PaymentAccount.key(ref.org_id, provider))
        credentials = self._credentials(account) if account is not None else None
        if account is None or credentials is None:  # fail closed: nothing to verify with
            self._keep(account_id, provider, ref.org_id, None, "rejected", _unverified(raw_body))
            raise WebhookUnauthorized()
        adapter = self._providers(provider)  # type: ignore[arg-type]
        try:
            event = adapter.verify_webhook(credentials, headers, raw_body)
        except WebhookRejected as exc:
            self._keep(account_id, provider, ref.org_id, None, "rejected", _unverified(raw_body))
            raise WebhookUnauthorized() from exc
        state = event.state
        order = _get(Order, *Order.key(state.order_id)) if state.order_id else None
        if order is None or order.account_id != account_id:
            self._keep(account_id, provider, ref.org_id, state.order_id, "unknown_order", event.redacted)
            raise NotFound("No such order.")
        if not event.trusted and state.status != "pending":
            try:
                state = adapter.read_status(credentials, order.order_id, order.provider_ref)
            except ProviderUnavailable as exc:
                self._keep(account_id, provider, ref.org_id, order.order_id, "provider_unavailable", event.redacted)
                raise PaymentProviderUnavailable() from exc
        was = order.status
        order = self.apply(order, state, actor)
        verdict = "duplicate" if was in FINAL else order.status
        self._keep(account_id, provider, ref.org_id, order.order_id, verdict, event.redacted)
        return order

    def apply(self, order: Order, state: PaymentState, actor: Actor) -> Order:
        """Bring the order in line with what the provider (verified) says."""
        if state.order_id != order.order_id:
            return order
        if state.status == "paid":
            return self.fulfil(order, state, actor)  # its transaction records the provider's word
        if order.status not in FINAL:
            order = self._record_provider_status(order, state.status)
        if state.status in ("expired", "cancelled", "failed") and order.status == "pending":
            return self._end(order, state.status)
        return order

    def fulfil(self, order: Order, state: PaymentState, actor: Actor) -> Order:
        """The one way a paid order gets its voucher: exactly once, in one transaction."""
        if order.status in FINAL:
            return order
        problem = _mismatch(order, state)
        if problem is not None:
            self._alerts.payment_problem(actor, order.org_id, order.site_id, order_id=order.order_id, problem=problem,
                                         details={"expected": int(order.amount), "paid": state.amount,
                                                  "currency": state.currency})  # fmt: skip
            return self._end(order, "failed", failure=problem)
        payment_id = state.payment_id or f"{order.provider}-{order.order_id}"
        site = _get(Site, *Site.key(order.org_id, order.site_id))
        plan = _get(Plan, *Plan.key(order.org_id, order.plan_id))
        if site is None or plan is None:  # deleted since: cannot be, plans and sites are only archived
            raise Conflict("The order's site or plan no longer exists.")
        for attempt in range(FULFIL_ATTEMPTS):
            sale, vouchers, line, event = self._selling.prepare(
                actor, site, plan, sale_id=sale_id_for(order.org_id, ONLINE_SELLER, order.order_id), quantity=1,
                unit_price=int(order.amount), seller_id=ONLINE_SELLER, cashier_ref=None, rev_cashier=ONLINE_SELLER,
            )  # fmt: skip
            paid_at = state.paid_at or self._clock()
            try:
                with self._audit.transaction() as tx:
                    tx.save(PaymentClaim(*PaymentClaim.key(order.provider, payment_id), order_id=order.order_id,
                                         at=self._clock()), condition=PaymentClaim.pk.does_not_exist())  # fmt: skip
                    tx.save(sale, condition=Sale.pk.does_not_exist())
                    for voucher in vouchers:
                        tx.save(voucher, condition=Voucher.pk.does_not_exist())
                    tx.record(line)
                    tx.append(event)
                    tx.update(
                        Order(*Order.key(order.order_id)),
                        actions=[
                            Order.status.set("fulfilled"), Order.paid_at.set(paid_at),
                            Order.provider_status.set("paid"), Order.payment_id.set(payment_id),
                            Order.sale_id.set(sale.sale_id),
                            Order.code_number.set(int(sale.first_number)), Order.failure.remove(),
                            Order.gsi2pk.remove(), Order.gsi2sk.remove(),
                        ],
                        condition=Order.status.is_in("pending", "expired", "cancelled", "failed")
                        & Order.sale_id.does_not_exist(),
                    )  # fmt: skip
            except TransactWriteError as exc:
                current = self._order(order.order_id)
                if current.status in FINAL:
                    return current  # another caller fulfilled it first
                if failed_condition(exc) and _claimed_elsewhere(order.provider, payment_id, order.order_id):
                    self._alerts.payment_problem(
                        actor, order.org_id, order.site_id, order_id=order.order_id, problem="payment_reused",
                        details={"payment_id": payment_id},
                    )  # fmt: skip
                    return self._end(current, "failed", failure="payment_reused")
                time.sleep(0.05 * (attempt + 1))  # a transaction conflict: another writer on the same items
                order = current
                continue
            return self._order(order.order_id)
        raise PaymentProviderUnavailable("The payment is recorded; its voucher is being made. Try again in a moment.")

    def reconcile(self, actor: Actor) -> dict[str, int]:
        """Ask the provider about orders near or past their expiry: fulfil what was paid, expire what was not."""
        counts = {"checked": 0, "fulfilled": 0, "expired": 0, "failed_reads": 0}
        horizon = epoch(self._clock()) + RECONCILE_AHEAD_SECONDS
        for due in Order.by_due.query(DUE_PARTITION, Order.gsi2sk <= horizon):
            order = _get(Order, *Order.key(due.order_id))
            if order is None or order.status in FINAL:
                continue
            counts["checked"] += 1
            try:
                order = self._check(order, actor, give_up=True)
            except (PaymentProviderUnavailable, ProviderUnavailable):
                counts["failed_reads"] += 1
                continue
            if order.status == "fulfilled":
                counts["fulfilled"] += 1
            elif order.status in ("expired", "cancelled", "failed") and order.gsi2pk is None:
                counts["expired"] += 1
        return counts

    def daily_check(self, actor: Actor, day: date) -> dict[str, int]:
        """Compare a UTC day's orders with the provider and the ledger: every payment has its voucher and sale."""
        counts = {"orders": 0, "paid_without_voucher": 0, "voucher_without_sale": 0}
        for account in PaymentAccount.every.query(ACCOUNTS_PARTITION):
            orders = Order.by_org.query(
                Order.list_key(account.org_id), Order.gsi1sk.between(day.isoformat(), f"{day.isoformat()}~")
            )
            for order in orders:
                if order.provider != account.provider:
                    continue
                counts["orders"] += 1
                if order.status == "fulfilled":
                    if not _sale_exists(order):
                        counts["voucher_without_sale"] += 1
                        self._alerts.payment_problem(actor, order.org_id, order.site_id, order_id=order.order_id,
                                                     problem="voucher_without_payment_record", details={})  # fmt: skip
                    continue
                if order.status in ("expired", "cancelled", "failed") and order.provider_ref is not None:
                    before = order.status
                    try:
                        order = self._check(order, actor, force=True)
                    except (PaymentProviderUnavailable, ProviderUnavailable):
                        continue
                    if order.status == "fulfilled" and before != "fulfilled":
                        counts["paid_without_voucher"] += 1
                        self._alerts.payment_problem(actor, order.org_id, order.site_id, order_id=order.order_id,
                                                     problem="payment_without_voucher", details={})  # fmt: skip
        return counts

    # --- pieces -----------------------------------------------------------------------

    def _check(self, order: Order, actor: Actor, *, give_up: bool = False, force: bool = False) -> Order:
        """Read the order's status from the provider and apply it. Past its expiry and still payable, the QR is
        expired at the provider first (then read again: a payment may have landed in between).

        `give_up`: the reconciler's run, which drops an unpaid order from its index a day after its expiry.
        `force`: provider faults are raised, not swallowed.
        """
        credentials = self._credentials_of(order)
        adapter = self._providers(order.provider)  # type: ignore[arg-type]
        now = self._clock()
        expires_at = order.expires_at or (order.created_at + timedelta(minutes=QR_MINUTES))
        try:
            state: PaymentState | None = adapter.read_status(credentials, order.order_id, order.provider_ref)
            if state is not None and state.status == "pending" and now >= expires_at:
                adapter.expire(credentials, order.order_id, order.provider_ref)
                state = adapter.read_status(credentials, order.order_id, order.provider_ref)
        except ProviderUnavailable:
            if give_up or force:
                raise
            get_logger().warning("payment status read failed", extra={"provider": order.provider})
            return order
        except ProviderRefused:
            state = None  # the provider does not know the order: its create never landed
        if state is not None:
            order = self.apply(order, state, actor)
        if order.status == "pending" and now >= expires_at and (state is None or state.status != "paid"):
            order = self._end(order, "expired")
        if give_up and order.status not in FINAL and now - expires_at > GIVE_UP_AFTER and order.gsi2pk is not None:
            order.update(actions=[Order.gsi2pk.remove(), Order.gsi2sk.remove()])
        return order

    def _claim_check(self, order: Order) -> bool:
        """One provider read per order per few seconds, however many polls come."""
        now = epoch(self._clock())
        if order.checked_at is not None and int(order.checked_at) > now - POLL_EVERY_SECONDS:
            return False  # read by a poll a moment ago: no write for this one
        return update_if(
            order, [Order.checked_at.set(now)],
            Order.checked_at.does_not_exist() | (Order.checked_at <= now - POLL_EVERY_SECONDS),
        )  # fmt: skip

    def _record_provider_status(self, order: Order, status: str) -> Order:
        if order.provider_status != status:
            order.update(actions=[Order.provider_status.set(status)])
        return order

    def _end(self, order: Order, status: str, *, failure: str | None = None, keep_due: bool = False) -> Order:
        """pending (or another unpaid state) -> expired | cancelled | failed; a fulfilled order is never ended."""
        actions: list[Action] = [Order.status.set(status), Order.ended_at.set(self._clock())]
        if failure is not None:
            actions.append(Order.failure.set(failure))
        if not keep_due and status != "failed":
            # Still in the index while a late payment could arrive; the reconciler drops it after GIVE_UP_AFTER.
            actions.append(Order.gsi2sk.set(epoch(self._clock() + GIVE_UP_AFTER)))
        if not update_if(order, actions, Order.status.is_in("pending", "expired", "cancelled", "failed")):
            return self._order(order.order_id)
        return order

    def _keep(self, account_id: str, provider: str, org_id: str | None, order_id: str | None, verdict: str,
              body: Mapping[str, Any] | None) -> None:  # fmt: skip
        now = self._clock()
        WebhookRecord(
            f"WEBHOOK#{account_id}", f"{now.isoformat(timespec='microseconds')}#{uuid.uuid4().hex[:8]}",
            org_id=org_id, provider=provider, order_id=order_id, verdict=verdict,
            body=json.dumps(body, sort_keys=True)[:20_000] if body is not None else None, at=now,
            ttl=now + timedelta(days=WEBHOOK_RETENTION_DAYS),
        ).save()  # fmt: skip

    def _accounts_for(self, org_id: str, site_id: str) -> list[PaymentAccount]:
        accounts = PaymentAccount.query(f"ORG#{org_id}", PaymentAccount.sk.startswith("PAYACCT#"))
        return sorted((a for a in accounts if a.covers(site_id)), key=lambda a: a.provider)

    def _credentials_of(self, order: Order) -> Credentials:
        """The keys of the account the order was charged on (not a newer account of the same provider)."""
        account = _get(PaymentAccount, *PaymentAccount.key(order.org_id, order.provider))
        credentials = self._credentials(account) if account is not None else None
        if account is None or credentials is None or account.account_id != order.account_id:
            raise OnlineSalesUnavailable("The merchant account this order was paid to is no longer connected.")
        return credentials

    def _credentials(self, account: PaymentAccount) -> Credentials | None:
        return self._keys.get(account.secret_id)

    def _order(self, order_id: str) -> Order:
        try:
            return Order.get(*Order.key(order_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No such order.") from exc


SIGNATURE_FIELDS = ("signature_key", "signature", "callback_token", "x-callback-token")


def _unverified(raw_body: bytes) -> dict[str, Any] | None:
    """A refused webhook's body, kept for whoever looks into it: parsed if it is JSON, signatures taken out."""
    try:
        body = json.loads(raw_body[:20_000])
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return {name: value for name, value in body.items() if name not in SIGNATURE_FIELDS}


def _mismatch(order: Order, state: PaymentState) -> str | None:
    if state.amount is None or state.amount != int(order.amount):
        return "amount_mismatch"
    if state.currency.upper() != order.currency:
        return "currency_mismatch"
    if state.provider_ref is not None and order.provider_ref is not None and state.provider_ref != order.provider_ref:
        return "reference_mismatch"
    return None


def _claimed_elsewhere(provider: str, payment_id: str, order_id: str) -> bool:
    claim = _get(PaymentClaim, *PaymentClaim.key(provider, payment_id))
    return claim is not None and claim.order_id != order_id


def _sale_exists(order: Order) -> bool:
    return order.sale_id is not None and _get(Sale, *Sale.key(order.org_id, order.sale_id)) is not None


def _org_of_site(site_id: str) -> str | None:
    ref = _get(SiteRef, *SiteRef.key(site_id))
    return ref.org_id if ref is not None else None


def _plans(org_id: str) -> Iterable[Plan]:
    return Plan.query(f"ORG#{org_id}", Plan.sk.startswith("PLAN#"))


def _sold_online_at(plan: Plan, site_id: str) -> bool:
    return plan.archived_at is None and bool(plan.sold_online) and site_id in (plan.online_sites or ())


def _site(org_id: str, site_id: str, *, field: str) -> Site:
    site = _get(Site, *Site.key(org_id, site_id))
    if site is None:
        raise ValidationFailed(f"{field}: no site {site_id} in this organization", field=field)
    return site


def _get(model: type[M], pk: str, sk: str) -> M | None:
    try:
        return model.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None


def _account_view(account: PaymentAccount) -> dict[str, Any]:
    return {
        "provider": account.provider,
        "environment": account.environment,
        "key_hint": account.key_hint,
        "site_ids": sorted(account.site_ids) if account.site_ids else None,
    }
