"""The guest page's routes: a code's status, freeing one of its device slots, pausing it. No account needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint

if TYPE_CHECKING:
    from chalicelib.api.guest_schemas import (
        GuestPauseIn,
        GuestPauseStateOut,
        GuestReleaseIn,
        GuestStatusIn,
        GuestStatusOut,
    )
    from chalicelib.models import Voucher
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


@endpoint(
    bp, "/v1/guest/pause", "POST", summary="Pause a code's clock, where its plan lets guests pause",
    tag="guest", auth="none", body=Schema("GuestPauseIn", SCHEMAS), response=Schema("GuestPauseStateOut", SCHEMAS),
    extra_responses={**ERRORS, 409: "pause_not_allowed"},
)  # fmt: skip
def guest_pause(ctx: RequestContext, body: GuestPauseIn) -> GuestPauseStateOut:
    return _pause_state(services().guest.pause(body.org_id, body.code, ctx.actor))


@endpoint(
    bp, "/v1/guest/resume", "POST", summary="Resume a paused code, where its plan lets guests pause",
    tag="guest", auth="none", body=Schema("GuestPauseIn", SCHEMAS), response=Schema("GuestPauseStateOut", SCHEMAS),
    extra_responses={**ERRORS, 409: "pause_not_allowed"},
)  # fmt: skip
def guest_resume(ctx: RequestContext, body: GuestPauseIn) -> GuestPauseStateOut:
    return _pause_state(services().guest.resume(body.org_id, body.code, ctx.actor))


def _pause_state(voucher: Voucher) -> GuestPauseStateOut:
    from chalicelib.api.guest_schemas import GuestPauseStateOut
    from chalicelib.services.vouchers import iso

    return GuestPauseStateOut.model_validate({"status": voucher.status, "expires_at": iso(voucher.expires_at)})


def _out(status: GuestStatus) -> GuestStatusOut:
    from dataclasses import asdict

    from chalicelib.api.guest_schemas import GuestStatusOut

    return GuestStatusOut.model_validate(asdict(status))
