"""What a guest holding a code may ask without an account: its status, and freeing a device slot.

The code is the guest's only credential, so both are limited like redeem's
brute force: unknown codes are counted per source address (a guest page has no
MAC to count by) in the redeem window, and past the limit the answer is 429
until the window ends. Codes that exist never count, whatever their state.
A guest may also free only a few slots per voucher per hour
(`KUOTA_GUEST_MAX_RELEASES_PER_VOUCHER`), so two people cannot take turns
on a one-device voucher by freeing each other's slot; staff releases are not limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Actor
from chalicelib.codes import code_hash
from chalicelib.config import Settings
from chalicelib.errors import TooManyAttempts
from chalicelib.models import Voucher
from chalicelib.services import Clock, as_utc, utc_now
from chalicelib.services.devices import DeviceSlot, device_slots, release_slot
from chalicelib.services.ratelimit import FailureLimiter, scope_key
from chalicelib.services.redeeming import (
    Blocklist,
    InvalidCode,
    data_remaining,
    session_timeout,
)
from chalicelib.services.vouchers import JAKARTA, VoucherService, pause_refusal, period_now, window_now

UNUSED = ("issued", "sold")
RELEASE_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class GuestStatus:
    """All a guest learns about a voucher: nothing about its plan's price, its sale or its venue."""

    status: str  # unused | active | paused | expired | exhausted | revoked
    expires_at: datetime | None  # active: when time runs out; unused: the last day it can be started
    seconds_left: int
    data_remaining_bytes: int | None
    devices_used: int
    max_devices: int
    devices: list[DeviceSlot]
    # Only where the plan has them: its windows, its data per period, its pauses.
    window: dict[str, datetime | None] | None = None  # closes_at (None: closed now), next_opens_at
    period: dict[str, Any] | None = None  # data_remaining_bytes, resets_at
    pause: dict[str, Any] | None = None  # allowed (for the guest, now), pauses_left


def guest_status(voucher: Voucher, now: int, tz: ZoneInfo = JAKARTA) -> GuestStatus:
    """`tz`: the site's timezone, which the plan's windows and periods are in."""
    status = str(voucher.status)
    quota_used = voucher.quota_bytes is not None and int(voucher.used_bytes) >= int(voucher.quota_bytes)
    if status in UNUSED:
        status = "expired" if int(voucher.valid_until) <= now else "unused"
    elif status == "active" and quota_used:
        status = "exhausted"  # the accounting update that crossed it may not have ended it yet
    elif status == "active" and session_timeout(voucher, now) <= 0:
        status = "expired"  # the expiry job runs every few minutes; the clock decides
    if status == "unused":
        expires_at, seconds_left = as_utc(voucher.valid_until), int(voucher.duration_minutes) * 60
    elif status in ("active", "paused"):
        expires_at, seconds_left = as_utc(voucher.expires_at), session_timeout(voucher, now)
    else:
        expires_at, seconds_left = as_utc(voucher.ended_at or voucher.expires_at or voucher.valid_until), 0
    local = datetime.fromtimestamp(now, tz)
    window = window_now(voucher, local)
    if window is not None:
        del window["open"]  # the guest reads it from closes_at
    period = period_now(voucher, local)
    pause = None
    if voucher.pause_by is not None:
        pauses_left = max(int(voucher.max_pauses or 0) - int(voucher.pauses_used or 0), 0)
        allowed = voucher.pause_by == "guest" and (
            status == "paused" or pause_refusal(voucher, now, "guest") is None
        )
        pause = {"allowed": allowed, "pauses_left": pauses_left}
    return GuestStatus(
        status=status,
        expires_at=expires_at,
        seconds_left=seconds_left,
        data_remaining_bytes=data_remaining(voucher),
        devices_used=len(voucher.devices or ()),
        max_devices=int(voucher.max_devices),
        devices=device_slots(voucher),
        window=window,
        period=period,
        pause=pause,
    )


class GuestService:
    def __init__(self, settings: Settings, vouchers: VoucherService, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._vouchers = vouchers
        self._window = settings.redeem_window_seconds
        self._limiter = FailureLimiter(settings.guest_max_failures_per_address, self._window, clock)
        self._releases = FailureLimiter(settings.guest_max_releases_per_voucher, RELEASE_WINDOW_SECONDS, clock)
        self.blocklist = Blocklist()

    def status(self, org_id: str, code: str, source_ip: str | None) -> GuestStatus:
        voucher = self._find(org_id, code, source_ip)
        return self._status(voucher)

    def pause(self, org_id: str, code: str, actor: Actor) -> Voucher:
        """The guest pauses their own code, where its plan lets guests pause."""
        voucher = self._find(org_id, code, actor.meta.source_ip)
        return self._vouchers.pause(actor, voucher, "paused by the guest", by="guest")

    def resume(self, org_id: str, code: str, actor: Actor) -> Voucher:
        voucher = self._find(org_id, code, actor.meta.source_ip)
        return self._vouchers.resume(actor, voucher, "resumed by the guest", by="guest")

    def _status(self, voucher: Voucher) -> GuestStatus:
        return guest_status(voucher, int(self._clock().timestamp()), self._vouchers.timezone(voucher))

    def release(self, org_id: str, code: str, slot: str, actor: Actor) -> GuestStatus:
        voucher = self._find(org_id, code, actor.meta.source_ip)
        scope = f"guest-release:{voucher.pk.removeprefix('V#')[:32]}"
        self._releases.check(scope)
        before = len(voucher.devices or ())
        voucher = release_slot(voucher, slot, actor, self._clock)
        if len(voucher.devices or ()) < before:  # a repeated release frees nothing and counts nothing
            self._releases.record_failure(scope)
        return self._status(voucher)

    def _find(self, org_id: str, code: str, source_ip: str | None) -> Voucher:
        scope = scope_key("guest-ip", source_ip or "unknown")
        now = int(self._clock().timestamp())
        until = self.blocklist.blocked(scope, now)
        if until:
            raise TooManyAttempts(retry_after=int(until - now))
        self._limiter.check(scope)  # another container may have seen the limit crossed
        try:
            return Voucher.get(*Voucher.key(code_hash(org_id, code)), consistent_read=True)
        except DoesNotExist:
            # Only unknown codes are guesses (another org's code is unknown here, too).
            if self._limiter.record_failure(scope) >= self._limiter.limit:
                self.blocklist.block(scope, now - now % self._window + self._window)
            raise InvalidCode() from None
