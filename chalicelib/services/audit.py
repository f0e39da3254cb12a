"""The audit trail: who changed what, from where, when; append-only.

Services build an event with `AuditLog.event(...)` and write it with the change
it describes through `AuditLog.transaction()`, so neither exists without the
other. That one path is also where written events are announced to observers
(the anomaly alerts), after the write has landed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict
from chalicelib.models import AuditEvent, LedgerEntry, Site
from chalicelib.models.accounts import org_pk
from chalicelib.models.base import cancelled_by_condition, transaction
from chalicelib.models.vouchers import ChainHead
from chalicelib.observability import get_logger
from chalicelib.services import Clock, utc_now
from chalicelib.services.chain import MAX_ATTEMPTS, Links, back_off, link, lost_race, pick_lane
from chalicelib.services.cursors import decode_cursor, encode_cursor

APPEND_ONLY = AuditEvent.pk.does_not_exist()
_KEY = frozenset({"PK", "SK"})

Observer = Callable[[Sequence[AuditEvent]], None]


class Changes:
    """A transaction being put together: changes, and the records (audit events) that describe them.

    Operations are replayed in the order they were added, so a cancelled
    transaction's reasons index them as PynamoDB orders them (puts before updates).
    """

    def __init__(self) -> None:
        self._operations: list[tuple[str, Any, Any, Condition | None]] = []
        self.events: list[AuditEvent] = []
        self.records: list[AuditEvent | LedgerEntry] = []  # what gets chained, in order

    def save(self, item: Model, condition: Condition | None = None) -> None:
        self._operations.append(("save", item, None, condition))

    def update(self, item: Model, actions: list[Action], condition: Condition | None = None) -> None:
        self._operations.append(("update", item, actions, condition))

    def delete(self, item: Model, condition: Condition | None = None) -> None:
        self._operations.append(("delete", item, None, condition))

    def append(self, event: AuditEvent) -> None:
        """Add an audit event: written only if no event has its key (the trail is append-only)."""
        self.events.append(event)
        self.records.append(event)
        self._operations.append(("save", event, None, APPEND_ONLY))

    def record(self, entry: LedgerEntry) -> None:
        """Add a ledger entry: chained like the events, never overwritten."""
        self.records.append(entry)
        self._operations.append(("save", entry, None, LedgerEntry.pk.does_not_exist()))

    def replay(self, links: Links) -> None:
        """Send the transaction, the chains' head moves last (after every update of the caller's)."""
        with transaction() as tx:
            for kind, item, actions, condition in self._operations:
                if kind == "save":
                    tx.save(item, condition=condition)
                elif kind == "delete":
                    tx.delete(item, condition=condition)
                else:
                    tx.update(item, actions=actions, condition=condition)
            for head, replaces in links.moves:
                tx.update(
                    head,
                    actions=[ChainHead.seq.set(head.seq), ChainHead.hash.set(head.hash)],
                    condition=ChainHead.seq.does_not_exist() if replaces is None else ChainHead.seq == replaces,
                )


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
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> None:
        """Call `observer` with the events of every write that landed."""
        self._observers.append(observer)

    @contextmanager
    def transaction(self) -> Iterator[Changes]:
        """Collect changes and their events; write them all or none when the block ends."""
        changes = Changes()
        yield changes
        self.commit(changes)

    def commit(self, changes: Changes) -> None:
        """Write the changes with their records linked into their chains; retry when another writer
        moved a chain's head first (never on the caller's own conditions: those raise)."""
        for attempt in range(MAX_ATTEMPTS):
            links = link(changes.records, pick_lane(attempt))
            try:
                changes.replay(links)
                break
            except TransactWriteError as exc:
                if attempt == MAX_ATTEMPTS - 1 or not lost_race(exc, len(links.moves)):
                    raise
                back_off(attempt)
        self._announce(changes.events)

    def _announce(self, events: Sequence[AuditEvent]) -> None:
        for observer in self._observers:
            try:
                observer(events)
            except Exception:  # an observer's failure must not undo or fail a change that landed
                get_logger().exception("audit observer failed", extra={"observer": repr(observer)})

    def save_with_event(self, item: Model, event: AuditEvent, *, condition: Condition | None = None,
                        conflict: str | None = None) -> None:  # fmt: skip
        """Write a change and its audit event together: both or neither.

        The item's own guard (`condition`, or its VersionAttribute) failing means
        someone changed it meanwhile: a Conflict with `conflict` as the message.
        """
        try:
            with self.transaction() as tx:
                tx.save(item, condition=condition)
                tx.append(event)
        except TransactWriteError as exc:
            if conflict is not None and cancelled_by_condition(exc, 0):
                raise Conflict(conflict) from exc
            raise

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
            actor_name=(principal.email or principal.name) if principal else None,
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
        with self.transaction() as tx:
            tx.append(event)

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
            last_evaluated_key=decode_cursor(
                cursor, attributes=_KEY, partition=("PK", org_pk(org_id)), sort_range=("SK", low, high)
            ),
        )
        events = list(results)
        last_key = results.last_evaluated_key
        return AuditPage(events=events, next_cursor=encode_cursor(last_key))

