"""Plans: what a venue sells. Editing a plan never changes vouchers already issued."""

from __future__ import annotations

import uuid
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, NotFound
from chalicelib.models import Plan
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog

TERMS = (
    "name", "price", "duration_minutes", "validity_days", "time_mode", "data_quota_mb",
    "rate_up_kbps", "rate_down_kbps", "max_devices",
)  # fmt: skip


def plan_view(plan: Plan) -> dict[str, Any]:
    view: dict[str, Any] = {"plan_id": plan.plan_id, "archived": plan.archived_at is not None}
    for name in TERMS:
        value = getattr(plan, name)
        view[name] = int(value) if isinstance(value, float) else value
    return view


class PlanService:
    def __init__(self, audit: AuditLog, clock: Clock = utc_now) -> None:
        self._audit = audit
        self._clock = clock

    def create(self, actor: Actor, org_id: str, terms: dict[str, Any]) -> Plan:
        plan_id = uuid.uuid4().hex[:12]
        plan = Plan(*Plan.key(org_id, plan_id), plan_id=plan_id, org_id=org_id, created_at=self._clock(), **terms)
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
        for name, value in changes.items():
            setattr(plan, name, value)
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
