"""Plans: what a venue sells. Editing a plan never changes vouchers already issued."""

from __future__ import annotations

import uuid
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.models import Plan, Site
from chalicelib.models.payments import SiteRef
from chalicelib.plan_rules import check_plan, validate_windows
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.limits import MAX_PLANS_PER_ORG, require_room

TERMS = (
    "name", "price", "duration_minutes", "validity_days", "time_mode", "data_quota_mb",
    "rate_up_kbps", "rate_down_kbps", "max_devices", "kind", "windows", "period_quota_mb", "quota_period",
    "pause", "device_policy", "idle_release_minutes",
)  # fmt: skip


QRIS_MAX_RUPIAH = 10_000_000  # Bank Indonesia's limit per QRIS payment


def plan_view(plan: Plan) -> dict[str, Any]:
    view: dict[str, Any] = {"plan_id": plan.plan_id, "archived": plan.archived_at is not None}
    for name in TERMS:
        value = getattr(plan, name)
        view[name] = int(value) if isinstance(value, float) else value
    view["sold_online"] = bool(plan.sold_online)
    view["online_sites"] = sorted(plan.online_sites or ())
    return view


def _check_terms(plan: Plan) -> None:
    """Rules across fields; windows in one spelling (DynamoDB keeps no empty lists: none is None)."""
    plan.windows = validate_windows(plan.windows) if plan.windows else None
    check_plan({name: getattr(plan, name) for name in TERMS})
    if plan.kind == "topup" and plan.sold_online:
        raise ValidationFailed("sold_online: top-ups are sold from the console and the POS, not online yet",
                               field="sold_online")  # fmt: skip


def _check_online(org_id: str, plan: Plan) -> None:
    """A plan sold online names sites of its own org and a price QRIS can take; each such site becomes
    findable by its id alone (the guest page names only the site)."""
    if plan.online_sites is not None and not plan.online_sites:
        plan.online_sites = None  # DynamoDB keeps no empty sets
    if not plan.sold_online:
        return
    if not 1 <= int(plan.price) <= QRIS_MAX_RUPIAH:
        raise ValidationFailed("price: a plan sold online costs between Rp1 and Rp10,000,000 (QRIS)", field="price")
    if not plan.online_sites:
        raise ValidationFailed("online_sites: name the sites that sell this plan online", field="online_sites")
    for site_id in sorted(plan.online_sites):
        try:
            Site.get(*Site.key(org_id, site_id))
        except DoesNotExist as exc:
            raise ValidationFailed(f"online_sites: no site {site_id} in this organization",
                                   field="online_sites") from exc  # fmt: skip
        SiteRef(*SiteRef.key(site_id), org_id=org_id).save()


class PlanService:
    def __init__(self, audit: AuditLog, clock: Clock = utc_now) -> None:
        self._audit = audit
        self._clock = clock

    def create(self, actor: Actor, org_id: str, terms: dict[str, Any]) -> Plan:
        require_room(Plan.count(f"ORG#{org_id}", Plan.sk.startswith("PLAN#")), MAX_PLANS_PER_ORG, "plans",
                     "this organization")  # fmt: skip
        plan_id = uuid.uuid4().hex[:12]
        online_sites = terms.pop("online_sites", None)
        plan = Plan(*Plan.key(org_id, plan_id), plan_id=plan_id, org_id=org_id, created_at=self._clock(), **terms)
        plan.online_sites = set(online_sites) if online_sites else None
        _check_terms(plan)
        _check_online(org_id, plan)
        event = self._audit.event(
            actor, org_id=org_id, action="plan.create", target_type="plan", target_id=plan_id, after=plan_view(plan)
        )
        self._audit.save_with_event(plan, event, condition=Plan.pk.does_not_exist())
        plan.version = 1
        return plan

    def get(self, org_id: str, plan_id: str) -> Plan:
        try:
            return Plan.get(*Plan.key(org_id, plan_id))
        except DoesNotExist as exc:
            raise NotFound("No such plan.") from exc

    def list(self, org_id: str, *, include_archived: bool) -> list[Plan]:
        plans = Plan.query(f"ORG#{org_id}", Plan.sk.startswith("PLAN#"))
        return [plan for plan in plans if include_archived or plan.archived_at is None]

    def update(self, actor: Actor, org_id: str, plan_id: str, changes: dict[str, Any]) -> Plan:
        plan = self.get(org_id, plan_id)
        if plan.archived_at is not None:
            raise Conflict("An archived plan cannot be edited.")
        before = plan_view(plan)
        attributes = Plan.get_attributes()
        for name, value in changes.items():
            if value is None and not attributes[name].null:
                raise ValidationFailed(f"{name}: cannot be cleared; leave it out to keep it", field=name)
            setattr(plan, name, set(value) if name == "online_sites" and value else value)
        _check_terms(plan)
        _check_online(org_id, plan)
        return self._save(actor, plan, "plan.update", before)

    def archive(self, actor: Actor, org_id: str, plan_id: str) -> Plan:
        plan = self.get(org_id, plan_id)
        if plan.archived_at is not None:
            return plan
        before = plan_view(plan)
        plan.archived_at = self._clock()
        return self._save(actor, plan, "plan.archive", before)

    def _save(self, actor: Actor, plan: Plan, action: str, before: dict[str, Any]) -> Plan:
        event = self._audit.event(
            actor, org_id=plan.org_id, action=action, target_type="plan", target_id=plan.plan_id,
            before=before, after=plan_view(plan),
        )  # fmt: skip
        self._audit.save_with_event(plan, event, conflict="The plan was changed by someone else; reload and try again.")
        return plan
