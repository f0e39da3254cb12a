"""Cashier shifts: open with the cash in the drawer, sell, close by declaring the cash counted.

A person has at most one shift open: opening writes the shift and a claim item
(`OPENSHIFT#<user>`) in one transaction with its audit event, and the claim's
`does_not_exist` condition refuses a second. Console sales made while a shift is
open carry its id; the shift's takings are those sales (listed by time on the
sales index, filtered on the shift) less the ones voided before it closed.
Closing freezes the figures: expected = opening cash + sales - voids, and the
difference = declared - expected.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.models import OpenShiftClaim, Sale, Shift
from chalicelib.models.base import failed_condition
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.sites import SiteService

MAX_LIST_DAYS = 92


@dataclass(frozen=True)
class ShiftPage:
    shifts: list[Shift]
    next_cursor: str | None


@dataclass(frozen=True)
class Takings:
    sales_count: int
    sales_total: int
    voids_total: int


def new_shift_id(opened_at: datetime) -> str:
    """Starts with the UTC opening time, so the org's shifts sort (and list) by when they opened."""
    return f"{opened_at:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:10]}"


def open_shift_id(org_id: str, user_id: str) -> str | None:
    """The id of the person's open shift, if any: one read (a console sale's cost)."""
    try:
        return OpenShiftClaim.get(*OpenShiftClaim.key(org_id, user_id), consistent_read=True).shift_id
    except DoesNotExist:
        return None


def open_shift(org_id: str, user_id: str) -> Shift | None:
    """The person's open shift, if any (the claim, then the shift)."""
    try:
        claim = OpenShiftClaim.get(*OpenShiftClaim.key(org_id, user_id), consistent_read=True)
        return Shift.get(*Shift.key(org_id, claim.shift_id), consistent_read=True)
    except DoesNotExist:
        return None


def sale_before_shift(org_id: str, sale: Sale, voider_id: str | None) -> bool:
    """Is a void reaching back past a shift? True when the sale was sold before the voider's
    open shift began, or belongs to a shift that has closed (its cash was counted already)."""
    if voider_id is not None:
        current = open_shift(org_id, voider_id)
        if current is not None and sale.sold_at < current.opened_at:
            return True
    if sale.shift_id:
        try:
            own = Shift.get(*Shift.key(org_id, sale.shift_id))
        except DoesNotExist:
            return False
        return own.status == "closed"
    return False


CLOSE_ATTEMPTS = 20


class _SalesMoved(Exception):
    """The shift's sales changed while a close was adding them up."""


def takings(shift: Shift, until: datetime) -> Takings:
    """The shift's sales up to `until`, and those of them voided before `until`."""
    low = shift.opened_at.isoformat(timespec="microseconds")
    high = until.isoformat(timespec="microseconds") + "~"
    count = total = voided = 0
    sales = Sale.by_time.query(
        Sale.list_key(shift.org_id), Sale.gsi1sk.between(low, high), filter_condition=Sale.shift_id == shift.shift_id
    )
    for sale in cast(Iterable[Sale], sales):
        count += 1
        total += int(sale.total)
        if sale.voided_at is not None and sale.voided_at <= until:
            voided += int(sale.total)
    return Takings(sales_count=count, sales_total=total, voids_total=voided)


def shift_view(shift: Shift, live: Takings | None = None) -> dict[str, Any]:
    """A shift as the API shows it; an open one with its takings so far when `live` is given."""
    view: dict[str, Any] = {
        "shift_id": shift.shift_id,
        "site_id": shift.site_id,
        "user_id": shift.user_id,
        "user_email": shift.user_email,
        "status": shift.status,
        "opened_at": shift.opened_at,
        "opening_cash": int(shift.opening_cash),
        "closed_at": shift.closed_at,
        "declared_cash": _int(shift.declared_cash),
        "difference": _int(shift.difference),
        "note": shift.note,
    }
    if live is not None:
        view.update(sales_count=live.sales_count, sales_total=live.sales_total, voids_total=live.voids_total,
                    expected_cash=int(shift.opening_cash) + live.sales_total - live.voids_total)  # fmt: skip
    else:
        view.update(sales_count=_int(shift.sales_count), sales_total=_int(shift.sales_total),
                    voids_total=_int(shift.voids_total), expected_cash=_int(shift.expected_cash))  # fmt: skip
    return view


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


