"""Top-ups: a `topup` plan sold onto a code the guest already has, adding its minutes and data.

A top-up is a sale like any other: one transaction writes the Sale (kind `topup`), its
ledger line (under the top-up plan), the audit event and the voucher's new limits. The
limits are additions evaluated by DynamoDB (`ADD`, `expires_at + :seconds`), never values
computed from a read, so a login or an accounting update racing the top-up loses nothing:
the redeem computes `expires_at` from `window_seconds`, which the top-up grows too, and
accounting never writes the limits at all. With an idempotency key (the POS) the sale id
is derived from it, so a retried request finds the first attempt's sale.

Live sessions learn the new limits from their next accounting update (`topped_up_at`
is newer than their last report), which FreeRADIUS turns into a CoA-Request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, IdempotencyMismatch, KuotaError, ValidationFailed
from chalicelib.models import LedgerEntry, Plan, Sale, Voucher
from chalicelib.models.base import cancelled_by_condition, failed_condition
from chalicelib.models.shifts import OpenShiftClaim
from chalicelib.plan_rules import MB
from chalicelib.services import Clock, epoch, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.compliance import ComplianceGate
from chalicelib.services.outbox import voucher_id
from chalicelib.services.plans import PlanService
from chalicelib.services.redeeming import WrongSite
from chalicelib.services.selling import local_day, sale_id_for
from chalicelib.services.sites import SiteService
from chalicelib.services.vouchers import VoucherService, history_entry


class TopupNotAllowed(KuotaError):
    status, code, default_message = 409, "topup_not_allowed", "This code cannot be topped up."


@dataclass(frozen=True)
class Topup:
    sale: Sale
    voucher: Voucher


def topup_refusal(voucher: Voucher, now: int) -> str | None:
    """Why a code may not be topped up now (None: it may)."""
    status = str(voucher.status)
    if status in ("revoked", "expired", "exhausted"):
        return f"This code is {status}: sell a new voucher instead."
    if voucher.quota_bytes is not None and int(voucher.used_bytes) >= int(voucher.quota_bytes):
        return "This code's data is used up: sell a new voucher instead."
    if status in ("issued", "sold") and int(voucher.valid_until) <= now:
        return "This code's shelf life is over: sell a new voucher instead."
    if status == "active" and voucher.expires_at is not None and int(voucher.expires_at) <= now:
        return "This code's time is over: sell a new voucher instead."
    return None


def _still_usable(voucher: Voucher, now: int) -> Condition:
    """The top-up's condition: the state it was judged in, still usable (a racing expiry or revoke wins)."""
    condition: Condition = Voucher.status == voucher.status
    if voucher.quota_bytes is not None:
        condition &= Voucher.used_bytes < Voucher.quota_bytes
    if voucher.status == "active":
        condition &= Voucher.expires_at > now
    elif voucher.status in ("issued", "sold"):
        condition &= Voucher.valid_until > now
    return condition


