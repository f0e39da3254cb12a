"""Request and response models for selling and voiding (POS and console)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import Code, Out, Strict
from chalicelib.services.selling import MAX_QUANTITY

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CashierRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class PosSaleIn(Strict):
    """The org and site come from the POS key, never from the body."""

    plan_id: Id
    quantity: Quantity
    cashier_ref: CashierRef | None = Field(default=None, description="The till's own name for its cashier.")


class PosTopupIn(Strict):
    """Add a `topup` plan's minutes and data to a code the guest already has."""

    code: Code
    plan_id: Id


class ConsoleSaleIn(Strict):
    site_id: Id
    plan_id: Id
    quantity: Quantity
    cashier_ref: CashierRef | None = None


class VoidIn(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class SoldVoucherOut(Out):
    code: str = Field(description="Grouped for reading aloud, e.g. K7QF-M2XD-9P.")
    expires_at: datetime | None = Field(default=None, description="End of shelf life if never used (UTC).")


class SaleReceiptOut(Out):
    sale_id: str
    total: int
    vouchers: list[SoldVoucherOut]


class SaleOut(Out):
    sale_id: str
    site_id: str
    plan_id: str
    quantity: int
    unit_price: int
    total: int
    cashier_ref: str | None
    seller_id: str
    sold_at: datetime
    expires_at: datetime | None
    status: Literal["sold", "voided"]
    voided_at: datetime | None
    void_reason: str | None


class VoidOut(Out):
    sale_id: str
    status: Literal["voided"]
