"""Sales reports for owners, managers and auditors, as JSON or as a CSV download."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint, text_cell
from chalicelib.auth.roles import REPORT_READERS, Role
from chalicelib.errors import Forbidden

if TYPE_CHECKING:
    from chalicelib.api.report_schemas import (
        SalesReportOut,
        SalesReportQuery,
        StatementLineOut,
        StatementOut,
        StatementQuery,
    )
    from chalicelib.services.reporting import SalesLine, SalesReport

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.report_schemas"

# Gross, the reversals, then the net ("count", "amount": the same names as the JSON's net figures).
FIGURES = [
    "gross_count", "gross_amount", "voided_count", "voided_amount", "refunded_count", "refunded_amount",
    "count", "amount",
]  # fmt: skip
CSV_COLUMNS = ["name", *FIGURES]
# A cell starting with one of these is a formula to a spreadsheet; names and cashier refs are typed by people.


@endpoint(
    bp,
    "/v1/orgs/{org_id}/reports/sales",
    "GET",
    summary="Gross, voids, refunds and net sales per day, site, plan or cashier over site-local days "
    "(format=csv for a download)",
    tag="reports",
    roles=REPORT_READERS,
    query=Schema("SalesReportQuery", SCHEMAS),
    response=Schema("SalesReportOut", SCHEMAS),
    csv=True,
)
def sales_report(ctx: RequestContext, org_id: str, query: SalesReportQuery) -> Response | SalesReportOut:
    report = services().reports.sales(org_id, query.from_, query.to, query.group_by)
    if query.format == "csv" and report.group_by == "cashier":
        _record_people_export(ctx, org_id, report)
    if query.format == "csv":
        filename = f"sales-{report.start.isoformat()}-{report.end.isoformat()}-{report.group_by}.csv"
        return Response(
            body=sales_csv(report),
            status_code=200,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
    return report_out(report)


def _record_people_export(ctx: RequestContext, org_id: str, report: SalesReport) -> None:
    """Figures per cashier name people: a file of them is the owner's to take, and it is on the record."""
    principal = ctx.actor.principal
    if principal is None or principal.role not in (Role.OWNER, Role.PLATFORM_ADMIN):
        raise Forbidden("A download of figures per cashier names people: only the owner may take it.")
    audit = services().audit
    audit.record(audit.event(
        ctx.actor, org_id=org_id, action="report.cashiers_exported", target_type="report",
        target_id=f"sales-{report.start.isoformat()}-{report.end.isoformat()}",
        after={"from": report.start.isoformat(), "to": report.end.isoformat(), "group_by": "cashier"},
    ))  # fmt: skip


def report_out(report: SalesReport) -> SalesReportOut:
    from chalicelib.api.report_schemas import SalesLineOut, SalesReportOut, SalesTotalOut

    return SalesReportOut(
        from_=report.start,
        to=report.end,
        group_by=report.group_by,
        lines=[SalesLineOut(**_figures(line), key=line.key, name=line.name) for line in report.lines],
        total=SalesTotalOut(**_figures(report.total)),
    )


def _figures(line: SalesLine) -> dict[str, int]:
    return {name: int(getattr(line, name)) for name in FIGURES}


def sales_csv(report: SalesReport) -> str:
    """Header, one row per line (its name beside its key), then the total; amounts are plain integers of rupiah."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([report.group_by, *CSV_COLUMNS])
    for line in report.lines:
        writer.writerow([text_cell(line.key), text_cell(line.name or ""), *_figures(line).values()])
    writer.writerow(["total", "", *_figures(report.total).values()])
    return buffer.getvalue()


@endpoint(
    bp,
    "/v1/orgs/{org_id}/reports/statement",
    "GET",
    summary="A site's monthly statement: count, gross, voids, refunds and net per local day and per plan",
    tag="reports",
    roles=REPORT_READERS,
    query=Schema("StatementQuery", SCHEMAS),
    response=Schema("StatementOut", SCHEMAS),
)
def statement(ctx: RequestContext, org_id: str, query: StatementQuery) -> StatementOut:
    from chalicelib.api.report_schemas import StatementOut

    month = services().reports.statement(org_id, query.site_id, query.month)
    return StatementOut(
        site_id=month.site_id,
        site_name=month.site_name,
        timezone=month.timezone,
        month=month.month,
        from_=month.start,
        to=month.end,
        days=[_statement_line(line) for line in month.days],
        plans=[_statement_line(line) for line in month.plans],
        total=_statement_line(month.total),
    )


def _statement_line(line: SalesLine) -> StatementLineOut:
    from chalicelib.api.report_schemas import StatementLineOut

    return StatementLineOut(
        key=line.key, name=line.name, count=line.count, gross=line.gross_amount, voids=line.voided_amount,
        refunds=line.refunded_amount, net=line.amount,
    )  # fmt: skip
