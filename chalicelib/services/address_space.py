"""The ISP's registered address space, and the uplink each site's controller calls from.

`AddressSpaceService` validates and stores the prefix list (platform admins replace
it whole) and serves `AddressSpace`, a lookup built from it, cached per container
for at most `ttl` seconds, so controller calls never read DynamoDB for it.

`UplinkService.observe` is told the address the platform saw a controller call come
from (API Gateway's `sourceIp`, the local server's socket peer, the packet source
FreeRADIUS saw; never a header the caller sets) and records per site (and per NAS)
`registered`, `unregistered` or `unknown`, the address and when it was seen. It
writes only when the status or address changes, or when what it last wrote is five
minutes old: a successful redeem stays one write request. An empty list means no
address space is configured: every site is `unknown` and nothing is raised.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import threading
import time
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Actor
from chalicelib.errors import ValidationFailed
from chalicelib.models.accounts import org_pk
from chalicelib.models.address_space import UPLINK_PREFIX, AddressSpaceChunk, AddressSpaceHead, Uplink
from chalicelib.models.base import save_if
from chalicelib.observability import get_logger
from chalicelib.services import Clock, utc_now
from chalicelib.services.alerts import AlertService
from chalicelib.services.audit import AuditLog

Status = Literal["registered", "unregistered", "unknown"]
# (actor, org_id, site_id, reason, note): the compliance service's trigger, wired in deps.
Trigger = Callable[[Actor, str, str | None, str, str], object]

MAX_PREFIXES = 20_000
MAX_NOTE = 100
MAX_ASN = 4_294_967_295
CHUNK_BYTES = 300_000  # of one chunk's lines: well under DynamoDB's 400 KB item limit
LISTED_IN_AUDIT = 100  # added / removed prefixes named in the audit event (counts are always complete)
REFRESH_SECONDS = 300  # an unchanged uplink is written again after this long, so last_seen stays useful
_READ_ATTEMPTS = 3
_MAX_REMEMBERED = 50_000  # uplinks remembered per container before the memory starts over
_V4_MAPPED = bytes(10) + b"\xff\xff"


@dataclass(frozen=True)
class Prefix:
    cidr: str  # normalised: ip_network(...) as text
    asn: int
    note: str | None = None

    def line(self) -> str:
        return f"{self.cidr}\t{self.asn}\t{self.note or ''}"

    @classmethod
    def from_line(cls, line: str) -> Prefix:
        cidr, asn, note = line.split("\t", 2)
        return cls(cidr=cidr, asn=int(asn), note=note or None)

    def view(self) -> dict[str, Any]:
        return {"cidr": self.cidr, "asn": self.asn, "note": self.note}


def _address_number(address: str) -> tuple[int, int] | None:
    """(IP version, the address as an integer), or None for text that is no address.

    `inet_pton` rather than `ipaddress.ip_address`: a few times faster, and this runs on
    every controller call.
    """
    text = address.partition("%")[0]  # no IPv6 zone: it never leaves a host
    try:
        if ":" not in text:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
        packed = socket.inet_pton(socket.AF_INET6, text)
    except (OSError, ValueError):
        return None
    if packed[:12] == _V4_MAPPED:  # ::ffff:a.b.c.d, as a dual-stack socket reports an IPv4 peer
        return 4, int.from_bytes(packed[12:], "big")
    return 6, int.from_bytes(packed, "big")


def _network_range(cidr: str) -> tuple[int, int, int]:
    """(IP version, first, last address) of a normalised prefix as stored."""
    address, _, length = cidr.partition("/")
    parsed = _address_number(address)
    if parsed is None or not length.isdigit():
        raise ValueError(f"not a stored prefix: {cidr!r}")
    version, start = parsed
    host_bits = (32 if version == 4 else 128) - int(length)
    return version, start, start | ((1 << host_bits) - 1)


class AddressSpace:
    """The registered prefixes as, per IP version, sorted ranges: no two overlap, so one bisect answers."""

    def __init__(self, prefixes: Sequence[Prefix], version: str | None = None) -> None:
        self.prefixes = tuple(prefixes)
        self.version = version
        rows: dict[int, list[tuple[int, int, int]]] = {4: [], 6: []}
        for index, prefix in enumerate(self.prefixes):
            ip_version, start, end = _network_range(prefix.cidr)
            rows[ip_version].append((start, end, index))
        self._starts: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        self._which: dict[int, list[int]] = {}
        for ip_version, ranges in rows.items():
            ranges.sort()
            self._starts[ip_version] = [start for start, _, _ in ranges]
            self._ends[ip_version] = [end for _, end, _ in ranges]
            self._which[ip_version] = [index for _, _, index in ranges]

    def __len__(self) -> int:
        return len(self.prefixes)

    def find(self, address: str) -> Prefix | None:
        """The registered prefix holding `address`, if any."""
        parsed = _address_number(address)
        if parsed is None:
            return None
        ip_version, number = parsed
        at = bisect_right(self._starts[ip_version], number) - 1
        if at >= 0 and number <= self._ends[ip_version][at]:
            return self.prefixes[self._which[ip_version][at]]
        return None

    def status(self, address: str) -> Status:
        if not self.prefixes:
            return "unknown"  # no address space configured: nothing to hold a site to
        return "registered" if self.find(address) is not None else "unregistered"


def validate_prefixes(entries: Sequence[tuple[str, int, str | None]]) -> list[Prefix]:
    """Parse (cidr, asn, note) entries strictly; a bad, duplicate or overlapping prefix is a 400 naming it."""
    if len(entries) > MAX_PREFIXES:
        raise ValidationFailed(f"prefixes: at most {MAX_PREFIXES} prefixes", field="prefixes")
    prefixes: list[Prefix] = []
    ranges: list[tuple[int, int, int]] = []
    for index, (cidr, asn, note) in enumerate(entries):
        field = f"prefixes.{index}.cidr"
        text = cidr.strip()
        if "/" not in text:
            raise ValidationFailed(f"{field}: {cidr!r} has no prefix length (write it as 192.0.2.0/24)", field=field)
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise ValidationFailed(f"{field}: {cidr!r} is not a valid prefix ({exc})", field=field) from exc
        if not 1 <= asn <= MAX_ASN:
            raise ValidationFailed(f"prefixes.{index}.asn: an AS number from 1 to {MAX_ASN}",
                                   field=f"prefixes.{index}.asn")  # fmt: skip
        clean_note = (note or "").strip() or None
        if clean_note is not None and (len(clean_note) > MAX_NOTE or not clean_note.isprintable()):
            raise ValidationFailed(f"prefixes.{index}.note: at most {MAX_NOTE} printable characters",
                                   field=f"prefixes.{index}.note")  # fmt: skip
        prefix = Prefix(cidr=str(network), asn=asn, note=clean_note)
        prefixes.append(prefix)
        ranges.append(_network_range(prefix.cidr))
    _refuse_overlaps(prefixes, ranges)
    return prefixes


def _refuse_overlaps(prefixes: Sequence[Prefix], ranges: Sequence[tuple[int, int, int]]) -> None:
    """Sorted by start, a prefix overlaps an earlier one exactly when it starts before the furthest end so far."""
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i][0], ranges[i][1], i))
    widest: int | None = None  # the index, among those seen of this IP version, whose range ends furthest
    for index in order:
        version, start, end = ranges[index]
        if widest is not None and ranges[widest][0] == version and start <= ranges[widest][2]:
            later, earlier = max(index, widest), min(index, widest)
            field = f"prefixes.{later}.cidr"
            first, second = prefixes[earlier].cidr, prefixes[later].cidr
            if first == second:
                message = f"{second} is listed twice (prefixes.{earlier} and prefixes.{later})"
            else:
                message = f"{second} overlaps {first} (prefixes.{earlier}); register each address once"
            raise ValidationFailed(f"{field}: {message}", field=field)
        if widest is None or ranges[widest][0] != version or end > ranges[widest][2]:
            widest = index


def _chunks(prefixes: Iterable[Prefix]) -> list[str]:
    chunks: list[str] = []
    lines: list[str] = []
    size = 0
    for prefix in prefixes:
        line = prefix.line()
        length = len(line.encode()) + 1
        if lines and size + length > CHUNK_BYTES:
            chunks.append("\n".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += length
    if lines:
        chunks.append("\n".join(lines))
    return chunks


class StaleRead(Exception):
    """A chunk of the version just read is gone: the list was replaced meanwhile (read again)."""


class AddressSpaceService:
    def __init__(
        self,
        audit: AuditLog,
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        ttl: float = 60.0,
    ) -> None:
        self._audit = audit
        self._clock = clock
        self._monotonic = monotonic
        self._ttl = min(ttl, 60.0)
        self._cached: AddressSpace | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> AddressSpace:
        """The registered list as this container knows it: at most `ttl` seconds old."""
        cached = self._cached
        now = self._monotonic()
        if cached is not None and now - self._checked_at < self._ttl:
            return cached
        with self._lock:
            if self._cached is not None and now - self._checked_at < self._ttl:
                return self._cached  # another thread refreshed it meanwhile
            space = self._read(known=self._cached)
            self._cached, self._checked_at = space, now
            return space

    def stored(self) -> AddressSpace:
        """The registered list as stored now (a consistent read: for admins, not for controller calls)."""
        return self._read(known=None, consistent=True)

    def _read(self, *, known: AddressSpace | None, consistent: bool = False) -> AddressSpace:
        """The head, then (only when its version is not the one known) its chunks: 1 + chunks key reads."""
        for _ in range(_READ_ATTEMPTS):
            try:
                head = AddressSpaceHead.get(*AddressSpaceHead.key(), consistent_read=consistent)
            except DoesNotExist:
                return AddressSpace([])
            if known is not None and known.version == head.version:
                return known
            try:
                return AddressSpace(self._chunk_prefixes(head, consistent), version=head.version)
            except StaleRead:
                continue
        raise StaleRead("the address space kept changing while it was read")

    @staticmethod
    def _chunk_prefixes(head: AddressSpaceHead, consistent: bool) -> list[Prefix]:
        keys = [AddressSpaceChunk.key(head.version, index) for index in range(int(head.chunks))]
        if not keys:
            return []
        found = {item.sk: item for item in AddressSpaceChunk.batch_get(keys, consistent_read=consistent)}
        prefixes: list[Prefix] = []
        for _, sk in keys:
            item = found.get(sk)
            if item is None:
                raise StaleRead(sk)
            prefixes.extend(Prefix.from_line(line) for line in item.lines.split("\n") if line)
        return prefixes

    def replace(self, actor: Actor, prefixes: Sequence[Prefix]) -> AddressSpace:
        """Replace the whole list (validated by `validate_prefixes`), audited; readers see old or new, never both.

        The new version's chunks are written first, then the head moves to them in one
        transaction with the audit event (on the version read: a concurrent replacement
        is a 409), then the old chunks are deleted.
        """
        try:
            old_head: AddressSpaceHead | None = AddressSpaceHead.get(*AddressSpaceHead.key(), consistent_read=True)
        except DoesNotExist:
            old_head = None
        before = AddressSpace(self._chunk_prefixes(old_head, True)) if old_head is not None else AddressSpace([])
        version = uuid.uuid4().hex[:16]
        chunks = _chunks(prefixes)
        written = [AddressSpaceChunk(*AddressSpaceChunk.key(version, index), version=version, lines=lines)
                   for index, lines in enumerate(chunks)]  # fmt: skip
        with AddressSpaceChunk.batch_write() as batch:
            for chunk in written:
                batch.save(chunk)
        old_cidrs = {prefix.cidr for prefix in before.prefixes}
        new_cidrs = {prefix.cidr for prefix in prefixes}
        added = [prefix.cidr for prefix in prefixes if prefix.cidr not in old_cidrs]
        removed = [prefix.cidr for prefix in before.prefixes if prefix.cidr not in new_cidrs]
        event = self._audit.event(
            actor, org_id=None, action="address_space.set", target_type="address_space", target_id="platform",
            before={"prefixes": len(before)},
            after={"prefixes": len(prefixes), "added_count": len(added), "removed_count": len(removed),
                   "added": added[:LISTED_IN_AUDIT], "removed": removed[:LISTED_IN_AUDIT]},
        )  # fmt: skip
        principal = actor.principal
        head = AddressSpaceHead(
            *AddressSpaceHead.key(), version=version, chunks=len(chunks), prefixes=len(prefixes),
            updated_at=self._clock(), updated_by=(principal.email or principal.id) if principal else None,
        )  # fmt: skip
        guard = (AddressSpaceHead.version == old_head.version) if old_head is not None else (
            AddressSpaceHead.pk.does_not_exist())  # fmt: skip
        try:
            self._audit.save_with_event(
                head, event, condition=guard,
                conflict="The address space was changed meanwhile: read it again and repeat your change.",
            )  # fmt: skip
        except Exception:
            self._delete_chunks(version, len(chunks))  # never referenced: nobody reads them
            raise
        if old_head is not None:
            self._delete_chunks(old_head.version, int(old_head.chunks))
        space = AddressSpace(prefixes, version=version)
        with self._lock:  # this container sees its own change at once; others within `ttl`
            self._cached, self._checked_at = space, self._monotonic()
        return space

    @staticmethod
    def _delete_chunks(version: str, count: int) -> None:
        with AddressSpaceChunk.batch_write() as batch:
            for index in range(count):
                batch.delete(AddressSpaceChunk(*AddressSpaceChunk.key(version, index)))


def _no_trigger(actor: Actor, org_id: str, site_id: str | None, reason: str, note: str) -> None:
    return None


@dataclass(frozen=True)
class _Written:
    status: Status
    address: str
    at: datetime


def uplink_view(item: Uplink) -> dict[str, Any]:
    return {"status": item.status, "last_address": item.last_address, "last_seen_at": item.last_seen_at}


class UplinkService:
    """Where each site's controller (and each NAS) calls from, and whether that is registered address space."""

    def __init__(
        self,
        space: AddressSpaceService,
        alerts: AlertService,
        clock: Clock = utc_now,
        on_trigger: Trigger | None = None,
    ) -> None:
        self._space = space
        self._alerts = alerts
        self._clock = clock
        # The compliance service's trigger (deps wires it); tests may replace it.
        self.on_trigger: Trigger = on_trigger or _no_trigger
        self._written: dict[tuple[str, str, str | None], _Written] = {}
        self._lock = threading.Lock()

    def observe(self, actor: Actor, org_id: str, site_id: str, address: str | None, at: datetime | None = None,
                *, nas_id: str | None = None) -> Status | None:  # fmt: skip
        """Record that a controller call of this site came from `address` (what the platform saw).

        Never raises: a controller's answer must not depend on this bookkeeping. None when
        there is no address to judge (the call's source is not known).
        """
        if not address or _address_number(address) is None:
            return None  # nothing seen, or nothing that is an address: not judged
        try:
            status = self._space.current().status(address)
            when = at or self._clock()
            if self._record(org_id, site_id, None, status, address, when) and status == "unregistered":
                self._raise(actor, org_id, site_id, address)
            if nas_id:
                self._record(org_id, site_id, nas_id, status, address, when)
            return status
        except Exception:
            get_logger().exception("uplink not recorded", extra={"org_id": org_id, "site_id": site_id})
            return None

    def _record(self, org_id: str, site_id: str, nas_id: str | None, status: Status, address: str,
                at: datetime) -> bool:  # fmt: skip
        """Write the uplink unless this container wrote the same lately; True when it wrote."""
        key = (org_id, site_id, nas_id)
        with self._lock:
            last = self._written.get(key)
        if (last is not None and last.status == status and last.address == address
                and 0 <= (at - last.at).total_seconds() < REFRESH_SECONDS):  # fmt: skip
            return False
        item = Uplink(*Uplink.key(org_id, site_id, nas_id), org_id=org_id, site_id=site_id, nas_id=nas_id,
                      status=status, last_address=address[:64], last_seen_at=at)  # fmt: skip
        # A later observation (another container) already stored stays: the newest one wins.
        save_if(item, Uplink.pk.does_not_exist() | (Uplink.last_seen_at <= at))
        with self._lock:
            if len(self._written) >= _MAX_REMEMBERED:
                self._written.clear()
            self._written[key] = _Written(status, address, at)
        return True

    def _raise(self, actor: Actor, org_id: str, site_id: str, address: str) -> None:
        """An alert per site and day; the compliance trigger with the day's first one."""
        # The alert's "from where" is the uplink seen, not the HTTP caller (FreeRADIUS, for RADIUS).
        seen_from = dataclasses.replace(actor, meta=dataclasses.replace(actor.meta, source_ip=address[:64]))
        if not self._alerts.uplink_unregistered(seen_from, org_id, site_id, address=address):
            return
        note = f"controller called from {address}, outside the registered address space"
        self.on_trigger(actor, org_id, site_id, "uplink_unregistered", note)

    def sites(self, org_id: str) -> dict[str, dict[str, Any]]:
        """site_id -> {status, last_address, last_seen_at} for every site seen so far (one query)."""
        return {item.site_id: uplink_view(item) for item in self._items(org_id) if not item.nas_id}

    def nases(self, org_id: str) -> dict[str, dict[str, Any]]:
        """nas_id -> {site_id, status, last_address, last_seen_at} for every NAS seen so far (one query)."""
        return {str(item.nas_id): {"site_id": item.site_id, **uplink_view(item)}
                for item in self._items(org_id) if item.nas_id}  # fmt: skip

    @staticmethod
    def _items(org_id: str) -> list[Uplink]:
        return list(Uplink.query(org_pk(org_id), Uplink.sk.startswith(UPLINK_PREFIX)))
