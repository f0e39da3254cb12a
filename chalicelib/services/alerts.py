"""Anomaly alerts, raised as events happen.

`AlertService.observe` is subscribed to the audit log: it sees the events of every
write that landed and raises alerts for the ones that look wrong. Redeem refusals
write no audit event, so the redeem service calls `wrong_site` and `redeem_burst`
itself, on the refusal path only (a successful redeem stays one write); the uplink
service calls `uplink_unregistered` when a site calls from outside the ISP's
registered address space.

Every alert has an id derived from what raised it: an alert from one audit event
is keyed by that event, an alert per scope and window (bursts, bulk revokes, a code
tried at the wrong site) is claimed once per window. Observing the same thing twice,
in one container or many, writes nothing the second time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.principal import Actor
from chalicelib.config import Settings
from chalicelib.models import ApiKey, AuditEvent, Org, Site, User
from chalicelib.models.accounts import PLATFORM_PARTITION, org_pk
from chalicelib.models.alerts import ALERT_PREFIX, Alert, AlertClaim
from chalicelib.models.base import failed_condition, save_if, transaction
from chalicelib.observability import get_logger
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import is_off_hours
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.ratelimit import EventCounter

KINDS = (
    "off_hours",
    "redeem_before_sale",
    "wrong_site",
    "failed_redeem_burst",
    "bulk_revoke",
    "code_export",
    "void_after_shift",
    "uplink_unregistered",
    "compliance_warning",
)

# Audit actions that change no state (sign-in, reads) or that guests and the system cause
# (a redeem, an expiry): outside business hours they are no sign of an insider at work.
_NOT_STAFF_CHANGES = frozenset({"voucher.redeem", "voucher.expired", "voucher.exhausted", "radius.unknown_nas"})
_NOT_STAFF_PREFIXES = ("auth.",)
# Keys that act for a person at the till; controller and RADIUS keys act for guests.
_STAFF_KEY_KINDS = frozenset({"pos"})
# Actions that show readable codes to whoever called them.
_CODE_EXPORTS = frozenset({"batch.codes_exported"})
_CODE_EXPORT_SUFFIXES = (".codes_exported", ".codes_revealed", ".code_revealed")
_REVOKES = frozenset({"voucher.revoke", "sale.void"})


def alert_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def is_staff_change(event: AuditEvent) -> bool:
    """A state change made by a person (a user, or a POS key at the till), as opposed to a read or a guest."""
    if event.action in _NOT_STAFF_CHANGES or event.action.startswith(_NOT_STAFF_PREFIXES) or is_code_export(event):
        return False
    if event.actor_kind == "user":
        return True
    return event.actor_kind == "api_key" and event.actor_role in _STAFF_KEY_KINDS


def is_code_export(event: AuditEvent) -> bool:
    return event.action in _CODE_EXPORTS or event.action.endswith(_CODE_EXPORT_SUFFIXES)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AlertPage:
    alerts: list[Alert]
    next_cursor: str | None


class AlertService:
    def __init__(
        self, settings: Settings, clock: Clock = utc_now, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        self._bulk_limit = settings.alert_bulk_revoke_count
        self._bulk_counter = EventCounter(settings.alert_bulk_revoke_window_seconds)
        self._redeem_window = settings.redeem_window_seconds
        self._org_settings: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    # --- observing the audit trail ------------------------------------------------

    def observe(self, events: Sequence[AuditEvent]) -> None:
        """Raise the alerts these written events call for (AuditLog calls this after each write)."""
        for event in events:
            if not event.org_id:
                continue  # the platform's own actions (its keys, orgs) belong to no reseller
            for rule in self._rules(event):
                try:
                    rule()
                except Exception:  # one alert failing must not keep the others from being raised
                    get_logger().exception("alert rule failed", extra={"event_id": event.event_id})

    def _rules(self, event: AuditEvent) -> list[Callable[[], None]]:
        """The rules this event calls for, each ready to run."""
        after: dict[str, Any] = event.after if isinstance(event.after, dict) else {}
        rules: list[Callable[[], None]] = []
        if is_staff_change(event):
            if event.off_hours:
                rules.append(lambda: self._off_hours(event))
            elif event.off_hours is None:  # a change of no one site (a plan, a user, an unbound voucher)
                rules.append(lambda: self._off_hours_everywhere(event))
        if event.action == "voucher.redeem" and isinstance(after.get("sale"), dict):
            rules.append(lambda: self._redeem_before_sale(event, after["sale"]))
        if is_code_export(event):
            rules.append(lambda: self._code_export(event, after))
        if event.action == "sale.void" and after.get("sale_before_shift") is True:
            rules.append(lambda: self._void_after_shift(event, after))
        if event.action in _REVOKES and event.actor_kind == "user" and event.actor_id:
            rules.append(lambda: self._count_revoke(event))
        return rules

    def _off_hours(self, event: AuditEvent) -> None:
        site = self._site(str(event.org_id), event.site_id)
        zone = ZoneInfo(site.timezone) if site else UTC
        local = event.at.astimezone(zone)
        where = f" at {site.name}" if site else ""
        hours = f" ({site.opens_at}-{site.closes_at} {site.timezone})" if site else ""
        self._from_event(
            "off_hours",
            event,
            summary=f"{event.action} on {local:%a %d %b %H:%M} local time{where}, outside business hours{hours}",
            details={
                "action": event.action,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "local_time": local.isoformat(timespec="seconds"),
                "opens_at": site.opens_at if site else None,
                "closes_at": site.closes_at if site else None,
                "timezone": site.timezone if site else None,
            },
        )

    def _off_hours_everywhere(self, event: AuditEvent) -> None:
        """A change that belongs to no one site is off hours when every site of the org is closed."""
        sites = list(Site.query(org_pk(event.org_id), Site.sk.startswith("SITE#")))
        if not sites or not all(is_off_hours(event.at, site) for site in sites):
            return
        first = sites[0]
        local = event.at.astimezone(ZoneInfo(first.timezone))
        self._from_event(
            "off_hours",
            event,
            summary=f"{event.action} on {local:%a %d %b %H:%M} {first.timezone} time, when every site was closed",
            details={
                "action": event.action,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "local_time": local.isoformat(timespec="seconds"),
                "sites_closed": [
                    {"site_id": site.site_id, "opens_at": site.opens_at, "closes_at": site.closes_at,
                     "timezone": site.timezone}
                    for site in sites
                ],
            },
        )  # fmt: skip

    def _redeem_before_sale(self, event: AuditEvent, sale: dict[str, Any]) -> None:
        if not self._sells_only_through_pos(str(event.org_id)):
            return
        site = self._site(str(event.org_id), event.site_id)
        amount = int(sale.get("amount") or 0)
        where = f" at {site.name}" if site else ""
        self._from_event(
            "redeem_before_sale",
            event,
            summary=f"A voucher never sold through the POS was redeemed{where} and counted as sold (Rp {amount:,})"
            .replace(",", "."),
            details={"voucher_id": event.target_id, "amount": amount, "plan_id": sale.get("plan_id"),
                     "device": (event.after or {}).get("device")},
        )  # fmt: skip

    def _code_export(self, event: AuditEvent, after: dict[str, Any]) -> None:
        count = after.get("count")
        what = f"{count} codes" if count is not None else "codes"
        self._from_event(
            "code_export",
            event,
            summary=f"{what} of {event.target_type} {event.target_id} shown or exported ({event.action})",
            details={"action": event.action, "target_type": event.target_type, "target_id": event.target_id,
                     "count": count, "off_hours": bool(event.off_hours)},
        )  # fmt: skip

    def _void_after_shift(self, event: AuditEvent, after: dict[str, Any]) -> None:
        before: dict[str, Any] = event.before if isinstance(event.before, dict) else {}
        total = before.get("total")
        amount = f" (Rp {int(total):,})".replace(",", ".") if total is not None else ""
        self._from_event(
            "void_after_shift",
            event,
            summary=f"Sale {event.target_id}{amount}, made before the voider's shift, was voided: "
            f"{after.get('reason')}",
            details={"sale_id": event.target_id, "total": total, "reason": after.get("reason"),
                     "vouchers_revoked": after.get("vouchers_revoked")},
        )  # fmt: skip

    def _count_revoke(self, event: AuditEvent) -> None:
        """Count a person's revokes and voids; `limit` of them within the window raise one alert.

        Counted in fixed windows (one counter item each), judged over the sliding window that
        ends at this event: this window's entries and the previous one's, each entry stamped
        with its time. The alert is claimed once per fixed window.
        """
        scope = f"alert-bulk-revoke:{event.org_id}:{event.actor_id}"
        at = int(event.at.timestamp())
        counted = self._bulk_counter.count(scope, f"{event.event_id}@{at}", event.at)
        if counted is None:
            return  # observed before
        _, entries = counted
        window = self._bulk_counter.window_seconds
        start = self._bulk_counter.window_start(event.at)
        if len(entries) < self._bulk_limit:
            entries = self._bulk_counter.entries(scope, start - window) + entries
        recent = [entry for entry in entries if 0 <= at - int(entry.rpartition("@")[2]) < window]
        if len(recent) < self._bulk_limit:
            return
        event_ids = [entry.rpartition("@")[0] for entry in recent]
        self._claim(
            Alert(
                Alert.partition(str(event.org_id)),
                alert_id=alert_id("bulk_revoke", scope, str(start)),
                org_id=str(event.org_id),
                kind="bulk_revoke",
                at=event.at,
                actor_id=event.actor_id,
                actor_kind=event.actor_kind,
                actor_name=self._actor_name(event),
                source_ip=event.source_ip,
                site_id=event.site_id,
                summary=f"{len(recent)} voucher revokes or sale voids by one person within {window // 60} minutes",
                details={"count": len(recent), "window_seconds": window,
                         "first_at": _iso(datetime.fromtimestamp(int(recent[0].rpartition("@")[2]), UTC))},
                audit_event_ids=event_ids,
            )
        )  # fmt: skip

    def _from_event(self, kind: str, event: AuditEvent, *, summary: str, details: dict[str, Any]) -> None:
        """Write the alert `kind` for one audit event, once however often the event is observed."""
        identifier = alert_id(kind, event.event_id)
        alert = Alert(
            Alert.partition(str(event.org_id)),
            Alert.sort_key(_iso(event.at), identifier),
            alert_id=identifier,
            org_id=str(event.org_id),
            kind=kind,
            at=event.at,
            actor_id=event.actor_id,
            actor_kind=event.actor_kind,
            actor_name=self._actor_name(event),
            source_ip=event.source_ip,
            site_id=event.site_id,
            summary=summary,
            details=details,
            audit_event_ids=[event.event_id],
        )
        save_if(alert, Alert.pk.does_not_exist())

    # --- the redeem refusal path -----------------------------------------------------

    def wrong_site(self, actor: Actor, org_id: str, site_id: str, *, voucher_id: str, voucher_site_id: str,
                   device: str) -> None:  # fmt: skip
        """A code of one site was tried at another: one alert per code and site per redeem window."""
        now = self._clock()
        start = int(now.timestamp()) // self._redeem_window * self._redeem_window
        home, here = self._site(org_id, voucher_site_id), self._site(org_id, site_id)
        self._claim(
            self._refusal_alert(
                actor, org_id, site_id, now,
                identifier=alert_id("wrong_site", org_id, voucher_id, site_id, str(start)),
                kind="wrong_site",
                summary=f"A code of {home.name if home else voucher_site_id} was tried at "
                        f"{here.name if here else site_id}",
                details={"voucher_id": voucher_id, "voucher_site_id": voucher_site_id, "tried_site_id": site_id,
                         "device": device},
            )
        )  # fmt: skip

    def redeem_burst(self, actor: Actor, org_id: str, site_id: str, *, scope: str, device: str | None,
                     failures: int, window_start: int) -> None:  # fmt: skip
        """The failure limiter blocked a device (`scope` "device") or a controller's site (`scope` "site")."""
        now = self._clock()
        here = self._site(org_id, site_id)
        place = here.name if here else site_id
        what = "one device" if scope == "device" else "the controller"
        self._claim(
            self._refusal_alert(
                actor, org_id, site_id, now,
                identifier=alert_id("failed_redeem_burst", org_id, site_id, scope, device or "", str(window_start)),
                kind="failed_redeem_burst",
                summary=f"{failures} unknown codes tried from {what} at {place} within "
                        f"{self._redeem_window // 60} minutes: further attempts are refused",
                details={"scope": scope, "device": device, "failures": failures,
                         "window_start": _iso(datetime.fromtimestamp(window_start, UTC)),
                         "window_seconds": self._redeem_window},
            )
        )  # fmt: skip

    def uplink_unregistered(self, actor: Actor, org_id: str, site_id: str, *, address: str) -> bool:
        """A site's controller called from outside the registered address space: one alert per site and
        local day. True when this call raised it (the day's first)."""
        now = self._clock()
        here = self._site(org_id, site_id)
        day = now.astimezone(ZoneInfo(here.timezone) if here else UTC).date().isoformat()
        return self._claim(
            self._refusal_alert(
                actor, org_id, site_id, now,
                identifier=alert_id("uplink_unregistered", org_id, site_id, day),
                kind="uplink_unregistered",
                summary=f"The controller at {here.name if here else site_id} called from {address}, "
                        "outside the ISP's registered address space",
                details={"address": address, "site_id": site_id, "day": day},
            )
        )  # fmt: skip

    def compliance_warning(self, actor: Actor, org_id: str, site_id: str | None, reason: str, note: str) -> None:
        """A compliance trigger the platform's policy says to warn about: once per scope, reason and day."""
        now = self._clock()
        place = self._site(org_id, site_id) if site_id else None
        self._claim(
            self._refusal_alert(
                actor, org_id, site_id, now,
                identifier=alert_id("compliance_warning", org_id, site_id or "", reason, now.date().isoformat()),
                kind="compliance_warning",
                summary=f"{reason.replace('_', ' ').capitalize()}"
                        f"{f' at {place.name}' if place else ''}: {note}",
                details={"reason": reason, "note": note},
            )
        )  # fmt: skip

    def payment_problem(self, actor: Actor, org_id: str, site_id: str | None, *, order_id: str, problem: str,
                        details: dict[str, Any]) -> None:  # fmt: skip
        """An online payment that does not add up (amount, currency, a payment without its voucher): once per order
        and problem. The order id is the guest's link to the code, so the alert names only its digest."""
        now = self._clock()
        reference = hashlib.sha256(order_id.encode()).hexdigest()[:12]
        place = self._site(org_id, site_id) if site_id else None
        self._claim(
            self._refusal_alert(
                actor, org_id, site_id, now,
                identifier=alert_id("payment_problem", org_id, order_id, problem),
                kind="payment_problem",
                summary=f"Online payment {problem.replace('_', ' ')}{f' at {place.name}' if place else ''} "
                        f"(order …{order_id[-6:]})",
                details={"problem": problem, "order_ref": reference, **details},
            )
        )  # fmt: skip

    def _refusal_alert(self, actor: Actor, org_id: str, site_id: str | None, at: datetime, *, identifier: str,
                       kind: str, summary: str, details: dict[str, Any]) -> Alert:  # fmt: skip
        principal = actor.principal
        return Alert(
            Alert.partition(org_id),
            alert_id=identifier,
            org_id=org_id,
            kind=kind,
            at=at,
            actor_id=principal.id if principal else None,
            actor_kind=principal.kind if principal else "anonymous",
            actor_name=(principal.name or principal.email) if principal else None,
            source_ip=actor.meta.source_ip,
            site_id=site_id,
            summary=summary,
            details=details,
            audit_event_ids=[],  # refusals write no audit event
        )

    def _claim(self, alert: Alert) -> bool:
        """Write an alert raised per scope and window, unless its id was claimed already."""
        alert.sk = Alert.sort_key(_iso(alert.at), alert.alert_id)
        claim = AlertClaim(*AlertClaim.key(alert.org_id, alert.alert_id))
        try:
            with transaction() as tx:
                tx.save(claim, condition=AlertClaim.pk.does_not_exist())
                tx.save(alert, condition=Alert.pk.does_not_exist())
        except TransactWriteError as exc:
            if failed_condition(exc):
                return False
            raise
        return True

    # --- reading -----------------------------------------------------------------

    def list(self, org_id: str, *, start: datetime | None, end: datetime | None, kind: str | None, limit: int,
             cursor: str | None) -> AlertPage:  # fmt: skip
        """Alerts of an org, newest first: one query on the org's partition, bounded by `limit`."""
        low = ALERT_PREFIX + (_iso(start) if start else "0000")
        high = ALERT_PREFIX + (_iso(end) if end else "9999") + "~"
        partition = Alert.partition(org_id)
        results = Alert.query(
            partition,
            Alert.sk.between(low, high),
            filter_condition=(Alert.kind == kind) if kind else None,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, attributes=frozenset({"PK", "SK"}), partition=("PK", partition),
                                             sort_range=("SK", low, high)),
        )
        alerts = list(results)
        last_key = results.last_evaluated_key
        return AlertPage(alerts=alerts, next_cursor=encode_cursor(last_key))

    # --- what the rules look up (only when an alert is raised) ----------------------

    def _sells_only_through_pos(self, org_id: str) -> bool:
        now = self._monotonic()
        with self._lock:
            cached = self._org_settings.get(org_id)
        if cached and now - cached[0] < 60:
            return cached[1]
        try:
            pos_only = bool(Org.get(*Org.key(org_id)).pos_only_sales)
        except DoesNotExist:
            pos_only = False
        with self._lock:
            self._org_settings[org_id] = (now, pos_only)
        return pos_only

    @staticmethod
    def _site(org_id: str, site_id: str | None) -> Site | None:
        if not site_id:
            return None
        try:
            return Site.get(*Site.key(org_id, site_id))
        except DoesNotExist:
            return None

    @staticmethod
    def _actor_name(event: AuditEvent) -> str | None:
        """Who acted, by name, as they were called when it happened (a user's email, a key's name)."""
        if not event.actor_id:
            return None
        try:
            if event.actor_kind == "user":
                partition = org_pk(event.org_id) if event.actor_role != "platform_admin" else PLATFORM_PARTITION
                return str(User.get(partition, f"USER#{event.actor_id}").email)
            if event.actor_kind == "api_key":
                return str(ApiKey.get(*ApiKey.key(event.actor_id)).name)
        except DoesNotExist:
            return None
        return None

