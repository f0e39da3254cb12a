"""Query and response models of the sales report."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, PlainValidator, WithJsonSchema

from chalicelib.api.schemas import Out, Strict
from chalicelib.services.reporting import GroupBy

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(value: object) -> date:
    # Only the contract's YYYY-MM-DD: date.fromisoformat alone would also take "20261122".
    text = value.isoformat() if isinstance(value, date) else str(value)
    if not _ISO_DAY.match(text):
        raise ValueError("use a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError("not a calendar date") from exc


Day = Annotated[
    date,
    PlainValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD, each site's local day"}),
]


class SalesReportQuery(Strict):
    from_: Day = Field(alias="from")
    to: Day
    group_by: GroupBy = "day"
    format: Literal["json", "csv"] = "json"


_NET = "net of voids and refunds: gross + voided + refunded"


class SalesLineOut(Out):
    key: str = Field(description='A day (YYYY-MM-DD), site id, plan id, or cashier ("(printed)" when none)')
    name: str | None = Field(
        description="The site's or plan's name, the cashier's email (console) or POS cashier name; null for days"
    )
    count: int = Field(description=f"Vouchers sold, {_NET}")
    amount: int = Field(description=f"Rupiah, {_NET}")
    gross_count: int = Field(description="Vouchers sold (sale lines only)")
    gross_amount: int = Field(description="Rupiah sold (sale lines only)")
    voided_count: int = Field(description="Vouchers voided in the range (zero or negative; included in count)")
    voided_amount: int = Field(
        description="Rupiah reversed by voids in the range (zero or negative; included in amount)"
    )
    refunded_count: int = Field(description="Vouchers refunded in the range (zero or negative; included in count)")
    refunded_amount: int = Field(
        description="Rupiah reversed by refunds in the range (zero or negative; included in amount)"
    )


class SalesTotalOut(Out):
    count: int
    amount: int
    gross_count: int
    gross_amount: int
    voided_count: int
    voided_amount: int
    refunded_count: int
    refunded_amount: int


class SalesReportOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    group_by: GroupBy
    lines: list[SalesLineOut]
    total: SalesTotalOut


class StatementQuery(Strict):
    site_id: str = Field(min_length=1, max_length=64)
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, in the site's own calendar")


class StatementLineOut(Out):
    key: str = Field(description="A day (YYYY-MM-DD, the site's local day) or a plan id")
    name: str | None = Field(description="The plan's name; null for days")
    count: int = Field(description=f"Vouchers, {_NET}")
    gross: int = Field(description="Rupiah sold")
    voids: int = Field(description="Rupiah reversed by voids (zero or negative)")
    refunds: int = Field(description="Rupiah reversed by refunds (zero or negative)")
    net: int = Field(description="gross + voids + refunds")


class StatementOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    site_id: str
    site_name: str
    timezone: str
    month: str
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    days: list[StatementLineOut] = Field(description="Every local day of the month, days without sales at zero")
    plans: list[StatementLineOut]
    total: StatementLineOut
