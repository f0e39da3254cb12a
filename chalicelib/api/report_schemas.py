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


class SalesLineOut(Out):
    key: str = Field(description='A day (YYYY-MM-DD), site id, plan id, or cashier ("(printed)" when none)')
    name: str | None = Field(description="The site's or plan's name; null for days and cashiers")
    count: int = Field(description="Vouchers sold, net of voids")
    amount: int = Field(description="Rupiah, net of voids")
    voided_count: int = Field(description="Vouchers voided in the range (zero or negative; included in count)")
    voided_amount: int = Field(
        description="Rupiah reversed by voids in the range (zero or negative; included in amount)"
    )


class SalesTotalOut(Out):
    count: int
    amount: int
    voided_count: int
    voided_amount: int


class SalesReportOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    group_by: GroupBy
    lines: list[SalesLineOut]
    total: SalesTotalOut
