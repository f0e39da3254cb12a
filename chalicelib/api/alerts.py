"""Anomaly alerts of an organization (owners, managers, auditors)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.audit import time_range
from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import REPORT_READERS

if TYPE_CHECKING:
    from chalicelib.api.alert_schemas import AlertListOut, AlertQuery

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.alert_schemas"


@endpoint(
    bp,
    "/v1/orgs/{org_id}/alerts",
    "GET",
    summary="Anomaly alerts, newest first (a bare date in from/to is a whole UTC day)",
    tag="audit",
    roles=REPORT_READERS,
    query=Schema("AlertQuery", SCHEMAS),
    response=Schema("AlertListOut", SCHEMAS),
)
def list_alerts(ctx: RequestContext, org_id: str, query: AlertQuery) -> AlertListOut:
    from chalicelib.api.alert_schemas import AlertListOut, AlertOut

    start, end = time_range(query.from_, query.to)
    page = services().alerts.list(
        org_id, start=start, end=end, kind=query.kind, limit=query.limit, cursor=query.cursor
    )
    return AlertListOut(
        alerts=[
            AlertOut(
                alert_id=alert.alert_id,
                kind=alert.kind,
                at=alert.at,
                actor_id=alert.actor_id,
                actor_kind=alert.actor_kind,
                actor_name=alert.actor_name,
                source_ip=alert.source_ip,
                site_id=alert.site_id,
                summary=alert.summary,
                details=alert.details or {},
                audit_event_ids=list(alert.audit_event_ids or []),
            )
            for alert in page.alerts
        ],
        next_cursor=page.next_cursor,
    )