def limit_actions(voucher: Voucher, seconds: int, data_bytes: int) -> list[Action]:
    """Add (or, negative, take back) minutes and data: additions DynamoDB evaluates on the item as it is."""
    actions: list[Action] = []
    if seconds:
        if voucher.time_mode == "usage":
            actions.append(Voucher.duration_minutes.add(seconds // 60))  # connected time is what runs out
        else:
            actions.append(Voucher.window_seconds.add(seconds))  # the redeem's expiry = activation + window
            if voucher.status in ("active", "paused"):
                actions.append(Voucher.expires_at.set(Voucher.expires_at + seconds))
            if voucher.status == "active":
                actions.append(Voucher.gsi2sk.set(Voucher.expires_at + seconds))  # a paused one's is its resume
    if data_bytes and voucher.quota_bytes is not None:  # unlimited data stays unlimited
        actions.append(Voucher.quota_bytes.add(data_bytes))
    return actions


class TopupService:
    def __init__(self, audit: AuditLog, plans: PlanService, sites: SiteService, vouchers: VoucherService,
                 gate: ComplianceGate, clock: Clock = utc_now) -> None:  # fmt: skip
        self._audit = audit
        self._plans = plans
        self._sites = sites
        self._vouchers = vouchers
        self._gate = gate
        self._clock = clock

    def top_up(
        self, actor: Actor, org_id: str, code: str, plan_id: str, *, site_id: str | None, seller_id: str,
        idempotency_key: str | None = None, shift_id: str | None = None,
    ) -> Topup:  # fmt: skip
        """Sell `plan_id` (a top-up plan) onto `code`, booked at `site_id` (a POS's own, or the one named at
        the console), else at the code's own site (its site, or where it was first used or sold)."""
        plan = self._topup_plan(org_id, plan_id)
        voucher = self._vouchers.find(org_id, code)
        if site_id is not None and voucher.site_id is not None and voucher.site_id != site_id:
            raise WrongSite("This code is valid at another site; top it up there.")
        sale_site = site_id or voucher.site_id or voucher.activated_site_id or voucher.rev_site
        if sale_site is None:
            raise ValidationFailed("site_id: this code is valid at every site and was never used; name the site "
                                   "that sells the top-up", field="site_id")  # fmt: skip
        self._gate.require_selling(org_id, sale_site)
        site = self._sites.get_site(org_id, sale_site)
        sale_id = sale_id_for(org_id, seller_id, idempotency_key) if idempotency_key else uuid.uuid4().hex[:24]
        if idempotency_key is not None:
            earlier = self._earlier(org_id, sale_id, seller_id, voucher, plan)
            if earlier is not None:
                return earlier
        now = self._clock()
        at = epoch(now)
        refusal = topup_refusal(voucher, at)
        if refusal is not None:
            raise TopupNotAllowed(refusal)
        seconds, data_bytes = int(plan.duration_minutes) * 60, int(plan.data_quota_mb or 0) * MB
        price = int(plan.price)
        rev_cashier = seller_id if actor.principal is None or actor.principal.kind == "user" else None
        sale = Sale(
            *Sale.key(org_id, sale_id), sale_id=sale_id, org_id=org_id, site_id=site.site_id, plan_id=plan.plan_id,
            quantity=1, unit_price=price, total=price, seller_id=seller_id, rev_cashier=rev_cashier, sold_at=now,
            first_number=0, voucher_keys=[[voucher.pk, voucher.sk]], gsi1pk=Sale.list_key(org_id),
            gsi1sk=f"{now.isoformat(timespec='microseconds')}#{sale_id}", kind="topup",
            topup_seconds=seconds, topup_bytes=data_bytes if voucher.quota_bytes is not None else 0,
            shift_id=shift_id,
        )  # fmt: skip
        line = LedgerEntry(
            *LedgerEntry.key(org_id, now, "sale", sale_id),
            gsi3pk=f"ORG#{org_id}#DAY#{local_day(now, site)}",
            gsi3sk=f"{now.isoformat(timespec='seconds')}#SALE#{sale_id}",
            rev_kind="sale", rev_site=site.site_id, rev_plan=plan.plan_id, rev_cashier=rev_cashier,
            rev_amount=price, rev_count=1, sale_id=sale_id, voucher_ref=voucher_id(voucher), at=now,
        )  # fmt: skip
        minutes, data_mb = int(plan.duration_minutes), int(plan.data_quota_mb or 0)
        entry = history_entry(actor, "topped_up", at, plan_id=plan.plan_id, minutes=minutes, data_mb=data_mb,
                              sale_id=sale_id)  # fmt: skip
        actions = [
            *limit_actions(voucher, seconds, data_bytes),
            Voucher.topped_up_at.set(at),
            Voucher.history.set((Voucher.history | []).append([entry])),
        ]
        event = self._audit.event(
            actor, org_id=org_id, action="voucher.topup", target_type="voucher", target_id=voucher_id(voucher),
            site=site, before=_limits(voucher),
            after={"sale_id": sale_id, "plan_id": plan.plan_id, "price": price, "minutes": minutes, "data_mb": data_mb},
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.save(sale, condition=Sale.pk.does_not_exist())  # index 0 in the cancellation reasons
                tx.record(line)
                tx.append(event)
                tx.update(voucher, actions=actions, condition=_still_usable(voucher, at))
                if shift_id is not None:  # the cash is in the seller's open shift, which must still be open
                    tx.update(OpenShiftClaim(*OpenShiftClaim.key(org_id, seller_id)),
                              actions=[OpenShiftClaim.sales.add(1)], condition=OpenShiftClaim.shift_id == shift_id)
        except TransactWriteError as exc:
            if idempotency_key is not None and cancelled_by_condition(exc, 0):
                earlier = self._earlier(org_id, sale_id, seller_id, voucher, plan)
                if earlier is not None:
                    return earlier
            if shift_id is not None and cancelled_by_condition(exc, 4):
                raise Conflict("Your shift was closed meanwhile: open a shift and sell again.") from exc
            if failed_condition(exc):
                raise TopupNotAllowed("The code changed meanwhile (used up, expired or revoked); look again.") from exc
            raise
        return Topup(sale, Voucher.get(voucher.pk, voucher.sk, consistent_read=True))

    def _topup_plan(self, org_id: str, plan_id: str) -> Plan:
        plan = self._plans.get(org_id, plan_id)
        if plan.kind != "topup":
            raise ValidationFailed("plan_id: not a top-up plan (sell it as a new voucher instead)", field="plan_id")
        if plan.archived_at is not None:
            raise Conflict("This plan is archived; choose a current plan.", field="plan_id")
        return plan

    def _earlier(self, org_id: str, sale_id: str, seller_id: str, voucher: Voucher, plan: Plan) -> Topup | None:
        """The sale a first attempt with this idempotency key made, if any (the same request, or a 422)."""
        try:
            sale = Sale.get(*Sale.key(org_id, sale_id), consistent_read=True)
        except Sale.DoesNotExist:
            return None
        if (sale.seller_id, sale.plan_id, sale.voucher_keys) != (seller_id, plan.plan_id, [[voucher.pk, voucher.sk]]):
            raise IdempotencyMismatch()
        return Topup(sale, Voucher.get(voucher.pk, voucher.sk, consistent_read=True))


def _limits(voucher: Voucher) -> dict[str, Any]:
    return {
        "status": voucher.status,
        "window_seconds": int(voucher.window_seconds),
        "expires_at": None if voucher.expires_at is None else int(voucher.expires_at),
        "quota_bytes": None if voucher.quota_bytes is None else int(voucher.quota_bytes),
    }
