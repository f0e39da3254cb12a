"""Selling at the till: the POS endpoint, console sales by cashiers, a sale's details, voids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.api.idempotency import idempotency_key, run_once
from chalicelib.auth.roles import ORG_ROLES, OWNER_MANAGER, Role
from chalicelib.codes import display

if TYPE_CHECKING:
    from chalicelib.api.sales_schemas import ConsoleSaleIn, PosSaleIn, PosTopupIn, SaleReceiptOut, VoidIn, VoidOut
    from chalicelib.api.schemas import TopupOut
    from chalicelib.api.shift_schemas import SaleListedOut, SalesListOut, SalesListQuery
    from chalicelib.models import Sale

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.sales_schemas"
SHIFT_SCHEMAS = "chalicelib.api.shift_schemas"
SALES = "/v1/orgs/{org_id}/sales"
SELLERS = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})
POS_KEYS = frozenset({"pos"})
SALE_ERRORS = {409: "conflict", 422: "idempotency_mismatch"}


def _receipt(sale: Sale) -> SaleReceiptOut:
    from chalicelib.api.sales_schemas import SaleReceiptOut, SoldVoucherOut

    codes = services().selling.codes(sale)
    return SaleReceiptOut(
        sale_id=sale.sale_id,
        total=int(sale.total),
        vouchers=[SoldVoucherOut(code=display(code), expires_at=sale.valid_until) for code in codes],
    )


def _sell(
    ctx: RequestContext, org_id: str, site_id: str, body: PosSaleIn | ConsoleSaleIn, *, key_required: bool
) -> SaleReceiptOut:
    """Sell once per Idempotency-Key: a repeat is answered from the sale the first attempt made."""
    request = bp.current_request
    key = idempotency_key(request.headers, required=key_required)
    seller = ctx.user
    selling = services().selling
    # A person selling at the console books the sale to their open shift, if they have one.
    shift_id = services().shifts.open_shift_id(org_id, seller.id) if seller.kind == "user" else None

    def sell() -> Sale:
        return selling.sell(
            ctx.actor, org_id, site_id=site_id, plan_id=body.plan_id, quantity=body.quantity,
            cashier_ref=body.cashier_ref, seller_id=seller.id, idempotency_key=key,
            shift_id=shift_id,
        )  # fmt: skip

    if key is None:
        return _receipt(sell())
    made: list[Sale] = []

    def sell_and_remember() -> dict[str, Any]:
        made.append(sell())
        return {"sale_id": made[0].sale_id}  # the codes stay out of the idempotency table

    result = run_once(
        "sale",
        scope=f"{seller.kind}:{seller.id}",
        key=key,
        payload=body.model_dump(mode="json"),
        run=sell_and_remember,
        lambda_context=request.lambda_context,
    )
    return _receipt(made[0] if made else selling.get_sale(org_id, str(result["sale_id"])))


@endpoint(
    bp, "/v1/pos/sales", "POST", summary="Sell vouchers from a POS (header Idempotency-Key required)", tag="sales",
    auth="api_key", key_kinds=POS_KEYS, body=Schema("PosSaleIn", SCHEMAS), response=Schema("SaleReceiptOut", SCHEMAS),
    status=201,
    extra_responses=SALE_ERRORS, idempotency="required",
)  # fmt: skip
def pos_sale(ctx: RequestContext, body: PosSaleIn) -> SaleReceiptOut:
    key = ctx.user
    return _sell(ctx, str(key.org_id), str(key.site_id), body, key_required=True)  # both from the key


@endpoint(
    bp, "/v1/pos/topups", "POST", summary="Top up a guest's code from a POS (header Idempotency-Key required)",
    tag="sales", auth="api_key", key_kinds=POS_KEYS, body=Schema("PosTopupIn", SCHEMAS),
    response=Schema("TopupOut"), status=201,
    extra_responses={**SALE_ERRORS, 403: "wrong_site", 404: "not_found", 409: "topup_not_allowed"},
    idempotency="required",
)  # fmt: skip
def pos_topup(ctx: RequestContext, body: PosTopupIn) -> TopupOut:
    """Once per Idempotency-Key: a repeat is answered from the top-up the first attempt made."""
    from chalicelib.api.schemas import TopupOut
    from chalicelib.api.vouchers import topup_out

    request = bp.current_request
    key = idempotency_key(request.headers, required=True)
    pos = ctx.user
    org_id, site_id = str(pos.org_id), str(pos.site_id)  # both from the key
    topups = services().topups

    def top_up() -> dict[str, Any]:
        done = topups.top_up(ctx.actor, org_id, body.code, body.plan_id, site_id=site_id, seller_id=pos.id,
                             idempotency_key=key)  # fmt: skip
        return topup_out(done).model_dump(mode="json")

    result = run_once("topup", scope=f"{pos.kind}:{pos.id}", key=str(key), payload=body.model_dump(mode="json"),
                      run=top_up, lambda_context=request.lambda_context)  # fmt: skip
    return TopupOut.model_validate(result)


@endpoint(
    bp, SALES, "POST", summary="Sell vouchers at the console (Idempotency-Key honoured when sent)", tag="sales",
    roles=SELLERS, body=Schema("ConsoleSaleIn", SCHEMAS), response=Schema("SaleReceiptOut", SCHEMAS), status=201,
    extra_responses=SALE_ERRORS, idempotency="optional",
)  # fmt: skip
def console_sale(ctx: RequestContext, org_id: str, body: ConsoleSaleIn) -> SaleReceiptOut:
    return _sell(ctx, org_id, body.site_id, body, key_required=False)


@endpoint(
    bp, SALES + "/{sale_id}", "GET", summary="A sale, without its codes (a cashier sees only their own)",
    tag="sales", roles=ORG_ROLES, response=Schema("SaleListedOut", SHIFT_SCHEMAS),
)  # fmt: skip
def get_sale(ctx: RequestContext, org_id: str, sale_id: str) -> SaleListedOut:
    from chalicelib.api.shift_schemas import SaleListedOut
    from chalicelib.services.sales_list import listed_view, seller_names

    only_seller = ctx.user.id if ctx.user.role is Role.CASHIER else None
    sale = services().selling.get_sale(org_id, sale_id, seller_id=only_seller)
    return SaleListedOut.model_validate(listed_view(sale, seller_names(org_id, {sale.seller_id})))


@endpoint(
    bp, SALES + "/{sale_id}/void", "POST", summary="Void a sale: revoke its vouchers, reverse its revenue",
    tag="sales", roles=OWNER_MANAGER, body=Schema("VoidIn", SCHEMAS), response=Schema("VoidOut", SCHEMAS),
    extra_responses={409: "conflict"},
)  # fmt: skip
def void_sale(ctx: RequestContext, org_id: str, sale_id: str, body: VoidIn) -> VoidOut:
    from chalicelib.api.sales_schemas import VoidOut

    sale = services().selling.void(ctx.actor, org_id, sale_id, body.reason)
    return VoidOut(sale_id=sale.sale_id, status="voided")


@endpoint(
    bp, SALES, "GET", summary="Sales sold on UTC days from..to, newest first, a page at a time (a cashier: their own)",
    tag="sales", roles=ORG_ROLES, query=Schema("SalesListQuery", SHIFT_SCHEMAS),
    response=Schema("SalesListOut", SHIFT_SCHEMAS),
)  # fmt: skip
def list_sales(ctx: RequestContext, org_id: str, query: SalesListQuery) -> SalesListOut:
    from chalicelib.api.shift_schemas import SalesListOut
    from chalicelib.services.sales_list import list_sales

    only_seller = ctx.user.id if ctx.user.role is Role.CASHIER else None
    page = list_sales(org_id, query.from_, query.to, seller_id=only_seller, limit=query.limit, cursor=query.cursor)
    return SalesListOut.model_validate({"sales": page.sales, "next_cursor": page.next_cursor})
