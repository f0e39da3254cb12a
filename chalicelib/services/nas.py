"""RADIUS clients (NASes) registered per site, and finding a request's site from its NAS.

A request names its NAS by NAS-Identifier and/or NAS-IP-Address. Each registration claims
its identifier and its address in one namespace for every organisation (`NasClaim`), so a
lookup is one GetItem and never ambiguous, whichever radius key (an organisation's or the
platform's) asks. Lookups are cached per container for at most `ttl` seconds, unknown NASes
too; the container that registers or deletes a NAS forgets its entries at once.
"""

from __future__ import annotations

import ipaddress
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.principal import Actor
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.models import Nas, NasClaim, Site
from chalicelib.models.base import cancelled_by_condition, failed_condition
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.limits import MAX_NAS_PER_SITE, require_room


def normalise_ip(value: str) -> str:
    """One spelling per address ('010.0.0.1' is refused, '::FFFF:a00:1' becomes '::ffff:a00:1')."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise ValidationFailed("nas_ip: not an IPv4 or IPv6 address", field="nas_ip") from exc


def nas_view(nas: Nas) -> dict[str, object]:
    return {
        "nas_id": nas.nas_id,
        "name": nas.name,
        "nas_identifier": nas.nas_identifier,
        "nas_ip": nas.nas_ip,
        "site_id": nas.site_id,
        "created_at": nas.created_at.isoformat(),
    }


@dataclass(frozen=True)
class NasMatch:
    nas_id: str
    org_id: str
    site_id: str


class NasDirectory:
    """NAS identity -> (org, site), one GetItem per identity, cached per container."""

    def __init__(self, ttl: float = 60.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = min(ttl, 60.0)
        self._monotonic = monotonic
        self._cache: dict[tuple[str, str], tuple[float, NasMatch | None]] = {}
        self._lock = threading.Lock()
        self.misses = 0  # table reads, for tests and benchmarks

    def find(self, nas_identifier: str | None, nas_ip: str | None) -> NasMatch | None:
        """By NAS-Identifier when the request has one registered, else by NAS-IP-Address."""
        if nas_identifier:
            match = self._lookup("id", nas_identifier)
            if match is not None:
                return match
        if nas_ip:
            try:
                address = str(ipaddress.ip_address(nas_ip.strip()))
            except ValueError:
                return None
            return self._lookup("ip", address)
        return None

    def forget(self, nas_identifier: str | None, nas_ip: str | None) -> None:
        with self._lock:
            if nas_identifier:
                self._cache.pop(("id", nas_identifier), None)
            if nas_ip:
                self._cache.pop(("ip", nas_ip), None)

    def _lookup(self, kind: str, value: str) -> NasMatch | None:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get((kind, value))
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        key = NasClaim.by_identifier(value) if kind == "id" else NasClaim.by_ip(value)
        self.misses += 1
        try:
            claim = NasClaim.get(*key)
            match: NasMatch | None = NasMatch(nas_id=claim.nas_id, org_id=claim.org_id, site_id=claim.site_id)
        except DoesNotExist:
            match = None
        with self._lock:
            self._cache[(kind, value)] = (now, match)
        return match


class NasService:
    def __init__(self, audit: AuditLog, directory: NasDirectory, clock: Clock = utc_now) -> None:
        self._audit = audit
        self._directory = directory
        self._clock = clock

    def register(self, actor: Actor, site: Site, *, name: str, nas_identifier: str | None, nas_ip: str | None) -> Nas:
        if not nas_identifier and not nas_ip:
            raise ValidationFailed("nas_identifier or nas_ip: give at least one", field="nas_identifier")
        address = normalise_ip(nas_ip) if nas_ip else None
        registered = Nas.count(f"ORG#{site.org_id}", Nas.sk.startswith(Nas.site_prefix(site.site_id)))
        require_room(registered, MAX_NAS_PER_SITE, "NAS", "this site")
        nas_id = uuid.uuid4().hex[:12]
        nas = Nas(
            *Nas.key(site.org_id, site.site_id, nas_id),
            nas_id=nas_id,
            org_id=site.org_id,
            site_id=site.site_id,
            name=name,
            nas_identifier=nas_identifier or None,
            nas_ip=address,
            created_at=self._clock(),
        )
        claims = [NasClaim(*NasClaim.by_identifier(nas_identifier))] if nas_identifier else []
        if address:
            claims.append(NasClaim(*NasClaim.by_ip(address)))
        for claim in claims:
            claim.nas_id, claim.org_id, claim.site_id = nas_id, site.org_id, site.site_id
        event = self._audit.event(
            actor, org_id=site.org_id, action="nas.create", target_type="nas", target_id=nas_id,
            after=nas_view(nas), site=site,
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.save(nas, condition=Nas.pk.does_not_exist())
                for claim in claims:
                    tx.save(claim, condition=NasClaim.pk.does_not_exist())
                tx.append(event)
        except TransactWriteError as exc:
            if nas_identifier and cancelled_by_condition(exc, 1):
                raise Conflict(
                    "nas_identifier: this NAS-Identifier is already registered in Kuota; give the router a "
                    "unique identity (for example the site's name and a number)",
                    field="nas_identifier",
                ) from exc
            if address and cancelled_by_condition(exc, len(claims)):
                raise Conflict(
                    "nas_ip: this NAS-IP-Address is already registered in Kuota; register the router by its "
                    "NAS-Identifier instead",
                    field="nas_ip",
                ) from exc
            raise
        self._directory.forget(nas.nas_identifier, nas.nas_ip)
        return nas

    def list_nas(self, org_id: str, site_id: str) -> list[Nas]:
        return list(Nas.query(f"ORG#{org_id}", Nas.sk.startswith(Nas.site_prefix(site_id))))

    def delete(self, actor: Actor, site: Site, nas_id: str) -> None:
        try:
            nas = Nas.get(*Nas.key(site.org_id, site.site_id, nas_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No such NAS.") from exc
        event = self._audit.event(
            actor, org_id=site.org_id, action="nas.delete", target_type="nas", target_id=nas_id,
            before=nas_view(nas), site=site,
        )  # fmt: skip
        claims = [NasClaim(*NasClaim.by_identifier(nas.nas_identifier))] if nas.nas_identifier else []
        if nas.nas_ip:
            claims.append(NasClaim(*NasClaim.by_ip(nas.nas_ip)))
        try:
            with self._audit.transaction() as tx:
                tx.delete(nas, condition=Nas.pk.exists())
                for claim in claims:
                    tx.delete(claim, condition=NasClaim.nas_id == nas_id)
                tx.append(event)
        except TransactWriteError as exc:
            if not failed_condition(exc):
                raise
            raise NotFound("No such NAS.") from exc  # deleted meanwhile by someone else
        self._directory.forget(nas.nas_identifier, nas.nas_ip)
