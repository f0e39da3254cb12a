"""Request and response models of agreements, suspension stages, the policy and the resellers list."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.api.report_schemas import Day
from chalicelib.api.schemas import Out, Strict

StageName = Literal["active", "grace", "restricted", "suspended", "terminated"]
Reason = Literal["agreement_expired", "settlement_overdue", "uplink_unregistered", "quality_breach", "manual"]
Mode = Literal["record", "warn", "enforce"]


class AgreementIn(Strict):
    legal_name: str = Field(min_length=1, max_length=200)
    nib: str = Field(min_length=1, max_length=20, description="Nomor Induk Berusaha: 13 digits")
    agreement_no: str = Field(min_length=1, max_length=100)
    starts_on: Day
    ends_on: Day
    contact_name: str = Field(min_length=1, max_length=120, description="The person in charge (personal data)")
    contact_phone: str = Field(min_length=1, max_length=24)


class AgreementOut(Out):
    org_id: str
    legal_name: str
    nib: str
    agreement_no: str
    starts_on: date
    ends_on: date
    contact_name: str
    contact_phone: str
    updated_at: datetime


class AgreementsOut(Out):
    agreements: list[dict[str, str | None]] = Field(description="Each organisation's agreement, contact included")


class StageIn(Strict):
    stage: StageName
    reason: Reason = Field(description="The trigger code this move answers")
    note: str = Field(min_length=1, max_length=1000, description="Why, in words (required)")


class StageOut(Out):
    stage: StageName
    since: datetime | None
    reason: str | None
    note: str | None = None
    deadline: datetime | None = Field(description="When the job moves it to `next_stage`; null without one")
    next_stage: StageName | None = None


class TransitionOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    site_id: str | None = Field(description="null: the organisation's own stage")
    from_: StageName = Field(alias="from", serialization_alias="from")
    to: StageName
    reason: str
    note: str
    at: datetime
    actor_id: str | None
    actor_name: str | None = Field(description="The platform admin's email, or `scheduler`")
    deadline: datetime | None


class UplinkOut(Out):
    status: Literal["registered", "unregistered", "unknown"]
    last_address: str | None
    last_seen_at: datetime | None


class SiteComplianceOut(Out):
    site_id: str
    name: str
    stage: StageName = Field(description="Where the site stands: the later of its own and its organisation's stage")
    own: StageOut | None = Field(description="The site's own stage when it was ever moved")
    uplink: UplinkOut
    quality: dict[str, float | int] = Field(description="The last 7 days: days, accepted, availability, reject_rate")


class ComplianceOut(StageOut):
    history: list[TransitionOut] = Field(description="Transitions of the organisation and its sites, newest first")
    sites: list[SiteComplianceOut]


class ResellerQualityOut(Out):
    availability: float
    reject_rate: float


class ResellerOut(Out):
    org_id: str
    name: str
    stage: StageName
    site_stages: dict[str, StageName] = Field(description="Sites with a stage of their own")
    agreement_ends_on: date | None
    uplink: Literal["registered", "unregistered", "unknown"] = Field(description="The organisation's worst site")
    quality: ResellerQualityOut | None = Field(description="This month so far; null without figures")
    revenue_month: int | None = Field(description="Net sales this month so far, rupiah")


class ResellersOut(Out):
    resellers: list[ResellerOut]


class Triggers(Strict):
    agreement_expired: Mode = "enforce"
    settlement_overdue: Mode = "enforce"
    uplink_unregistered: Mode = "record"
    quality_breach: Mode = "record"


class QualityThresholds(Strict):
    min_availability: float = Field(ge=0, le=1, description="Share of 5-minute intervals with a controller call")
    max_reject_rate: float = Field(ge=0, le=1, description="Rejected logins over all, leaving out invalid_code and "
                                                           "service_suspended")  # fmt: skip


class PolicyIn(Strict):
    grace_days: int = Field(ge=1, le=365)
    restricted_days: int = Field(ge=1, le=365)
    triggers: Triggers
    quality: QualityThresholds
    settlement_due_days: int | None = Field(
        default=None, ge=1, le=365,
        description="A settlement is due this many days after it was issued (default 30); left out: unchanged",
    )  # fmt: skip


class PolicyOut(Out):
    grace_days: int
    restricted_days: int
    triggers: Triggers
    quality: QualityThresholds
    settlement_due_days: int
