"""The ISP's side: agreements, suspension stages, the policy and the resellers list."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint, text_cell
from chalicelib.auth.roles import OWNER_ONLY, PLATFORM_ONLY, REPORT_READERS

if TYPE_CHECKING:
    from chalicelib.api.compliance_schemas import (
        AgreementIn,
        AgreementOut,
        ComplianceOut,
        PolicyIn,
        PolicyOut,
        ResellersOut,
        StageIn,
        StageOut,
    )

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.compliance_schemas"


@endpoint(
    bp, "/v1/platform/orgs/{org_id}/agreement", "PUT", summary="Record a reseller's cooperation agreement (audited)",
    tag="platform", roles=PLATFORM_ONLY, body=Schema("AgreementIn", SCHEMAS), response=Schema("AgreementOut", SCHEMAS),
)  # fmt: skip
def put_agreement(ctx: RequestContext, org_id: str, body: AgreementIn) -> AgreementOut:
    from chalicelib.api.compliance_schemas import AgreementOut
    from chalicelib.services.compliance import agreement_view

    fields = {name: str(value) for name, value in body}  # days as YYYY-MM-DD
    return AgreementOut.model_validate(agreement_view(services().compliance.put_agreement(ctx.actor, org_id, fields)))


@endpoint(
    bp, "/v1/orgs/{org_id}/agreement", "GET", summary="The organisation's agreement with the ISP (owner, platform)",
    tag="compliance", roles=OWNER_ONLY, response=Schema("AgreementOut", SCHEMAS),
)  # fmt: skip
def get_agreement(ctx: RequestContext, org_id: str) -> AgreementOut:
    from chalicelib.api.compliance_schemas import AgreementOut
    from chalicelib.services.compliance import agreement_view

    agreement = services().compliance.get_agreement(org_id)
    return AgreementOut.model_validate(agreement_view(agreement))


@endpoint(
    bp, "/v1/platform/agreements", "GET",
    summary="Every reseller's agreement with its person in charge, as CSV (personal data: audited)",
    tag="platform", roles=PLATFORM_ONLY, csv=True,
)  # fmt: skip
def export_agreements(ctx: RequestContext) -> Response:
    rows = services().compliance.export_agreements(ctx.actor)
    columns = ["org_name", "org_id", "legal_name", "nib", "agreement_no", "starts_on", "ends_on", "contact_name",
               "contact_phone", "updated_at"]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([text_cell(str(row.get(column) or "")) for column in columns])
    return Response(body=buffer.getvalue(), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": 'attachment; filename="agreements.csv"',
    })  # fmt: skip


@endpoint(
    bp, "/v1/orgs/{org_id}/compliance", "GET",
    summary="The organisation's stage, its timeline, and each site's stage, uplink and quality",
    tag="compliance", roles=REPORT_READERS, response=Schema("ComplianceOut", SCHEMAS),
)  # fmt: skip
def compliance(ctx: RequestContext, org_id: str) -> ComplianceOut:
    from chalicelib.api.compliance_schemas import ComplianceOut

    return ComplianceOut.model_validate(services().compliance.view(org_id))


@endpoint(
    bp, "/v1/platform/orgs/{org_id}/stage", "POST",
    summary="Move an organisation to a stage (forward, or back to active from any stage but terminated)",
    tag="platform", roles=PLATFORM_ONLY, body=Schema("StageIn", SCHEMAS), response=Schema("StageOut", SCHEMAS),
    extra_responses={409: "invalid_transition | conflict"},
)  # fmt: skip
def move_org(ctx: RequestContext, org_id: str, body: StageIn) -> StageOut:
    return _moved(ctx, org_id, None, body)


@endpoint(
    bp, "/v1/platform/orgs/{org_id}/sites/{site_id}/stage", "POST",
    summary="Move one site to a stage (forward, or back to active from any stage but terminated)",
    tag="platform", roles=PLATFORM_ONLY, body=Schema("StageIn", SCHEMAS), response=Schema("StageOut", SCHEMAS),
    extra_responses={409: "invalid_transition | conflict"},
)  # fmt: skip
def move_site(ctx: RequestContext, org_id: str, site_id: str, body: StageIn) -> StageOut:
    return _moved(ctx, org_id, site_id, body)


def _moved(ctx: RequestContext, org_id: str, site_id: str | None, body: StageIn) -> StageOut:
    from chalicelib.api.compliance_schemas import StageOut
    from chalicelib.services.compliance import stage_view

    record = services().compliance.move(ctx.actor, org_id, site_id, body.stage, body.reason, body.note)
    return StageOut.model_validate(stage_view(record))


@endpoint(
    bp, "/v1/platform/resellers", "GET",
    summary="Every reseller: stage, agreement end, uplink, quality and this month's revenue",
    tag="platform", roles=PLATFORM_ONLY, response=Schema("ResellersOut", SCHEMAS),
)  # fmt: skip
def resellers(ctx: RequestContext) -> ResellersOut:
    from chalicelib.api.compliance_schemas import ResellersOut

    return ResellersOut.model_validate({"resellers": services().compliance.resellers()})


@endpoint(
    bp, "/v1/platform/policy", "PUT", summary="Set stage lengths, what each trigger does and the quality thresholds",
    tag="platform", roles=PLATFORM_ONLY, body=Schema("PolicyIn", SCHEMAS), response=Schema("PolicyOut", SCHEMAS),
)  # fmt: skip
def put_policy(ctx: RequestContext, body: PolicyIn) -> PolicyOut:
    from chalicelib.api.compliance_schemas import PolicyOut

    policy = services().compliance.put_policy(ctx.actor, body.model_dump())
    return PolicyOut.model_validate(policy.view())


@endpoint(
    bp, "/v1/platform/policy", "GET", summary="The platform's compliance policy (defaults until set)",
    tag="platform", roles=PLATFORM_ONLY, response=Schema("PolicyOut", SCHEMAS),
)  # fmt: skip
def get_policy(ctx: RequestContext) -> PolicyOut:
    from chalicelib.api.compliance_schemas import PolicyOut

    return PolicyOut.model_validate(services().compliance.policy().view())
