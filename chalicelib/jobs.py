"""Background handlers: scheduled jobs (EventBridge) and the batch worker (SQS), thin wrappers.

Services are imported inside the handlers so that `import app` stays light for
the API's cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, SQSEvent

from chalicelib.config import get_settings
from chalicelib.observability import get_logger

bp = Blueprint(__name__)

# Stop starting new work this long before Lambda's timeout: the item in hand and a
# progress save must still fit. A quarter of a shorter budget when the function has one.
STOP_MARGIN_SECONDS = 20.0


def _seconds_left(event: CloudWatchEvent) -> Callable[[], float] | None:
    """A deadline for a service: seconds of work left in this invocation (None: no Lambda context)."""
    context: Any = event.context
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    margin: float = min(STOP_MARGIN_SECONDS, context.get_remaining_time_in_millis() / 4000)

    def seconds_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 - margin

    return seconds_left


def _request_id(event: CloudWatchEvent) -> str:
    return str(getattr(event.context, "aws_request_id", None) or event.to_dict().get("id") or "scheduled")


@bp.schedule("rate(5 minutes)", description="Record due voucher and batch expiries")
def expire_vouchers(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.services.expiring import ExpiryService

    report = ExpiryService().run(_seconds_left(event), request_id=_request_id(event))
    get_logger().info("expiry run", extra=asdict(report))
    return asdict(report)


@bp.schedule("rate(1 minute)", description="Copy voucher audit entries from the outbox to the audit table")
def drain_audit_outbox(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.services.outbox import AuditOutbox

    seconds_left = _seconds_left(event)
    from chalicelib.api.deps import services

    outbox = AuditOutbox(services().audit)  # its observers (the alerts) see drained events too
    written = drained = outbox.drain()
    # A large batch's expiry fills the outbox faster than one drain takes it: go on while there is time.
    while drained and seconds_left is not None and seconds_left() > 0:
        drained = outbox.drain()
        written += drained
    get_logger().info("audit outbox drained", extra={"events_written": written})
    return {"events_written": written}


@bp.schedule("cron(30 1 * * ? *)", description="Sign each owner's audit and ledger chains of the days now closed")
def seal_ledger(event: CloudWatchEvent) -> dict[str, Any]:
    from datetime import UTC, datetime

    from chalicelib.api.deps import services
    from chalicelib.models.accounts import org_pk
    from chalicelib.services.chain import seal_due

    owners = ["PLATFORM", *(org_pk(org.org_id) for org in services().accounts.list_orgs())]
    sealed = seal_due(owners, datetime.now(UTC))
    get_logger().info("ledger sealed", extra={"days_sealed": sealed})
    return {"days_sealed": sealed}


@bp.schedule("rate(5 minutes)", description="Move suspension stages whose deadlines passed; act on ended agreements")
def advance_compliance(event: CloudWatchEvent) -> dict[str, Any]:
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import scheduler_actor

    moved = services().compliance.advance(scheduler_actor(_request_id(event)))
    get_logger().info("compliance advanced", extra={"transitions": moved})
    return {"transitions": moved}


@bp.schedule("rate(5 minutes)", description="Ask payment providers about orders near or past expiry; check yesterday")
def reconcile_payments(event: CloudWatchEvent) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from chalicelib.api.deps import services
    from chalicelib.auth.principal import scheduler_actor

    actor = scheduler_actor(_request_id(event))
    payments = services().payments
    counts = payments.reconcile(actor)
    now = datetime.now(UTC)
    if now.hour == 2 and now.minute < 5:  # once a day, the day before compared with the providers and the ledger
        counts.update(payments.daily_check(actor, (now - timedelta(days=1)).date()))
    get_logger().info("payments reconciled", extra=counts)
    return counts


@bp.on_sqs_message(queue=get_settings().batch_queue, batch_size=1)
def issue_batches(event: SQSEvent) -> None:
    """Write a large batch's vouchers; a failure leaves the message for SQS to deliver again (resume)."""
    from chalicelib.api.deps import services
    from chalicelib.messaging import parse_batch_job

    for record in event:
        org_id, batch_id = parse_batch_job(record.body)
        batch = services().issuing.resume(org_id, batch_id)
        issued = None if batch is None else int(batch.issued)  # None: its creation failed, nothing to do
        get_logger().info("batch issued", extra={"batch_id": batch_id, "issued": issued})
