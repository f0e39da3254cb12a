"""Request and response models of cashier shifts and of the sales list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.api.report_schemas import Day
from chalicelib.api.sales_schemas import SaleOut
from chalicelib.api.schemas import Out, Strict

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Cash = Annotated[int, Field(ge=0, le=1_000_000_000_000, description="Rupiah")]
Note = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ShiftOpenIn(Strict):
    site_id: Id
    opening_cash: Cash = Field(default=0, description="Rupiah in the drawer when the shift opens")


class ShiftCloseIn(Strict):
    declared_cash: Cash = Field(description="Rupiah counted in the drawer at close")
    note: Note | None = None


class ShiftOut(Out):
    shift_id: str
    site_id: str
    user_id: str
    user_email: str | None = Field(description="Who works the shift")
    status: Literal["open", "closed"]
    opened_at: datetime
    opening_cash: int
    closed_at: datetime | None
    sales_count: int | None = Field(description="Sales of the shift (live while open, frozen at close)")
    sales_total: int | None
    voids_total: int | None = Field(description="Of those sales, the rupiah voided before close")
    expected_cash: int | None = Field(description="opening_cash + sales_total - voids_total")
    declared_cash: int | None
    difference: int | None = Field(description="declared_cash - expected_cash (negative: cash missing)")
    note: str | None


class ShiftListQuery(Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    from_: Day = Field(alias="from", description="YYYY-MM-DD, UTC day the shift opened")
    to: Day
    limit: Annotated[int, Field(ge=1, le=200)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ShiftListOut(Out):
    shifts: list[ShiftOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null at the end")


class SalesListQuery(Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    from_: Day = Field(alias="from", description="YYYY-MM-DD, UTC day")
    to: Day
    limit: Annotated[int, Field(ge=1, le=200)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None


class SaleListedOut(SaleOut):
    shift_id: str | None
    seller_name: str | None = Field(description="The seller's email, or the POS key's name")


class SalesListOut(Out):
    sales: list[SaleListedOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null at the end")