class ShiftService:
    def __init__(self, audit: AuditLog, sites: SiteService, clock: Clock = utc_now) -> None:
        self._audit = audit
        self._sites = sites
        self._clock = clock

    def open(self, actor: Actor, org_id: str, *, site_id: str, opening_cash: int) -> Shift:
        principal = actor.principal
        if principal is None or principal.kind != "user":
            raise ValidationFailed("Only a signed-in person opens a shift.", field="authorization")
        site = self._sites.get_site(org_id, site_id)
        now = self._clock()
        shift_id = new_shift_id(now)
        shift = Shift(
            *Shift.key(org_id, shift_id), shift_id=shift_id, org_id=org_id, site_id=site_id, user_id=principal.id,
            user_email=principal.email, status="open", opened_at=now, opening_cash=opening_cash,
        )  # fmt: skip
        claim = OpenShiftClaim(*OpenShiftClaim.key(org_id, principal.id), shift_id=shift_id)
        event = self._audit.event(
            actor, org_id=org_id, action="shift.open", target_type="shift", target_id=shift_id, site=site,
            after={"status": "open", "site_id": site_id, "user_id": principal.id, "opening_cash": opening_cash},
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.save(claim, condition=OpenShiftClaim.pk.does_not_exist())
                tx.save(shift, condition=Shift.pk.does_not_exist())
                tx.append(event)
        except TransactWriteError as exc:
            if failed_condition(exc):
                raise Conflict("You already have a shift open; close it first.") from exc
            raise
        return shift

    def open_shift_id(self, org_id: str, user_id: str) -> str | None:
        return open_shift_id(org_id, user_id)

    def current(self, org_id: str, user_id: str) -> tuple[Shift, Takings]:
        shift = open_shift(org_id, user_id)
        if shift is None:
            raise NotFound("You have no shift open.")
        return shift, takings(shift, self._clock())

    def get(self, org_id: str, shift_id: str, *, only_user: str | None = None) -> Shift:
        """One shift; with `only_user`, only that person's (a cashier sees only their own)."""
        try:
            shift = Shift.get(*Shift.key(org_id, shift_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No such shift.") from exc
        if only_user is not None and shift.user_id != only_user:
            raise NotFound("No such shift.")
        return shift

    def close(
        self, actor: Actor, org_id: str, shift_id: str, *, declared_cash: int, note: str | None,
        only_user: str | None = None,
    ) -> Shift:  # fmt: skip
        shift = self.get(org_id, shift_id, only_user=only_user)
        if shift.status != "open":
            raise Conflict("This shift is already closed.")
        for _ in range(CLOSE_ATTEMPTS):
            try:
                return self._close(actor, org_id, shift, declared_cash=declared_cash, note=note)
            except _SalesMoved:
                time.sleep(0.05)  # a sale landed, or the sales list has not caught up yet: count again
        raise Conflict("Sales are still being made on this shift; try closing it again.")

    def _close(self, actor: Actor, org_id: str, shift: Shift, *, declared_cash: int, note: str | None) -> Shift:
        shift_id = shift.shift_id
        claim = OpenShiftClaim.get(*OpenShiftClaim.key(org_id, shift.user_id), consistent_read=True)
        counted = int(claim.sales or 0)
        now = self._clock()
        figures = takings(shift, now)
        if figures.sales_count != counted:
            raise _SalesMoved()  # the sales list (an index) lags the sales themselves
        expected = int(shift.opening_cash) + figures.sales_total - figures.voids_total
        difference = declared_cash - expected
        closed_by = actor.principal.id if actor.principal else None
        site = self._sites.get_site(org_id, shift.site_id)
        event = self._audit.event(
            actor, org_id=org_id, action="shift.close", target_type="shift", target_id=shift_id, site=site,
            before={"status": "open"},
            after={"status": "closed", "user_id": shift.user_id, "opening_cash": int(shift.opening_cash),
                   "sales_count": figures.sales_count, "sales_total": figures.sales_total,
                   "voids_total": figures.voids_total, "expected": expected, "declared": declared_cash,
                   "difference": difference, "note": note},
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.append(event)
                tx.update(
                    shift,
                    actions=[
                        Shift.status.set("closed"), Shift.closed_at.set(now), Shift.closed_by.set(closed_by or ""),
                        Shift.sales_count.set(figures.sales_count), Shift.sales_total.set(figures.sales_total),
                        Shift.voids_total.set(figures.voids_total), Shift.expected_cash.set(expected),
                        Shift.declared_cash.set(declared_cash), Shift.difference.set(difference),
                        *([Shift.note.set(note)] if note else []),
                    ],
                    condition=Shift.status == "open",
                )  # fmt: skip
                # The figures hold only if no sale was booked to the shift since they were added up.
                tx.delete(claim, condition=(OpenShiftClaim.shift_id == shift_id)
                          & (OpenShiftClaim.sales == counted if counted else OpenShiftClaim.sales.does_not_exist()
                             | (OpenShiftClaim.sales == 0)))  # fmt: skip
        except TransactWriteError as exc:
            if not failed_condition(exc):
                raise
            if Shift.get(*Shift.key(org_id, shift_id), consistent_read=True).status != "open":
                raise Conflict("This shift is already closed.") from exc
            raise _SalesMoved() from exc
        shift.status, shift.closed_at, shift.closed_by = "closed", now, closed_by
        shift.sales_count, shift.sales_total, shift.voids_total = (figures.sales_count, figures.sales_total,
                                                                   figures.voids_total)  # fmt: skip
        shift.expected_cash, shift.declared_cash, shift.difference = expected, declared_cash, difference
        shift.note = note or None
        return shift

    def list(
        self,
        org_id: str,
        start: date,
        end: date,
        *,
        only_user: str | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> ShiftPage:
        """A page of shifts opened on UTC days start..end, newest first; with `only_user`, that person's
        (a page may then hold fewer than `limit` while more follow)."""
        if end < start:
            raise ValidationFailed("to: must not be before from", field="to")
        if (end - start) > timedelta(days=MAX_LIST_DAYS):
            raise ValidationFailed(f"to: at most {MAX_LIST_DAYS} days after from", field="to")
        partition, low, high = f"ORG#{org_id}", f"SHIFT#{start:%Y%m%d}", f"SHIFT#{end:%Y%m%d}~"
        results = Shift.query(
            partition, Shift.sk.between(low, high),
            filter_condition=(Shift.user_id == only_user) if only_user else None,
            scan_index_forward=False, limit=limit,
            last_evaluated_key=decode_cursor(
                cursor, attributes=frozenset({"PK", "SK"}), partition=("PK", partition), sort_range=("SK", low, high)
            ),
        )  # fmt: skip
        shifts = list(results)
        return ShiftPage(shifts=shifts, next_cursor=encode_cursor(results.last_evaluated_key))
