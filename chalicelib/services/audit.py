"""The audit trail: who changed what, from where, when; append-only.

Services build an event with `AuditLog.event(...)` and write it in the same
transaction as the change it describes, so neither exists without the other.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, ValidationFailed
from chalicelib.models import AuditEvent, Site
from chalicelib.models.accounts import org_pk
from chalicelib.models.base import cancelled_by_condition, transaction
from chalicelib.services import Clock, utc_now

APPEND_ONLY = AuditEvent.pk.does_not_exist()


def save_with_event(item: Model, event: AuditEvent, *, condition: Condition | None = None,
                    conflict: str | None = None) -> None:  # fmt: skip
    """Write a change and its audit event together: both or neither.

    The item's own guard (`condition`, or its VersionAttribute) failing means
    someone changed it meanwhile: a Conflict with `conflict` as the message.
    """
    try:
        with transaction() as tx:
            tx.save(item, condition=condition)
            tx.save(event, condition=APPEND_ONLY)
    except TransactWriteError as exc:
        if conflict is not None and cancelled_by_condition(exc, 0):
            raise Conflict(conflict) from exc
        raise


def is_off_hours(at: datetime, site: Site) -> bool:
    """True when `at` falls outside the site's business hours, in the site's timezone."""
    local = at.astimezone(ZoneInfo(site.timezone)).time()
    opens, closes = time.fromisoformat(site.opens_at), time.fromisoformat(site.closes_at)
    if opens <= closes:
        return not (opens <= local < closes)
    return closes <= local < opens  # hours across midnight, e.g. 18:00-02:00


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


class AuditLog:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    def event(
        self,
        actor: Actor,
        *,
        org_id: str | None,
        action: str,
        target_type: str,
        target_id: str | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        site: Site | None = None,
    ) -> AuditEvent:
        at = self._clock()
        event_id = uuid.uuid4().hex
        principal = actor.principal
        return AuditEvent(
            org_pk(org_id),
            f"{at.isoformat(timespec='microseconds')}#{event_id}",
            event_id=event_id,
            at=at,
            org_id=org_id,
            actor_id=principal.id if principal else None,
            actor_kind=principal.kind if principal else "anonymous",
            actor_role=str(principal.role or principal.key_kind) if principal else None,
            platform_action=actor.platform_action,
            source_ip=actor.meta.source_ip,
            user_agent=actor.meta.user_agent,
            request_id=actor.meta.request_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            site_id=site.site_id if site else None,
            off_hours=is_off_hours(at, site) if site else None,
            before=before,
            after=after,
        )

    def record(self, event: AuditEvent) -> None:
        """Write an event that has no other change to travel with (e.g. a failed login)."""
        event.save(condition=APPEND_ONLY)

    def query(
        self,
        org_id: str,
        *,
        start: datetime | None,
        end: datetime | None,
        actor: str | None,
        action: str | None,
        limit: int,
        cursor: str | None,
    ) -> AuditPage:
        low = start.isoformat(timespec="microseconds") if start else "0000"
        high = (end.isoformat(timespec="microseconds") if end else "9999") + "~"
        range_condition = AuditEvent.sk.between(low, high)
        filters: list[Condition] = []
        if actor:
            filters.append(AuditEvent.actor_id == actor)
        if action:
            filters.append(AuditEvent.action == action)
        filter_condition = None
        for condition in filters:
            filter_condition = condition if filter_condition is None else filter_condition & condition
        results = AuditEvent.query(
            org_pk(org_id),
            range_condition,
            filter_condition=filter_condition,
            scan_index_forward=False,  # newest first, as an auditor reads
            limit=limit,
            last_evaluated_key=_decode_cursor(cursor, org_pk(org_id)),
        )
        events = list(results)
        last_key = results.last_evaluated_key
        return AuditPage(events=events, next_cursor=_encode_cursor(last_key) if last_key else None)


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str | None, partition: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", field="cursor") from exc
    if not isinstance(key, dict) or set(key) != {"PK", "SK"} or key["PK"] != {"S": partition}:
        raise ValidationFailed("cursor is not valid", field="cursor")
    return key
