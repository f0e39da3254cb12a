"""One voucher as staff see it: status, timeline, revoke, extend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.auth.principal import Actor
from chalicelib.codes import code_hash
from chalicelib.errors import Conflict, KuotaError, NotFound
from chalicelib.models import LedgerEntry, Site, Voucher
from chalicelib.models.base import failed_condition
from chalicelib.models.expiry import Outcome, update_if
from chalicelib.models.vouchers import expiry_shard
from chalicelib.plan_rules import closes_at, is_open, next_opening, period_resets
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.devices import device_slots, release_slot
from chalicelib.services.outbox import outbox_actions, outbox_entry, voucher_id
from chalicelib.services.redeeming import SiteCache, data_remaining, period_left
from chalicelib.services.selling import local_day


@dataclass(frozen=True)
class Along:
    """Another item's update that must land with a voucher's change, or not at all."""

    item: Model
    actions: Sequence[Action]
    condition: Condition

UNUSED = ("issued", "sold")
JAKARTA = ZoneInfo("Asia/Jakarta")  # a voucher valid everywhere and never used has no site to ask


class PauseNotAllowed(KuotaError):
    status, code, default_message = 409, "pause_not_allowed", "This voucher cannot be paused or resumed now."


def pause_refusal(voucher: Voucher, now: int, by: str) -> str | None:
    """Why this voucher may not be paused now by `by` (staff or guest); None: it may."""
    if voucher.pause_by is None:
        return "Its plan does not allow pausing."
    if by == "guest" and voucher.pause_by != "guest":
        return "Only the venue's staff can pause this voucher."
    if voucher.status == "paused":
        return "The voucher is paused already."
    if voucher.status in UNUSED:
        return "The voucher has not been started yet: its time is not running."
    if voucher.status != "active" or voucher.expires_at is None or int(voucher.expires_at) <= now:
        return "The voucher's time is over."
    if int(voucher.pauses_used or 0) >= int(voucher.max_pauses or 0):
        return f"All {int(voucher.max_pauses or 0)} pauses of its plan are used."
    return None


def resume_actions(voucher: Voucher, now: int, entry: dict[str, Any]) -> tuple[list[Any], int]:
    """The writes that resume a paused voucher at `now`, and the paused seconds given back.

    No more than the plan's longest pause is given back: a pause left running past it counts
    as used time from then on. The additions are DynamoDB's (`expires_at + :paused`), so a
    top-up landing during the pause keeps what it added.
    """
    paused_for = min(now - int(voucher.paused_at or now), int(voucher.max_pause_minutes or 0) * 60)
    paused_for = max(paused_for, 0)
    actions = [
        Voucher.status.set("active"),
        Voucher.paused_at.remove(),
        Voucher.expires_at.set(Voucher.expires_at + paused_for),
        Voucher.window_seconds.add(paused_for),  # a login's expiry is activated_at + window_seconds
        Voucher.gsi2pk.set(expiry_shard(voucher.pk)),
        Voucher.gsi2sk.set(Voucher.expires_at + paused_for),
        Voucher.history.set((Voucher.history | []).append([{**entry, "paused_seconds": paused_for}])),
    ]
    return actions, paused_for


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


def window_now(voucher: Voucher, local: datetime) -> dict[str, Any] | None:
    """Where the voucher's windows stand at a local time (None: its plan has none)."""
    windows = cast(list[dict[str, Any]] | None, voucher.windows)
    if not windows:
        return None
    open_now = is_open(windows, local)
    return {"open": open_now, "closes_at": _utc(closes_at(windows, local)) if open_now else None,
            "next_opens_at": _utc(next_opening(windows, local))}  # fmt: skip


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def period_now(voucher: Voucher, local: datetime) -> dict[str, Any] | None:
    """Data left in the current period, never more than in total, and when it resets (None: no periods)."""
    left = period_left(voucher, local)
    if left is None:
        return None
    total_left = data_remaining(voucher)
    return {"data_remaining_bytes": left if total_left is None else min(left, total_left),
            "resets_at": period_resets(str(voucher.quota_period), local).astimezone(UTC)}  # fmt: skip


def _pause_terms(voucher: Voucher) -> dict[str, Any] | None:
    if voucher.pause_by is None:
        return None
    return {"by": voucher.pause_by, "max_pauses": int(voucher.max_pauses or 0),
            "max_pause_minutes": int(voucher.max_pause_minutes or 0)}  # fmt: skip


