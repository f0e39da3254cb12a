"""Redeem and accounting: what hotspot controllers ask, a thousand times an hour.

The success path of a redeem is one conditional UpdateItem (`models.redeem`);
the API key and the site come from per-container caches. Failures are counted
per MAC and per site; past the limit the answer is 429 until the window ends.
A container that has seen the limit crossed refuses at once, without I/O;
only unknown codes count as failed attempts (guesses).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from pynamodb.constants import ALL_OLD, ATTRIBUTES
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.auth.principal import Actor, Principal
from chalicelib.codes import code_hash, get_code_keys
from chalicelib.config import Settings
from chalicelib.errors import KuotaError, NotFound, TooManyAttempts
from chalicelib.models import Site, Voucher
from chalicelib.models.redeem import Activation, RedeemRefused, activate
from chalicelib.models.vouchers import expiry_shard
from chalicelib.observability import get_logger
from chalicelib.plan_rules import is_open, next_opening, period_key, period_resets, seconds_to_close
from chalicelib.services import Clock, utc_now
from chalicelib.services.outbox import mac_ref, outbox_actions, outbox_entry, outbox_shard, voucher_id
from chalicelib.services.quality import QualityRecorder, length_tag
from chalicelib.services.ratelimit import FailureLimiter

if TYPE_CHECKING:
    from chalicelib.services.alerts import AlertService
    from chalicelib.services.compliance import ComplianceGate


class InvalidCode(KuotaError):
    status, code, default_message = 404, "invalid_code", "This code does not exist."


class VoucherExpired(KuotaError):
    status, code, default_message = 410, "voucher_expired", "This voucher has expired."


class VoucherRevoked(KuotaError):
    status, code, default_message = 410, "voucher_revoked", "This voucher was revoked."


class VoucherExhausted(KuotaError):
    status, code, default_message = 410, "voucher_exhausted", "This voucher's data quota is used up."


class DeviceLimitReached(KuotaError):
    status, code, default_message = 409, "device_limit_reached", "This voucher is in use on its maximum of devices."


class WrongSite(KuotaError):
    status, code, default_message = 403, "wrong_site", "This voucher is not valid at this site."


class VoucherPaused(KuotaError):
    status, code, default_message = 409, "voucher_paused", "This voucher is paused; resume it first."


class OutsideWindow(KuotaError):
    """`next_at` (local time at the site) is when it may be used again: the RADIUS message names it."""

    status, code = 403, "outside_window"

    def __init__(self, next_at: datetime | None) -> None:
        super().__init__("This voucher cannot be used at this time of day.")
        self.next_at = next_at
        self.details = {"next_window_at": utc_iso(next_at)}


class PeriodQuotaUsed(KuotaError):
    status, code = 403, "period_quota_used"

    def __init__(self, resets_at: datetime) -> None:
        super().__init__("This voucher's data for the current period is used up.")
        self.next_at = resets_at
        self.details = {"resets_at": utc_iso(resets_at)}


def utc_iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def normalise_mac(mac: str) -> str:
    return "".join(ch for ch in mac.lower() if ch in "0123456789abcdef")


def mac_hash(org_id: str, mac: str) -> str:
    """Devices are known only by a keyed hash of their MAC address."""
    message = f"mac:{org_id}:{normalise_mac(mac)}".encode()
    return hmac.new(get_code_keys().hmac_key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Admission:
    voucher: Voucher
    session_timeout: int
    data_remaining_bytes: int | None


@dataclass(frozen=True)
class Usage:
    proceed: bool
    session_timeout: int
    data_remaining_bytes: int | None
    # Why the guest may not stay: "revoked", "expired" or "exhausted"; None while `proceed`.
    ended: str | None = None
    # False when the report was older than what the session already reported (not counted).
    counted: bool = True
    # The voucher was topped up since this session last reported: send it its new limits (CoA).
    limits_changed: bool = False


class SessionRefused(InvalidCode):
    """Accounting for a session Kuota does not admit; `reason` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__("No voucher with this code is in use by this device.")
        self.reason = reason  # invalid_code | wrong_site | device_released


@dataclass(frozen=True)
class SiteFacts:
    """What the hot paths need to know about a site: its timezone and its guests' language."""

    timezone: ZoneInfo
    language: str


