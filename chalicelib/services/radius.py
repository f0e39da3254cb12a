"""FreeRADIUS `rest` adapter: rlm_rest's JSON in, the redeem and accounting services, RADIUS attributes out.

rlm_rest sends every attribute of the request as `{"Name": {"type": ..., "value": [...]}}`
and maps the answer's status: 200 with attributes -> updated (accept, with
`control:Auth-Type = Accept`), 401 -> reject (its `reply:Reply-Message` reaches the
Access-Reject), 204 -> ok; for accounting 200/204 -> Accounting-Response.

Decisions (docs/integrations/radius-api.md says the same for FreeRADIUS operators):
- A body that is not a JSON object of attributes is a 400 naming the attribute (rlm_rest:
  fail). Unknown attributes are ignored.
- The code is User-Name. When User-Password is sent too it must equal the code (compared
  normalised, in constant time); a mismatch is an unknown code.
- Calling-Station-Id is the device: any vendor spelling of a 48-bit MAC. A login without
  one is rejected (device slots need it); accounting without one is a 400.
- Accounting is counted through `RedeemService.account`, which stores each session's
  cumulative counters (never adds them): a retried packet is answered 200 again and
  changes nothing; an older report than one stored is answered and not counted.
- A login refused because the plan's window is closed (`outside_window`) or this period's
  data is used up (`period_quota_used`) is a reject whose message says when the guest may
  come back, in the site's time and language ("... Berlaku lagi Senin 07:00.").
- An accepted login's Session-Timeout stops at the window's end when that comes before the
  time left; its data limit is the smaller of what is left in total and in this period.
- Accounting passes when the NAS read its counters: `Kuota-Event-Time` (Event-Timestamp as
  seconds, copied by infra/radius/kuota), else Event-Timestamp itself, else now minus
  Acct-Delay-Time; without any of them, none (the service counts the report as of now).
  Bytes reported after midnight but measured before it count into the day before.
- When the session must end, accounting answers `control:Kuota-Disconnect` = the reason
  (`voucher_revoked`, `voucher_expired`, `voucher_exhausted`, `voucher_paused`,
  `outside_window`, `period_quota_used`, `device_released`, `wrong_site`, `invalid_code`,
  `unknown_nas`, `service_terminated`); FreeRADIUS turns it into a Disconnect-Request.
- When the voucher was topped up since the session last reported, the answer to its first
  report after the top-up is `control:Kuota-CoA` = `topped_up` with the session's new limits
  in the control list (Session-Timeout, Mikrotik-Total-Limit(-Gigawords),
  ChilliSpot-Max-Total-Octets, the same attributes as an accept). A NAS counts these from
  the session's start, so they are what the session already used (as of that report) plus
  what is left now. FreeRADIUS sends them in a CoA-Request (RFC 5176). They come once: a NAS
  that does not take CoA (or a CoA that is lost) keeps the session's old limits until the
  session ends at them, and the guest's next login gets the new ones (nothing is lost:
  Kuota counts what the voucher has, not what the NAS was told).
- Plans have no idle timeout yet, so no Idle-Timeout is sent.
- The site's uplink is judged by `Packet-Src-IP-Address` (or `Packet-Src-IPv6-Address`),
  the source of the RADIUS packet as FreeRADIUS saw it; a body without one leaves the
  uplink as it was (the HTTP caller is FreeRADIUS, never the venue).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.auth.principal import Actor, Principal
from chalicelib.codes import normalise
from chalicelib.errors import KuotaError, ValidationFailed
from chalicelib.observability import get_logger
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.guest_messages import DEFAULT_LANGUAGE, rejection, welcome
from chalicelib.services.nas import NasDirectory, NasMatch
from chalicelib.services.redeeming import (
    Admission,
    OutsideWindow,
    PeriodQuotaUsed,
    RedeemService,
    SessionRefused,
    Usage,
    mac_hash,
)

if TYPE_CHECKING:
    from chalicelib.services.address_space import UplinkService

UINT32 = 2**32 - 1
GIGAWORD = 2**32
# Acct-Status-Type as rlm_rest sends it (its name) or as a number (with `raw_value`).
_STATUS_NUMBERS = {1: "Start", 2: "Stop", 3: "Interim-Update", 7: "Accounting-On", 8: "Accounting-Off"}
_COUNTED = {"Start", "Interim-Update", "Alive", "Stop"}
_ENDED = {"revoked": "voucher_revoked", "expired": "voucher_expired", "exhausted": "voucher_exhausted",
          "paused": "voucher_paused"}  # fmt: skip
_MAX_CODE = 64


@dataclass(frozen=True)
class RadiusReply:
    status: int  # 200 (accept / accounting answered), 401 (reject), 204 (nothing to say)
    attributes: dict[str, Any]
    reason: str | None = None  # machine-readable outcome, for logs and the X-Kuota-Reason header


class Attributes:
    """One rlm_rest request: attribute name -> its values."""

    def __init__(self, body: dict[str, Any]) -> None:
        self._values: dict[str, list[Any]] = {}
        for name, attribute in body.items():
            if isinstance(attribute, dict):
                if "value" not in attribute:
                    raise ValidationFailed(f"{name}: an attribute needs a value", field=name)
                value = attribute["value"]
            else:
                value = attribute  # a bare value: tolerated
            values = value if isinstance(value, list) else [value]
            if any(isinstance(item, dict | list) for item in values):
                raise ValidationFailed(f"{name}: values must be strings or numbers", field=name)
            self._values[name] = values

    def text(self, name: str) -> str | None:
        values = self._values.get(name)
        if not values or values[0] is None:
            return None
        return str(values[0])

    def number(self, name: str) -> int:
        """A non-negative integer attribute; absent reads as 0."""
        values = self._values.get(name)
        if not values or values[0] is None:
            return 0
        value = values[0]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationFailed(f"{name}: not an integer", field=name)
        try:
            number = int(value)
        except ValueError as exc:
            raise ValidationFailed(f"{name}: not an integer", field=name) from exc
        if number < 0 or number > 2**64:
            raise ValidationFailed(f"{name}: out of range", field=name)
        return number


def normalise_mac(value: str | None) -> str | None:
    """`aa:bb:cc:dd:ee:ff` from AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff, AABBCCDDEEFF, ...; None if not a MAC."""
    if value is None:
        return None
    digits = "".join(ch for ch in value.strip().lower() if ch not in ":-. ")
    if len(digits) != 12 or any(ch not in "0123456789abcdef" for ch in digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


class RadiusService:
    def __init__(
        self,
        redeem: RedeemService,
        directory: NasDirectory,
        audit: AuditLog,
        *,
        interim_seconds: int,
        monotonic: Callable[[], float] = time.monotonic,
        uplinks: UplinkService | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._redeem = redeem
        self._clock = clock
        self._uplinks = uplinks
        self._directory = directory
        self._audit = audit
        self._interim = interim_seconds
        self._monotonic = monotonic
        self._reported: dict[tuple[str, str, str], float] = {}  # unknown NASes audited lately
        self._lock = threading.Lock()

    # --- authorize -------------------------------------------------------------------------

    def authorize(self, key: Principal, body: dict[str, Any], actor: Actor) -> RadiusReply:
        attributes = Attributes(body)
        nas = self._nas(key, attributes, actor)
        if nas is None:
            return _reject("unknown_nas", DEFAULT_LANGUAGE)
        self._observe(actor, nas, attributes)
        language = self._redeem.sites.facts(nas.org_id, nas.site_id).language
        code = (attributes.text("User-Name") or "").strip()
        password = attributes.text("User-Password")
        mac = normalise_mac(attributes.text("Calling-Station-Id"))
        refused = _refused_before_redeem(code, password, mac)
        if refused is not None or mac is None:
            reason = refused or "device_unknown"
            self._redeem.rejected(nas.org_id, nas.site_id, reason)  # a redeem's own refusals count themselves
            return _reject(reason, language)
        at_site, actor_at_site = _at_site(key, actor, nas)
        try:
            admission = self._redeem.redeem(at_site, code, mac, actor_at_site)
        except (OutsideWindow, PeriodQuotaUsed) as error:
            return _reject(error.code, language, usable_at=error.next_at, now=self._clock())
        except KuotaError as error:
            return _reject(error.code, language)
        return RadiusReply(200, self._accept(admission, language), "accepted")

    def _accept(self, admission: Admission, language: str) -> dict[str, Any]:
        voucher = admission.voucher
        up = int(voucher.rate_up_kbps) if voucher.rate_up_kbps is not None else None
        down = int(voucher.rate_down_kbps) if voucher.rate_down_kbps is not None else None
        data_left = admission.data_remaining_bytes
        reply: dict[str, Any] = {"control:Auth-Type": "Accept", "reply:Acct-Interim-Interval": self._interim}
        reply.update(_limits("reply", admission.session_timeout, data_left))
        if up is not None or down is not None:
            # RouterOS reads rx/tx from the router's side: rx is what the guest uploads. 0 = unlimited.
            reply["reply:Mikrotik-Rate-Limit"] = f"{f'{up}k' if up else '0'}/{f'{down}k' if down else '0'}"
        if up is not None:
            reply["reply:WISPr-Bandwidth-Max-Up"] = min(up * 1000, UINT32)
        if down is not None:
            reply["reply:WISPr-Bandwidth-Max-Down"] = min(down * 1000, UINT32)
        reply["reply:Reply-Message"] = welcome(language, admission.session_timeout, data_left)
        return reply

    # --- accounting ----------------------------------------------------------------------------

    def account(self, key: Principal, body: dict[str, Any], actor: Actor) -> RadiusReply:
        attributes = Attributes(body)
        status = _status_type(attributes)
        if status not in _COUNTED:
            return RadiusReply(200, {}, f"ignored:{status}")  # Accounting-On/Off and the like: nothing to count
        nas = self._nas(key, attributes, actor)
        if nas is None:
            return _accounting_end(status, "unknown_nas")
        self._observe(actor, nas, attributes)
        code = (attributes.text("User-Name") or "").strip()
        if not code:
            raise ValidationFailed("User-Name: missing", field="User-Name")
        mac = normalise_mac(attributes.text("Calling-Station-Id"))
        if mac is None:
            raise ValidationFailed("Calling-Station-Id: missing or not a MAC address", field="Calling-Station-Id")
        acct_session = attributes.text("Acct-Session-Id")
        if not acct_session:
            raise ValidationFailed("Acct-Session-Id: missing", field="Acct-Session-Id")
        octets = (
            attributes.number("Acct-Input-Octets")
            + attributes.number("Acct-Input-Gigawords") * GIGAWORD
            + attributes.number("Acct-Output-Octets")
            + attributes.number("Acct-Output-Gigawords") * GIGAWORD
        )
        session_time = attributes.number("Acct-Session-Time")
        if len(code) > _MAX_CODE:
            return _accounting_end(status, "invalid_code")
        now = int(self._clock().timestamp())
        read_at = event_time(attributes, now)
        at_site, actor_at_site = _at_site(key, actor, nas)
        try:
            usage = self._redeem.account(
                at_site, code, mac, session_id=_session_key(nas, acct_session, mac), session_time=session_time,
                octets=octets, actor=actor_at_site, stop=status == "Stop", event_time=read_at,
            )  # fmt: skip
        except SessionRefused as refused:
            return _accounting_end(status, refused.reason)
        if usage.ended is not None:
            return _accounting_end(status, _ENDED.get(usage.ended, usage.ended))
        if usage.limits_changed and status != "Stop":
            # The NAS counts limits from the session's start: what it used by the report, the time
            # since the report was read, and what is left now.
            lag = max(now - read_at, 0) if read_at is not None else 0
            return RadiusReply(200, _new_limits(usage, session_time + lag, octets), "limits_changed")
        return RadiusReply(200, {}, "counted" if usage.counted else "not_counted")

    # --- the request's NAS --------------------------------------------------------------------

    def _nas(self, key: Principal, attributes: Attributes, actor: Actor) -> NasMatch | None:
        """The registered NAS this request comes from, if this key may serve it."""
        identifier = attributes.text("NAS-Identifier")
        address = attributes.text("NAS-IP-Address") or attributes.text("NAS-IPv6-Address")
        match = self._directory.find(identifier, address)
        if match is not None and (key.org_id is None or match.org_id == key.org_id):
            return match
        self._report_unknown(key, actor, identifier, address)
        return None

    def _observe(self, actor: Actor, nas: NasMatch, attributes: Attributes) -> None:
        """The site's (and NAS's) uplink, by the packet source FreeRADIUS saw (infra/radius/kuota copies it
        into the request). Not the HTTP caller's address: that is FreeRADIUS itself."""
        if self._uplinks is None:
            return
        source = attributes.text("Packet-Src-IP-Address") or attributes.text("Packet-Src-IPv6-Address")
        self._uplinks.observe(actor, nas.org_id, nas.site_id, source, nas_id=nas.nas_id)

    def _report_unknown(self, key: Principal, actor: Actor, identifier: str | None, address: str | None) -> None:
        """Audit an unknown NAS once per key and identity per minute in this container (not per packet)."""
        now = self._monotonic()
        marker = (key.id, identifier or "", address or "")
        with self._lock:
            if now - self._reported.get(marker, -3600.0) < 60:
                return
            self._reported[marker] = now
        get_logger().warning("radius request from an unknown NAS", extra={"nas_identifier": identifier,
                                                                          "nas_ip": address})  # fmt: skip
        event = self._audit.event(
            actor, org_id=key.org_id, action="radius.unknown_nas", target_type="nas",
            target_id=(identifier or address or "none")[:253],
            after={"nas_identifier": identifier, "nas_ip": address},
        )  # fmt: skip
        self._audit.record(event)