def voucher_view(voucher: Voucher, now: int, tz: ZoneInfo) -> dict[str, Any]:
    """What staff see of a voucher; `tz`: its site's timezone, which its windows and periods are in."""
    local = datetime.fromtimestamp(now, tz)
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
            "windows": voucher.windows or None,
            "period_quota_bytes": None if voucher.period_quota_bytes is None else int(voucher.period_quota_bytes),
            "quota_period": voucher.quota_period,
            "pause": _pause_terms(voucher),
            "device_policy": voucher.device_policy or "shared",
            "idle_release_minutes": None if voucher.idle_release_minutes is None
            else int(voucher.idle_release_minutes),
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
        "paused_at": iso(voucher.paused_at),
        "pauses_used": int(voucher.pauses_used or 0),
        "window": window_now(voucher, local),
        "period": period_now(voucher, local),
        "timeline": timeline(voucher),
    }


def history_entry(actor: Actor, event: str, now: int, **details: Any) -> dict[str, Any]:
    """A change people made, kept on the voucher for its timeline: when, what, by whom."""
    principal = actor.principal
    return {
        "at": now,
        "event": event,
        "by": principal.id if principal else "system",
        "role": str(principal.role) if principal and principal.role else None,
        **details,
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


def pause_is_over(voucher: Voucher, now: int) -> bool:
    """Whether a paused voucher has reached its plan's longest pause (its clock runs again then)."""
    return voucher.status == "paused" and voucher.paused_at is not None and (
        int(voucher.paused_at) + int(voucher.max_pause_minutes or 0) * 60 <= now
    )


def end_long_pause(voucher: Voucher, now: int, actor: Actor) -> Outcome:
    """Resume a voucher whose pause reached its longest, giving back exactly that much: the expiry job does
    it when due, and a login that finds it so first (the job runs every few minutes). Audited through the
    voucher's outbox, in the same write; refused when it changed meanwhile (`Outcome.old`)."""
    entry = history_entry(actor, "resumed", now, reason="longest pause reached")
    actions, paused_for = resume_actions(voucher, now, entry)
    event = outbox_entry(actor, action="voucher.resume", at=now, site_id=None,
                         after={"status": "active", "reason": "longest pause reached", "paused_seconds": paused_for})
    return update_if(
        Voucher(voucher.pk, voucher.sk),
        [*actions, *outbox_actions(voucher.pk.removeprefix("V#"), event)],
        (Voucher.status == "paused") & (Voucher.paused_at == voucher.paused_at),
    )


class VoucherService:
    def __init__(self, audit: AuditLog, clock: Clock = utc_now, sites: SiteCache | None = None) -> None:
        self._audit = audit
        self._clock = clock
        self._sites = sites

    def view(self, voucher: Voucher) -> dict[str, Any]:
        return voucher_view(voucher, int(self._clock().timestamp()), self.timezone(voucher))

    def timezone(self, voucher: Voucher) -> ZoneInfo:
        """The timezone its windows and periods are in: its site's, or where it was used or sold."""
        site_id = voucher.site_id or voucher.activated_site_id or voucher.rev_site
        return self._sites.timezone(voucher.org_id, site_id) if self._sites and site_id else JAKARTA

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
        entry = history_entry(actor, "revoked", now, reason=reason)
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
        entry = history_entry(actor, "extended", now, reason=reason, minutes=minutes)
        history = Voucher.history.set((Voucher.history | []).append([entry]))
        if voucher.status in UNUSED:
            valid_until = max(int(voucher.valid_until), now) + seconds
            actions = [Voucher.valid_until.set(valid_until), history, Voucher.ttl.remove(),
                       # the batch's own shelf-life entry has passed this voucher by: give it one
                       Voucher.gsi2pk.set(expiry_shard(voucher.pk)), Voucher.gsi2sk.set(valid_until)]  # fmt: skip
            after = {"valid_until": iso(valid_until), "minutes": minutes, "reason": reason}
            unchanged = Voucher.valid_until == voucher.valid_until
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
            # Its new limits are computed from this read: a top-up or resume landing meanwhile must not be undone.
            unchanged = (Voucher.window_seconds == voucher.window_seconds) & (
                Voucher.duration_minutes == voucher.duration_minutes
            )
            if voucher.expires_at is not None:
                unchanged &= Voucher.expires_at == voucher.expires_at
        else:
            raise Conflict(f"A {voucher.status} voucher cannot be extended.")
        return self._change(actor, voucher, "voucher.extend", actions, after, also=unchanged)

    def pause(self, actor: Actor, voucher: Voucher, reason: str, *, by: str = "staff") -> Voucher:
        """Stop a running wallclock voucher's clock: its sessions end, logins answer `voucher_paused`.

        The expiry index then holds when the pause runs out (`max_pause_minutes`): the expiry job
        resumes it then, so a forgotten pause costs the guest no more than the plan allows.
        """
        now = int(self._clock().timestamp())
        refusal = pause_refusal(voucher, now, by)
        if refusal is not None:
            raise PauseNotAllowed(refusal)
        entry = history_entry(actor, "paused", now, reason=reason, by_guest=by == "guest")
        actions = [
            Voucher.status.set("paused"),
            Voucher.paused_at.set(now),
            Voucher.pauses_used.set((Voucher.pauses_used | 0) + 1),
            Voucher.history.set((Voucher.history | []).append([entry])),
            Voucher.gsi2pk.set(expiry_shard(voucher.pk)),
            Voucher.gsi2sk.set(now + int(voucher.max_pause_minutes) * 60),
        ]
        # Still running, with time left and a pause left: a login, top-up or pause meanwhile is judged again.
        still = (Voucher.expires_at > now) & (Voucher.pauses_used.does_not_exist()
                                              | (Voucher.pauses_used < voucher.max_pauses))  # fmt: skip
        after = {"status": "paused", "reason": reason, "pauses_used": int(voucher.pauses_used or 0) + 1}
        return self._change(actor, voucher, "voucher.pause", actions, after, also=still, by_guest=by == "guest",
                            conflict=PauseNotAllowed("The voucher changed meanwhile; look again."))  # fmt: skip

    def resume(self, actor: Actor, voucher: Voucher, reason: str, *, by: str = "staff") -> Voucher:
        """Start the clock again: the paused time (up to the plan's longest pause) is added to its expiry."""
        if voucher.status != "paused":
            raise PauseNotAllowed(f"The voucher is {voucher.status}, not paused.")
        if by == "guest" and voucher.pause_by != "guest":
            raise PauseNotAllowed("Only the venue's staff can resume this voucher.")
        now = int(self._clock().timestamp())
        actions, paused_for = resume_actions(voucher, now, history_entry(actor, "resumed", now, reason=reason))
        after = {"status": "active", "reason": reason, "paused_seconds": paused_for}
        return self._change(actor, voucher, "voucher.resume", actions, after,
                            also=Voucher.paused_at == voucher.paused_at, by_guest=by == "guest",
                            conflict=PauseNotAllowed("The voucher changed meanwhile; look again."))  # fmt: skip

    def release_device(self, actor: Actor, org_id: str, code: str, slot: str) -> Voucher:
        """Staff free a device slot (the guest's phone changed its MAC); audited like the guest's own release."""
        return release_slot(self.find(org_id, code), slot, actor, self._clock, audit=self._audit)

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
        entry = history_entry(actor, "refunded", now, reason=reason, amount=amount)
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
        also: Condition | None = None, conflict: KuotaError | None = None, by_guest: bool = False,
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
        if by_guest:  # the guest page: the code was the only credential (as a guest's slot release says)
            event.actor_kind, event.actor_id, event.actor_role = "guest", "guest", "guest"
        try:
            with self._audit.transaction() as tx:
                for record in records:
                    tx.record(record)
                tx.append(event)
                # Conditioned on the status we decided from: a redeem or expiry in between wins.
                condition = Voucher.status == voucher.status
                tx.update(voucher, actions=actions, condition=condition if also is None else condition & also)
                if along is not None:
                    tx.update(along.item, actions=list(along.actions), condition=along.condition)
        except TransactWriteError as exc:
            if failed_condition(exc):
                raise conflict or Conflict("The voucher changed meanwhile; look again and retry.") from exc
            raise
        return Voucher.get(voucher.pk, voucher.sk, consistent_read=True)
