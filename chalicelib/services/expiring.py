"""The expiry job: records the expiries that are due, found through the sparse expiry index.

Whether a voucher may still be used is decided by comparing timestamps at
read and redeem time; this job only writes the outcome down: the voucher
becomes `expired` (with its audit entry in the outbox, in the same write), it
gets a TTL so the table forgets it after the retention period, and it leaves
the index. Work is found only by querying the index for entries due by now,
so a run costs requests in proportion to what is due, never to table size.

Every write is conditional, so two runs at once, or a run repeated after a
timeout, expire each voucher once and record it once. A run stops when its
deadline is near: what it finished has left the index, and a batch it was
half way through keeps its place (`expiry_done`), so the next run continues.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.auth.principal import Actor, scheduler_actor
from chalicelib.codes import code_hash
from chalicelib.config import get_settings
from chalicelib.models import Batch, Voucher
from chalicelib.models.expiry import Outcome, due_page, update_if
from chalicelib.models.vouchers import EXPIRY_SHARDS
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.compliance import ComplianceGate
from chalicelib.services.issuing import IssuingService
from chalicelib.services.outbox import outbox_actions, outbox_entry
from chalicelib.services.ratelimit import Budget
from chalicelib.services.vouchers import end_long_pause

UNUSED = ("issued", "sold")
ENDED = ("expired", "exhausted", "revoked")
PROGRESS_EVERY = 100  # a batch's place is saved this often, so a crash repeats at most this many updates
MAX_ATTEMPTS = 3  # a voucher that keeps changing under us is left for the next run

Deadline = Callable[[], float]
"""Seconds left before the run must stop; the run starts no new work once it is <= 0."""


@dataclass
class ExpiryReport:
    vouchers_expired: int = 0
    batches_processed: int = 0  # batches whose unused vouchers were all gone through
    entries_moved: int = 0  # index entries moved to a later time (extended, or activated since)
    entries_removed: int = 0  # index entries of vouchers that had ended otherwise (revoked, exhausted)
    pauses_ended: int = 0  # paused vouchers resumed because their longest pause was over
    requests: int = 0  # DynamoDB requests this run made
    complete: bool = True  # False: the deadline stopped the run; the next run continues


class _OutOfTime(Exception):
    pass


def _time_up(now: int) -> Condition:
    condition: Condition = (Voucher.status == "active") & (Voucher.expires_at <= now)
    return condition


def _shelf_life_over(now: int) -> Condition:
    condition: Condition = (
        Voucher.status.is_in(*UNUSED) & Voucher.activated_at.does_not_exist() & (Voucher.valid_until <= now)
    )
    return condition


def _due_at(voucher: Voucher) -> int | None:
    """When the voucher's expiry is due as the item stands; None when it has ended already."""
    if voucher.status == "active" and voucher.expires_at is not None:
        return int(voucher.expires_at)
    if voucher.status in UNUSED and voucher.activated_at is None:
        return int(voucher.valid_until)
    if voucher.status == "paused" and voucher.paused_at is not None:
        return int(voucher.paused_at) + int(voucher.max_pause_minutes or 0) * 60  # its longest pause is over
    return None


def _no_enqueue(org_id: str, batch_id: str) -> None:
    raise RuntimeError("the expiry job issues no batches")


class ExpiryService:
    def __init__(
        self, clock: Clock = utc_now, *, retention_days: int | None = None, page_size: int | None = None
    ) -> None:
        self._clock = clock
        days = get_settings().voucher_retention_days if retention_days is None else retention_days
        self._retention = timedelta(days=days)
        self._page_size = page_size  # None: DynamoDB's 1 MB pages; tests use small pages
        # Only to re-derive a batch's codes: its vouchers' keys are not stored anywhere else.
        budget = Budget(get_settings().issue_max_vouchers_per_hour, 3600, clock)  # never spent here
        self._issuing = IssuingService(AuditLog(clock), _no_enqueue, ComplianceGate(ttl_seconds=0), budget, clock)

    def run(self, deadline: Deadline | None = None, *, request_id: str | None = None) -> ExpiryReport:
        """Expire what is due now; stop early (report.complete False) when `deadline()` reaches 0."""
        now = self._clock()
        run = _Run(
            now=int(now.timestamp()),
            retain_until=now + self._retention,
            actor=scheduler_actor(request_id or f"expiry-{uuid.uuid4().hex[:12]}"),
            deadline=deadline,
            page_size=self._page_size,
            issuing=self._issuing,
        )
        try:
            for shard in range(EXPIRY_SHARDS):
                run.shard(f"EXP#{shard}")
        except _OutOfTime:
            run.report.complete = False
        return run.report