def _refused_before_redeem(code: str, password: str | None, mac: str | None) -> str | None:
    """Why a login is rejected without asking the redeem service, if it is."""
    if not code:
        return "missing_code"
    if len(code) > _MAX_CODE or (password is not None and not _same_code(code, password)):
        return "invalid_code"
    if mac is None:
        return "device_unknown"
    return None


def _limits(prefix: str, session_timeout: int, data_left: int | None) -> dict[str, int]:
    """A session's time and data limits as RADIUS attributes in list `prefix` (an accept's, or a CoA's)."""
    limits = {f"{prefix}:Session-Timeout": min(session_timeout, UINT32)}
    if data_left is not None:
        limits[f"{prefix}:Mikrotik-Total-Limit"] = data_left % GIGAWORD
        limits[f"{prefix}:Mikrotik-Total-Limit-Gigawords"] = data_left // GIGAWORD
        # A 32-bit attribute with no gigawords companion in FreeRADIUS's dictionary: capped.
        limits[f"{prefix}:ChilliSpot-Max-Total-Octets"] = min(data_left, UINT32)
    return limits


def _new_limits(usage: Usage, session_seconds: int, session_octets: int) -> dict[str, Any]:
    """The accounting answer after a top-up: FreeRADIUS sends the limits in the control list as a CoA-Request."""
    data = None if usage.data_remaining_bytes is None else session_octets + usage.data_remaining_bytes
    return {"control:Kuota-CoA": "topped_up", **_limits("control", session_seconds + usage.session_timeout, data)}


