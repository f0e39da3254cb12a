"""Platform admins: each organisation's revenue share, and settlements with the ISP (JSON, CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint, text_cell
from chalicelib.auth.roles import PLATFORM_ONLY

if TYPE_CHECKING:
    from chalicelib.api.platform_schemas import (
        AdjustmentIn,
        AdjustmentOut,
        BalanceOut,
        PaymentIn,
        PaymentOut,
        ReversalIn,
        SettlementIn,
        SettlementListOut,
        SettlementListQuery,
        SettlementOut,
        SettlementQuery,
        ShareIn,
        SharesOut,
    )
    from chalicelib.models import SettlementRecord
    from chalicelib.services.settlement import Balance, SettlementView

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.platform_schemas"
CSV_COLUMNS = ["org_name", "org_id", "gross", "voids", "net", "percent", "isp_share", "reseller_share", "owed", "paid",
               "outstanding", "note"]  # fmt: skip


@endpoint(
    bp,
    "/v1/platform/orgs/{org_id}/share",
    "PUT",
    summary="Set an organisation's revenue share from a day on (appends to its history; audited)",
    tag="platform",
    roles=PLATFORM_ONLY,
    body=Schema("ShareIn", SCHEMAS),
    response=Schema("SharesOut", SCHEMAS),
    extra_responses={409: "conflict"},
)
def set_share(ctx: RequestContext, org_id: str, body: ShareIn) -> SharesOut:
    services().settlements.set_share(ctx.actor, org_id, body.percent, body.effective_from, body.reason)
    return _shares(org_id)


@endpoint(
    bp,
    "/v1/platform/orgs/{org_id}/share",
    "GET",
    summary="An organisation's revenue share in force today and its history",
    tag="platform",
    roles=PLATFORM_ONLY,
    response=Schema("SharesOut", SCHEMAS),
)
def get_share(ctx: RequestContext, org_id: str) -> SharesOut:
    return _shares(org_id)


def _shares(org_id: str) -> SharesOut:
    from chalicelib.api.platform_schemas import ShareOut, SharesOut

    registry = services()
    history = registry.settlements.history(org_id)
    current = registry.settlements.current(history)
    return SharesOut(
        org_id=org_id,
        org_name=str(registry.accounts.get_org(org_id).name),
        current=ShareOut.model_validate(current.view()) if current else None,
        history=[ShareOut.model_validate(share.view()) for share in history],
    )


@endpoint(
    bp,
    "/v1/platform/settlements",
    "POST",
    summary="Issue the settlement of a period (site-local days, at most 31, already over): once, never changed",
    tag="platform",
    roles=PLATFORM_ONLY,
    body=Schema("SettlementIn", SCHEMAS),
    response=Schema("SettlementOut", SCHEMAS),
    status=201,
    extra_responses={409: "conflict"},
)
def issue_settlement(ctx: RequestContext, body: SettlementIn) -> SettlementOut:
    return settlement_out(services().settlements.issue(ctx.actor, body.from_, body.to))


@endpoint(
    bp,
    "/v1/platform/settlements",
    "GET",
    summary="The settlements issued, newest period first, in pages",
    tag="platform",
    roles=PLATFORM_ONLY,
    query=Schema("SettlementListQuery", SCHEMAS),
    response=Schema("SettlementListOut", SCHEMAS),
)
def list_settlements(ctx: RequestContext, query: SettlementListQuery) -> SettlementListOut:
    from chalicelib.api.platform_schemas import SettlementListOut, SettlementSummaryOut, SettlementTotalsOut

    page = services().settlements.settlements(limit=query.limit, cursor=query.cursor)
    return SettlementListOut(
        next_cursor=page.next_cursor,
        settlements=[
            SettlementSummaryOut(
                settlement_id=str(record.settlement_id),
                from_=record.period_from,
                to=record.period_to,
                issued_at=record.at,
                issued_by=record.by,
                organizations=len(record.lines or []),
                totals=SettlementTotalsOut.model_validate(record.totals),
            )
            for record in page.settlements
        ]
    )


@endpoint(
    bp,
    "/v1/platform/settlements/{settlement_id}",
    "GET",
    summary="One settlement with its adjustments (format=csv for a download)",
    tag="platform",
    roles=PLATFORM_ONLY,
    query=Schema("SettlementQuery", SCHEMAS),
    response=Schema("SettlementOut", SCHEMAS),
    csv=True,
)
def get_settlement(ctx: RequestContext, settlement_id: str, query: SettlementQuery) -> Response | SettlementOut:
    view = services().settlements.get(settlement_id)
    if query.format == "csv":
        record = view.record
        return Response(
            body=settlement_csv(view),
            status_code=200,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": (
                    f'attachment; filename="settlement-{record.period_from}-{record.period_to}.csv"'
                ),
            },
        )
    return settlement_out(view)


@endpoint(
    bp,
    "/v1/platform/settlements/{settlement_id}/adjustments",
    "POST",
    summary="Follow a settlement with an adjustment of one organisation's ISP share (a new record)",
    tag="platform",
    roles=PLATFORM_ONLY,
    body=Schema("AdjustmentIn", SCHEMAS),
    response=Schema("AdjustmentOut", SCHEMAS),
    status=201,
)
def adjust_settlement(ctx: RequestContext, settlement_id: str, body: AdjustmentIn) -> AdjustmentOut:
    record = services().settlements.adjust(ctx.actor, settlement_id, body.org_id, body.amount, body.reason)
    return _adjustment(record)


@endpoint(
    bp,
    "/v1/platform/settlements/{settlement_id}/payments",
    "POST",
    summary="Record a payment an organisation made towards what it owes on a settlement (a new record; audited)",
    tag="platform",
    roles=PLATFORM_ONLY,
    body=Schema("PaymentIn", SCHEMAS),
    response=Schema("PaymentOut", SCHEMAS),
    status=201,
    extra_responses={409: "conflict"},
)
def record_payment(ctx: RequestContext, settlement_id: str, body: PaymentIn) -> PaymentOut:
    settlements = services().settlements
    record = settlements.record_payment(ctx.actor, settlement_id, body.org_id, body.amount, body.paid_on,
                                        body.reference)  # fmt: skip
    return _payment(record, None)


@endpoint(
    bp,
    "/v1/platform/settlements/{settlement_id}/payments/{payment_id}/reverse",
    "POST",
    summary="Take back a payment recorded by mistake (a reversal record, once per payment; audited)",
    tag="platform",
    roles=PLATFORM_ONLY,
    body=Schema("ReversalIn", SCHEMAS),
    response=Schema("PaymentOut", SCHEMAS),
    extra_responses={409: "conflict"},
)
def reverse_payment(ctx: RequestContext, settlement_id: str, payment_id: str, body: ReversalIn) -> PaymentOut:
    settlements = services().settlements
    settlements.reverse_payment(ctx.actor, settlement_id, payment_id, body.reason)
    view = settlements.get(settlement_id)
    payment = next(item for item in view.payments if item.payment_id == payment_id)
    return _payment(payment, view.reversals.get(payment_id))


def _payment(record: SettlementRecord, reversal: SettlementRecord | None) -> PaymentOut:
    from chalicelib.api.platform_schemas import PaymentOut, ReversalOut

    return PaymentOut(
        payment_id=str(record.payment_id), settlement_id=str(record.settlement_id), org_id=str(record.org_id),
        org_name=str(record.org_name), amount=int(record.amount or 0), paid_on=date.fromisoformat(str(record.paid_on)),
        reference=str(record.reference), at=record.at, by=record.by,
        reversed=ReversalOut(at=reversal.at, by=reversal.by, reason=str(reversal.reason)) if reversal else None,
    )  # fmt: skip


def _adjustment(record: SettlementRecord) -> AdjustmentOut:
    from chalicelib.api.platform_schemas import AdjustmentOut

    return AdjustmentOut(
        adjustment_id=str(record.adjustment_id), settlement_id=str(record.settlement_id), org_id=str(record.org_id),
        org_name=str(record.org_name), amount=int(record.amount or 0), reason=str(record.reason), at=record.at,
        by=record.by,
    )  # fmt: skip


def settlement_out(view: SettlementView) -> SettlementOut:
    from chalicelib.api.platform_schemas import (
        AdjustedTotalsOut,
        SettlementLineOut,
        SettlementOut,
        SettlementTotalsOut,
    )

    record = view.record
    totals = SettlementTotalsOut.model_validate(record.totals)
    adjusted = sum(int(item.amount or 0) for item in view.adjustments)
    return SettlementOut(
        settlement_id=view.settlement_id,
        from_=record.period_from,
        to=record.period_to,
        issued_at=record.at,
        issued_by=record.by,
        lines=[SettlementLineOut.model_validate(line) for line in record.lines or []],
        totals=totals,
        adjustments=[_adjustment(item) for item in view.adjustments],
        adjusted_totals=AdjustedTotalsOut(
            isp_share=totals.isp_share + adjusted, reseller_share=totals.reseller_share - adjusted
        ),
        balances=[_balance(view, balance) for balance in view.balances()],
    )


def _balance(view: SettlementView, balance: Balance) -> BalanceOut:
    from chalicelib.api.platform_schemas import BalanceOut

    return BalanceOut(
        org_id=balance.org_id, org_name=balance.org_name, isp_share=balance.isp_share, adjustments=balance.adjusted,
        owed=balance.owed, paid=balance.paid, outstanding=balance.outstanding,
        payments=[_payment(item, view.reversals.get(str(item.payment_id))) for item in balance.payments],
    )  # fmt: skip


def settlement_csv(view: SettlementView) -> str:
    """Header, one row per organisation (with owed, paid, outstanding), the total; then each adjustment and the
    adjusted total; then each payment (a reversed one with no amount paid, saying so). Whole rupiah."""
    record = view.record
    balances = {balance.org_id: balance for balance in view.balances()}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in record.lines or []:
        balance = balances.pop(str(line["org_id"]))
        writer.writerow([
            text_cell(str(line["org_name"])), line["org_id"], line["gross"], line["voids"], line["net"],
            f"{line['percent']:.2f}", line["isp_share"], line["reseller_share"], balance.owed, balance.paid,
            balance.outstanding, "",
        ])  # fmt: skip
    for balance in balances.values():  # in the settlement only by an adjustment
        writer.writerow([text_cell(balance.org_name), balance.org_id, "", "", "", "", "", "", balance.owed,
                         balance.paid, balance.outstanding, ""])  # fmt: skip
    every = view.balances()
    owed, paid = sum(b.owed for b in every), sum(b.paid for b in every)
    totals = record.totals or {}
    figures = [totals.get(name) for name in ("gross", "voids", "net")]
    writer.writerow(["total", "", *figures, "", totals.get("isp_share"), totals.get("reseller_share"), owed, paid,
                     owed - paid, ""])  # fmt: skip
    if view.adjustments:
        for item in view.adjustments:
            amount = int(item.amount or 0)
            writer.writerow([text_cell(str(item.org_name)), item.org_id, "", "", "", "", amount, -amount, "", "", "",
                             text_cell(f"adjustment: {item.reason}")])  # fmt: skip
        adjusted = sum(int(item.amount or 0) for item in view.adjustments)
        writer.writerow(["adjusted total", "", "", "", "", "", int(totals.get("isp_share", 0)) + adjusted,
                         int(totals.get("reseller_share", 0)) - adjusted, "", "", "", ""])  # fmt: skip
    for item in view.payments:
        reversal = view.reversals.get(str(item.payment_id))
        note = f"payment {item.paid_on}: {item.reference}"
        if reversal is not None:
            note += f" (reversed: {reversal.reason})"
        writer.writerow([text_cell(str(item.org_name)), item.org_id, "", "", "", "", "", "", "",
                         "" if reversal is not None else int(item.amount or 0), "", text_cell(note)])  # fmt: skip
    return buffer.getvalue()