class _Run:
    """One run's state: its fixed `now`, its actor and what it has done."""

    def __init__(
        self,
        *,
        now: int,
        retain_until: datetime,
        actor: Actor,
        deadline: Deadline | None,
        page_size: int | None,
        issuing: IssuingService,
    ) -> None:
        self.now = now
        self.retain_until = retain_until
        self.actor = actor
        self.deadline = deadline
        self.page_size = page_size
        self.issuing = issuing
        self.report = ExpiryReport()

    def check_time(self) -> None:
        if self.deadline is not None and self.deadline() <= 0:
            raise _OutOfTime

    def shard(self, shard: str) -> None:
        start_key: dict[str, Any] | None = None
        while True:
            self.check_time()
            page = due_page(shard, self.now, start_key, self.page_size)
            self.report.requests += 1
            for item in page.items:
                self.check_time()
                if isinstance(item, Voucher):
                    self.voucher(item)
                else:
                    self.batch(item)
            if page.next_key is None:
                return
            # Entries finished above have left the index; DynamoDB resumes after this key all the same.
            start_key = page.next_key

    def voucher(self, voucher: Voucher) -> None:
        current: Voucher | None = voucher
        for _ in range(MAX_ATTEMPTS):
            if current is None or current.gsi2pk is None:
                return  # deleted, or out of the index already (another run, a revoke)
            due = _due_at(current)
            if due is None:
                self.leave_index(current)
                return
            if due > self.now:
                self.reschedule(current, due)
                return
            if current.status == "paused":
                outcome = self.resume(current)
                if outcome.applied:
                    return
                current = Voucher.from_raw_data(outcome.old) if outcome.old else None
                continue
            was_active = current.status == "active"
            outcome = self.expire(
                current.pk,
                _time_up(self.now) | _shelf_life_over(self.now),
                reason="time_up" if was_active else "shelf_life",
                site_id=(current.activated_site_id or current.site_id) if was_active else current.site_id,
            )
            if outcome.applied:
                return
            # It changed since we read it (extended, activated, revoked): decide again from how it is now.
            current = Voucher.from_raw_data(outcome.old) if outcome.old else None

    def expire(self, pk: str, condition: Condition, *, reason: str, site_id: str | None) -> Outcome:
        voucher_hash = pk.removeprefix("V#")
        # No site on the event itself: the scheduler's work is not staff activity, and a site
        # would flag every night-time expiry as off-hours. The site is kept in `after`.
        entry = outbox_entry(
            self.actor,
            action="voucher.expired",
            at=self.now,
            site_id=None,
            after={"status": "expired", "reason": reason, "site_id": site_id},
        )
        actions = [
            Voucher.status.set("expired"),
            # When its time ran out (what the timeline shows), not when this job came by.
            Voucher.ended_at.set(Voucher.expires_at | Voucher.valid_until),
            Voucher.ttl.set(self.retain_until),
            Voucher.gsi2pk.remove(),
            Voucher.gsi2sk.remove(),
            # Its revenue line stays until TTL removes the voucher; the ledger's copy (written when the
            # outbox drains its sale) stays for good, and the report counts the pair once.
            *outbox_actions(voucher_hash, entry),
        ]
        outcome = update_if(Voucher(pk, "META"), actions, condition)
        self.report.requests += 1
        if outcome.applied:
            self.report.vouchers_expired += 1
        return outcome

    def resume(self, voucher: Voucher) -> Outcome:
        """A pause that reached the plan's longest: the clock runs again, with exactly that pause given back."""
        outcome = end_long_pause(voucher, self.now, self.actor)
        self.report.requests += 1
        if outcome.applied:
            self.report.pauses_ended += 1
        return outcome

    def reschedule(self, voucher: Voucher, due: int) -> None:
        if voucher.gsi2sk == due:
            return  # the index answered from before a change that already set the entry right
        outcome = update_if(
            Voucher(voucher.pk, voucher.sk),
            [Voucher.gsi2sk.set(due)],
            # Only the entry we judged: a change meanwhile set its own entry.
            (Voucher.status == voucher.status) & (Voucher.gsi2sk == voucher.gsi2sk),
        )
        self.report.requests += 1
        if outcome.applied:
            self.report.entries_moved += 1

    def leave_index(self, voucher: Voucher) -> None:
        outcome = update_if(
            Voucher(voucher.pk, voucher.sk),
            [Voucher.gsi2pk.remove(), Voucher.gsi2sk.remove()],
            # An expired voucher extended meanwhile is active again with a new entry: keep that one.
            (Voucher.status == voucher.status) & (Voucher.gsi2sk == voucher.gsi2sk),
        )
        self.report.requests += 1
        if outcome.applied:
            self.report.entries_removed += 1

    def batch(self, batch: Batch) -> None:
        if batch.status in ("pending", "running"):
            return  # still being written; it stays due and the next run looks again
        done = int(batch.expiry_done or 0)
        saved = done
        unused = _shelf_life_over(self.now)
        try:
            for code in self.issuing.codes(batch, start=done):
                self.check_time()
                # Refused: used, revoked, extended (it has its own entry then) or never written. Skip it.
                self.expire(Voucher.key(code_hash(batch.org_id, code))[0], unused, reason="shelf_life",
                            site_id=batch.site_id)  # fmt: skip
                done += 1
                if done - saved >= PROGRESS_EVERY:
                    self.save_progress(batch, done)
                    saved = done
        except _OutOfTime:
            if done > saved:
                self.save_progress(batch, done)
            raise
        outcome = update_if(
            Batch(batch.pk, batch.sk),
            [Batch.gsi2pk.remove(), Batch.gsi2sk.remove(), Batch.expiry_done.set(int(batch.quantity))],
            Batch.gsi2sk == batch.gsi2sk,  # a run alongside may have finished it first
        )
        self.report.requests += 1
        if outcome.applied:
            self.report.batches_processed += 1

    def save_progress(self, batch: Batch, done: int) -> None:
        update_if(
            Batch(batch.pk, batch.sk),
            [Batch.expiry_done.set(done)],
            # Never backwards: a run alongside may be further on.
            Batch.gsi2pk.exists() & (Batch.expiry_done.does_not_exist() | (Batch.expiry_done < done)),
        )
        self.report.requests += 1
