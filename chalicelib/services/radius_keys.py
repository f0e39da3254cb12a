"""FreeRADIUS's credentials: `radius` keys of one organisation, or of the platform for every one.

Stored like site keys (`chalicelib.auth.api_keys`: only a hash of the secret), but owned by an
organisation or the platform instead of a site: the NAS of each RADIUS request picks the site.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.api_keys import ApiKeyVerifier
from chalicelib.auth.principal import Actor
from chalicelib.errors import NotFound
from chalicelib.models import ApiKey
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.keys import KeyLifecycle

RADIUS = "radius"


def radius_key_view(key: ApiKey) -> dict[str, object]:
    """Everything about a key except its secret, which is never shown again."""
    return {
        "key_id": key.key_id,
        "kind": key.kind,
        "name": key.name,
        "org_id": key.org_id,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


class RadiusKeyService:
    def __init__(self, audit: AuditLog, verifier: ApiKeyVerifier, clock: Clock = utc_now) -> None:
        self._keys = KeyLifecycle(audit, verifier, clock)

    def create_key(self, actor: Actor, org_id: str | None, *, name: str) -> tuple[ApiKey, str]:
        """A radius key for `org_id`, or for every organisation when it is None (platform)."""
        return self._keys.create(
            actor, org_id=org_id, site_id=None, kind=RADIUS, name=name,
            listing_key=ApiKey.owner_listing_key(org_id), view=radius_key_view,
        )  # fmt: skip

    def list_keys(self, org_id: str | None) -> list[ApiKey]:
        return list(ApiKey.by_site.query(ApiKey.owner_listing_key(org_id)))

    def revoke_key(self, actor: Actor, org_id: str | None, key_id: str) -> None:
        """Stop a key (other containers within the key cache's 60 s); revoking twice changes nothing."""
        try:
            key = ApiKey.get(*ApiKey.key(key_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No such API key.") from exc
        if key.org_id != org_id or key.site_id is not None or key.kind != RADIUS:
            raise NotFound("No such API key.")  # a site's key, or another owner's
        self._keys.revoke(actor, key, view=radius_key_view)
