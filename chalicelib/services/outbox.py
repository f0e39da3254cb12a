"""The audit outbox for voucher changes made on hot paths (redeem, accounting, expiry).

Those paths may spend one write request only, so the change and its audit
entry travel in the same UpdateItem: the entry is appended to the voucher's
`pending_audit` list and the voucher enters the sparse outbox index (GSI1).
`AuditOutbox.drain` (a scheduled job) copies entries to the audit table under
their own event ids, so a repeated drain writes nothing twice, then clears them.
Drained events are chained like every other (`AuditLog.commit`). A first redeem
that sold a printed voucher is also where its sale enters the ledger: the event
says so (`after["sale"]`) and the ledger copy of the voucher's revenue line is
written with it, in one transaction. A redeem's event also counts the accepted login in
the site's quality figures, in the same transaction (`services.quality`).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from chalicelib.auth.principal import Actor
from chalicelib.models import AuditEvent, LedgerEntry, Site, Voucher
from chalicelib.models.accounts import org_pk
from chalicelib.models.base import failed_condition
from chalicelib.models.vouchers import packed, unpacked
from chalicelib.services.audit import AuditLog, Changes, is_off_hours
from chalicelib.services.quality import DEFAULT_TIMEZONE, accepted_update

OUTBOX_SHARDS = 4


def outbox_shard(voucher_hash: str) -> str:
    return f"OUTBOX#{int(voucher_hash[:8], 16) % OUTBOX_SHARDS}"


def outbox_entry(actor: Actor, *, action: str, at: int, site_id: str | None, after: dict[str, Any]) -> dict[str, Any]:
    principal, meta = actor.principal, actor.meta
    return {
        "event_id": uuid.uuid4().hex,
        "at": at,
        "action": action,
        "actor_kind": principal.kind if principal else "system",
        "actor_id": principal.id if principal else "scheduler",
        "actor_role": str(principal.role or principal.key_kind) if principal else "system",
        "actor_name": (principal.email or principal.name) if principal else None,
        "site_id": site_id,
        "source_ip": meta.source_ip,
        "user_agent": meta.user_agent,
        "request_id": meta.request_id,
        "after": after,
    }


def outbox_actions(voucher_hash: str, entry: dict[str, Any]) -> list[Action]:
    """Update actions that put `entry` in the outbox alongside the change it describes."""
    return [
        Voucher.pending_audit.set((Voucher.pending_audit | []).append([packed(entry)])),
        Voucher.gsi1pk.set(Voucher.gsi1pk | outbox_shard(voucher_hash)),
        Voucher.gsi1sk.set(Voucher.gsi1sk | f"{entry['at']:012d}#{voucher_hash}"),
    ]


class AuditOutbox:
    def __init__(self, audit: AuditLog | None = None) -> None:
        self._audit = audit or AuditLog()
        self._sites: dict[tuple[str, str], Site | None] = {}

    def drain(self, max_vouchers: int = 1000) -> int:
        """Move pending entries to the audit table; return how many events were written."""
        written = 0
        seen = 0
        for shard in range(OUTBOX_SHARDS):
            for voucher in Voucher.by_outbox.query(f"OUTBOX#{shard}"):
                written += self._flush(cast(Voucher, voucher))
                seen += 1
                if seen >= max_vouchers:
                    return written
        return written

    def _flush(self, voucher: Voucher) -> int:
        stored = list(voucher.pending_audit or [])
        entries = [unpacked(entry) for entry in stored]
        written = 0
        booked = False  # a reconnect in the same second as the first redeem did not sell it again
        for entry in entries:
            event = self._event(voucher, entry)
            changes = Changes()
            changes.append(event)
            self._count_login(changes, voucher, entry)
            line = sale_line(voucher) if not booked and _sold_by(voucher, entry) else None
            if line is not None:
                booked = True
                event.after = {**(event.after or {}), "sale": {"amount": int(line.rev_amount),
                                                               "plan_id": line.rev_plan}}  # fmt: skip
                changes.record(line)
            try:
                self._audit.commit(changes)
            except TransactWriteError as exc:
                if not failed_condition(exc):
                    raise
                if _written(event):
                    continue  # by an earlier drain (and its line with it)
                if line is None:
                    raise
                # The line was booked by an earlier entry in the same second: this redeem is a reconnect.
                event.after = {name: value for name, value in (event.after or {}).items() if name != "sale"}
                alone = Changes()
                alone.append(event)
                self._count_login(alone, voucher, entry)
                self._audit.commit(alone)
            written += 1
        try:
            voucher.update(
                actions=[Voucher.pending_audit.remove(), Voucher.gsi1pk.remove(), Voucher.gsi1sk.remove()],
                # The index copy may be stale: clear only the very list we wrote (same first entry,
                # same length), never entries appended after another drain cleared ours.
                condition=(size(Voucher.pending_audit) == len(entries))  # type: ignore[no-untyped-call]
                & (Voucher.pending_audit[0] == stored[0] if isinstance(stored[0], str)
                   else Voucher.pending_audit[0]["event_id"] == entries[0]["event_id"]),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # new entries arrived meanwhile: they are flushed on the next drain
        return written

    def _count_login(self, changes: Changes, voucher: Voucher, entry: dict[str, Any]) -> None:
        """An accepted login enters the site's quality figures with its event: written once, counted once."""
        site_id = entry.get("site_id")
        if entry["action"] != "voucher.redeem" or not site_id:
            return
        site = self._site(voucher.org_id, site_id)
        timezone = ZoneInfo(site.timezone) if site else DEFAULT_TIMEZONE
        at = datetime.fromtimestamp(int(entry["at"]), UTC)
        changes.update(*accepted_update(voucher.org_id, site_id, at, timezone))

    def _event(self, voucher: Voucher, entry: dict[str, Any]) -> AuditEvent:
        at = datetime.fromtimestamp(int(entry["at"]), UTC)
        site = self._site(voucher.org_id, entry.get("site_id"))
        return AuditEvent(
            org_pk(voucher.org_id),
            f"{at.isoformat(timespec='microseconds')}#{entry['event_id']}",
            event_id=entry["event_id"],
            at=at,
            org_id=voucher.org_id,
            actor_id=entry["actor_id"],
            actor_kind=entry["actor_kind"],
            actor_role=entry["actor_role"],
            actor_name=entry.get("actor_name"),
            platform_action=False,
            source_ip=entry.get("source_ip"),
            user_agent=entry.get("user_agent"),
            request_id=entry.get("request_id"),
            action=entry["action"],
            target_type="voucher",
            target_id=voucher_id(voucher),
            site_id=entry.get("site_id"),
            off_hours=is_off_hours(at, site) if site else None,
            after=entry.get("after"),
        )

    def _site(self, org_id: str, site_id: str | None) -> Site | None:
        if site_id is None:
            return None
        if (org_id, site_id) not in self._sites:
            try:
                self._sites[(org_id, site_id)] = Site.get(*Site.key(org_id, site_id))
            except DoesNotExist:
                self._sites[(org_id, site_id)] = None
        return self._sites[(org_id, site_id)]


