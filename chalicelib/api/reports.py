"""Sales reports for owners, managers and auditors, as JSON or as a CSV download."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import REPORT_READERS

if TYPE_CHECKING:
    from chalicelib.api.report_schemas import SalesReportOut, SalesReportQuery
    from chalicelib.services.reporting import SalesLine, SalesReport

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.report_schemas"

CSV_COLUMNS = ["name", "count", "amount", "voided_count", "voided_amount"]
# A cell starting with one of these is a formula to a spreadsheet; names and cashier refs are typed by people.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@endpoint(
    bp,
    "/v1/orgs/{org_id}/reports/sales",
    "GET",
    summary="Net sales per day, site, plan or cashier over site-local days (format=csv for a download)",
    tag="reports",
    roles=REPORT_READERS,
    query=Schema("SalesReportQuery", SCHEMAS),
    response=Schema("SalesReportOut", SCHEMAS),
)
def sales_report(ctx: RequestContext, org_id: str, query: SalesReportQuery) -> Response:
    report = services().reports.sales(org_id, query.from_, query.to, query.group_by)
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
    # By alias: the contract's field is "from", a Python keyword.
    return Response(
        body=report_out(report).model_dump(mode="json", by_alias=True),
        status_code=200,
        headers={"Content-Type": "application/json"},
    )


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
    return {
        "count": line.count,
        "amount": line.amount,
        "voided_count": line.voided_count,
        "voided_amount": line.voided_amount,
    }


def sales_csv(report: SalesReport) -> str:
    """Header, one row per line, then the total; amounts are plain integers of rupiah."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([report.group_by, *CSV_COLUMNS])
    for line in report.lines:
        writer.writerow([_text_cell(line.key), _text_cell(line.name or ""), *_numbers(line)])
    writer.writerow(["total", "", *_numbers(report.total)])
    return buffer.getvalue()


def _numbers(line: SalesLine) -> list[int]:
    return [line.count, line.amount, line.voided_count, line.voided_amount]


def _text_cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value
