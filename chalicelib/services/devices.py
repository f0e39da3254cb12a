"""Device slots: which devices hold a voucher, and freeing one (guest or staff).

A voucher admits up to `max_devices` devices, each known only by the keyed hash
of its MAC (`Voucher.devices`). Outside Kuota a slot is named by `mac_ref` of
that hash: short, stable, and neither the MAC nor its hash. Releasing a slot is
one conditional UpdateItem that removes the device from the set with DynamoDB's
own set arithmetic, so a redeem racing it can never see (or write) a stale
count and over-admit. The released hash goes into `Voucher.released_devices`;
the device's next accounting update finds it there and is told to disconnect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.auth.principal import Actor
from chalicelib.errors import KuotaError
from chalicelib.models import Voucher
from chalicelib.models.base import failed_condition
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.outbox import mac_ref, outbox_actions, outbox_entry, voucher_id


class UnknownSlot(KuotaError):
    status, code, default_message = 404, "not_found", "No device uses this slot of the voucher."


@dataclass(frozen=True)
class DeviceSlot:
    slot: str
    last_seen_at: datetime | None  # the device's last accounting update; None before the first


def device_slots(voucher: Voucher) -> list[DeviceSlot]:
    """The devices holding the voucher now, most recently seen first."""
    seen: dict[str, int] = {}
    for entry in cast(dict[str, Any], voucher.sessions.as_dict() if voucher.sessions else {}).values():  # type: ignore[no-untyped-call]
        if isinstance(entry, dict) and "d" in entry and "t" in entry:
            seen[str(entry["d"])] = max(seen.get(str(entry["d"]), 0), int(entry["t"]))
    slots = [mac_ref(device) for device in voucher.devices or ()]
    slots.sort(key=lambda slot: (-seen.get(slot, 0), slot))
    return [
        DeviceSlot(slot=slot, last_seen_at=datetime.fromtimestamp(seen[slot], UTC) if slot in seen else None)
        for slot in slots
    ]


def was_released(voucher: Voucher, device: str) -> bool:
    """Whether this device lost its slot (and has not been admitted again since)."""
    return device in (voucher.released_devices or ()) and device not in (voucher.devices or ())


def release_slot(
    voucher: Voucher, slot: str, actor: Actor, clock: Clock = utc_now, audit: AuditLog | None = None
) -> Voucher:
    """Free the device slot `slot` of `voucher`; a retry of a release already done changes nothing.

    Audited as `voucher.device_release`: with `audit` (staff, from the console) the event is
    written in the same transaction as the change, like every staff action; without it (the
    guest page, a hot public path) it travels in the voucher's outbox, in the same UpdateItem.
    """
    device = _device_in(voucher.devices, slot)
    if device is None:
        if _device_in(voucher.released_devices, slot) is not None:
            return voucher  # released before: the same answer, no second event
        raise UnknownSlot()
    now = int(clock().timestamp())
    devices_left = len(voucher.devices or ()) - 1
    actions = [Voucher.devices.delete({device}), Voucher.released_devices.add({device})]
    # Only the device's own presence matters: a redeem admitted meanwhile keeps its slot, and the
    # set arithmetic happens in DynamoDB, so no count read here can be stale.
    condition = Voucher.devices.contains(device)
    try:
        if audit is None:
            entry = outbox_entry(
                actor, action="voucher.device_release", at=now, site_id=voucher.activated_site_id,
                after={"device": slot, "devices_used": devices_left},
            )  # fmt: skip
            if actor.principal is None:  # the guest page: the code was the only credential
                entry.update(actor_kind="guest", actor_id="guest", actor_role="guest")
            voucher.update(actions=[*actions, *outbox_actions(voucher.pk.removeprefix("V#"), entry)],
                           condition=condition)  # fmt: skip
            return voucher
        event = audit.event(
            actor, org_id=voucher.org_id, action="voucher.device_release", target_type="voucher",
            target_id=voucher_id(voucher), before={"devices_used": devices_left + 1},
            after={"device": slot, "devices_used": devices_left},
        )  # fmt: skip
        with audit.transaction() as tx:
            tx.update(voucher, actions=actions, condition=condition)
            tx.append(event)
    except (UpdateError, TransactWriteError) as exc:
        refused = (
            failed_condition(exc) if isinstance(exc, TransactWriteError)
            else exc.cause_response_code == "ConditionalCheckFailedException"
        )  # fmt: skip
        if not refused:
            raise
        fresh = Voucher.get(voucher.pk, voucher.sk, consistent_read=True)
        if _device_in(fresh.released_devices, slot) is not None:
            return fresh  # a concurrent release of the same slot won
        raise UnknownSlot() from exc
    return Voucher.get(voucher.pk, voucher.sk, consistent_read=True)


def idle_devices(voucher: Voucher, now: int) -> set[str]:
    """Devices of a shared voucher with `idle_release_minutes` whose last accounting is older than that.

    A device that never reported keeps its slot: controllers report a session's start right after the
    login, so it is too new to judge (and `first_devices` vouchers keep their devices for good).
    """
    if voucher.device_policy == "first_devices" or not voucher.idle_release_minutes:
        return set()
    last: dict[str, int] = {}
    for entry in cast(dict[str, Any], voucher.sessions.as_dict() if voucher.sessions else {}).values():  # type: ignore[no-untyped-call]
        if isinstance(entry, dict) and "d" in entry and "t" in entry:
            last[str(entry["d"])] = max(last.get(str(entry["d"]), 0), int(entry["t"]))
    cutoff = now - int(voucher.idle_release_minutes) * 60
    return {device for device in voucher.devices or () if last.get(mac_ref(device), now) <= cutoff}


def release_idle(voucher_hash: str, now: int, actor: Actor) -> bool:
    """Free the idle slots of a full voucher (a login is waiting for one); True if any was freed.

    One conditional write, audited through the voucher's outbox: each device must still hold its slot,
    so a device that came back meanwhile keeps it.
    """
    try:
        voucher = Voucher.get(*Voucher.key(voucher_hash), consistent_read=True)
    except Voucher.DoesNotExist:
        return False
    idle = idle_devices(voucher, now)
    if not idle:
        return False
    entry = outbox_entry(
        actor, action="voucher.device_release", at=now, site_id=voucher.activated_site_id,
        after={"devices": sorted(mac_ref(device) for device in idle), "reason": "idle",
               "idle_release_minutes": int(voucher.idle_release_minutes or 0)},
    )  # fmt: skip
    first, *rest = sorted(idle)
    condition = Voucher.devices.contains(first)
    for device in rest:
        condition &= Voucher.devices.contains(device)
    try:
        voucher.update(actions=[Voucher.devices.delete(idle), Voucher.released_devices.add(idle),
                                *outbox_actions(voucher_hash, entry)], condition=condition)  # fmt: skip
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False  # changed meanwhile: the login is judged on the voucher as it is
    return True


def _device_in(devices: set[str] | None, slot: str) -> str | None:
    return next((device for device in devices or () if mac_ref(device) == slot), None)
