"""The life of an API key, the same for a site's keys (controller, POS) and for radius keys.

A key is created with its secret shown once (only a hash is stored) and its audit
event in the same write; revoking stamps it in a transaction with its event, and
the revoking container forgets it at once (others within the key cache's 60 s).
"""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import TransactWriteError

from chalicelib.auth.api_keys import ApiKeyVerifier, new_api_key
from chalicelib.auth.principal import Actor
from chalicelib.models import ApiKey, Site
from chalicelib.models.base import failed_condition
from chalicelib.services import Clock
from chalicelib.services.audit import AuditLog
from chalicelib.services.limits import MAX_ACTIVE_KEYS, require_room

KeyView = Callable[[ApiKey], dict[str, object]]


class KeyLifecycle:
    def __init__(self, audit: AuditLog, verifier: ApiKeyVerifier, clock: Clock) -> None:
        self._audit = audit
        self._verifier = verifier
        self._clock = clock

    def create(
        self,
        actor: Actor,
        *,
        org_id: str | None,
        site_id: str | None,
        kind: str,
        name: str,
        listing_key: str,
        view: KeyView,
        site: Site | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret (shown this once)."""
        active = ApiKey.by_site.count(listing_key, filter_condition=ApiKey.revoked_at.does_not_exist())
        where = "this site" if site_id else "this organization" if org_id else "the platform"
        require_room(active, MAX_ACTIVE_KEYS, "active keys", where)
        key_id, api_key, secret_hash = new_api_key()
        key = ApiKey(
            *ApiKey.key(key_id),
            gsi1pk=listing_key,
            gsi1sk=f"KEY#{key_id}",
            key_id=key_id,
            org_id=org_id,
            site_id=site_id,
            kind=kind,
            name=name,
            secret_hash=secret_hash,
            created_at=self._clock(),
        )
        event = self._audit.event(
            actor, org_id=org_id, action="api_key.create", target_type="api_key", target_id=key_id,
            after=view(key), site=site,
        )  # fmt: skip
        self._audit.save_with_event(key, event, condition=ApiKey.pk.does_not_exist())
        return key, api_key

    def revoke(self, actor: Actor, key: ApiKey, *, view: KeyView, site: Site | None = None) -> None:
        """Stop `key`; revoking twice changes nothing and writes no second event."""
        if key.revoked_at is not None:
            return
        before = view(key)
        now = self._clock()
        key.revoked_at = now
        event = self._audit.event(
            actor, org_id=key.org_id, action="api_key.revoke", target_type="api_key", target_id=key.key_id,
            before=before, after=view(key), site=site,
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.update(key, actions=[ApiKey.revoked_at.set(now)], condition=ApiKey.revoked_at.does_not_exist())
                tx.append(event)
        except TransactWriteError as exc:
            if not failed_condition(exc):
                raise
        self._verifier.forget(key.key_id)
