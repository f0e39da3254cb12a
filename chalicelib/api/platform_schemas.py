"""Request and response models of revenue shares and settlements (platform admins)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.api.report_schemas import Day
from chalicelib.api.schemas import Out, Strict


class ShareIn(Strict):
    percent: Decimal = Field(ge=0, le=100, decimal_places=2, description="The ISP's percent of net sales, 0-100")
    effective_from: Day
    reason: str = Field(min_length=1, max_length=500)


class ShareOut(Out):
    percent: float
    effective_from: date
    reason: str
    set_at: datetime
    set_by: str | None = Field(description="The platform admin's email")


class SharesOut(Out):
    org_id: str
    org_name: str
    current: ShareOut | None = Field(description="The share in force today (UTC); null when none was set")
    history: list[ShareOut] = Field(description="Every share set, in the order they take effect")


class SettlementIn(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Day = Field(alias="from")
    to: Day


class SettlementQuery(Strict):
    format: Literal["json", "csv"] = "json"


class SegmentOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    percent: float
    net: int


class SettlementLineOut(Out):
    org_id: str
    org_name: str
    gross: int = Field(description="Rupiah sold")
    voids: int = Field(description="Rupiah reversed by voids and refunds (zero or negative)")
    net: int = Field(description="gross + voids")
    percent: float = Field(description="The share in force on the period's last day (see segments)")
    segments: list[SegmentOut] = Field(description="The period split where the share changed")
    isp_share: int = Field(description="Sum of net(day) x percent(day) / 100, rounded once, halves away from zero")
    reseller_share: int = Field(description="net - isp_share")


class SettlementTotalsOut(Out):
    gross: int
    voids: int
    net: int
    isp_share: int
    reseller_share: int


class AdjustmentIn(Strict):
    org_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(description="Rupiah added to the organisation's ISP share (negative: taken off)")
    reason: str = Field(min_length=1, max_length=500)


class AdjustmentOut(Out):
    adjustment_id: str
    settlement_id: str
    org_id: str
    org_name: str
    amount: int
    reason: str
    at: datetime
    by: str | None


class PaymentIn(Strict):
    org_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(description="Rupiah received (more than zero, at most what is outstanding)")
    paid_on: Day = Field(description="The day the transfer was made, YYYY-MM-DD")
    reference: str = Field(min_length=1, max_length=100, description="The transfer's reference, as on the statement")


class ReversalIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class ReversalOut(Out):
    at: datetime
    by: str | None
    reason: str


class PaymentOut(Out):
    payment_id: str
    settlement_id: str
    org_id: str
    org_name: str
    amount: int
    paid_on: date
    reference: str
    at: datetime = Field(description="When it was recorded")
    by: str | None
    reversed: ReversalOut | None = Field(description="Set when the payment was taken back; it no longer counts")


class BalanceOut(Out):
    org_id: str
    org_name: str
    isp_share: int = Field(description="As issued (0 for an organisation that is in the settlement only by "
                                       "an adjustment)")  # fmt: skip
    adjustments: int = Field(description="The sum of its adjustments")
    owed: int = Field(description="isp_share + adjustments")
    paid: int = Field(description="The sum of its payments not reversed")
    outstanding: int = Field(description="owed - paid (negative: paid more than it owes after an adjustment)")
    payments: list[PaymentOut] = Field(description="Every payment recorded, reversed ones too, oldest first")


class AdjustedTotalsOut(Out):
    isp_share: int
    reseller_share: int


class SettlementOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    settlement_id: str
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    issued_at: datetime
    issued_by: str | None
    lines: list[SettlementLineOut]
    totals: SettlementTotalsOut
    adjustments: list[AdjustmentOut] = Field(description="Corrections that followed it; the settlement is unchanged")
    adjusted_totals: AdjustedTotalsOut = Field(description="The shares with the adjustments applied")
    balances: list[BalanceOut] = Field(description="Per organisation: what it owes, has paid and has outstanding")


class SettlementSummaryOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    settlement_id: str
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    issued_at: datetime
    issued_by: str | None
    organizations: int
    totals: SettlementTotalsOut


class SettlementListQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=200)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


class SettlementListOut(Out):
    settlements: list[SettlementSummaryOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null at the end")
