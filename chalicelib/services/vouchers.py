"""One voucher as staff see it: status, timeline, revoke, extend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.auth.principal import Actor
from chalicelib.codes import code_hash
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import LedgerEntry, Site, Voucher
from chalicelib.models.base import failed_condition
from chalicelib.models.vouchers import expiry_shard
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.devices import device_slots, release_slot
from chalicelib.services.outbox import voucher_id
from chalicelib.services.selling import local_day


@dataclass(frozen=True)
class Along:
    """Another item's update that must land with a voucher's change, or not at all."""

    item: Model
    actions: Sequence[Action]
    condition: Condition

UNUSED = ("issued", "sold")


def iso(epoch_seconds: float | None) -> str | None:
    if epoch_seconds is None:
        return None
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat().replace("+00:00", "Z")


def timeline(voucher: Voucher) -> list[dict[str, Any]]:
    """Every transition with its time and actor, oldest first."""
    events: list[dict[str, Any]] = [{"at": iso(voucher.issued_at), "event": "issued", "by": voucher.source_id}]
    if voucher.sold_at is not None:
        by = voucher.sale_id or "first redeem"
        events.append({"at": iso(voucher.sold_at), "event": "sold", "by": by, "site_id": voucher.rev_site})
    if voucher.activated_at is not None:
        events.append({"at": iso(voucher.activated_at), "event": "activated", "site_id": voucher.activated_site_id})
    for entry in cast(list[dict[str, Any]], voucher.history or []):
        events.append({**entry, "at": iso(entry["at"])})
    if voucher.ended_at is not None and voucher.status in ("expired", "exhausted"):
        events.append({"at": iso(voucher.ended_at), "event": voucher.status, "by": "system"})
    return sorted(events, key=lambda event: event["at"] or "")


def voucher_view(voucher: Voucher) -> dict[str, Any]:
    return {
        "voucher_id": voucher_id(voucher),
        "status": voucher.status,
        "plan": {
            "plan_id": voucher.plan_id,
            "name": voucher.plan_name,
            "price": int(voucher.price),
            "duration_minutes": int(voucher.duration_minutes),
            "time_mode": voucher.time_mode,
            "data_quota_bytes": None if voucher.quota_bytes is None else int(voucher.quota_bytes),
        },
        "site_id": voucher.site_id,
        "issued_at": iso(voucher.issued_at),
        "valid_until": iso(voucher.valid_until),
        "sold_at": iso(voucher.sold_at),
        "sale_id": voucher.sale_id,
        "activated_at": iso(voucher.activated_at),
        "expires_at": iso(voucher.expires_at),
        "devices_used": len(voucher.devices or ()),
        "max_devices": int(voucher.max_devices),
        "used_seconds": int(voucher.used_seconds),
        "used_bytes": int(voucher.used_bytes),
        "devices": [{"slot": slot.slot, "last_seen_at": slot.last_seen_at} for slot in device_slots(voucher)],
        "timeline": timeline(voucher),
    }


def _site_of(voucher: Voucher) -> Site | None:
    """The site whose business hours judge a change to the voucher: its own, or where it was used or sold."""
    site_id = voucher.site_id or voucher.activated_site_id or voucher.rev_site
    if not site_id:
        return None
    try:
        return Site.get(*Site.key(voucher.org_id, site_id))
    except DoesNotExist:
        return None


class VoucherService:
    def __init__(self, audit: AuditLog, clock: Clock = utc_now) -> None:
        self._audit = audit
        self._clock = clock

    def find(self, org_id: str, code: str) -> Voucher:
        try:
            return Voucher.get(*Voucher.key(code_hash(org_id, code)), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No voucher with this code.") from exc

    def revoke(self, actor: Actor, org_id: str, code: str, reason: str) -> Voucher:
        voucher = self.find(org_id, code)
        if voucher.status == "revoked":
            return voucher
        if voucher.status not in (*UNUSED, "active"):
            raise Conflict(f"The voucher is already {voucher.status}.")
        now = int(self._clock().timestamp())
        entry = self._history_entry(actor, "revoked", now, reason=reason)
        actions = [
            Voucher.status.set("revoked"),
            Voucher.ended_at.set(now),
            Voucher.history.set((Voucher.history | []).append([entry])),
            Voucher.gsi2pk.remove(),
            Voucher.gsi2sk.remove(),
        ]
        return self._change(actor, voucher, "voucher.revoke", actions, {"status": "revoked", "reason": reason})

    def extend(self, actor: Actor, org_id: str, code: str, minutes: int, reason: str) -> Voucher:
        """Add time to a running voucher, or shelf life to an unused one (e.g. after an outage)."""
        voucher = self.find(org_id, code)
        now = int(self._clock().timestamp())
        seconds = minutes * 60
        entry = self._history_entry(actor, "extended", now, reason=reason, minutes=minutes)
        history = Voucher.history.set((Voucher.history | []).append([entry]))
        if voucher.status in UNUSED:
            valid_until = max(int(voucher.valid_until), now) + seconds
            actions = [Voucher.valid_until.set(valid_until), history, Voucher.ttl.remove(),
                       # the batch's own shelf-life entry has passed this voucher by: give it one
                       Voucher.gsi2pk.set(expiry_shard(voucher.pk)), Voucher.gsi2sk.set(valid_until)]  # fmt: skip
            after = {"valid_until": iso(valid_until), "minutes": minutes, "reason": reason}
        elif voucher.status == "active" or (voucher.status == "expired" and voucher.activated_at is not None):
            extra: list[Any] = []
            if voucher.time_mode == "usage":
                # Connected time is what runs out: add to it; the calendar bound need only cover it.
                expires_at = max(int(voucher.expires_at or now), now + seconds)
                extra.append(Voucher.duration_minutes.set(int(voucher.duration_minutes) + minutes))
            else:
                # Time lost while expired (the network was down) is given back from now.
                expires_at = max(int(voucher.expires_at or now), now) + seconds
            window = expires_at - int(voucher.activated_at or now)
            actions = [*extra, Voucher.ttl.remove(), Voucher.status.set("active"), Voucher.expires_at.set(expires_at),
                       Voucher.window_seconds.set(window), Voucher.ended_at.remove(), history,
                       Voucher.gsi2pk.set(expiry_shard(voucher.pk)), Voucher.gsi2sk.set(expires_at)]  # fmt: skip
            after = {"status": "active", "expires_at": iso(expires_at), "minutes": minutes, "reason": reason}
        else:
            raise Conflict(f"A {voucher.status} voucher cannot be extended.")
        return self._change(actor, voucher, "voucher.extend", actions, after)

    def release_device(self, actor: Actor, org_id: str, code: str, slot: str) -> Voucher:
        """Staff free a device slot (the guest's phone changed its MAC); audited like the guest's own release."""
        return release_slot(self.find(org_id, code), slot, actor, self._clock, audit=self._audit)

    def _history_entry(self, actor: Actor, event: str, now: int, **details: Any) -> dict[str, Any]:
        principal = actor.principal
        return {
            "at": now,
            "event": event,
            "by": principal.id if principal else "system",
            "role": str(principal.role) if principal and principal.role else None,
            **details,
        }

    def refund(
        self, actor: Actor, org_id: str, code: str, reason: str, *, along: Along | None = None,
        details: dict[str, Any] | None = None,
    ) -> Voucher:  # fmt: skip
        """Give a sold voucher's money back: it is revoked and a negative line is booked today, at its site.

        The rest of its sale (if it came from one) stands; a void of that sale later reverses only what
        was not refunded. `along`: one more conditional update in the same transaction (an online order
        marked refunded), described by `details` in the one audit event.
        """
        voucher = self.find(org_id, code)
        if voucher.sold_at is None:
            raise Conflict("This voucher was never sold: there is nothing to refund.")
        if voucher.refunded_at is not None:
            raise Conflict("This voucher was refunded already.")
        if voucher.status == "revoked":
            raise Conflict("A revoked voucher cannot be refunded (a voided sale's vouchers are reversed already).")
        at = self._clock()
        now = int(at.timestamp())
        site_id = voucher.rev_site or voucher.activated_site_id or voucher.site_id
        site = Site.get(*Site.key(org_id, site_id)) if site_id else None
        amount = int(voucher.price)  # what it was sold for: a sale's unit price, or a printed voucher's at redeem
        day = local_day(at, site) if site else at.date().isoformat()
        line = LedgerEntry(
            *LedgerEntry.key(org_id, at, "refund", voucher_id(voucher)),
            gsi3pk=f"ORG#{org_id}#DAY#{day}", gsi3sk=f"{at.isoformat(timespec='seconds')}#REFUND#{voucher_id(voucher)}",
            rev_kind="refund", rev_site=site_id, rev_plan=voucher.rev_plan or voucher.plan_id,
            rev_cashier=voucher.rev_cashier, rev_amount=-amount, rev_count=-1, sale_id=voucher.sale_id,
            voucher_ref=voucher_id(voucher), reason=reason, at=at,
        )  # fmt: skip
        entry = self._history_entry(actor, "refunded", now, reason=reason, amount=amount)
        actions = [
            Voucher.status.set("revoked"),
            Voucher.refunded_at.set(now),
            Voucher.ended_at.set(Voucher.ended_at | now),
            Voucher.history.set((Voucher.history | []).append([entry])),
            Voucher.gsi2pk.remove(),
            Voucher.gsi2sk.remove(),
        ]
        after = {"status": "revoked", "amount": amount, "reason": reason, "sale_id": voucher.sale_id, **(details or {})}
        return self._change(actor, voucher, "voucher.refund", actions, after, records=[line], site=site, along=along)

    def _change(
        self, actor: Actor, voucher: Voucher, action: str, actions: list[Any], after: dict[str, Any],
        *, records: Sequence[LedgerEntry] = (), site: Site | None = None, along: Along | None = None,
    ) -> Voucher:  # fmt: skip
        before = {
            "status": voucher.status,
            "expires_at": iso(voucher.expires_at),
            "valid_until": iso(voucher.valid_until),
        }
        event = self._audit.event(
            actor, org_id=voucher.org_id, action=action, target_type="voucher", target_id=voucher_id(voucher),
            before=before, after=after, site=site or _site_of(voucher),
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                for record in records:
                    tx.record(record)
                tx.append(event)
                # Conditioned on the status we decided from: a redeem or expiry in between wins.
                tx.update(voucher, actions=actions, condition=Voucher.status == voucher.status)
                if along is not None:
                    tx.update(along.item, actions=list(along.actions), condition=along.condition)
        except TransactWriteError as exc:
            if failed_condition(exc):
                raise Conflict("The voucher changed meanwhile; look again and retry.") from exc
            raise
        return Voucher.get(voucher.pk, voucher.sk, consistent_read=True)
