"""Platform admins: each organisation's revenue share, and settlements with the ISP (JSON, CSV)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint, text_cell
from chalicelib.auth.roles import PLATFORM_ONLY

if TYPE_CHECKING:
    from chalicelib.api.platform_schemas import (
        AdjustmentIn,
        AdjustmentOut,
        SettlementIn,
        SettlementListOut,
        SettlementOut,
        SettlementQuery,
        ShareIn,
        SharesOut,
    )
    from chalicelib.models import SettlementRecord
    from chalicelib.services.settlement import SettlementView

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.platform_schemas"
CSV_COLUMNS = ["org_name", "org_id", "gross", "voids", "net", "percent", "isp_share", "reseller_share", "note"]


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
    summary="Every settlement issued, newest period first",
    tag="platform",
    roles=PLATFORM_ONLY,
    response=Schema("SettlementListOut", SCHEMAS),
)
def list_settlements(ctx: RequestContext) -> SettlementListOut:
    from chalicelib.api.platform_schemas import SettlementListOut, SettlementSummaryOut, SettlementTotalsOut

    return SettlementListOut(
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
            for record in services().settlements.settlements()
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
    )


def settlement_csv(view: SettlementView) -> str:
    """Header, one row per organisation, the total; then each adjustment and the adjusted total. Whole rupiah."""
    record = view.record
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in record.lines or []:
        writer.writerow([
            text_cell(str(line["org_name"])), line["org_id"], line["gross"], line["voids"], line["net"],
            f"{line['percent']:.2f}", line["isp_share"], line["reseller_share"], "",
        ])  # fmt: skip
    totals = record.totals or {}
    figures = [totals.get(name) for name in ("gross", "voids", "net")]
    writer.writerow(["total", "", *figures, "", totals.get("isp_share"), totals.get("reseller_share"), ""])
    if view.adjustments:
        for item in view.adjustments:
            amount = int(item.amount or 0)
            writer.writerow([text_cell(str(item.org_name)), item.org_id, "", "", "", "", amount, -amount,
                             text_cell(f"adjustment: {item.reason}")])  # fmt: skip
        adjusted = sum(int(item.amount or 0) for item in view.adjustments)
        writer.writerow(["adjusted total", "", "", "", "", "", int(totals.get("isp_share", 0)) + adjusted,
                         int(totals.get("reseller_share", 0)) - adjusted, ""])  # fmt: skip
    return buffer.getvalue()
