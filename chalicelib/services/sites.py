"""Sites (hotspot locations) and the API keys their controllers and POS use."""

from __future__ import annotations

import uuid

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.api_keys import ApiKeyVerifier
from chalicelib.auth.principal import Actor
from chalicelib.errors import NotFound
from chalicelib.models import ApiKey, Site
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.keys import KeyLifecycle
from chalicelib.services.limits import MAX_SITES_PER_ORG, require_room

REQUIRED_SITE_FIELDS = ("name", "timezone", "opens_at", "closes_at", "language")
SITE_FIELDS = ("name", "timezone", "opens_at", "closes_at", "venue_name", "ssid", "logo", "language")


def site_view(site: Site, *, with_logo: bool = True) -> dict[str, object]:
    return {
        "site_id": site.site_id,
        "org_id": site.org_id,
        "name": site.name,
        "timezone": site.timezone,
        "business_hours": {"opens": site.opens_at, "closes": site.closes_at},
        "venue_name": site.venue_name,
        "ssid": site.ssid,
        # The audit trail notes that the logo changed, not its bytes.
        "logo": site.logo if with_logo else ("set" if site.logo else None),
        "language": site.language or "id",
    }


def key_view(key: ApiKey) -> dict[str, object]:
    """Everything about a key except its secret, which is never shown again."""
    return {
        "key_id": key.key_id,
        "site_id": key.site_id,
        "kind": key.kind,
        "name": key.name,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


class SiteService:
    def __init__(self, audit: AuditLog, verifier: ApiKeyVerifier, clock: Clock = utc_now) -> None:
        self._audit = audit
        self._clock = clock
        self._keys = KeyLifecycle(audit, verifier, clock)

    def create_site(
        self, actor: Actor, org_id: str, *, name: str, timezone: str, opens: str, closes: str, language: str = "id"
    ) -> Site:
        require_room(Site.count(f"ORG#{org_id}", Site.sk.startswith("SITE#")), MAX_SITES_PER_ORG, "sites",
                     "this organization")  # fmt: skip
        site_id = uuid.uuid4().hex[:12]
        site = Site(
            *Site.key(org_id, site_id),
            site_id=site_id,
            org_id=org_id,
            name=name,
            timezone=timezone,
            opens_at=opens,
            closes_at=closes,
            language=language,
            created_at=self._clock(),
        )
        event = self._audit.event(
            actor,
            org_id=org_id,
            action="site.create",
            target_type="site",
            target_id=site_id,
            after=site_view(site, with_logo=False),
            site=site,
        )
        self._audit.save_with_event(site, event, condition=Site.pk.does_not_exist())
        site.version = 1
        return site

    def get_site(self, org_id: str, site_id: str) -> Site:
        try:
            return Site.get(*Site.key(org_id, site_id))
        except DoesNotExist as exc:
            raise NotFound("No such site.") from exc

    def list_sites(self, org_id: str) -> list[Site]:
        return list(Site.query(f"ORG#{org_id}", Site.sk.startswith("SITE#")))

    def update_site(self, actor: Actor, org_id: str, site_id: str, changes: dict[str, object]) -> Site:
        """Apply `changes` (fields of SITE_FIELDS; None clears a print setting)."""
        site = self.get_site(org_id, site_id)
        before = site_view(site, with_logo=False)
        for field, value in changes.items():
            if field not in SITE_FIELDS or (value is None and field in REQUIRED_SITE_FIELDS):
                continue
            setattr(site, field, value)
        event = self._audit.event(
            actor,
            org_id=org_id,
            action="site.update",
            target_type="site",
            target_id=site_id,
            before=before,
            after=site_view(site, with_logo=False),
            site=site,
        )
        self._audit.save_with_event(site, event, conflict="The site was changed by someone else; reload and try again.")
        return site

    def create_key(self, actor: Actor, org_id: str, site_id: str, *, kind: str, name: str) -> tuple[ApiKey, str]:
        site = self.get_site(org_id, site_id)
        return self._keys.create(
            actor, org_id=org_id, site_id=site_id, kind=kind, name=name,
            listing_key=ApiKey.site_listing_key(org_id, site_id), view=key_view, site=site,
        )  # fmt: skip

    def list_keys(self, org_id: str, site_id: str) -> list[ApiKey]:
        self.get_site(org_id, site_id)
        return list(ApiKey.by_site.query(ApiKey.site_listing_key(org_id, site_id)))

    def revoke_key(self, actor: Actor, org_id: str, site_id: str, key_id: str) -> None:
        site = self.get_site(org_id, site_id)
        try:
            key = ApiKey.get(*ApiKey.key(key_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No such API key.") from exc
        if key.org_id != org_id or key.site_id != site_id:
            raise NotFound("No such API key.")
        self._keys.revoke(actor, key, view=key_view, site=site)
