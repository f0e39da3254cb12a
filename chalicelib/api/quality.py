"""Service-quality figures per site and local day: an organisation's own, and every organisation's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import PLATFORM_ONLY, REPORT_READERS

if TYPE_CHECKING:
    from chalicelib.api.quality_schemas import OrgQualityQuery, QualityOut, QualityQuery
    from chalicelib.services.quality import QualityDay

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.quality_schemas"


@endpoint(
    bp, "/v1/orgs/{org_id}/quality", "GET", summary="Service quality per site and local day (at most 92 days)",
    tag="quality", roles=REPORT_READERS, query=Schema("OrgQualityQuery", SCHEMAS),
    response=Schema("QualityOut", SCHEMAS), extra_responses={404: "not_found (site_id)"},
)  # fmt: skip
def org_quality(ctx: RequestContext, org_id: str, query: OrgQualityQuery) -> QualityOut:
    return _out(services().quality.days(org_id, query.from_, query.to, site_id=query.site_id))


@endpoint(
    bp, "/v1/platform/quality", "GET",
    summary="Service quality of every organisation's sites per local day (at most 92 days)",
    tag="quality", roles=PLATFORM_ONLY, query=Schema("QualityQuery", SCHEMAS), response=Schema("QualityOut", SCHEMAS),
)  # fmt: skip
def platform_quality(ctx: RequestContext, query: QualityQuery) -> QualityOut:
    return _out(services().quality.all_days(query.from_, query.to))


def _out(days: list[QualityDay]) -> QualityOut:
    from chalicelib.api.quality_schemas import QualityDayOut, QualityOut

    fields = ("org_id", "site_id", "day", "accepted", "rejected", "reject_rate", "sessions", "bytes",
              "median_session_s", "median_exact", "availability")  # fmt: skip
    return QualityOut(days=[QualityDayOut.model_validate({name: getattr(day, name) for name in fields})
                            for day in days])  # fmt: skip
