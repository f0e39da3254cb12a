"""Platform revenue shares and settlements: what each organisation owes the ISP for a period.

A share is the ISP's percent (two decimals, kept as basis points) of an
organisation's net sales, in force from a day on; setting one appends to the
history, never edits it. A settlement reads every organisation's sales through
`ReportingService.sales` (the same figures the organisation's own report
shows: no second way of adding revenue up) and, per organisation:

- gross = the sale lines, voids = the void and refund lines (<= 0), net = gross + voids;
- isp_share = sum over the period's local days of net(day) x percent(day) / 100,
  with the share in force on each day (a change mid-period splits it), computed
  exactly in integers and rounded once, to the nearest rupiah, halves away from
  zero; reseller_share = net - isp_share, so the two add up to the net exactly.
  A day before any share was set counts at 0 %.

An issued settlement is written once, in one transaction: its record, one
append-only ledger entry per organisation (rev_kind "settlement", no sales-index
keys, so reports never count it) and its audit event. Afterwards only
adjustments follow it, each a new record. Periods of settlements never overlap.

Payments: what an organisation owes for a settlement is its isp_share plus its
adjustments; a platform admin records each transfer received as a payment (a
new record with its audit event, never edited) and takes back one recorded by
mistake with a reversal (one per payment). outstanding = owed - paid, where paid
leaves reversed payments out. A settlement is due `due_days` after the (UTC) day
it was issued; `overdue()` lists the organisations with something outstanding
after that, for the compliance job's `settlement_overdue` trigger.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.models import LedgerEntry, Org, RevenueShare, SettlementCounter, SettlementRecord
from chalicelib.models.base import cancelled_by_condition
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog, Changes
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.reporting import ReportingService

MAX_SETTLEMENT_DAYS = 31
BASIS = 10_000  # basis points in a whole: 100 % = 10,000
# One transaction holds the counter, the settlement, its event and a ledger entry per organisation.
MAX_ORGS_PER_SETTLEMENT = 500  # its lines travel in one record and one ledger entry (~250 B a line; 400 KB an item)
# The compliance job looks this far back for unpaid settlements (by the period's first day: one bounded query).
OVERDUE_LOOKBACK_DAYS = 400


def basis_points(percent: Decimal) -> int:
    """12.5 -> 1250; more than two decimals is an error, not a rounding."""
    scaled = percent * 100
    if scaled != scaled.to_integral_value() or not 0 <= scaled <= BASIS:
        raise ValidationFailed("percent: a number from 0 to 100 with at most two decimals", field="percent")
    return int(scaled)


def percent_of(points: int) -> float:
    return float(Decimal(points) / 100)


def share_of(numerator: int) -> int:
    """numerator / BASIS to the nearest rupiah, halves away from zero (numerator = sum of rupiah x points)."""
    return int((Decimal(numerator) / BASIS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Share:
    org_id: str
    effective_from: date
    points: int
    reason: str
    set_at: str
    set_by: str | None

    def view(self) -> dict[str, Any]:
        return {
            "percent": percent_of(self.points),
            "effective_from": self.effective_from.isoformat(),
            "reason": self.reason,
            "set_at": self.set_at,
            "set_by": self.set_by,
        }


def _share(item: RevenueShare) -> Share:
    return Share(
        org_id=str(item.org_id),
        effective_from=date.fromisoformat(str(item.effective_from)),
        points=int(item.basis_points),
        reason=str(item.reason),
        set_at=item.set_at.isoformat(),
        set_by=item.set_by,
    )


def share_on(history: list[Share], day: date) -> Share | None:
    """The share in force on a day: latest effective_from not after it; of equals, the one set last."""
    candidates = [share for share in history if share.effective_from <= day]
    return max(candidates, key=lambda share: (share.effective_from, share.set_at)) if candidates else None


@dataclass
class Balance:
    """Where one organisation stands on a settlement."""

    org_id: str
    org_name: str
    isp_share: int  # as issued (0 for an organisation only adjusted into it)
    adjusted: int  # the sum of its adjustments
    paid: int  # the sum of its payments not reversed
    payments: list[SettlementRecord]  # every payment, reversed ones too, in the order recorded

    @property
    def owed(self) -> int:
        return self.isp_share + self.adjusted

    @property
    def outstanding(self) -> int:
        return self.owed - self.paid


@dataclass
class SettlementView:
    record: SettlementRecord
    adjustments: list[SettlementRecord]
    payments: list[SettlementRecord] = field(default_factory=list)
    reversals: dict[str, SettlementRecord] = field(default_factory=dict)  # payment id -> its reversal
    paid: dict[str, SettlementRecord] = field(default_factory=dict)  # org id -> what it paid so far (the guard)

    @property
    def settlement_id(self) -> str:
        return str(self.record.settlement_id)

    def balances(self) -> list[Balance]:
        """Per organisation with a line or an adjustment: the lines' order, then adjusted-only ones by name."""
        balances: dict[str, Balance] = {}
        for line in self.record.lines or []:
            balances[str(line["org_id"])] = Balance(str(line["org_id"]), str(line["org_name"]),
                                                    int(line["isp_share"]), 0, 0, [])  # fmt: skip
        for item in sorted(self.adjustments, key=lambda item: str(item.org_name)):
            balance = balances.setdefault(str(item.org_id), Balance(str(item.org_id), str(item.org_name), 0, 0, 0, []))
            balance.adjusted += int(item.amount or 0)
        for payment in self.payments:
            balance = balances[str(payment.org_id)]
            balance.payments.append(payment)
            if str(payment.payment_id) not in self.reversals:
                balance.paid += int(payment.amount or 0)
        return list(balances.values())

    def balance(self, org_id: str) -> Balance | None:
        return next((balance for balance in self.balances() if balance.org_id == org_id), None)


