"""FreeRADIUS's credentials: `radius` keys of one organisation, or of the platform for every one.

Stored like site keys (`chalicelib.auth.api_keys`: only a hash of the secret), but owned by an
organisation or the platform instead of a site: the NAS of each RADIUS request picks the site.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.api_keys import ApiKeyVerifier, new_api_key
from chalicelib.auth.principal import Actor
from chalicelib.errors import NotFound
from chalicelib.models import ApiKey
from chalicelib.models.base import failed_condition, transaction
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import APPEND_ONLY, AuditLog, save_with_event

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
        self._audit = audit
        self._verifier = verifier
        self._clock = clock

    def create_key(self, actor: Actor, org_id: str | None, *, name: str) -> tuple[ApiKey, str]:
        """A radius key for `org_id`, or for every organisation when it is None (platform)."""
        key_id, api_key, secret_hash = new_api_key()
        key = ApiKey(
            *ApiKey.key(key_id),
            gsi1pk=ApiKey.owner_listing_key(org_id),
            gsi1sk=f"KEY#{key_id}",
            key_id=key_id,
            org_id=org_id,
            site_id=None,
            kind=RADIUS,
            name=name,
            secret_hash=secret_hash,
            created_at=self._clock(),
        )
        event = self._audit.event(
            actor, org_id=org_id, action="api_key.create", target_type="api_key", target_id=key_id,
            after=radius_key_view(key),
        )  # fmt: skip
        save_with_event(key, event, condition=ApiKey.pk.does_not_exist())
        return key, api_key

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
        if key.revoked_at is not None:
            return
        before = radius_key_view(key)
        now = self._clock()
        key.revoked_at = now
        event = self._audit.event(
            actor, org_id=org_id, action="api_key.revoke", target_type="api_key", target_id=key_id,
            before=before, after=radius_key_view(key),
        )  # fmt: skip
        try:
            with transaction() as tx:
                tx.update(key, actions=[ApiKey.revoked_at.set(now)], condition=ApiKey.revoked_at.does_not_exist())
                tx.save(event, condition=APPEND_ONLY)
        except TransactWriteError as exc:
            if not failed_condition(exc):
                raise
        self._verifier.forget(key_id)
