"""The dashboard figures the console opens with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import REPORT_READERS

if TYPE_CHECKING:
    from chalicelib.api.schemas import DashboardOut

bp = Blueprint(__name__)


@endpoint(
    bp, "/v1/orgs/{org_id}/dashboard", "GET", summary="Today's sales, active vouchers, the last 30 days",
    tag="reports", roles=REPORT_READERS, response=Schema("DashboardOut"),
)  # fmt: skip
def dashboard(ctx: RequestContext, org_id: str) -> DashboardOut:
    from chalicelib.api.schemas import DashboardOut, DayFiguresOut, TodayOut

    figures = services().dashboard.dashboard(org_id)
    return DashboardOut(
        today=TodayOut(count=figures.today.count, amount=figures.today.amount),
        active_vouchers=figures.active_vouchers,
        days=[
            DayFiguresOut(day=d.day, amount=d.amount, count=d.count, redemptions=d.redemptions) for d in figures.days
        ],
    )
