"""Selling vouchers at a till (POS key or console) and voiding a sale.

A sale is written all at once: the Sale, its vouchers (already sold), its
ledger entry (the sale's revenue line) and its audit event in one transaction,
so a sale never exists half-made. When the caller sends an idempotency key the sale id is
derived from it; a retry whose first attempt did land (its response was lost)
finds that sale and returns it instead of selling twice.

A void never deletes: it stamps the sale, revokes its vouchers (even ones in
use: a refund ends access) and writes a reversal line with negative amounts on
the day of the void. A refund does the same for one voucher (a sale's or a
printed one's) and leaves the rest of its sale alone.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.principal import Actor
from chalicelib.codes import CodeGenerator, CodeShape
from chalicelib.errors import Conflict, IdempotencyMismatch, NotFound, ValidationFailed
from chalicelib.models import AuditEvent, LedgerEntry, Plan, Sale, Site, Voucher
from chalicelib.models.base import cancelled_by_condition, failed_condition
from chalicelib.models.shifts import OpenShiftClaim
from chalicelib.models.vouchers import expiry_shard
from chalicelib.services import Clock, epoch, utc_now
from chalicelib.services.audit import AuditLog, Changes
from chalicelib.services.compliance import ComplianceGate
from chalicelib.services.issuing import CodeShapes, terms_of, voucher_item
from chalicelib.services.plans import PlanService
from chalicelib.services.shifts import sale_before_shift
from chalicelib.services.sites import SiteService

# A sale and its vouchers and audit event share one transaction; DynamoDB allows 100 items.
MAX_QUANTITY = 50
SALE_SHAPE = CodeShape()  # till sales use the org's default code shape


def sale_id_for(org_id: str, seller_id: str, idempotency_key: str) -> str:
    """The same seller retrying with the same key names the same sale."""
    return hashlib.sha256(f"{org_id}|{seller_id}|{idempotency_key}".encode()).hexdigest()[:24]


def local_day(at: datetime, site: Site) -> str:
    """Revenue is booked on the site's calendar day, not UTC's."""
    return at.astimezone(ZoneInfo(site.timezone)).date().isoformat()


def sale_view(sale: Sale) -> dict[str, Any]:
    """What a sale shows without its codes (those are shown only when it is made)."""
    return {
        "sale_id": sale.sale_id,
        "site_id": sale.site_id,
        "plan_id": sale.plan_id,
        "quantity": int(sale.quantity),
        "unit_price": int(sale.unit_price),
        "total": int(sale.total),
        "cashier_ref": sale.cashier_ref,
        "seller_id": sale.seller_id,
        "sold_at": sale.sold_at,
        "expires_at": sale.valid_until,
        "status": "voided" if sale.voided_at is not None else "sold",
        "voided_at": sale.voided_at,
        "void_reason": sale.void_reason,
    }


class SellingService:
    def __init__(self, audit: AuditLog, plans: PlanService, sites: SiteService, gate: ComplianceGate,
                 clock: Clock = utc_now) -> None:  # fmt: skip
        self._audit = audit
        self._gate = gate
        self._plans = plans
        self._sites = sites
        self._clock = clock
        self._shapes = CodeShapes()

    def sell(
        self,
        actor: Actor,
        org_id: str,
        *,
        site_id: str,
        plan_id: str,
        quantity: int,
        cashier_ref: str | None,
        seller_id: str,
        idempotency_key: str | None = None,
        shift_id: str | None = None,
    ) -> Sale:
        """Sell `quantity` vouchers of a plan at a site; with an idempotency key, at most once."""
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed(f"quantity: must be between 1 and {MAX_QUANTITY}", field="quantity")
        self._gate.require_selling(org_id, site_id)
        plan = self._plans.get(org_id, plan_id)
        if plan.archived_at is not None:
            raise Conflict("This plan is archived; choose a current plan.", field="plan_id")
        site = self._sites.get_site(org_id, site_id)
        # A POS names its own cashier; at the console the signed-in user is the cashier.
        by_pos = actor.principal is not None and actor.principal.kind == "api_key"
        sale_id = sale_id_for(org_id, seller_id, idempotency_key) if idempotency_key else uuid.uuid4().hex[:24]
        sale, vouchers, line, event = self.prepare(
            actor, site, plan, sale_id=sale_id, quantity=quantity, unit_price=int(plan.price),
            seller_id=seller_id, cashier_ref=cashier_ref, rev_cashier=cashier_ref if by_pos else seller_id,
            shift_id=shift_id,
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.save(sale, condition=Sale.pk.does_not_exist())  # index 0 in the cancellation reasons
                for voucher in vouchers:
                    tx.save(voucher, condition=Voucher.pk.does_not_exist())
                tx.record(line)
                tx.append(event)
                if shift_id is not None:  # counted on the open shift, which must still be open
                    tx.update(
                        OpenShiftClaim(*OpenShiftClaim.key(org_id, seller_id)),
                        actions=[OpenShiftClaim.sales.add(1)],
                        condition=OpenShiftClaim.shift_id == shift_id,
                    )
        except TransactWriteError as exc:
            if idempotency_key is not None and cancelled_by_condition(exc, 0):
                pass  # made by an earlier attempt: answered below
            elif shift_id is not None and failed_condition(exc):
                raise Conflict("Your shift was closed meanwhile: open a shift and sell again.") from exc
            else:
                raise
            # The sale was made by an earlier attempt whose response never arrived; the code
            # numbers just taken stay unused (gaps are harmless, repeats would not be).
            return self._same_sale(org_id, sale_id, seller_id=seller_id, site_id=site_id, plan_id=plan.plan_id,
                                   quantity=quantity)  # fmt: skip
        return sale

    def prepare(
        self, actor: Actor, site: Site, plan: Plan, *, sale_id: str, quantity: int, unit_price: int, seller_id: str,
        cashier_ref: str | None, rev_cashier: str | None, shift_id: str | None = None,
    ) -> tuple[Sale, list[Voucher], LedgerEntry, AuditEvent]:  # fmt: skip
        """A sale's items, not yet written: the sale, its vouchers (sold), its revenue line, its audit event.

        Written together in one transaction by `sell`, or with an online order's own items by its fulfilment.
        """
        org_id, site_id = site.org_id, site.site_id
        first = self._shapes.take(org_id, SALE_SHAPE, quantity)
        now = self._clock()
        # Whole seconds: the vouchers store epoch seconds and the receipt must show the same time.
        valid_until = datetime.fromtimestamp(epoch(now + timedelta(days=int(plan.validity_days))), UTC)
        terms = terms_of(plan)
        sold_at, day = epoch(now), local_day(now, site)
        vouchers: list[Voucher] = []
        for code in _codes(org_id, first, quantity):
            voucher = voucher_item(
                org_id=org_id, code=code, source_id=sale_id, site_id=site_id, terms=terms,
                issued_at=now, valid_until=valid_until, status="sold",
            )  # fmt: skip
            voucher_hash = voucher.pk.removeprefix("V#")
            voucher.price = unit_price
            voucher.sold_at = sold_at
            voucher.sale_id = sale_id
            voucher.gsi2pk, voucher.gsi2sk = expiry_shard(voucher_hash), epoch(valid_until)
            # The sale's ledger entry carries the money. The voucher's own line, worth nothing, marks it
            # sold (its first redeem books nothing: `if_not_exists`) and keeps it on the day's dashboard.
            voucher.gsi3pk = f"ORG#{org_id}#DAY#{day}"
            voucher.gsi3sk = f"{now.isoformat(timespec='seconds')}#{voucher_hash}"
            voucher.rev_site, voucher.rev_plan, voucher.rev_cashier = site_id, plan.plan_id, rev_cashier
            voucher.rev_amount, voucher.rev_count = 0, 0
            vouchers.append(voucher)
        sale = Sale(
            *Sale.key(org_id, sale_id),
            sale_id=sale_id,
            org_id=org_id,
            site_id=site_id,
            plan_id=plan.plan_id,
            quantity=quantity,
            unit_price=unit_price,
            total=unit_price * quantity,
            cashier_ref=cashier_ref,
            seller_id=seller_id,
            rev_cashier=rev_cashier,
            sold_at=now,
            first_number=first,
            valid_until=valid_until,
            voucher_keys=[[voucher.pk, voucher.sk] for voucher in vouchers],
            gsi1pk=Sale.list_key(org_id),
            gsi1sk=f"{now.isoformat(timespec='microseconds')}#{sale_id}",
            shift_id=shift_id,
        )
        event = self._audit.event(
            actor, org_id=org_id, action="sale.create", target_type="sale", target_id=sale_id, site=site,
            after={"site_id": site_id, "plan_id": plan.plan_id, "quantity": quantity, "unit_price": unit_price,
                   "total": unit_price * quantity, "cashier_ref": cashier_ref, "seller_id": seller_id,
                   "shift_id": shift_id},
        )  # fmt: skip
        line = LedgerEntry(
            *LedgerEntry.key(org_id, now, "sale", sale_id),
            gsi3pk=f"ORG#{org_id}#DAY#{day}",
            gsi3sk=f"{now.isoformat(timespec='seconds')}#SALE#{sale_id}",
            rev_kind="sale", rev_site=site_id, rev_plan=plan.plan_id, rev_cashier=rev_cashier,
            rev_amount=unit_price * quantity, rev_count=quantity, sale_id=sale_id, at=now,
        )  # fmt: skip
        return sale, vouchers, line, event

    def _same_sale(
        self, org_id: str, sale_id: str, *, seller_id: str, site_id: str, plan_id: str, quantity: int
    ) -> Sale:
        sale = self.get_sale(org_id, sale_id)
        if (sale.seller_id, sale.site_id, sale.plan_id, int(sale.quantity)) != (seller_id, site_id, plan_id, quantity):
            # Only once the idempotency record has expired can an old key come back with another request.
            raise IdempotencyMismatch()
        return sale

    def codes(self, sale: Sale) -> list[str]:
        """The sale's readable codes, re-derived (they are never stored)."""
        return list(_codes(sale.org_id, int(sale.first_number), int(sale.quantity)))

    def get_sale(self, org_id: str, sale_id: str, *, seller_id: str | None = None) -> Sale:
        """One sale; with `seller_id`, only if that seller made it (a cashier sees only their own)."""
        try:
            sale = Sale.get(*Sale.key(org_id, sale_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No such sale.") from exc
        if seller_id is not None and sale.seller_id != seller_id:
            raise NotFound("No such sale.")
        return sale

    def void(self, actor: Actor, org_id: str, sale_id: str, reason: str) -> Sale:
        """Reverse a sale: revoke its vouchers and book negative revenue today; never twice."""
        sale = self.get_sale(org_id, sale_id)
        if sale.voided_at is not None:
            raise Conflict("This sale is already voided.")
        site = self._sites.get_site(org_id, sale.site_id)
        now = self._clock()
        # Vouchers TTL removed long after they expired have nothing left to revoke; refunded ones
        # have been reversed on their own already.
        keys = [(pk, sk) for pk, sk in sale.voucher_keys]
        found = {voucher.pk: voucher for voucher in Voucher.batch_get(keys, attributes_to_get=["PK", "refunded_at"])}
        refunded = sum(1 for voucher in found.values() if voucher.refunded_at is not None)
        quantity, total = int(sale.quantity), int(sale.total)
        reversed_count, reversed_amount = quantity - refunded, total - refunded * int(sale.unit_price)
        if sale.kind == "topup":
            reversed_count, reversed_amount = quantity, total  # a top-up is never refunded on its own
        entry = LedgerEntry(
            *LedgerEntry.key(org_id, now, "void", sale_id),
            gsi3pk=f"ORG#{org_id}#DAY#{local_day(now, site)}",
            gsi3sk=f"{now.isoformat(timespec='seconds')}#VOID#{sale_id}",
            rev_kind="void", rev_site=sale.site_id, rev_plan=sale.plan_id, rev_cashier=sale.rev_cashier,
            rev_amount=-reversed_amount, rev_count=-reversed_count, sale_id=sale_id, reason=reason, at=now,
        )  # fmt: skip
        before = {"status": "sold", "quantity": quantity, "total": total}
        voider = actor.principal.id if actor.principal and actor.principal.kind == "user" else None
        after = {"status": "voided", "reason": reason, "vouchers_revoked": reversed_count,
                 "amount_reversed": reversed_amount, "sale_before_shift": sale_before_shift(org_id, sale, voider)}
        event = self._audit.event(
            actor, org_id=org_id, action="sale.void", target_type="sale", target_id=sale_id, site=site,
            before=before, after=after,
        )  # fmt: skip
        ended = epoch(now)
        change = {"at": ended, "action": "void", "by": actor.principal.id if actor.principal else None,
                  "reason": reason}  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.record(entry)
                tx.append(event)
                # Puts precede updates in a TransactWrite: the sale's stamp is index 2.
                tx.update(
                    sale,
                    actions=[Sale.voided_at.set(now), Sale.void_reason.set(reason)],
                    condition=Sale.voided_at.does_not_exist(),
                )
                if sale.kind == "topup":
                    self._take_back(tx, sale, change)
                    keys = []  # the code stays the guest's: only what the top-up added goes
                for pk, sk in keys:
                    voucher = found.get(pk)
                    if voucher is None or voucher.refunded_at is not None:
                        continue
                    tx.update(
                        Voucher(pk, sk),
                        actions=[
                            Voucher.status.set("revoked"),
                            Voucher.ended_at.set(Voucher.ended_at | ended),  # an expiry already recorded stays
                            Voucher.history.set((Voucher.history | []).append([change])),
                            Voucher.gsi2pk.remove(),  # nothing left for the expiry job to do
                            Voucher.gsi2sk.remove(),
                        ],
                        # A refund landing meanwhile would be reversed twice: let it win, and say so.
                        condition=(Voucher.sale_id == sale_id) & Voucher.refunded_at.does_not_exist(),
                    )
        except TransactWriteError as exc:
            if cancelled_by_condition(exc, 2):
                raise Conflict("This sale is already voided.") from exc
            if failed_condition(exc):
                raise Conflict("A voucher of this sale was refunded meanwhile; look again and retry.") from exc
            raise
        sale.voided_at, sale.void_reason = now, reason
        return sale

    @staticmethod
    def _take_back(tx: Changes, sale: Sale, change: dict[str, Any]) -> None:
        """A voided top-up takes back the minutes and data it added, from the code as it is now."""
        from chalicelib.services.topups import limit_actions  # top-ups build on selling

        pk, sk = sale.voucher_keys[0]
        try:
            voucher = Voucher.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return  # long gone (TTL): nothing left to take back
        actions = limit_actions(voucher, -int(sale.topup_seconds or 0), -int(sale.topup_bytes or 0))
        tx.update(voucher, actions=[*actions, Voucher.history.set((Voucher.history | []).append([change]))],
                  condition=Voucher.status == voucher.status)  # fmt: skip


def _codes(org_id: str, first: int, quantity: int) -> list[str]:
    generator = CodeGenerator(org_id, SALE_SHAPE)
    return [generator.code(first + index) for index in range(quantity)]
