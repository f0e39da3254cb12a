"""Query and response models of the anomaly alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import DateOrTime, Out, Strict

AlertKind = Literal[
    "off_hours",
    "redeem_before_sale",
    "wrong_site",
    "failed_redeem_burst",
    "bulk_revoke",
    "code_export",
    "void_after_shift",
    "uplink_unregistered",
    "compliance_warning",
    "payment_problem",
]


class AlertQuery(Strict):
    from_: DateOrTime | None = Field(default=None, alias="from")
    to: DateOrTime | None = None
    kind: AlertKind | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


class AlertOut(Out):
    alert_id: str
    kind: AlertKind
    at: datetime
    actor_id: str | None
    actor_kind: str
    actor_name: str | None = Field(description="A user's email or a key's name when the alert was raised")
    source_ip: str | None
    site_id: str | None
    summary: str
    details: dict[str, Any]
    audit_event_ids: list[str] = Field(description="The audit events the alert came from (none for redeem refusals)")


class AlertListOut(Out):
    alerts: list[AlertOut]
    next_cursor: str | None = None
