"""Plans: create, list, edit, archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import ORG_ROLES, OWNER_MANAGER

if TYPE_CHECKING:
    from chalicelib.api.schemas import PlanIn, PlanListOut, PlanOut, PlanUpdateIn

bp = Blueprint(__name__)
PLANS = "/v1/orgs/{org_id}/plans"


@endpoint(
    bp, PLANS, "POST", summary="Create a plan", tag="plans", roles=OWNER_MANAGER, body=Schema("PlanIn"),
    response=Schema("PlanOut"), status=201, extra_responses={409: "conflict"},
)  # fmt: skip
def create_plan(ctx: RequestContext, org_id: str, body: PlanIn) -> PlanOut:
    from chalicelib.api.schemas import PlanOut
    from chalicelib.services.plans import plan_view

    plan = services().plans.create(ctx.actor, org_id, body.model_dump())
    return PlanOut.model_validate(plan_view(plan))


@endpoint(
    bp, PLANS, "GET", summary="List plans (archived ones too)", tag="plans", roles=ORG_ROLES,
    response=Schema("PlanListOut"),
)  # fmt: skip
def list_plans(ctx: RequestContext, org_id: str) -> PlanListOut:
    from chalicelib.api.schemas import PlanListOut, PlanOut
    from chalicelib.services.plans import plan_view

    plans = services().plans.list(org_id, include_archived=True)
    return PlanListOut(plans=[PlanOut.model_validate(plan_view(plan)) for plan in plans])


@endpoint(bp, PLANS + "/{plan_id}", "GET", summary="One plan", tag="plans", roles=ORG_ROLES,
          response=Schema("PlanOut"))  # fmt: skip
def get_plan(ctx: RequestContext, org_id: str, plan_id: str) -> PlanOut:
    from chalicelib.api.schemas import PlanOut
    from chalicelib.services.plans import plan_view

    return PlanOut.model_validate(plan_view(services().plans.get(org_id, plan_id)))


@endpoint(
    bp, PLANS + "/{plan_id}", "PATCH", summary="Edit a plan (vouchers already issued keep their terms)",
    tag="plans", roles=OWNER_MANAGER, body=Schema("PlanUpdateIn"), response=Schema("PlanOut"),
    extra_responses={409: "conflict"},
)  # fmt: skip
def update_plan(ctx: RequestContext, org_id: str, plan_id: str, body: PlanUpdateIn) -> PlanOut:
    from chalicelib.api.schemas import PlanOut
    from chalicelib.services.plans import plan_view

    changes = body.model_dump(exclude_unset=True)
    plan = services().plans.update(ctx.actor, org_id, plan_id, changes)
    return PlanOut.model_validate(plan_view(plan))


@endpoint(
    bp, PLANS + "/{plan_id}/archive", "POST", summary="Archive a plan: no new vouchers from it", tag="plans",
    roles=OWNER_MANAGER, response=Schema("PlanOut"),
)  # fmt: skip
def archive_plan(ctx: RequestContext, org_id: str, plan_id: str) -> PlanOut:
    from chalicelib.api.schemas import PlanOut
    from chalicelib.services.plans import plan_view

    return PlanOut.model_validate(plan_view(services().plans.archive(ctx.actor, org_id, plan_id)))
