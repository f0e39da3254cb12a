"""The guest page's routes: a code's status, and freeing one of its device slots. No account needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint

if TYPE_CHECKING:
    from chalicelib.api.guest_schemas import GuestReleaseIn, GuestStatusIn, GuestStatusOut
    from chalicelib.services.guest import GuestStatus

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.guest_schemas"
ERRORS = {404: "invalid_code", 429: "too_many_attempts"}


@endpoint(
    bp, "/v1/guest/status", "POST", summary="Time and data left on a code, and the devices using it",
    tag="guest", auth="none", body=Schema("GuestStatusIn", SCHEMAS), response=Schema("GuestStatusOut", SCHEMAS),
    extra_responses=ERRORS,
)  # fmt: skip
def guest_status(ctx: RequestContext, body: GuestStatusIn) -> GuestStatusOut:
    return _out(services().guest.status(body.org_id, body.code, ctx.meta.source_ip))


@endpoint(
    bp, "/v1/guest/release", "POST", summary="Free one device slot of a code (a phone that changed its MAC)",
    tag="guest", auth="none", body=Schema("GuestReleaseIn", SCHEMAS), response=Schema("GuestStatusOut", SCHEMAS),
    extra_responses={**ERRORS, 404: "invalid_code | not_found (no such slot)"},
)  # fmt: skip
def guest_release(ctx: RequestContext, body: GuestReleaseIn) -> GuestStatusOut:
    return _out(services().guest.release(body.org_id, body.code, body.slot, ctx.actor))


def _out(status: GuestStatus) -> GuestStatusOut:
    from dataclasses import asdict

    from chalicelib.api.guest_schemas import GuestStatusOut

    return GuestStatusOut.model_validate(asdict(status))
