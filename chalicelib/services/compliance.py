"""The ISP's side of resale: agreements, the platform's policy and staged suspension.

An organisation, and each of its sites, stands at one stage of

    active -> grace -> restricted -> suspended -> terminated (manual only)

and a site counts at the later of its own stage and its organisation's. What
each stage stops (the design's table) is enforced through `ComplianceGate`:
restricted stops new batches and sales (423 `org_restricted`) while vouchers
already sold still redeem; suspended stops guests' new logins (403
`service_suspended`) while sessions in progress run out; terminated also ends
live sessions (the next accounting report is told to disconnect) and stops the
organisation's keys, while its users may still read and export.

Every move is one transaction: the stage record, conditioned on the sequence
number its writer read (so of two movers exactly one wins, the other gets 409),
a history item and the audit event. Grace and restricted carry a deadline; the
`advance_compliance` job moves what is due, each transition once however often,
concurrently or late it runs: a job that was down past two deadlines makes both
moves, in order, each dated when it fell due.

Triggers (`agreement_expired`, `settlement_overdue`, `uplink_unregistered`,
`quality_breach`) act by the platform's policy: `record` writes an audit event,
`warn` also raises an alert, `enforce` starts grace for an active organisation
or site. A trigger acts at most once per scope, reason and UTC day.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, KuotaError, NotFound, ValidationFailed
from chalicelib.models import Agreement, CompliancePolicy, StageRecord, StageTransition
from chalicelib.models.accounts import org_pk
from chalicelib.models.base import failed_condition, save_if
from chalicelib.models.compliance import AGREEMENT_END_PARTITION, DUE_PARTITION, STAGES, TriggerClaim
from chalicelib.services import Clock, epoch, utc_now
from chalicelib.services.audit import AuditLog

if TYPE_CHECKING:
    from chalicelib.services.accounts import AccountService
    from chalicelib.services.sites import SiteService

Stage = Literal["active", "grace", "restricted", "suspended", "terminated"]
TRIGGERS = ("agreement_expired", "settlement_overdue", "uplink_unregistered", "quality_breach")
REASONS = (*TRIGGERS, "manual")
MODES = ("record", "warn", "enforce")
DEFAULT_TRIGGERS = {"agreement_expired": "enforce", "settlement_overdue": "enforce",
                    "uplink_unregistered": "record", "quality_breach": "record"}  # fmt: skip
DEFAULT_QUALITY = {"min_availability": 0.9, "max_reject_rate": 0.2}
DEFAULT_GRACE_DAYS, DEFAULT_RESTRICTED_DAYS = 14, 7
DEFAULT_SETTLEMENT_DUE_DAYS = 30  # a settlement is due this many days after the day it was issued
# Agreements are Indonesian documents: a day ends at midnight in Jakarta.
AGREEMENT_ZONE = ZoneInfo("Asia/Jakarta")
_ORDER = {stage: index for index, stage in enumerate(STAGES)}
_NEXT: dict[str, Stage] = {"grace": "restricted", "restricted": "suspended"}
UNKNOWN_UPLINK: dict[str, Any] = {"status": "unknown", "last_address": None, "last_seen_at": None}
_NIB = re.compile(r"^\d{13}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,19}$")


class OrgRestricted(KuotaError):
    status, code = 423, "org_restricted"
    default_message = "Sales are stopped while this organization is restricted. Please contact the ISP."


class ServiceSuspended(KuotaError):
    status, code = 403, "service_suspended"
    default_message = "Internet service at this location is suspended."


class InvalidTransition(KuotaError):
    status, code = 409, "invalid_transition"
    default_message = "That stage cannot follow the current one."


def later(first: str, second: str) -> str:
    """The later of two stages: a site stands where the later of its own and its organisation's puts it."""
    return first if _ORDER[first] >= _ORDER[second] else second


def allowed(current: str, to: str) -> bool:
    """Any forward move; back to active from any stage but terminated (reinstatement)."""
    if current == "terminated" or current == to:
        return False
    return _ORDER[to] > _ORDER[current] or to == "active"


# --- the gate: what the request paths ask, from a short cache -----------------------------------


@dataclass(frozen=True)
class Standing:
    """An organisation's stage and its sites' own stages (sites never moved are active)."""

    org: str = "active"
    sites: dict[str, str] = field(default_factory=dict)

    def at(self, site_id: str | None) -> str:
        return later(self.org, self.sites.get(site_id, "active")) if site_id else self.org


