"""Request and response models: validation and the OpenAPI document come from here.

Request models reject unknown fields and bound every size; response models
list the fields a client may see (allow-list), nothing more.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


@lru_cache(maxsize=1)
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _timezone(value: str) -> str:
    if value not in _known_timezones():
        raise ValueError("not an IANA timezone such as Asia/Jakarta")
    return value


Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)]
NewPassword = Annotated[str, StringConstraints(min_length=10, max_length=256, strip_whitespace=False)]
Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]


def _date_or_time(value: object) -> date | datetime:
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError("use a date (YYYY-MM-DD) or an ISO 8601 time") from exc


# One type, not a union, so an error names the parameter itself ("from", not "from.date").
DateOrTime = Annotated[
    date | datetime,
    PlainValidator(_date_or_time),
    WithJsonSchema({"type": "string", "description": "YYYY-MM-DD (a whole UTC day) or an ISO 8601 time"}),
]
OrgRole = Literal["owner", "manager", "cashier", "auditor"]


# --- auth ----------------------------------------------------------------------


class LoginIn(Strict):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Password


class RefreshIn(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TokenPairOut(Out):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name, not a secret)


class MeOut(Out):
    user_id: str
    email: str
    role: str
    org_id: str | None


class KeySelfOut(Out):
    key_id: str
    kind: str
    name: str | None = None
    org_id: str | None = Field(description="None for a platform radius key (every organisation)")
    site_id: str | None = Field(description="None for a radius key: the NAS of each request picks the site")


# --- organizations and users ----------------------------------------------------


class OrgIn(Strict):
    name: Name


class OrgOut(Out):
    org_id: str
    name: str
    created_at: datetime | None = None
    pos_only_sales: bool = Field(default=False, description="Sells only through the POS (alerts on redeem-as-sale)")


class OrgUpdateIn(Strict):
    pos_only_sales: bool


class OrgListQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=200)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


class OrgListOut(Out):
    orgs: list[OrgOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end")


class UserIn(Strict):
    email: Email
    password: NewPassword
    role: OrgRole


class UserUpdateIn(Strict):
    role: OrgRole | None = None
    disabled: bool | None = None


class UserCreatedOut(Out):
    user_id: str


class UserOut(Out):
    user_id: str
    email: str
    role: str
    org_id: str | None
    disabled: bool


class UserListOut(Out):
    users: list[UserOut]


# --- sites and keys ------------------------------------------------------------


class BusinessHours(Strict):
    opens: ClockTime = "08:00"
    closes: ClockTime = "22:00"


Language = Literal["id", "en"]


class SiteIn(Strict):
    name: Name
    timezone: Timezone
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    language: Language = Field(default="id", description="Guest-facing messages: Bahasa Indonesia or English")


VenueName = Annotated[str, StringConstraints(max_length=100)]
Ssid = Annotated[str, StringConstraints(max_length=32)]
# A small logo for printed cards, kept on the site (about 36 KB of image at most).
Logo = Annotated[str, StringConstraints(max_length=48_000, pattern=r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+$")]


class SiteUpdateIn(Strict):
    name: Name | None = None
    timezone: Timezone | None = None
    business_hours: BusinessHours | None = None
    venue_name: VenueName | None = None
    ssid: Ssid | None = None
    logo: Logo | None = None
    language: Language | None = None


class SiteCreatedOut(Out):
    site_id: str


class SiteOut(Out):
    site_id: str
    org_id: str
    name: str
    timezone: str
    business_hours: dict[str, str]
    venue_name: str | None = None
    ssid: str | None = None
    logo: str | None = None
    language: str = "id"


class SiteListOut(Out):
    sites: list[SiteOut]


class KeyIn(Strict):
    kind: Literal["controller", "pos"]
    name: Name


class KeyCreatedOut(Out):
    key_id: str
    api_key: str = Field(description="Shown once; only a hash is kept.")


class KeyOut(Out):
    key_id: str
    site_id: str
    kind: str
    name: str
    created_at: str
    revoked_at: str | None


class KeyListOut(Out):
    keys: list[KeyOut]


# --- audit -----------------------------------------------------------------------


class AuditQuery(Strict):
    from_: DateOrTime | None = Field(default=None, alias="from")
    to: DateOrTime | None = None
    actor: Annotated[str, StringConstraints(max_length=64)] | None = None
    action: Annotated[str, StringConstraints(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


class AuditEventOut(Out):
    event_id: str
    at: datetime
    org_id: str | None
    actor_id: str | None
    actor_kind: str
    actor_role: str | None
    actor_name: str | None
    platform_action: bool
    source_ip: str | None
    user_agent: str | None
    request_id: str | None
    action: str
    target_type: str
    target_id: str | None
    site_id: str | None
    off_hours: bool | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPageOut(Out):
    events: list[AuditEventOut]
    next_cursor: str | None


class VerifyQuery(Strict):
    from_: date = Field(alias="from")
    to: date


class RecordRefOut(Out):
    table: str
    pk: str
    sk: str


class ProblemOut(Out):
    kind: str
    day: str
    chain: str | None
    seq: int | None
    record: RecordRefOut | None
    message: str


class TotalsOut(Out):
    report: int
    ledger: int
    pending: int
    audit: int


class VerifyOut(Out):
    ok: bool
    from_: date = Field(serialization_alias="from")
    to: date
    chains: int
    records: int
    days_sealed: list[str]
    totals: TotalsOut
    problems: list[ProblemOut]
    first_problem: ProblemOut | None


# --- plans -------------------------------------------------------------------------

Rupiah = Annotated[int, Field(ge=0, le=100_000_000)]
SiteIdIn = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Kbps = Annotated[int, Field(ge=1, le=10_000_000)]


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class WindowIn(Strict):
    days: list[Day] = Field(min_length=1, max_length=7, description="The days a window opens on")
    start: ClockTime = Field(description="Local time it opens (inclusive)")
    end: ClockTime = Field(description="Local time it closes (exclusive); before `start`: past midnight")


class PauseIn(Strict):
    by: Literal["staff", "guest"] = Field(description="Who may pause: staff only, or the guest too")
    max_pauses: Annotated[int, Field(ge=1, le=100)]
    max_pause_minutes: Annotated[int, Field(ge=1, le=366 * 24 * 60)]


class WindowOut(Out):
    days: list[str]
    start: str
    end: str


class PauseOut(Out):
    by: str
    max_pauses: int
    max_pause_minutes: int


Windows = Annotated[list[WindowIn], Field(max_length=28)]
MegaBytes = Annotated[int, Field(ge=1, le=10_000_000)]
Period = Literal["day", "week", "month"]
IdleMinutes = Annotated[int, Field(ge=1, le=7 * 24 * 60)]


class PlanIn(Strict):
    name: Name
    price: Rupiah
    duration_minutes: Annotated[int, Field(ge=1, le=366 * 24 * 60)]
    validity_days: Annotated[int, Field(ge=1, le=3650)]
    time_mode: Literal["wallclock", "usage"] = "wallclock"
    data_quota_mb: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    rate_up_kbps: Kbps | None = None
    rate_down_kbps: Kbps | None = None
    max_devices: Annotated[int, Field(ge=1, le=50)] = 1
    sold_online: bool = Field(False, description="Offered on the guest page for QRIS purchase at `online_sites`")
    online_sites: list[SiteIdIn] | None = Field(None, max_length=500)
    kind: Literal["voucher", "topup"] = Field("voucher", description="`topup`: sold onto an existing code")
    windows: Windows | None = Field(None, description="When it may be used, in the site's local time")
    period_quota_mb: MegaBytes | None = Field(None, description="Data per `quota_period`, reset at local midnight")
    quota_period: Period | None = None
    pause: PauseIn | None = Field(None, description="Wallclock plans: who may pause, how often and how long")
    device_policy: Literal["shared", "first_devices"] = "shared"
    idle_release_minutes: IdleMinutes | None = Field(None, description="A slot with no accounting this long is freed")


class PlanUpdateIn(Strict):
    name: Name | None = None
    price: Rupiah | None = None
    duration_minutes: Annotated[int, Field(ge=1, le=366 * 24 * 60)] | None = None
    validity_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    time_mode: Literal["wallclock", "usage"] | None = None
    data_quota_mb: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    rate_up_kbps: Kbps | None = None
    rate_down_kbps: Kbps | None = None
    max_devices: Annotated[int, Field(ge=1, le=50)] | None = None
    sold_online: bool | None = None
    online_sites: list[SiteIdIn] | None = Field(None, max_length=500)
    kind: Literal["voucher", "topup"] | None = None
    windows: Windows | None = None
    period_quota_mb: MegaBytes | None = None
    quota_period: Period | None = None
    pause: PauseIn | None = None
    device_policy: Literal["shared", "first_devices"] | None = None
    idle_release_minutes: IdleMinutes | None = None


class PlanOut(Out):
    plan_id: str
    name: str
    price: int
    duration_minutes: int
    validity_days: int
    time_mode: str
    data_quota_mb: int | None
    rate_up_kbps: int | None
    rate_down_kbps: int | None
    max_devices: int
    archived: bool
    sold_online: bool
    online_sites: list[str]
    kind: str
    windows: list[WindowOut] | None
    period_quota_mb: int | None
    quota_period: str | None
    pause: PauseOut | None
    device_policy: str
    idle_release_minutes: int | None


class PlanListOut(Out):
    plans: list[PlanOut]


# --- batches -------------------------------------------------------------------------


class BatchIn(Strict):
    plan_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    site_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    code_length: Annotated[int, Field(ge=6, le=16)] = 10
    alphabet: Literal["mixed", "digits", "letters"] = "mixed"
    prefix: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{0,6}$")] = ""


class BatchOut(Out):
    batch_id: str
    status: str
    issued: int
    quantity: int
    plan_id: str
    site_id: str | None
    valid_until: datetime
    entropy_bits: float
    warnings: list[str]
    created_at: datetime | None = None


class BatchListQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=200)] = 100
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


class BatchListOut(Out):
    batches: list[BatchOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end")


class CodesOut(Out):
    codes: list[str]


# --- redeem and accounting ---------------------------------------------------------------

Code = Annotated[str, StringConstraints(min_length=4, max_length=40)]
Mac = Annotated[str, StringConstraints(pattern=r"^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$")]


class RedeemIn(Strict):
    code: Code
    mac: Mac


class RedeemOut(Out):
    status: Literal["active"]
    session_timeout: int
    expires_at: datetime
    rate_up_kbps: int | None
    rate_down_kbps: int | None
    data_remaining_bytes: int | None
    devices_used: int
    max_devices: int


class AccountingIn(Strict):
    code: Code
    mac: Mac
    session_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
    event: Literal["start", "interim", "stop"]
    input_octets: Annotated[int, Field(ge=0, le=10**15)] = 0
    output_octets: Annotated[int, Field(ge=0, le=10**15)] = 0
    session_time: Annotated[int, Field(ge=0, le=10**9)] = 0


class AccountingOut(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    continue_: bool = Field(alias="continue", serialization_alias="continue")
    session_timeout: int
    data_remaining_bytes: int | None


# --- vouchers -------------------------------------------------------------------------------

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class RevokeIn(Strict):
    reason: Reason


class RefundIn(Strict):
    reason: Reason


class ExtendIn(Strict):
    minutes: Annotated[int, Field(ge=1, le=365 * 24 * 60)]
    reason: Reason


class PauseReasonIn(Strict):
    reason: Reason


class PauseStateOut(Out):
    status: str
    expires_at: datetime | None = Field(description="When its time runs out (while paused: before the pause is added)")


class TopupIn(Strict):
    plan_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(description="A `topup` plan")
    site_id: SiteIdIn | None = Field(
        None, description="Where it is sold: needed only for a code valid at every site and never used yet"
    )


class TopupOut(Out):
    sale_id: str
    expires_at: datetime | None = Field(description="The new end of its time (null: not started yet)")
    data_remaining_bytes: int | None


class VoucherPlanOut(Out):
    plan_id: str
    name: str
    price: int
    duration_minutes: int
    time_mode: str
    data_quota_bytes: int | None
    windows: list[WindowOut] | None = None
    period_quota_bytes: int | None = None
    quota_period: str | None = None
    pause: PauseOut | None = None
    device_policy: str = "shared"
    idle_release_minutes: int | None = None


class WindowStateOut(Out):
    open: bool
    closes_at: datetime | None = Field(description="When the open window closes (null: closed now)")
    next_opens_at: datetime | None


class PeriodStateOut(Out):
    data_remaining_bytes: int = Field(description="Left in this period, never more than left in total")
    resets_at: datetime = Field(description="Local midnight at which the next period starts")


class DeviceSlotOut(Out):
    slot: str = Field(description="An opaque id of one device holding the voucher (never its MAC or its hash).")
    last_seen_at: datetime | None = Field(description="The device's last accounting update; null before the first.")


class VoucherOut(Out):
    voucher_id: str
    status: str
    plan: VoucherPlanOut
    site_id: str | None
    issued_at: str | None
    valid_until: str | None
    sold_at: str | None
    sale_id: str | None = Field(default=None, description="The sale it was sold in (none for a printed voucher)")
    activated_at: str | None
    expires_at: str | None
    devices_used: int
    max_devices: int
    used_seconds: int
    used_bytes: int
    devices: list[DeviceSlotOut]
    paused_at: str | None = None
    pauses_used: int = 0
    window: WindowStateOut | None = Field(None, description="Where its windows stand now, at its site")
    period: PeriodStateOut | None = Field(None, description="Its data per period, now")
    timeline: list[dict[str, Any]]


# --- dashboard -------------------------------------------------------------------------------


class DayFiguresOut(Out):
    day: str
    amount: int
    count: int
    redemptions: int


class TodayOut(Out):
    count: int
    amount: int


class DashboardOut(Out):
    today: TodayOut
    active_vouchers: int
    days: list[DayFiguresOut]
