"""Looking up a voucher by its code; revoking, extending, pausing and topping it up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import ORG_ROLES, OWNER_MANAGER, Role

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        ExtendIn,
        PauseReasonIn,
        PauseStateOut,
        RefundIn,
        RevokeIn,
        TopupIn,
        TopupOut,
        VoucherOut,
    )
    from chalicelib.models import Voucher
    from chalicelib.services.topups import Topup

bp = Blueprint(__name__)
VOUCHER = "/v1/orgs/{org_id}/vouchers/{code}"
SELLERS = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})


@endpoint(bp, VOUCHER, "GET", summary="A voucher's status and timeline", tag="vouchers", roles=ORG_ROLES,
          response=Schema("VoucherOut"))  # fmt: skip
def get_voucher(ctx: RequestContext, org_id: str, code: str) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    return VoucherOut.model_validate(services().vouchers.view(services().vouchers.find(org_id, code)))


@endpoint(
    bp, VOUCHER + "/revoke", "POST", summary="Revoke a voucher (with a reason)", tag="vouchers",
    roles=OWNER_MANAGER, body=Schema("RevokeIn"), response=Schema("VoucherOut"), extra_responses={409: "conflict"},
)  # fmt: skip
def revoke_voucher(ctx: RequestContext, org_id: str, code: str, body: RevokeIn) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    voucher = services().vouchers.revoke(ctx.actor, org_id, code, body.reason)
    return VoucherOut.model_validate(services().vouchers.view(voucher))


@endpoint(
    bp, VOUCHER + "/refund", "POST", summary="Give a sold voucher's money back: revoked, negative line booked today",
    tag="vouchers", roles=OWNER_MANAGER, body=Schema("RefundIn"), response=Schema("VoucherOut"),
    extra_responses={409: "conflict"},
)  # fmt: skip
def refund_voucher(ctx: RequestContext, org_id: str, code: str, body: RefundIn) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    voucher = services().vouchers.refund(ctx.actor, org_id, code, body.reason)
    return VoucherOut.model_validate(services().vouchers.view(voucher))


@endpoint(
    bp, VOUCHER + "/extend", "POST", summary="Add minutes (or shelf life to an unused voucher)", tag="vouchers",
    roles=OWNER_MANAGER, body=Schema("ExtendIn"), response=Schema("VoucherOut"), extra_responses={409: "conflict"},
)  # fmt: skip
def extend_voucher(ctx: RequestContext, org_id: str, code: str, body: ExtendIn) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    voucher = services().vouchers.extend(ctx.actor, org_id, code, body.minutes, body.reason)
    return VoucherOut.model_validate(services().vouchers.view(voucher))


@endpoint(
    bp, VOUCHER + "/devices/{slot}/release", "POST", summary="Free one device slot (a guest's phone changed its MAC)",
    tag="vouchers", roles=OWNER_MANAGER, response=Schema("VoucherOut"), extra_responses={404: "not_found"},
)  # fmt: skip
def release_voucher_device(ctx: RequestContext, org_id: str, code: str, slot: str) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    voucher = services().vouchers.release_device(ctx.actor, org_id, code, slot)
    return VoucherOut.model_validate(services().vouchers.view(voucher))


@endpoint(
    bp, VOUCHER + "/pause", "POST", summary="Pause a running voucher (where its plan allows): its clock stops",
    tag="vouchers", roles=OWNER_MANAGER, body=Schema("PauseReasonIn"), response=Schema("PauseStateOut"),
    extra_responses={409: "pause_not_allowed"},
)  # fmt: skip
def pause_voucher(ctx: RequestContext, org_id: str, code: str, body: PauseReasonIn) -> PauseStateOut:
    vouchers = services().vouchers
    return _pause_state(vouchers.pause(ctx.actor, vouchers.find(org_id, code), body.reason))


@endpoint(
    bp, VOUCHER + "/resume", "POST", summary="Resume a paused voucher: the paused time is added to its expiry",
    tag="vouchers", roles=OWNER_MANAGER, body=Schema("PauseReasonIn"), response=Schema("PauseStateOut"),
    extra_responses={409: "pause_not_allowed"},
)  # fmt: skip
def resume_voucher(ctx: RequestContext, org_id: str, code: str, body: PauseReasonIn) -> PauseStateOut:
    vouchers = services().vouchers
    return _pause_state(vouchers.resume(ctx.actor, vouchers.find(org_id, code), body.reason))


@endpoint(
    bp, VOUCHER + "/topup", "POST", summary="Sell a top-up plan onto this code: its minutes and data are added",
    tag="vouchers", roles=SELLERS, body=Schema("TopupIn"), response=Schema("TopupOut"), status=201,
    extra_responses={409: "topup_not_allowed", 423: "org_restricted"},
)  # fmt: skip
def topup_voucher(ctx: RequestContext, org_id: str, code: str, body: TopupIn) -> TopupOut:
    seller = ctx.user
    # A person selling at the console books the top-up to their open shift, if they have one (as sales do).
    shift_id = services().shifts.open_shift_id(org_id, seller.id)
    done = services().topups.top_up(ctx.actor, org_id, code, body.plan_id, site_id=body.site_id,
                                    seller_id=seller.id, shift_id=shift_id)  # fmt: skip
    return topup_out(done)


def topup_out(done: Topup) -> TopupOut:
    from chalicelib.api.schemas import TopupOut
    from chalicelib.services.redeeming import data_remaining
    from chalicelib.services.vouchers import iso

    voucher = done.voucher
    return TopupOut.model_validate({"sale_id": done.sale.sale_id, "expires_at": iso(voucher.expires_at),
                                    "data_remaining_bytes": data_remaining(voucher)})  # fmt: skip


def _pause_state(voucher: Voucher) -> PauseStateOut:
    from chalicelib.api.schemas import PauseStateOut
    from chalicelib.services.vouchers import iso

    return PauseStateOut.model_validate({"status": voucher.status, "expires_at": iso(voucher.expires_at)})