class ComplianceGate:
    """Answers "may this happen here?" from one query per organisation, cached for `ttl_seconds`.

    Moves made in this process are seen at once; moves made elsewhere (another
    Lambda container) within the cache's lifetime, like revoked API keys.
    """

    def __init__(self, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Standing]] = {}
        self._lock = threading.Lock()

    def standing(self, org_id: str) -> Standing:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(org_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        standing = Standing()
        sites: dict[str, str] = {}
        for record in StageRecord.query(org_pk(org_id), StageRecord.sk.startswith(StageRecord.PREFIX)):
            if record.site_id:
                sites[record.site_id] = record.stage
            else:
                standing = Standing(org=record.stage)
        standing = Standing(org=standing.org, sites=sites)
        with self._lock:
            self._cache[org_id] = (now, standing)
        return standing

    def forget(self, org_id: str) -> None:
        with self._lock:
            self._cache.pop(org_id, None)

    def require_selling(self, org_id: str, site_id: str | None = None) -> None:
        """New batches and sales stop from `restricted` on."""
        stage = self.standing(org_id).at(site_id)
        if _ORDER[stage] >= _ORDER["restricted"]:
            where = "this site" if site_id and self.standing(org_id).org != stage else "this organization"
            raise OrgRestricted(f"Sales are stopped while {where} is {stage}. Please contact the ISP.")

    def require_service(self, org_id: str, site_id: str | None) -> None:
        """Guests' new logins stop from `suspended` on."""
        if _ORDER[self.standing(org_id).at(site_id)] >= _ORDER["suspended"]:
            raise ServiceSuspended()

    def terminated(self, org_id: str) -> bool:
        return self.standing(org_id).org == "terminated"


# --- policy ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    grace_days: int = DEFAULT_GRACE_DAYS
    restricted_days: int = DEFAULT_RESTRICTED_DAYS
    triggers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TRIGGERS))
    quality: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_QUALITY))
    settlement_due_days: int = DEFAULT_SETTLEMENT_DUE_DAYS

    def view(self) -> dict[str, Any]:
        return {"grace_days": self.grace_days, "restricted_days": self.restricted_days,
                "triggers": dict(self.triggers), "quality": dict(self.quality),
                "settlement_due_days": self.settlement_due_days}  # fmt: skip


def _policy_of(item: CompliancePolicy) -> Policy:
    return Policy(
        grace_days=int(item.grace_days),
        restricted_days=int(item.restricted_days),
        triggers={**DEFAULT_TRIGGERS, **cast(dict[str, str], item.triggers)},
        quality={**DEFAULT_QUALITY, **cast(dict[str, float], item.quality)},
        settlement_due_days=int(item.settlement_due_days or DEFAULT_SETTLEMENT_DUE_DAYS),
    )


# --- views ----------------------------------------------------------------------------------------


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if at else None


def agreement_view(agreement: Agreement) -> dict[str, Any]:
    return {
        "org_id": agreement.org_id,
        "legal_name": agreement.legal_name,
        "nib": agreement.nib,
        "agreement_no": agreement.agreement_no,
        "starts_on": agreement.starts_on,
        "ends_on": agreement.ends_on,
        "contact_name": agreement.contact_name,
        "contact_phone": agreement.contact_phone,
        "updated_at": _iso(agreement.updated_at),
    }


def stage_view(record: StageRecord) -> dict[str, Any]:
    return {
        "stage": record.stage,
        "since": _iso(record.since),
        "reason": record.reason,
        "note": record.note,
        "deadline": _iso(record.deadline),
        "next_stage": _NEXT.get(record.stage) if record.deadline else None,
    }


def transition_view(transition: StageTransition) -> dict[str, Any]:
    return {
        "site_id": transition.site_id,
        "from": transition.from_stage,
        "to": transition.to_stage,
        "reason": transition.reason,
        "note": transition.note,
        "at": _iso(transition.at),
        "actor_id": transition.actor_id,
        "actor_name": transition.actor_name,
        "deadline": _iso(transition.deadline),
    }


