"""Verifying an organisation's records: the chains, and the money three ways.

`LedgerService.verify` recomputes the org's chains for the days asked (see
services/chain.py) and reconciles revenue for the same site-local days:

- the report: every revenue line on the sales index, as `ReportingService` adds them;
- the ledger: the `LedgerEntry` lines among them (the rest are printed vouchers'
  lines whose first redeem is still in the audit outbox: `pending`);
- the audit trail alone: sales, voids, refunds and redeems that sold a voucher.

Report = ledger + pending, and audit = ledger; any other outcome is a problem.

The records are read with several queries while the organisation goes on selling: a
first redeem booked by the outbox between them (its event and ledger line in one
transaction) would look like a difference. Every chained write moves a chain head,
so the heads are read before and after; a reading during which one moved is read again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist

from chalicelib.config import get_settings
from chalicelib.errors import ValidationFailed
from chalicelib.models import AuditEvent, Site, Voucher
from chalicelib.models.accounts import org_pk
from chalicelib.models.base import dynamodb_client
from chalicelib.models.vouchers import LEDGER_PREFIX
from chalicelib.services.chain import ChainReport, Problem, heads_between, verify_chains
from chalicelib.services.reporting import days_between, sales_day_key

MAX_DAYS = 92  # a quarter: what an auditor checks at once
READINGS = 5  # of a day still being written; the last is reported even if the books moved during it


@dataclass
class Totals:
    report: int = 0
    ledger: int = 0
    pending: int = 0
    audit: int = 0


@dataclass
class Verification:
    org_id: str
    start: date
    end: date
    chains: ChainReport
    totals: Totals = field(default_factory=Totals)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class LedgerService:
    def verify(self, org_id: str, start: date, end: date) -> Verification:
        if end < start:
            raise ValidationFailed("to: must not be before from", field="to")
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationFailed(f"to: verification covers at most {MAX_DAYS} days", field="to")
        # The audit trail is read a day before and two after (sites' local days): the calendar must have them.
        if start - date.min < timedelta(days=1):
            raise ValidationFailed("from: too early", field="from")
        if date.max - end < timedelta(days=2):
            raise ValidationFailed("to: too late", field="to")
        owner = org_pk(org_id)
        # Sites' local days run ahead of UTC: their revenue may be written in the chains of the day before.
        first, last = start - timedelta(days=1), end + timedelta(days=1)
        heads = heads_between(owner, first, last)
        for _ in range(READINGS):
            chains = verify_chains(owner, start, end)
            result = Verification(org_id=org_id, start=start, end=end, chains=chains, problems=list(chains.problems))
            self._reconcile(org_id, start, end, result)
            before, heads = heads, heads_between(owner, first, last)
            if heads == before:  # nothing chained was written during this reading
                break
        return result

    def _reconcile(self, org_id: str, start: date, end: date, result: Verification) -> None:
        totals = result.totals
        for day in days_between(start, end):
            ledger_lines: set[str] = set()
            voucher_lines: dict[str, int] = {}
            for item in _sales_lines(sales_day_key(org_id, day)):
                amount = int(item.get("rev_amount", {}).get("N", "0"))
                line = item["GSI3SK"]["S"]
                if item["SK"]["S"].startswith(LEDGER_PREFIX):
                    ledger_lines.add(line)
                    totals.ledger += amount
                else:
                    voucher_lines[line] = amount
            totals.pending += sum(amount for line, amount in voucher_lines.items() if line not in ledger_lines)
        from chalicelib.services.reporting import ReportingService

        totals.report = ReportingService().sales(org_id, start, end).total.amount
        totals.audit = sum(_audited_revenue(org_id, start, end))
        label = f"{start.isoformat()}..{end.isoformat()}"
        if totals.report != totals.ledger + totals.pending:
            result.problems.append(Problem(
                "reconciliation", label, None, None, None,
                f"the report's total {totals.report} is not the ledger's {totals.ledger} plus {totals.pending} "
                "not yet booked",
            ))  # fmt: skip
        if totals.audit != totals.ledger:
            result.problems.append(Problem(
                "reconciliation", label, None, None, None,
                f"the audit trail accounts for {totals.audit}, the ledger for {totals.ledger}",
            ))  # fmt: skip


def _sales_lines(partition: str) -> Iterator[dict[str, Any]]:
    client = dynamodb_client(Voucher)
    arguments: dict[str, Any] = {
        "TableName": get_settings().app_table,
        "IndexName": "GSI3",
        "KeyConditionExpression": "GSI3PK = :day",
        "ExpressionAttributeValues": {":day": {"S": partition}},
        "ProjectionExpression": "PK, SK, GSI3SK, rev_amount",
    }
    while True:
        page = client.query(**arguments)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _audited_revenue(org_id: str, start: date, end: date) -> Iterator[int]:
    """Revenue as the audit trail alone tells it, on each site's local day."""
    zones: dict[str | None, ZoneInfo] = {}
    # Local days run up to 9 hours ahead of UTC (WIT) and never behind: read a day either side.
    low = datetime.combine(start - timedelta(days=1), datetime.min.time(), UTC).isoformat()
    high = datetime.combine(end + timedelta(days=2), datetime.min.time(), UTC).isoformat()
    for event in AuditEvent.query(org_pk(org_id), AuditEvent.sk.between(low, high)):
        amount = _revenue_of(event)
        if amount is None:
            continue
        site_id = event.site_id or (event.after or {}).get("site_id")
        if site_id not in zones:
            zones[site_id] = _zone(org_id, site_id)
        if start <= event.at.astimezone(zones[site_id]).date() <= end:
            yield amount


def _revenue_of(event: AuditEvent) -> int | None:
    after: dict[str, Any] = event.after or {}
    if event.action == "sale.create":
        return int(after["total"])
    if event.action == "sale.void":
        return -int(after.get("amount_reversed", (event.before or {}).get("total", 0)))
    if event.action == "voucher.refund":
        return -int(after["amount"])
    if event.action == "voucher.redeem" and "sale" in after:
        return int(after["sale"]["amount"])
    return None


def _zone(org_id: str, site_id: str | None) -> ZoneInfo:
    if site_id:
        try:
            return ZoneInfo(str(Site.get(*Site.key(org_id, site_id)).timezone))
        except DoesNotExist:
            pass
    return ZoneInfo("UTC")
