"""Cashier shifts: open, the caller's open shift with its takings, close with the cash counted, list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import ORG_ROLES, Role

if TYPE_CHECKING:
    from chalicelib.api.shift_schemas import ShiftCloseIn, ShiftListOut, ShiftListQuery, ShiftOpenIn, ShiftOut

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.shift_schemas"
SHIFTS = "/v1/orgs/{org_id}/shifts"
SHIFT_WORKERS = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})


def _own_only(ctx: RequestContext) -> str | None:
    """Cashiers see and close only their own shifts; managers, owners and auditors every one."""
    return ctx.user.id if ctx.user.role is Role.CASHIER else None


@endpoint(
    bp, SHIFTS, "POST", summary="Open a shift at a site with the cash in the drawer (one open shift per person)",
    tag="shifts", roles=SHIFT_WORKERS, body=Schema("ShiftOpenIn", SCHEMAS), response=Schema("ShiftOut", SCHEMAS),
    status=201, extra_responses={409: "conflict"},
)  # fmt: skip
def open_shift(ctx: RequestContext, org_id: str, body: ShiftOpenIn) -> ShiftOut:
    from chalicelib.api.shift_schemas import ShiftOut
    from chalicelib.services.shifts import Takings, shift_view

    shift = services().shifts.open(ctx.actor, org_id, site_id=body.site_id, opening_cash=body.opening_cash)
    return ShiftOut.model_validate(shift_view(shift, Takings(0, 0, 0)))


@endpoint(
    bp, SHIFTS + "/current", "GET", summary="The caller's open shift with its takings so far (404 when none)",
    tag="shifts", roles=SHIFT_WORKERS, response=Schema("ShiftOut", SCHEMAS), extra_responses={404: "not_found"},
)  # fmt: skip
def current_shift(ctx: RequestContext, org_id: str) -> ShiftOut:
    from chalicelib.api.shift_schemas import ShiftOut
    from chalicelib.services.shifts import shift_view

    shift, live = services().shifts.current(org_id, ctx.user.id)
    return ShiftOut.model_validate(shift_view(shift, live))


@endpoint(
    bp, SHIFTS + "/{shift_id}/close", "POST",
    summary="Close a shift: declared cash against expected (opening + sales - voids), and the difference",
    tag="shifts", roles=SHIFT_WORKERS, body=Schema("ShiftCloseIn", SCHEMAS), response=Schema("ShiftOut", SCHEMAS),
    extra_responses={409: "conflict"},
)  # fmt: skip
def close_shift(ctx: RequestContext, org_id: str, shift_id: str, body: ShiftCloseIn) -> ShiftOut:
    from chalicelib.api.shift_schemas import ShiftOut
    from chalicelib.services.shifts import shift_view

    shift = services().shifts.close(
        ctx.actor, org_id, shift_id, declared_cash=body.declared_cash, note=body.note, only_user=_own_only(ctx)
    )
    return ShiftOut.model_validate(shift_view(shift))


@endpoint(
    bp, SHIFTS, "GET", summary="Shifts opened on UTC days from..to, newest first, in pages (a cashier: their own)",
    tag="shifts", roles=ORG_ROLES, query=Schema("ShiftListQuery", SCHEMAS), response=Schema("ShiftListOut", SCHEMAS),
)  # fmt: skip
def list_shifts(ctx: RequestContext, org_id: str, query: ShiftListQuery) -> ShiftListOut:
    from chalicelib.api.shift_schemas import ShiftListOut, ShiftOut
    from chalicelib.services.shifts import shift_view

    page = services().shifts.list(
        org_id, query.from_, query.to, only_user=_own_only(ctx), limit=query.limit, cursor=query.cursor
    )
    return ShiftListOut(
        shifts=[ShiftOut.model_validate(shift_view(shift)) for shift in page.shifts], next_cursor=page.next_cursor
    )
