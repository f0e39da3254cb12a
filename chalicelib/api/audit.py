"""Reading the audit trail (owners and auditors)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import OWNER_AUDITOR
from chalicelib.errors import ValidationFailed

if TYPE_CHECKING:
    from chalicelib.api.schemas import AuditPageOut, AuditQuery, VerifyOut, VerifyQuery

bp = Blueprint(__name__)


def time_range(first: date | datetime | None, last: date | datetime | None) -> tuple[datetime | None, datetime | None]:
    """`from`/`to` of a time-ordered listing (audit log, alerts): bare dates are whole UTC days."""
    start, end = _bound(first, end=False), _bound(last, end=True)
    if start and end and start > end:
        raise ValidationFailed("from: must not be after to", field="from")
    return start, end


def _bound(value: date | datetime | None, *, end: bool) -> datetime | None:
    """A bare date means the whole UTC day: `to=2026-11-22` includes that day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    start = datetime.combine(value, time.min, tzinfo=UTC)
    return start + timedelta(days=1, microseconds=-1) if end else start


@endpoint(
    bp,
    "/v1/orgs/{org_id}/audit",
    "GET",
    summary="Audit events, newest first",
    tag="audit",
    roles=OWNER_AUDITOR,
    query=Schema("AuditQuery"),
    response=Schema("AuditPageOut"),
)
def list_audit(ctx: RequestContext, org_id: str, query: AuditQuery) -> AuditPageOut:
    from chalicelib.api.schemas import AuditEventOut, AuditPageOut

    start, end = time_range(query.from_, query.to)
    page = services().audit.query(
        org_id, start=start, end=end, actor=query.actor, action=query.action, limit=query.limit, cursor=query.cursor
    )
    events = [
        AuditEventOut.model_validate({name: getattr(event, name) for name in AuditEventOut.model_fields})
        for event in page.events
    ]
    return AuditPageOut(events=events, next_cursor=page.next_cursor)


@endpoint(
    bp,
    "/v1/orgs/{org_id}/audit/verify",
    "GET",
    summary="Recompute the audit and ledger chains and reconcile revenue; name the first record that does not hold",
    tag="audit",
    roles=OWNER_AUDITOR,
    query=Schema("VerifyQuery"),
    response=Schema("VerifyOut"),
)
def verify_audit(ctx: RequestContext, org_id: str, query: VerifyQuery) -> VerifyOut:
    from dataclasses import asdict

    from chalicelib.api.schemas import VerifyOut

    result = services().ledger.verify(org_id, query.from_, query.to)
    problems = [asdict(problem) for problem in result.problems]
    return VerifyOut.model_validate({
        "ok": result.ok, "from_": result.start, "to": result.end, "chains": result.chains.chains,
        "records": result.chains.records, "days_sealed": result.chains.days_sealed, "totals": asdict(result.totals),
        "problems": problems, "first_problem": problems[0] if problems else None,
    })  # fmt: skip