def event_time(attributes: Attributes, now: int) -> int | None:
    """When the NAS read the counters (epoch seconds), if it said: see the module docstring."""
    for name in ("Kuota-Event-Time", "Event-Timestamp"):
        read = _epoch(attributes.text(name))
        if read is not None:
            return read
    if attributes.text("Acct-Delay-Time") is not None:
        return now - attributes.number("Acct-Delay-Time")
    return None


def _epoch(value: str | None) -> int | None:
    """Seconds since 1970 from a number, ISO 8601, or FreeRADIUS's "Dec  2 2026 01:00:00 UTC";
    None for anything else (a date printed in a zone named only by its abbreviation is not guessed)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    parts = text.split()
    try:
        if len(parts) == 5 and parts[4] in ("UTC", "GMT"):
            return int(datetime.strptime(" ".join(parts[:4]), "%b %d %Y %H:%M:%S").replace(tzinfo=UTC).timestamp())
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(parsed.timestamp()) if parsed.tzinfo is not None else None


def _reject(reason: str, language: str, *, usable_at: datetime | None = None,
            now: datetime | None = None) -> RadiusReply:  # fmt: skip
    message = rejection(reason, language, usable_at=usable_at, now=now)
    return RadiusReply(401, {"reply:Reply-Message": message}, reason)


def _accounting_end(status: str, reason: str) -> RadiusReply:
    if status == "Stop":
        return RadiusReply(200, {}, f"stopped:{reason}")  # already over: nothing to disconnect
    return RadiusReply(200, {"control:Kuota-Disconnect": reason}, reason)


def _status_type(attributes: Attributes) -> str:
    raw = attributes.text("Acct-Status-Type")
    if raw is None:
        raise ValidationFailed("Acct-Status-Type: missing", field="Acct-Status-Type")
    return _STATUS_NUMBERS.get(int(raw), raw) if raw.isdigit() else raw


def _same_code(code: str, password: str) -> bool:
    return hmac.compare_digest(normalise(code).encode(), normalise(password).encode())


def _at_site(key: Principal, actor: Actor, nas: NasMatch) -> tuple[Principal, Actor]:
    """The radius key acting at the NAS's site, as the redeem and accounting services expect a key."""
    at_site = dataclasses.replace(key, org_id=nas.org_id, site_id=nas.site_id)
    return at_site, dataclasses.replace(actor, principal=at_site)


def _session_key(nas: NasMatch, acct_session_id: str, mac: str) -> str:
    """Acct-Session-Id is unique per NAS only (and restarts with it): the key names the NAS and device too."""
    device = mac_hash(nas.org_id, mac)  # keyed: the stored key reveals no MAC
    return "r" + hashlib.sha256(f"{nas.nas_id}\n{acct_session_id}\n{device}".encode()).hexdigest()[:23]