class SiteCache:
    """Sites' timezones and languages, per container, refreshed after `ttl` seconds."""

    def __init__(self, ttl: float = 60.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._sites: dict[tuple[str, str], tuple[float, SiteFacts]] = {}
        self._lock = threading.Lock()

    def timezone(self, org_id: str, site_id: str) -> ZoneInfo:
        return self.facts(org_id, site_id).timezone

    def facts(self, org_id: str, site_id: str) -> SiteFacts:
        now = self._monotonic()
        with self._lock:
            cached = self._sites.get((org_id, site_id))
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        try:
            site = Site.get(*Site.key(org_id, site_id))
            facts = SiteFacts(ZoneInfo(site.timezone), site.language or "id")
        except DoesNotExist:
            # A key outlived its site: still count the day somewhere sane.
            facts = SiteFacts(ZoneInfo("Asia/Jakarta"), "id")
        with self._lock:
            self._sites[(org_id, site_id)] = (now, facts)
        return facts


class Blocklist:
    """Scopes known, in this container, to be over their failure limit until a time."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def blocked(self, scope: str, now: float) -> float | None:
        with self._lock:
            until = self._until.get(scope)
        return until if until and until > now else None

    def block(self, scope: str, until: float) -> None:
        with self._lock:
            self._until[scope] = until


class RedeemService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        alerts: AlertService | None = None,
        *,
        gate: ComplianceGate,
    ) -> None:
        self._clock = clock
        self._gate = gate
        self._alerts = alerts
        window = settings.redeem_window_seconds
        self._mac_limiter = FailureLimiter(settings.redeem_max_failures_per_mac, window, clock)
        self._site_limiter = FailureLimiter(settings.redeem_max_failures_per_site, window, clock)
        self._window = window
        self.sites = SiteCache(monotonic=monotonic)
        self.blocklist = Blocklist()
        self.quality = QualityRecorder(self.sites.timezone)

    def redeem(self, key: Principal, code: str, mac: str, actor: Actor) -> Admission:
        org_id, site_id = cast(str, key.org_id), cast(str, key.site_id)
        device = mac_hash(org_id, mac)
        scopes = (f"redeem-mac:{device[:32]}", f"redeem-site:{org_id}:{site_id}")
        now_dt = self._clock()
        now = int(now_dt.timestamp())
        for scope in scopes:
            until = self.blocklist.blocked(scope, now)
            if until:
                raise TooManyAttempts(retry_after=int(until - now))
        try:
            self._gate.require_service(org_id, site_id)  # a suspended reseller's guests log in no more
        except KuotaError as refusal:
            self.quality.rejected(org_id, site_id, refusal.code, now_dt)  # counted, left out of the reject rate
            raise
        voucher_hash = code_hash(org_id, code)
        local = now_dt.astimezone(self.sites.timezone(org_id, site_id))
        activation = Activation(
            voucher_hash=voucher_hash,
            mac_hash=device,
            site_id=site_id,
            now=now,
            sales_day_key=f"ORG#{org_id}#DAY#{local.date().isoformat()}",
            sales_sort_key=f"{now_dt.isoformat(timespec='seconds')}#{voucher_hash}",
            expiry_shard=expiry_shard(voucher_hash),
            outbox_shard=outbox_shard(voucher_hash),
            audit_entry=outbox_entry(
                actor, action="voucher.redeem", at=now, site_id=site_id, after={"device": mac_ref(device)}
            ),
            local=local,
        )
        try:
            voucher = self._activate(activation, actor)
        except RedeemRefused as refusal:
            error = _refusal(refusal.voucher, site_id, device, now, local)
            self.quality.rejected(org_id, site_id, error.code, now_dt)
            if isinstance(error, InvalidCode):
                # Only unknown codes are guesses; a real code that is full or expired is not.
                self._count_failure(scopes, now, actor, org_id, site_id, device)
            elif isinstance(error, WrongSite) and refusal.voucher is not None:
                self._alert_wrong_site(actor, org_id, site_id, refusal.voucher, device)
            raise error from refusal
        return Admission(
            voucher=voucher,
            session_timeout=session_timeout(voucher, now, local),
            data_remaining_bytes=data_remaining(voucher, local),
        )

    def _activate(self, activation: Activation, actor: Actor) -> Voucher:
        """The redeem's one write. When it is refused because the voucher is full, its idle slots (where its
        plan says so) are freed, or because its pause is over, it is resumed; then it is tried once more."""
        try:
            return activate(activation)
        except RedeemRefused as refusal:
            full = refusal.voucher
            if full is not None and full.status == "paused":
                from chalicelib.services.vouchers import end_long_pause, pause_is_over  # vouchers builds on this

                if not pause_is_over(full, activation.now) or not end_long_pause(full, activation.now, actor).applied:
                    raise
                return activate(activation)
            if full is None or not full.idle_release_minutes or full.device_policy == "first_devices":
                raise
            if not isinstance(_refusal(full, activation.site_id, activation.mac_hash, activation.now,
                                       activation.local), DeviceLimitReached):  # fmt: skip
                raise
            from chalicelib.services.devices import release_idle  # devices builds on this module

            if not release_idle(activation.voucher_hash, activation.now, actor):
                raise
        return activate(activation)

    def _count_failure(
        self, scopes: tuple[str, ...], now: int, actor: Actor, org_id: str, site_id: str, device: str
    ) -> None:
        for scope, limiter, kind in zip(scopes, (self._mac_limiter, self._site_limiter), ("device", "site"),
                                        strict=True):  # fmt: skip
            failures = limiter.record_failure(scope)
            if failures >= limiter.limit:
                window_end = now - now % self._window + self._window
                self.blocklist.block(scope, window_end)
            if failures == limiter.limit and self._alerts is not None:
                # The counter is shared: exactly one request, in any container, sees it reach the limit.
                try:
                    self._alerts.redeem_burst(
                        actor, org_id, site_id, scope=kind, device=mac_ref(device) if kind == "device" else None,
                        failures=failures, window_start=now - now % self._window,
                    )  # fmt: skip
                except Exception:  # an alert that cannot be written must not change the guest's answer
                    get_logger().exception("failed_redeem_burst alert not written")

    def _alert_wrong_site(self, actor: Actor, org_id: str, site_id: str, voucher: Voucher, device: str) -> None:
        if self._alerts is None:
            return
        try:
            self._alerts.wrong_site(
                actor, org_id, site_id, voucher_id=voucher_id(voucher), voucher_site_id=str(voucher.site_id),
                device=mac_ref(device),
            )  # fmt: skip
        except Exception:  # an alert that cannot be written must not change the guest's answer
            get_logger().exception("wrong_site alert not written")

    def rejected(self, org_id: str, site_id: str, code: str) -> None:
        """Count a guest's login refused before any redeem (RADIUS's own checks, a suspended site)."""
        self.quality.rejected(org_id, site_id, code, self._clock())

    def account(
        self,
        key: Principal,
        code: str,
        mac: str,
        *,
        session_id: str,
        session_time: int,
        octets: int,
        actor: Actor,
        stop: bool = False,
        event_time: int | None = None,
    ) -> Usage:
        """Record a session's cumulative usage; say whether the guest may stay connected.

        `event_time` (epoch seconds, the NAS's clock) is when the counters were read: a report
        delayed past midnight still counts into the period it was measured in. A terminated
        reseller's live sessions are counted and then told to end (`service_terminated`): the
        controller disconnects them at their next report.
        """
        usage = self._account(key, code, mac, session_id=session_id, session_time=session_time, octets=octets,
                              actor=actor, stop=stop, event_time=event_time)  # fmt: skip
        if usage.proceed and self._gate.terminated(cast(str, key.org_id)):
            return replace(usage, proceed=False, session_timeout=0, ended="service_terminated", limits_changed=False)
        return usage

    def _account(
        self,
        key: Principal,
        code: str,
        mac: str,
        *,
        session_id: str,
        session_time: int,
        octets: int,
        actor: Actor,
        stop: bool,
        event_time: int | None,
    ) -> Usage:
        """Count a report (for `account`, which adds what a reseller's stage says).

        A session's counters are cumulative, so a report is stored as the session's totals,
        never added: a retried report changes nothing, and a report older than one already
        stored (octets or time lower) is not counted at all. A stop marks the session ended
        ("x"): a later interim with the same totals is not counted, and the length counts once.
        Data per period is the one sum that is added: the bytes this report adds over the
        session's previous one (known from the item as it was), so it too counts each byte once.
        """
        org_id, site_id = cast(str, key.org_id), cast(str, key.site_id)
        voucher_hash = code_hash(org_id, code)
        device = mac_hash(org_id, mac)
        voucher = Voucher(*Voucher.key(voucher_hash))
        session: Any = Voucher.sessions[session_id]  # a path into the map: sessions.<id>
        now_dt = self._clock()
        now = int(now_dt.timestamp())
        tz = self.sites.timezone(org_id, site_id)
        local = now_dt.astimezone(tz)
        # "d" and "t" say which device slot the session belongs to and when it last reported.
        report: dict[str, Any] = {"s": session_time, "b": octets, "d": mac_ref(device), "t": now}
        if stop:
            report["x"] = 1
        newer = (session["b"] <= octets) & (session["s"] <= session_time)
        # After a stop, only a report that moved on (a session id used again) counts: a late interim does not.
        moved_on = session["x"].does_not_exist() | (session["b"] < octets) | (session["s"] < session_time)
        try:
            # The item as it was comes back: the session's previous report is what the quality
            # figures count this one against (bytes added, first seen, first stop).
            response = Voucher._get_connection().update_item(
                voucher.pk, range_key=voucher.sk, actions=[session.set(report)], return_values=ALL_OLD,
                condition=Voucher.pk.exists()
                & Voucher.devices.contains(device)
                & (Voucher.site_id.does_not_exist() | (Voucher.site_id == key.site_id))
                & (session.does_not_exist() | (newer if stop else newer & moved_on)),
            )  # fmt: skip
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            self.quality.called(org_id, site_id, now_dt)  # not counted, but the controller is up
            return self._not_counted(voucher_hash, device, key.site_id, local)
        voucher.deserialize(response.get(ATTRIBUTES, {}))
        before = cast(dict[str, Any], voucher.sessions.as_dict() if voucher.sessions else {})  # type: ignore[no-untyped-call]
        previous = before.get(session_id)
        added = octets - int(previous["b"]) if previous else octets
        self.quality.accounted(
            org_id, site_id, now_dt, new_session=previous is None, added_bytes=added,
            stopped_after=session_time if stop and (previous is None or "x" not in previous) else None,
            tag=length_tag(voucher_hash, session_id),
        )  # fmt: skip
        sessions = {**before, session_id: report}
        used_seconds = sum(int(entry["s"]) for entry in sessions.values())
        used_bytes = sum(int(entry["b"]) for entry in sessions.values())
        ending = _ending(voucher, used_seconds, used_bytes, now)
        by_period = self._by_period(voucher, previous, added, session_time, event_time, now, tz)
        actions: list[Action] = [Voucher.used_seconds.set(used_seconds), Voucher.used_bytes.set(used_bytes),
                                 *_period_actions(voucher, by_period)]  # fmt: skip
        if ending and voucher.status == "active":
            entry = outbox_entry(
                actor, action=f"voucher.{ending}", at=now, site_id=key.site_id,
                after={"used_seconds": used_seconds, "used_bytes": used_bytes},
            )  # fmt: skip
            actions += [Voucher.status.set(ending), Voucher.ended_at.set(now), Voucher.gsi2pk.remove(),
                        Voucher.gsi2sk.remove(), *outbox_actions(voucher_hash, entry)]  # fmt: skip
        try:
            # Totals only grow: a report computed from an older snapshot never overwrites a newer one.
            voucher.update(
                actions=actions,
                condition=(Voucher.status == voucher.status)
                & (Voucher.used_bytes <= used_bytes)
                & (Voucher.used_seconds <= used_seconds),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            # Changed meanwhile (revoked, expired, a newer total): the answer below still holds, and this
            # report's bytes still belong to their periods (an addition, never computed from a snapshot).
            if by_period:
                voucher.update(actions=_period_actions(voucher, by_period), condition=Voucher.pk.exists())
        changed = previous is not None and int(voucher.topped_up_at or 0) > int(previous.get("t", 0))
        return _usage(voucher, ending, now, local, counted=True, limits_changed=changed)

    @staticmethod
    def _by_period(
        voucher: Voucher, previous: dict[str, Any] | None, added: int, session_time: int, event_time: int | None,
        now: int, tz: ZoneInfo,
    ) -> dict[str, int]:  # fmt: skip
        """This report's added bytes by the period they were used in (a plan with data per period only).

        The bytes were used between the session's previous report (for its first, the session's start:
        `session_time` before) and when the counters were read (`event_time`, held between that report
        and now: a NAS clock that is off is not believed past them), spread evenly over that time: a
        report spanning midnight counts into both days.
        """
        if voucher.quota_period is None or added <= 0:
            return {}
        if previous:
            since = int(previous["t"])
            until = min(max(event_time if event_time is not None else now, since), now)
        else:  # the session's first report: its bytes were used since the session started, after the activation
            first_use = int(voucher.activated_at or now)
            until = min(max(event_time if event_time is not None else now, first_use), now)
            since = max(until - max(session_time, 0), first_use)
        return split_by_period(added, since, until, str(voucher.quota_period), tz)

    def _not_counted(self, voucher_hash: str, device: str, site_id: str | None, local: datetime) -> Usage:
        """The report was refused: say why (a read, on this failure path only)."""
        try:
            voucher = Voucher.get(*Voucher.key(voucher_hash), consistent_read=True)
        except DoesNotExist as exc:
            raise SessionRefused("invalid_code") from exc
        if voucher.site_id is not None and voucher.site_id != site_id:
            raise SessionRefused("wrong_site")
        if device not in (voucher.devices or set()):
            from chalicelib.services.devices import was_released  # devices builds on this module

            if was_released(voucher, device):  # its slot was freed: "stop", so the controller disconnects it
                return Usage(proceed=False, session_timeout=0, data_remaining_bytes=data_remaining(voucher, local),
                             ended="device_released", counted=False)  # fmt: skip
            raise SessionRefused("device_released")  # never admitted here
        # An older report of a session than one already stored: answered, not counted.
        now = int(self._clock().timestamp())
        ending = _ending(voucher, int(voucher.used_seconds), int(voucher.used_bytes), now)
        return _usage(voucher, ending, now, local, counted=False)


def split_by_period(added: int, since: int, until: int, period: str, tz: ZoneInfo) -> dict[str, int]:
    """`added` bytes used evenly from `since` to `until` (epoch seconds), by period key; the sum is `added`."""
    shares: dict[str, int] = {}
    start, left = since, added
    while True:
        local = datetime.fromtimestamp(start, tz)
        boundary = int(period_resets(period, local).timestamp())
        key = period_key(period, local)
        if boundary >= until or until <= since:
            shares[key] = shares.get(key, 0) + left
            return shares
        share = added * (boundary - start) // (until - since)
        shares[key] = shares.get(key, 0) + share
        left -= share
        start = boundary


def _period_actions(voucher: Voucher, by_period: dict[str, int]) -> list[Action]:
    """Add bytes to their periods' totals; forget periods older than the last two (the map stays small)."""
    if not by_period:
        return []
    used: Any = Voucher.period_used
    known = plain_map(voucher.period_used)
    kept = sorted({*known, *by_period})[-2:]
    # Bytes of a period older than the two kept change nothing any login asks about: not written (and one
    # update may not both set and remove a key).
    actions: list[Action] = [used[key].set((used[key] | 0) + bytes_) for key, bytes_ in sorted(by_period.items())
                             if key in kept]  # fmt: skip
    actions += [used[key].remove() for key in known if key not in kept]
    return actions


def _usage(voucher: Voucher, ending: str | None, now: int, local: datetime, *, counted: bool,
           limits_changed: bool = False) -> Usage:  # fmt: skip
    """The answer to an accounting report: go on, or why the guest may not stay."""
    ended = ending if voucher.status == "active" else str(voucher.status)
    if ended is None:
        ended = _closed_now(voucher, local)
    proceed = ended is None
    return Usage(
        proceed=proceed,
        session_timeout=session_timeout(voucher, now, local) if proceed else 0,
        data_remaining_bytes=data_remaining(voucher, local),
        ended=ended,
        counted=counted,
        limits_changed=limits_changed and proceed,
    )


def _closed_now(voucher: Voucher, local: datetime) -> str | None:
    """A running voucher the guest may still not use now: its window closed, or this period's data is used."""
    if period_left(voucher, local) == 0:
        return "period_quota_used"
    if not is_open(cast(list[dict[str, Any]] | None, voucher.windows), local):
        return "outside_window"
    return None


def _ending(voucher: Voucher, used_seconds: int, used_bytes: int, now: int) -> str | None:
    if voucher.quota_bytes is not None and used_bytes >= voucher.quota_bytes:
        return "exhausted"
    if voucher.time_mode == "usage" and used_seconds >= voucher.duration_minutes * 60:
        return "expired"
    if voucher.expires_at is not None and voucher.expires_at <= now:
        return "expired"
    return None


def session_timeout(voucher: Voucher, now: int, local: datetime | None = None) -> int:
    """Seconds a session admitted now may last: the time left, and (at a site's local time) its window's end."""
    remaining = int(voucher.expires_at or now) - now
    if voucher.time_mode == "usage":
        remaining = min(remaining, int(voucher.duration_minutes) * 60 - int(voucher.used_seconds))
    if local is not None:
        closing = seconds_to_close(cast(list[dict[str, Any]] | None, voucher.windows), local)
        if closing is not None:
            remaining = min(remaining, closing)
    return max(remaining, 0)


def period_used(voucher: Voucher, local: datetime) -> int:
    if voucher.quota_period is None:
        return 0
    return int(plain_map(voucher.period_used).get(period_key(str(voucher.quota_period), local), 0))


def plain_map(value: Any) -> dict[str, Any]:
    """A raw map attribute as a dict: loaded by the redeem's reader it is one; by PynamoDB, a MapAttribute."""
    if value is None:
        return {}
    return cast(dict[str, Any], value if isinstance(value, dict) else value.as_dict())


def period_left(voucher: Voucher, local: datetime) -> int | None:
    """Data left in the current period (None: the plan has no data per period)."""
    if voucher.period_quota_bytes is None or voucher.quota_period is None:
        return None
    return max(int(voucher.period_quota_bytes) - period_used(voucher, local), 0)


def data_remaining(voucher: Voucher, local: datetime | None = None) -> int | None:
    """Data a session may still use: what is left in total and (at a local time) in the current period."""
    limits = []
    if voucher.quota_bytes is not None:
        limits.append(max(int(voucher.quota_bytes) - int(voucher.used_bytes), 0))
    if local is not None:
        in_period = period_left(voucher, local)
        if in_period is not None:
            limits.append(in_period)
    return min(limits) if limits else None


def _refusal(voucher: Voucher | None, site_id: str, device: str, now: int, local: datetime) -> KuotaError:
    """Name the first reason the condition failed, most specific first."""
    if voucher is None:
        return InvalidCode()
    if voucher.status == "revoked":
        return VoucherRevoked()
    if voucher.status == "exhausted" or (voucher.quota_bytes is not None and voucher.used_bytes >= voucher.quota_bytes):
        return VoucherExhausted()
    if voucher.site_id is not None and voucher.site_id != site_id:
        return WrongSite()
    if voucher.status == "paused":
        return VoucherPaused()
    if voucher.status == "expired" or _time_is_up(voucher, now):
        return VoucherExpired()
    if period_left(voucher, local) == 0:
        return PeriodQuotaUsed(period_resets(str(voucher.quota_period), local))
    windows = cast(list[dict[str, Any]] | None, voucher.windows)
    if not is_open(windows, local):
        return OutsideWindow(next_opening(windows, local))
    devices = voucher.devices or set()
    if device not in devices and len(devices) >= voucher.max_devices:
        return DeviceLimitReached()
    return NotFound("The voucher cannot be used right now.")


def _time_is_up(voucher: Voucher, now: int) -> bool:
    if voucher.status == "active":
        return voucher.expires_at is not None and voucher.expires_at <= now
    return voucher.valid_until <= now