UplinkSource = Callable[[str], dict[str, dict[str, Any]]]  # org_id -> site_id -> {status, last_address, ...}
QualitySource = Callable[[str, date, date], list[Any]]  # org_id, from, to -> QualityDay-like items
RevenueSource = Callable[[str, date, date], int]  # org_id, from, to -> net rupiah
OverdueSource = Callable[[date, int], list[Any]]  # today, due_days -> Overdue-like items (settlement service)
WarnSink = Callable[[Actor, str, str | None, str, str], None]  # actor, org, site, reason, note


class ComplianceService:
    def __init__(
        self,
        audit: AuditLog,
        gate: ComplianceGate,
        accounts: AccountService,
        sites: SiteService,
        clock: Clock = utc_now,
        *,
        uplinks: UplinkSource | None = None,
        quality: QualitySource | None = None,
        revenue: RevenueSource | None = None,
        overdue: OverdueSource | None = None,
        warn: WarnSink | None = None,
    ) -> None:
        self._audit = audit
        self.gate = gate
        self._accounts = accounts
        self._sites = sites
        self._clock = clock
        self.uplinks = uplinks
        self.quality = quality
        self.revenue = revenue
        self.overdue = overdue
        self.warn = warn

    # -- agreements --

    def put_agreement(self, actor: Actor, org_id: str, fields: dict[str, str]) -> Agreement:
        org = self._accounts.get_org(org_id)
        starts_on, ends_on = _day(fields["starts_on"], "starts_on"), _day(fields["ends_on"], "ends_on")
        if ends_on < starts_on:
            raise ValidationFailed("ends_on: the agreement cannot end before it starts", field="ends_on")
        if not _NIB.match(fields["nib"]):
            raise ValidationFailed("nib: a NIB is 13 digits", field="nib")
        if not _PHONE.match(fields["contact_phone"]):
            raise ValidationFailed("contact_phone: a phone number, digits with an optional leading +",
                                   field="contact_phone")  # fmt: skip
        before = self.find_agreement(org_id)
        now = self._clock()
        # The job acts on the end once: the index entry goes when it has; a new end date puts it back.
        ends_at = datetime.combine(ends_on + timedelta(days=1), datetime.min.time(), AGREEMENT_ZONE)
        agreement = Agreement(
            *Agreement.key(org_id), org_id=org_id, updated_at=now, legal_name=fields["legal_name"], nib=fields["nib"],
            agreement_no=fields["agreement_no"], contact_name=fields["contact_name"],
            contact_phone=fields["contact_phone"], starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat(),
            gsi2pk=AGREEMENT_END_PARTITION, gsi2sk=epoch(ends_at),
        )  # fmt: skip
        # The contact is personal data: the trail says that it changed, not what it is.
        terms = ("legal_name", "nib", "agreement_no", "starts_on", "ends_on")
        event = self._audit.event(
            actor, org_id=org.org_id, action="agreement.saved", target_type="agreement", target_id=org_id,
            before={name: getattr(before, name) for name in terms} if before else None,
            after={**{name: getattr(agreement, name) for name in terms},
                   "contact_changed": before is None or (before.contact_name, before.contact_phone)
                   != (agreement.contact_name, agreement.contact_phone)},
        )  # fmt: skip
        self._audit.save_with_event(agreement, event)
        return agreement

    def find_agreement(self, org_id: str) -> Agreement | None:
        try:
            return Agreement.get(*Agreement.key(org_id), consistent_read=True)
        except DoesNotExist:
            return None

    def get_agreement(self, org_id: str) -> Agreement:
        agreement = self.find_agreement(org_id)
        if agreement is None:
            raise NotFound("This organization has no agreement recorded.")
        return agreement

    def export_agreements(self, actor: Actor) -> list[dict[str, Any]]:
        """Every organisation's agreement with its contact, for the platform (audited: personal data)."""
        rows = []
        for org in self._accounts.list_orgs():
            agreement = self.find_agreement(org.org_id)
            if agreement is not None:
                rows.append({"org_name": org.name, **agreement_view(agreement)})
        self._audit.record(self._audit.event(actor, org_id=None, action="agreement.exported",
                                             target_type="agreement", target_id="all",
                                             after={"agreements": len(rows)}))  # fmt: skip
        return rows

    # -- policy --

    def policy(self) -> Policy:
        try:
            return _policy_of(CompliancePolicy.get(*CompliancePolicy.key()))
        except DoesNotExist:
            return Policy()

    def put_policy(self, actor: Actor, body: dict[str, Any]) -> Policy:
        before = self.policy()
        policy = Policy(grace_days=body["grace_days"], restricted_days=body["restricted_days"],
                        triggers={**DEFAULT_TRIGGERS, **body["triggers"]},
                        quality={**DEFAULT_QUALITY, **body["quality"]},
                        # left out (a client that predates it): kept as it was
                        settlement_due_days=body.get("settlement_due_days") or before.settlement_due_days)  # fmt: skip
        item = CompliancePolicy(grace_days=policy.grace_days, restricted_days=policy.restricted_days,
                                triggers=policy.triggers, quality=policy.quality,
                                settlement_due_days=policy.settlement_due_days, updated_at=self._clock())  # fmt: skip
        event = self._audit.event(actor, org_id=None, action="policy.saved", target_type="policy", target_id="policy",
                                  before=before.view(), after=policy.view())  # fmt: skip
        self._audit.save_with_event(item, event)
        return policy

    # -- stages --

    def record_of(self, org_id: str, site_id: str | None) -> StageRecord:
        """The stage record, read consistently; an organisation or site never moved is active (seq 0)."""
        try:
            return StageRecord.get(*StageRecord.key(org_id, site_id), consistent_read=True)
        except DoesNotExist:
            at = datetime.fromtimestamp(0, UTC)
            return StageRecord(*StageRecord.key(org_id, site_id), org_id=org_id, site_id=site_id, stage="active",
                               since=at, seq=0)  # fmt: skip

    def move(self, actor: Actor, org_id: str, site_id: str | None, to: str, reason: str, note: str) -> StageRecord:
        """A platform admin's move: any forward stage, or back to active from any stage but terminated."""
        self._accounts.get_org(org_id)
        if site_id is not None:
            self._sites.get_site(org_id, site_id)
        current = self.record_of(org_id, site_id)
        if not allowed(current.stage, to):
            raise InvalidTransition(f"An organization at {current.stage} cannot move to {to}."
                                    if current.stage != to else f"It is already at {to}.")  # fmt: skip
        now = self._clock()
        return self._write(actor, current, cast(Stage, to), reason, note, since=now, at=now)

    def trigger(self, actor: Actor, org_id: str, site_id: str | None, reason: str, note: str) -> str:
        """Act on a trigger by the policy; return what was done (`record`, `warn`, `enforce`, `repeat`)."""
        now = self._clock()
        if not self._claim(org_id, site_id, reason, now):
            return "repeat"
        mode = self.policy().triggers.get(reason, "record")
        current = self.record_of(org_id, site_id)
        if mode == "enforce" and current.stage == "active":
            try:
                self._write(actor, current, "grace", reason, note, since=now, at=now)
                return "enforce"
            except Conflict:
                pass  # moved meanwhile by someone else: their move stands, this is recorded
        event = self._audit.event(
            actor, org_id=org_id, action="compliance.triggered", target_type="site" if site_id else "org",
            target_id=site_id or org_id, after={"reason": reason, "policy": mode, "note": note, "stage": current.stage},
        )  # fmt: skip
        self._audit.record(event)
        if mode == "warn" and self.warn is not None:
            self.warn(actor, org_id, site_id, reason, note)
        return mode

    def advance(self, actor: Actor) -> int:
        """Make every transition whose deadline passed, and act on ended agreements; return the moves."""
        now = self._clock()
        moved = 0
        for found in StageRecord.by_due.query(DUE_PARTITION, StageRecord.gsi2sk <= epoch(now)):
            due = cast(StageRecord, found)
            moved += self._advance(actor, due.org_id, due.site_id, now)
        for item in Agreement.by_due.query(AGREEMENT_END_PARTITION, Agreement.gsi2sk <= epoch(now)):
            ended = cast(Agreement, item)
            self.trigger(actor, ended.org_id, None, "agreement_expired",
                         f"Agreement {ended.agreement_no} ended on {ended.ends_on}.")  # fmt: skip
            try:  # acted on: out of the index (unless the agreement was saved again meanwhile)
                ended.update(actions=[Agreement.gsi2pk.remove(), Agreement.gsi2sk.remove()],
                             condition=Agreement.gsi2sk == ended.gsi2sk)  # fmt: skip
            except UpdateError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
        if self.quality is not None:
            self._check_quality(actor, now, self.quality)
        if self.overdue is not None:
            self._check_settlements(actor, now, self.overdue)
        return moved

    def _check_settlements(self, actor: Actor, now: datetime, overdue: OverdueSource) -> None:
        """Organisations still owing on a settlement past its due day (UTC days, like the settlement's)."""
        for item in overdue(now.date(), self.policy().settlement_due_days):
            self.trigger(actor, item.org_id, None, "settlement_overdue",
                         f"Settlement {item.period_from} to {item.period_to}: {item.outstanding} rupiah outstanding, "
                         f"due {item.due_on}.")  # fmt: skip

    def _advance(self, actor: Actor, org_id: str, site_id: str | None, now: datetime) -> int:
        moved = 0
        current = self.record_of(org_id, site_id)  # the index may lag: act on the record itself
        while current.deadline is not None and current.deadline <= now and current.stage in _NEXT:
            try:
                current = self._write(actor, current, _NEXT[current.stage], current.reason or "manual",
                                      "The deadline passed.", since=current.deadline, at=now)  # fmt: skip
            except Conflict:
                return moved  # another run made this move first
            moved += 1
        return moved

    def _check_quality(self, actor: Actor, now: datetime, quality: QualitySource) -> None:
        """Yesterday's figures against the thresholds, once a UTC day (every site's local day is over by
        00:00 UTC in Indonesia). A site whose controller has never called Kuota is not set up yet, not
        failing: it is left out."""
        if not self._claim(None, None, "quality_check", now):
            return  # done today
        thresholds = self.policy().quality
        day = (now - timedelta(days=1)).date()
        for org in self._accounts.list_orgs():
            uplinks = self.uplinks(org.org_id) if self.uplinks else {}
            for figures in quality(org.org_id, day, day):
                if not (uplinks.get(figures.site_id) or {}).get("last_seen_at"):
                    continue
                breaches = []
                if figures.availability < thresholds["min_availability"]:
                    breaches.append(f"availability {figures.availability:.0%} < {thresholds['min_availability']:.0%}")
                if figures.reject_rate > thresholds["max_reject_rate"]:
                    breaches.append(f"reject rate {figures.reject_rate:.0%} > {thresholds['max_reject_rate']:.0%}")
                if breaches:
                    self.trigger(actor, org.org_id, figures.site_id, "quality_breach",
                                 f"{figures.day}: " + "; ".join(breaches))  # fmt: skip

    def _write(self, actor: Actor, current: StageRecord, to: Stage, reason: str, note: str, *, since: datetime,
               at: datetime) -> StageRecord:  # fmt: skip
        policy = self.policy()
        days = {"grace": policy.grace_days, "restricted": policy.restricted_days}.get(to)
        deadline = since + timedelta(days=days) if days is not None else None
        org_id, site_id = current.org_id, current.site_id
        seq = int(current.seq) + 1
        record = StageRecord(
            *StageRecord.key(org_id, site_id), org_id=org_id, site_id=site_id, stage=to, since=since, reason=reason,
            note=note, deadline=deadline, seq=seq, gsi2pk=DUE_PARTITION if deadline else None,
            gsi2sk=epoch(deadline) if deadline else None,
        )  # fmt: skip
        principal = actor.principal
        transition = StageTransition(
            *StageTransition.key(org_id, at.isoformat(timespec="microseconds"), site_id, seq), org_id=org_id,
            site_id=site_id, from_stage=current.stage, to_stage=to, reason=reason, note=note, at=at,
            actor_id=principal.id if principal else None,
            actor_name=(principal.email or principal.name) if principal else "scheduler", deadline=deadline,
        )  # fmt: skip
        event = self._audit.event(
            actor, org_id=org_id, action="compliance.stage_changed", target_type="site" if site_id else "org",
            target_id=site_id or org_id, before={"stage": current.stage},
            after={"stage": to, "reason": reason, "note": note, "since": _iso(since), "deadline": _iso(deadline)},
        )  # fmt: skip
        guard = StageRecord.seq.does_not_exist() if current.seq == 0 else StageRecord.seq == current.seq
        try:
            with self._audit.transaction() as tx:
                tx.save(record, condition=guard)
                tx.save(transition, condition=StageTransition.pk.does_not_exist())
                tx.append(event)
        except TransactWriteError as exc:
            if failed_condition(exc):
                raise Conflict("The stage was changed by someone else meanwhile; reload and try again.") from exc
            raise
        self.gate.forget(org_id)
        return record

    def _claim(self, org_id: str | None, site_id: str | None, reason: str, now: datetime) -> bool:
        """Whether this is the first time today this trigger fires for this scope (None: the platform's)."""
        claim = TriggerClaim(*TriggerClaim.key(org_id, site_id, reason, now.date().isoformat()),
                             ttl=now + timedelta(days=3))  # fmt: skip
        return save_if(claim, TriggerClaim.pk.does_not_exist())

    # -- what the console shows --

    def history(self, org_id: str, limit: int = 200) -> list[StageTransition]:
        return list(StageTransition.query(org_pk(org_id), StageTransition.sk.startswith(StageTransition.PREFIX),
                                          scan_index_forward=False, limit=limit))  # fmt: skip

    def view(self, org_id: str) -> dict[str, Any]:
        self._accounts.get_org(org_id)
        records = {record.site_id or "": record for record in
                   StageRecord.query(org_pk(org_id), StageRecord.sk.startswith(StageRecord.PREFIX),
                                     consistent_read=True)}  # fmt: skip
        org_record = records.get("") or self.record_of(org_id, None)
        uplinks = self.uplinks(org_id) if self.uplinks else {}
        today = self._clock().date()
        quality = self._quality_summary(org_id, today - timedelta(days=6), today)
        sites = []
        for site in self._sites.list_sites(org_id):
            own = records.get(site.site_id)
            sites.append({
                "site_id": site.site_id, "name": site.name,
                "stage": later(org_record.stage, own.stage if own else "active"),
                "own": stage_view(own) if own else None,
                "uplink": uplinks.get(site.site_id) or UNKNOWN_UPLINK,
                "quality": quality.get(site.site_id, {}),
            })  # fmt: skip
        return {**stage_view(org_record), "history": [transition_view(t) for t in self.history(org_id)],
                "sites": sites}  # fmt: skip

    def _quality_summary(self, org_id: str, start: date, end: date) -> dict[str, dict[str, Any]]:
        """Per site over the period: logins accepted, reject rate, availability (mean of days)."""
        if self.quality is None:
            return {}
        summary: dict[str, dict[str, Any]] = {}
        for figures in self.quality(org_id, start, end):
            entry = summary.setdefault(figures.site_id, {"days": 0, "accepted": 0, "availability": 0.0,
                                                         "reject_rate": 0.0})  # fmt: skip
            entry["days"] += 1
            entry["accepted"] += figures.accepted
            entry["availability"] += figures.availability
            entry["reject_rate"] += figures.reject_rate
        for entry in summary.values():
            entry["availability"] = round(entry["availability"] / entry["days"], 4)
            entry["reject_rate"] = round(entry["reject_rate"] / entry["days"], 4)
        return summary

    def resellers(self) -> list[dict[str, Any]]:
        """Every organisation with its stage, agreement end, worst uplink, quality and this month's revenue."""
        # Sales are dated by their site's local day: up to today in the easternmost zone (WIT), the latest
        # local day any Indonesian site is in (UTC's date missed a Jakarta sale after 17:00 UTC).
        today = self._clock().astimezone(ZoneInfo("Asia/Jayapura")).date()
        month_start = today.replace(day=1)
        rows = []
        for org in self._accounts.list_orgs():
            standing = self.gate.standing(org.org_id)
            agreement = self.find_agreement(org.org_id)
            uplinks = self.uplinks(org.org_id) if self.uplinks else {}
            statuses = {entry.get("status") for entry in uplinks.values()}
            uplink = next((status for status in ("unregistered", "registered") if status in statuses), "unknown")
            quality = self._quality_summary(org.org_id, month_start, today)
            days = sum(entry["days"] for entry in quality.values())
            rows.append({
                "org_id": org.org_id, "name": org.name, "stage": standing.org,
                "site_stages": dict(standing.sites),
                "agreement_ends_on": agreement.ends_on if agreement else None,
                "uplink": uplink,
                "quality": {
                    "availability": round(sum(e["availability"] * e["days"] for e in quality.values()) / days, 4),
                    "reject_rate": round(sum(e["reject_rate"] * e["days"] for e in quality.values()) / days, 4),
                } if days else None,
                "revenue_month": self.revenue(org.org_id, month_start, today) if self.revenue else None,
            })  # fmt: skip
        return rows


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: a day written YYYY-MM-DD", field=name) from exc