def _written(event: AuditEvent) -> bool:
    return AuditEvent.count(event.pk, AuditEvent.sk == event.sk, consistent_read=True) > 0


def _sold_by(voucher: Voucher, entry: dict[str, Any]) -> bool:
    """Whether this redeem is what sold the voucher (a printed one, first used now)."""
    return (
        entry["action"] == "voucher.redeem"
        and voucher.sale_id is None
        and voucher.sold_at is not None
        and int(voucher.sold_at) == int(entry["at"])
        and voucher.gsi3pk is not None
    )


def sale_line(voucher: Voucher) -> LedgerEntry:
    """The ledger's copy of a printed voucher's revenue line (same sales-index keys: reports count one)."""
    sold_at = datetime.fromtimestamp(int(cast(int, voucher.sold_at)), UTC)
    return LedgerEntry(
        *LedgerEntry.key(voucher.org_id, sold_at, "redeem_sale", voucher_id(voucher)),
        gsi3pk=voucher.gsi3pk,
        gsi3sk=voucher.gsi3sk,
        rev_kind="redeem_sale",
        rev_site=voucher.rev_site,
        rev_plan=voucher.rev_plan or voucher.plan_id,
        rev_cashier=voucher.rev_cashier,
        rev_amount=int(voucher.rev_amount if voucher.rev_amount is not None else voucher.price),
        rev_count=int(voucher.rev_count if voucher.rev_count is not None else 1),
        voucher_ref=voucher_id(voucher),
        at=sold_at,
    )


def voucher_id(voucher: Voucher) -> str:
    """A stable reference to a voucher that reveals nothing about its code."""
    return voucher.pk.removeprefix("V#")[:20]


def mac_ref(mac_hash: str) -> str:
    """Enough of a device's keyed hash to tell devices apart in the audit trail."""
    return hashlib.sha256(mac_hash.encode()).hexdigest()[:12]
