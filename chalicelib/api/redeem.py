"""What hotspot controllers call: redeem a code for a device, report its usage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint

if TYPE_CHECKING:
    from chalicelib.api.schemas import AccountingIn, AccountingOut, RedeemIn, RedeemOut
    from chalicelib.services.redeeming import Admission

bp = Blueprint(__name__)
CONTROLLER = frozenset({"controller"})


@endpoint(
    bp, "/v1/redeem", "POST", summary="May this device use this code? Starts the clock on first use.",
    tag="controller", auth="api_key", key_kinds=CONTROLLER, body=Schema("RedeemIn"),
    response=Schema("RedeemOut"),
    extra_responses={404: "invalid_code", 410: "voucher_expired | voucher_revoked | voucher_exhausted",
                     409: "device_limit_reached | voucher_paused",
                     403: "wrong_site | outside_window (next_window_at) | period_quota_used (resets_at) | "
                          "service_suspended",
                     429: "too_many_attempts"},
)  # fmt: skip
def redeem(ctx: RequestContext, body: RedeemIn) -> RedeemOut:
    _observe_uplink(ctx)
    return redeem_answer(services().redeem.redeem(ctx.user, body.code, body.mac, ctx.actor))


def _observe_uplink(ctx: RequestContext) -> None:
    """The controller's site calls from the address the platform saw (never X-Forwarded-For)."""
    key = ctx.user
    if key.org_id and key.site_id:
        services().uplinks.observe(ctx.actor, key.org_id, key.site_id, ctx.meta.peer_ip)


def redeem_answer(admission: Admission) -> RedeemOut:
    """What a controller (or the guest page, for openNDS) is told when a device is let in."""
    from chalicelib.api.schemas import RedeemOut
    from chalicelib.services import as_utc

    voucher = admission.voucher
    return RedeemOut(
        status="active",
        session_timeout=admission.session_timeout,
        expires_at=as_utc(voucher.expires_at),
        rate_up_kbps=_int(voucher.rate_up_kbps),
        rate_down_kbps=_int(voucher.rate_down_kbps),
        data_remaining_bytes=admission.data_remaining_bytes,
        devices_used=len(voucher.devices or ()),
        max_devices=int(voucher.max_devices),
    )


@endpoint(
    bp, "/v1/accounting", "POST", summary="Session start, interim update or stop; says whether to continue",
    tag="controller", auth="api_key", key_kinds=CONTROLLER, body=Schema("AccountingIn"),
    response=Schema("AccountingOut"),
    extra_responses={404: "invalid_code"},
)  # fmt: skip
def accounting(ctx: RequestContext, body: AccountingIn) -> AccountingOut:
    from chalicelib.api.schemas import AccountingOut

    _observe_uplink(ctx)
    usage = services().redeem.account(
        ctx.user, body.code, body.mac, session_id=body.session_id, session_time=body.session_time,
        octets=body.input_octets + body.output_octets, actor=ctx.actor, stop=body.event == "stop",
    )  # fmt: skip
    return AccountingOut(
        continue_=usage.proceed, session_timeout=usage.session_timeout, data_remaining_bytes=usage.data_remaining_bytes
    )


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
