"""Batches of printed vouchers: create, follow progress, export codes (audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import ORG_ROLES, OWNER_MANAGER
from chalicelib.codes import ALPHABETS, WEAK_BITS, CodeShape, display, normalise_prefix
from chalicelib.errors import ValidationFailed

if TYPE_CHECKING:
    from chalicelib.api.schemas import BatchIn, BatchListOut, BatchListQuery, BatchOut, CodesOut
    from chalicelib.models import Batch

bp = Blueprint(__name__)
BATCHES = "/v1/orgs/{org_id}/batches"


def _view(batch: Batch) -> BatchOut:
    from chalicelib.api.schemas import BatchOut

    shape = CodeShape(alphabet=batch.alphabet, length=int(batch.code_length), prefix=batch.prefix)  # type: ignore[arg-type]
    warnings = []
    if shape.entropy_bits < WEAK_BITS:
        warnings.append(f"Codes carry {shape.entropy_bits} bits; under {WEAK_BITS} they are easier to guess.")
    return BatchOut(
        batch_id=batch.batch_id, status=batch.status, issued=int(batch.issued), quantity=int(batch.quantity),
        plan_id=batch.plan_id, site_id=batch.site_id, valid_until=batch.valid_until,
        entropy_bits=shape.entropy_bits, warnings=warnings, created_at=batch.created_at,
    )  # fmt: skip


@endpoint(
    bp, BATCHES, "POST", summary="Issue a batch of vouchers (201 when done, 202 while it runs)", tag="batches",
    roles=OWNER_MANAGER, body=Schema("BatchIn"), response=Schema("BatchOut"), status=201,
    extra_responses={202: "accepted", 429: "rate_limited"},
)  # fmt: skip
def create_batch(ctx: RequestContext, org_id: str, body: BatchIn) -> Response:
    registry = services()
    prefix = normalise_prefix(body.prefix)
    if not set(prefix) <= set(ALPHABETS["mixed"]):
        raise ValidationFailed("prefix: use letters and digits other than U", field="prefix")
    plan = registry.plans.get(org_id, body.plan_id)
    if body.site_id is not None:
        registry.sites.get_site(org_id, body.site_id)
    shape = CodeShape(alphabet=body.alphabet, length=body.code_length, prefix=prefix)
    batch = registry.issuing.create_batch(
        ctx.actor, org_id, plan=plan, site_id=body.site_id, quantity=body.quantity, shape=shape
    )
    status = 201 if batch.status == "done" else 202
    return Response(body=_view(batch).model_dump(mode="json"), status_code=status,
                    headers={"Content-Type": "application/json"})  # fmt: skip


@endpoint(
    bp, BATCHES, "GET", summary="The organization's batches, a page at a time in batch id order (not by time)",
    tag="batches", roles=ORG_ROLES, query=Schema("BatchListQuery"), response=Schema("BatchListOut"),
)  # fmt: skip
def list_batches(ctx: RequestContext, org_id: str, query: BatchListQuery) -> BatchListOut:
    from chalicelib.api.schemas import BatchListOut

    page = services().issuing.list_batches(org_id, limit=query.limit, cursor=query.cursor)
    return BatchListOut(batches=[_view(batch) for batch in page.batches], next_cursor=page.next_cursor)


@endpoint(bp, BATCHES + "/{batch_id}", "GET", summary="A batch and its progress", tag="batches", roles=ORG_ROLES,
          response=Schema("BatchOut"))  # fmt: skip
def get_batch(ctx: RequestContext, org_id: str, batch_id: str) -> BatchOut:
    return _view(services().issuing.get_batch(org_id, batch_id))


@endpoint(
    bp, BATCHES + "/{batch_id}/codes", "GET", summary="The batch's readable codes (audited)", tag="batches",
    roles=OWNER_MANAGER, response=Schema("CodesOut"), extra_responses={409: "conflict"},
)  # fmt: skip
def batch_codes(ctx: RequestContext, org_id: str, batch_id: str) -> CodesOut:
    from chalicelib.api.schemas import CodesOut

    return CodesOut(codes=[display(code) for code in services().issuing.export_codes(ctx.actor, org_id, batch_id)])