@dataclass(frozen=True)
class SettlementPage:
    settlements: list[SettlementRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class Overdue:
    """An organisation that still owes on a settlement past its due day."""

    org_id: str
    org_name: str
    settlement_id: str
    period_from: date
    period_to: date
    due_on: date
    outstanding: int


def _view(settlement_id: str, items: list[SettlementRecord]) -> SettlementView | None:
    """A settlement and what followed it, from the items of its key range (None without the settlement)."""
    record = next((item for item in items if item.kind == "settlement"), None)
    if record is None:
        return None
    mine = sorted((item for item in items if item.settlement_id == settlement_id), key=lambda item: str(item.sk))
    return SettlementView(
        record=record,
        adjustments=[item for item in mine if item.kind == "adjustment"],
        payments=[item for item in mine if item.kind == "payment"],
        reversals={str(item.payment_id): item for item in mine if item.kind == "reversal"},
        paid={str(item.org_id): item for item in mine if item.kind == "paid"},
    )


class SettlementService:
    def __init__(self, audit: AuditLog, reports: ReportingService, clock: Clock = utc_now) -> None:
        self._audit = audit
        self._reports = reports
        self._clock = clock

    # --- shares -----------------------------------------------------------------------------------

    def history(self, org_id: str) -> list[Share]:
        """Every share set for the org, in the order they take effect (then the order they were set)."""
        self._org(org_id)
        return self._shares(org_id)

    def _shares(self, org_id: str) -> list[Share]:
        items = RevenueShare.query(f"ORG#{org_id}", RevenueShare.sk.startswith(RevenueShare.PREFIX))
        return sorted((_share(item) for item in items), key=lambda share: (share.effective_from, share.set_at))

    def current(self, history: list[Share]) -> Share | None:
        return share_on(history, self._clock().date())

    def set_share(self, actor: Actor, org_id: str, percent: Decimal, effective_from: date, reason: str) -> Share:
        """Append a share to the history; a day already settled cannot change its share (adjust instead)."""
        points = basis_points(percent)
        history = self.history(org_id)
        settled = [record for record in self._settlements() if str(record.period_to) >= effective_from.isoformat()]
        if settled:
            last = max(str(record.period_to) for record in settled)
            raise Conflict(
                f"Sales up to {last} are settled; a share may take effect from the day after. "
                "Correct a settlement with an adjustment.", field="effective_from",
            )  # fmt: skip
        now = self._clock()
        share_id = uuid.uuid4().hex[:12]
        item = RevenueShare(
            *RevenueShare.key(org_id, effective_from.isoformat(), now.isoformat(timespec="microseconds"), share_id),
            org_id=org_id,
            effective_from=effective_from.isoformat(),
            basis_points=points,
            reason=reason,
            set_at=now,
            set_by=_who(actor),
        )
        before = share_on(history, effective_from)
        event = self._audit.event(
            actor, org_id=org_id, action="org.share.set", target_type="org", target_id=org_id,
            before=before.view() if before else None, after=_share(item).view(),
        )  # fmt: skip
        with self._audit.transaction() as tx:
            tx.save(item, condition=RevenueShare.pk.does_not_exist())  # history is only ever added to
            tx.append(event)
        return _share(item)

    # --- settlements ------------------------------------------------------------------------------

    def issue(self, actor: Actor, start: date, end: date) -> SettlementView:
        """Settle every organisation's sales of the local days start..end; once per day, ever."""
        if end < start:
            raise ValidationFailed("to: must not be before from", field="to")
        if (end - start).days + 1 > MAX_SETTLEMENT_DAYS:
            raise ValidationFailed(f"to: a settlement covers at most {MAX_SETTLEMENT_DAYS} days", field="to")
        now = self._clock()
        # A local day D is over everywhere (UTC+7..+9) once UTC's day D is: settle only days that ended.
        if end >= now.date():
            raise ValidationFailed("to: settle only days that are over (before today, UTC)", field="to")
        counter = self._counter()
        settled = self._settlements()
        for record in settled:
            if str(record.period_from) <= end.isoformat() and start.isoformat() <= str(record.period_to):
                raise Conflict(
                    f"Settlement {record.settlement_id} already covers {record.period_from} to {record.period_to}; "
                    "follow it with an adjustment instead.",
                    field="from",
                )
        lines = [line for org in self._orgs() if (line := self._line(org, start, end)) is not None]
        if len(lines) > MAX_ORGS_PER_SETTLEMENT:
            raise ValidationFailed(
                f"to: more than {MAX_ORGS_PER_SETTLEMENT} organisations sold in this period; settle a shorter one",
                field="to",
            )
        totals = {name: sum(int(line[name]) for line in lines)
                  for name in ("gross", "voids", "net", "isp_share", "reseller_share")}  # fmt: skip
        settlement_id = f"{start.strftime('%Y%m%d')}-{end.strftime('%Y%m%d')}-{uuid.uuid4().hex[:8]}"
        by = _who(actor)
        record = SettlementRecord(
            *SettlementRecord.key(settlement_id), kind="settlement", settlement_id=settlement_id, at=now, by=by,
            period_from=start.isoformat(), period_to=end.isoformat(), lines=lines, totals=totals,
        )  # fmt: skip
        period = {"from": start.isoformat(), "to": end.isoformat()}
        # One entry in the platform's ledger (and chain) for the whole settlement: its lines are its details.
        entries = [
            LedgerEntry(*LedgerEntry.platform_key(now, "settlement", settlement_id), rev_kind="settlement",
                        settlement_id=settlement_id, details={**period, "lines": lines, "totals": totals},
                        reason="settlement", at=now)
        ]  # fmt: skip
        event = self._audit.event(
            actor, org_id=None, action="settlement.issue", target_type="settlement", target_id=settlement_id,
            after={"from": start.isoformat(), "to": end.isoformat(), "organizations": len(lines), "totals": totals},
        )  # fmt: skip
        issued = int(counter.issued) if counter is not None else 0
        guard = (
            SettlementCounter.issued == issued if counter is not None else SettlementCounter.pk.does_not_exist()
        )
        try:
            with self._audit.transaction() as tx:
                tx.save(record, condition=SettlementRecord.pk.does_not_exist())
                for entry in entries:
                    tx.record(entry)
                tx.append(event)
                # Someone else issuing meanwhile moves the counter: this one fails rather than overlap theirs.
                tx.update(SettlementCounter(), actions=[SettlementCounter.issued.set(issued + 1)], condition=guard)
        except TransactWriteError as exc:
            if cancelled_by_condition(exc, len(entries) + 2) or cancelled_by_condition(exc, 0):
                raise Conflict("Another settlement was issued meanwhile; look at the list and try again.") from exc
            raise
        return SettlementView(record=record, adjustments=[])

    def settlements(self, *, limit: int, cursor: str | None = None) -> SettlementPage:
        """A page of the settlements as issued, newest period first (in key order: an id starts with its
        period's first and last day). A page reads `limit` records of any kind and keeps the settlements,
        so it may hold fewer while more follow."""
        partition, _ = SettlementRecord.key("")
        results = SettlementRecord.query(
            partition, SettlementRecord.sk.startswith(SettlementRecord.PREFIX),
            filter_condition=SettlementRecord.kind == "settlement", consistent_read=True,
            scan_index_forward=False, limit=limit,
            last_evaluated_key=decode_cursor(
                cursor, attributes=frozenset({"PK", "SK"}), partition=("PK", partition),
                sort_prefix=SettlementRecord.PREFIX,
            ),
        )  # fmt: skip
        settlements = list(results)
        return SettlementPage(settlements=settlements, next_cursor=encode_cursor(results.last_evaluated_key))

    def get(self, settlement_id: str) -> SettlementView:
        partition, sk = SettlementRecord.key(settlement_id)
        items = [item for item in SettlementRecord.query(partition, SettlementRecord.sk.startswith(sk),
                                                         consistent_read=True)
                 if item.settlement_id == settlement_id]  # fmt: skip
        view = _view(settlement_id, items)
        if view is None:
            raise NotFound("No such settlement.")
        return view

    def adjust(self, actor: Actor, settlement_id: str, org_id: str, amount: int, reason: str) -> SettlementRecord:
        """Follow a settlement with a correction of an organisation's ISP share (+ owes more, - less)."""
        settlement = self.get(settlement_id)
        org = self._org(org_id)
        if amount == 0:
            raise ValidationFailed("amount: an adjustment of zero changes nothing", field="amount")
        now = self._clock()
        adjustment_id = uuid.uuid4().hex[:12]
        at = now.isoformat(timespec="microseconds")
        by = _who(actor)
        record = SettlementRecord(
            *SettlementRecord.adjustment_key(settlement.settlement_id, at, adjustment_id), kind="adjustment",
            settlement_id=settlement.settlement_id, at=now, by=by, adjustment_id=adjustment_id, org_id=org_id,
            org_name=str(org.name), amount=amount, reason=reason,
        )  # fmt: skip
        entry = LedgerEntry(
            *LedgerEntry.platform_key(now, "settlement_adjustment", adjustment_id),
            rev_kind="settlement_adjustment", settlement_id=settlement.settlement_id,
            details={"adjustment_id": adjustment_id, "org_id": org_id, "amount": amount}, reason=reason, at=now,
        )  # fmt: skip
        event = self._audit.event(
            actor, org_id=None, action="settlement.adjust", target_type="settlement",
            target_id=settlement.settlement_id,
            after={"adjustment_id": adjustment_id, "org_id": org_id, "amount": amount, "reason": reason},
        )  # fmt: skip
        with self._audit.transaction() as tx:
            tx.save(record, condition=SettlementRecord.pk.does_not_exist())
            tx.record(entry)
            tx.append(event)
        return record

    # --- payments ---------------------------------------------------------------------------------

    def record_payment(
        self, actor: Actor, settlement_id: str, org_id: str, amount: int, paid_on: date, reference: str
    ) -> SettlementRecord:
        """Record a transfer received from an organisation towards what it owes on a settlement."""
        settlement = self.get(settlement_id)
        balance = settlement.balance(org_id)
        if balance is None:
            raise ValidationFailed(f"org_id: {org_id} is not in this settlement", field="org_id")
        if amount <= 0:
            raise ValidationFailed("amount: a payment is a positive number of rupiah", field="amount")
        if amount > balance.outstanding:
            raise ValidationFailed(
                f"amount: {balance.org_name} has {max(balance.outstanding, 0)} rupiah outstanding on this settlement",
                field="amount",
            )
        now = self._clock()
        if paid_on > now.date() + timedelta(days=1):  # a day ahead of UTC: Indonesia is UTC+7..+9
            raise ValidationFailed("paid_on: a payment cannot be dated in the future", field="paid_on")
        if paid_on < date.fromisoformat(str(settlement.record.period_from)):
            raise ValidationFailed("paid_on: before the settled period began", field="paid_on")
        payment_id = uuid.uuid4().hex[:12]
        record = SettlementRecord(
            *SettlementRecord.payment_key(settlement_id, now.isoformat(timespec="microseconds"), payment_id),
            kind="payment", settlement_id=settlement_id, at=now, by=_who(actor), payment_id=payment_id,
            org_id=org_id, org_name=balance.org_name, amount=amount, paid_on=paid_on.isoformat(), reference=reference,
        )  # fmt: skip
        event = self._audit.event(
            actor, org_id=None, action="settlement.payment_recorded", target_type="settlement",
            target_id=settlement_id,
            after={"payment_id": payment_id, "org_id": org_id, "amount": amount, "paid_on": paid_on.isoformat(),
                   "reference": reference, "outstanding": balance.outstanding - amount},
        )  # fmt: skip
        with self._paid_guard(settlement, org_id, amount, now) as tx:
            tx.save(record, condition=SettlementRecord.pk.does_not_exist())
            tx.append(event)
        return record

    @contextmanager
    def _paid_guard(self, settlement: SettlementView, org_id: str, change: int, now: datetime) -> Iterator[Changes]:
        """A transaction that also moves the organisation's paid total by `change`, from the value read.

        Two payments (or a payment and a reversal) at once: one lands, the other is a 409 to retry
        against the new balance, so together they never pay more than was outstanding.
        """
        mark = settlement.paid.get(org_id)
        before = int(mark.amount or 0) if mark is not None else 0
        guard = SettlementRecord(
            *SettlementRecord.paid_key(settlement.settlement_id, org_id), kind="paid",
            settlement_id=settlement.settlement_id, org_id=org_id, amount=before + change, at=now,
        )  # fmt: skip
        unchanged = SettlementRecord.amount == before if mark is not None else SettlementRecord.pk.does_not_exist()
        try:
            with self._audit.transaction() as tx:
                tx.save(guard, condition=unchanged)
                yield tx
        except TransactWriteError as exc:
            if cancelled_by_condition(exc, 0):
                raise Conflict("A payment for this organisation was recorded or reversed meanwhile; "
                               "reload and try again.") from exc  # fmt: skip
            if cancelled_by_condition(exc, 1):
                raise Conflict("This payment was already reversed.") from exc
            raise

    def reverse_payment(self, actor: Actor, settlement_id: str, payment_id: str, reason: str) -> SettlementRecord:
        """Take back a payment recorded by mistake: a reversal record, once per payment."""
        settlement = self.get(settlement_id)
        payment = next((item for item in settlement.payments if item.payment_id == payment_id), None)
        if payment is None:
            raise NotFound("No such payment in this settlement.")
        if payment_id in settlement.reversals:
            raise Conflict("This payment was already reversed.")
        now = self._clock()
        reversal = SettlementRecord(
            *SettlementRecord.reversal_key(settlement_id, payment_id), kind="reversal", settlement_id=settlement_id,
            at=now, by=_who(actor), payment_id=payment_id, org_id=payment.org_id, org_name=payment.org_name,
            amount=payment.amount, reason=reason,
        )  # fmt: skip
        event = self._audit.event(
            actor, org_id=None, action="settlement.payment_reversed", target_type="settlement",
            target_id=settlement_id,
            before={"payment_id": payment_id, "org_id": payment.org_id, "amount": int(payment.amount or 0),
                    "paid_on": payment.paid_on, "reference": payment.reference},
            after={"payment_id": payment_id, "reversed": True, "reason": reason},
        )  # fmt: skip
        with self._paid_guard(settlement, str(payment.org_id), -int(payment.amount or 0), now) as tx:
            tx.save(reversal, condition=SettlementRecord.pk.does_not_exist())  # one reversal per payment
            tx.append(event)
        return reversal

    def overdue(self, today: date, due_days: int) -> list[Overdue]:
        """Organisations owing on a settlement due (issued day + due_days) before today.

        One query: the settlements whose period began in the last OVERDUE_LOOKBACK_DAYS
        days, with their adjustments, payments and reversals (one key range).
        """
        partition, _ = SettlementRecord.key("")
        since = (today - timedelta(days=OVERDUE_LOOKBACK_DAYS)).strftime("%Y%m%d")
        items = SettlementRecord.query(
            partition, SettlementRecord.sk.between(f"{SettlementRecord.PREFIX}{since}", f"{SettlementRecord.PREFIX}~"),
        )  # fmt: skip
        grouped: dict[str, list[SettlementRecord]] = {}
        for item in items:
            grouped.setdefault(str(item.settlement_id), []).append(item)
        overdue: list[Overdue] = []
        for settlement_id, records in sorted(grouped.items()):
            view = _view(settlement_id, records)
            if view is None:
                continue
            record = view.record
            due_on = record.at.date() + timedelta(days=due_days)
            if due_on >= today:
                continue
            overdue.extend(
                Overdue(
                    org_id=balance.org_id, org_name=balance.org_name, settlement_id=settlement_id,
                    period_from=date.fromisoformat(str(record.period_from)),
                    period_to=date.fromisoformat(str(record.period_to)), due_on=due_on,
                    outstanding=balance.outstanding,
                )
                for balance in view.balances() if balance.outstanding > 0
            )  # fmt: skip
        return overdue

    # --- figures ----------------------------------------------------------------------------------

    def _line(self, org: Org, start: date, end: date) -> dict[str, Any] | None:
        """An organisation's figures for the period, from its own sales report; None when it sold nothing."""
        org_id = str(org.org_id)
        report = self._reports.sales(org_id, start, end, "day")
        if not report.lines:
            return None
        history = self._shares(org_id)
        net_by_day = {line.key: line.amount for line in report.lines}
        segments: list[dict[str, Any]] = []
        numerator = 0
        day = start
        while day <= end:
            share = share_on(history, day)
            points = share.points if share else 0
            # The segment runs to the day before the next share takes effect, or to the period's end.
            changes = [s.effective_from for s in history if day < s.effective_from <= end]
            last = min(changes) - timedelta(days=1) if changes else end
            net = sum(amount for key, amount in net_by_day.items() if day.isoformat() <= key <= last.isoformat())
            numerator += net * points
            segments.append(
                {"from": day.isoformat(), "to": last.isoformat(), "percent": percent_of(points), "net": net}
            )
            day = last + timedelta(days=1)
        total = report.total
        net = total.amount
        isp_share = share_of(numerator)
        return {
            "org_id": org_id,
            "org_name": str(org.name),
            "gross": total.gross_amount,
            "voids": total.voided_amount + total.refunded_amount,
            "net": net,
            "percent": segments[-1]["percent"],
            "segments": _merged(segments),
            "isp_share": isp_share,
            "reseller_share": net - isp_share,
        }

    # --- storage ----------------------------------------------------------------------------------

    def _org(self, org_id: str) -> Org:
        try:
            return Org.get(*Org.key(org_id))
        except DoesNotExist as exc:
            raise NotFound("No such organization.") from exc

    def _orgs(self) -> list[Org]:
        return sorted(Org.by_listing.query("ORGS", Org.gsi1sk.startswith("ORG#")), key=lambda org: str(org.name))

    def _settlements(self) -> list[SettlementRecord]:
        partition, _ = SettlementRecord.key("")
        items = SettlementRecord.query(
            partition, SettlementRecord.sk.startswith(SettlementRecord.PREFIX),
            filter_condition=SettlementRecord.kind == "settlement", consistent_read=True,
        )  # fmt: skip
        return list(items)

    def _counter(self) -> SettlementCounter | None:
        try:
            return SettlementCounter.get(*_counter_key(), consistent_read=True)
        except DoesNotExist:
            return None


def _who(actor: Actor) -> str | None:
    """Who did it, as people read it: the platform admin's email."""
    principal = actor.principal
    return (principal.email or principal.id) if principal else None


def _counter_key() -> tuple[str, str]:
    counter = SettlementCounter()
    return str(counter.pk), str(counter.sk)


def _merged(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neighbouring segments at the same percent (a share set again at the same value) as one."""
    merged: list[dict[str, Any]] = []
    for segment in segments:
        if merged and merged[-1]["percent"] == segment["percent"]:
            merged[-1] = {**merged[-1], "to": segment["to"], "net": merged[-1]["net"] + segment["net"]}
        else:
            merged.append(dict(segment))
    return merged
