"""Looking up a voucher by its code; revoking and extending it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import ORG_ROLES, OWNER_MANAGER

if TYPE_CHECKING:
    from chalicelib.api.schemas import ExtendIn, RefundIn, RevokeIn, VoucherOut

bp = Blueprint(__name__)
VOUCHER = "/v1/orgs/{org_id}/vouchers/{code}"


@endpoint(bp, VOUCHER, "GET", summary="A voucher's status and timeline", tag="vouchers", roles=ORG_ROLES,
          response=Schema("VoucherOut"))  # fmt: skip
def get_voucher(ctx: RequestContext, org_id: str, code: str) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    from chalicelib.services.vouchers import voucher_view

    return VoucherOut.model_validate(voucher_view(services().vouchers.find(org_id, code)))


@endpoint(
    bp, VOUCHER + "/revoke", "POST", summary="Revoke a voucher (with a reason)", tag="vouchers",
    roles=OWNER_MANAGER, body=Schema("RevokeIn"), response=Schema("VoucherOut"), extra_responses={409: "conflict"},
)  # fmt: skip
def revoke_voucher(ctx: RequestContext, org_id: str, code: str, body: RevokeIn) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    from chalicelib.services.vouchers import voucher_view

    voucher = services().vouchers.revoke(ctx.actor, org_id, code, body.reason)
    return VoucherOut.model_validate(voucher_view(voucher))


@endpoint(
    bp, VOUCHER + "/refund", "POST", summary="Give a sold voucher's money back: revoked, negative line booked today",
    tag="vouchers", roles=OWNER_MANAGER, body=Schema("RefundIn"), response=Schema("VoucherOut"),
    extra_responses={409: "conflict"},
)  # fmt: skip
def refund_voucher(ctx: RequestContext, org_id: str, code: str, body: RefundIn) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    from chalicelib.services.vouchers import voucher_view

    voucher = services().vouchers.refund(ctx.actor, org_id, code, body.reason)
    return VoucherOut.model_validate(voucher_view(voucher))


@endpoint(
    bp, VOUCHER + "/extend", "POST", summary="Add minutes (or shelf life to an unused voucher)", tag="vouchers",
    roles=OWNER_MANAGER, body=Schema("ExtendIn"), response=Schema("VoucherOut"), extra_responses={409: "conflict"},
)  # fmt: skip
def extend_voucher(ctx: RequestContext, org_id: str, code: str, body: ExtendIn) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    from chalicelib.services.vouchers import voucher_view

    voucher = services().vouchers.extend(ctx.actor, org_id, code, body.minutes, body.reason)
    return VoucherOut.model_validate(voucher_view(voucher))


@endpoint(
    bp, VOUCHER + "/devices/{slot}/release", "POST", summary="Free one device slot (a guest's phone changed its MAC)",
    tag="vouchers", roles=OWNER_MANAGER, response=Schema("VoucherOut"), extra_responses={404: "not_found"},
)  # fmt: skip
def release_voucher_device(ctx: RequestContext, org_id: str, code: str, slot: str) -> VoucherOut:
    from chalicelib.api.schemas import VoucherOut
    from chalicelib.services.vouchers import voucher_view

    voucher = services().vouchers.release_device(ctx.actor, org_id, code, slot)
    return VoucherOut.model_validate(voucher_view(voucher))
