"""openNDS FAS: each site's gateway configuration and the authorisations waiting for its poll."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import AppMeta


class FasGateway(Model):
    """A site's openNDS gateway: its name, the hash authmon polls with, the faskey (encrypted)."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    site_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    gateway_name = UnicodeAttribute()
    gateway_hash = UnicodeAttribute()
    faskey_sealed = UnicodeAttribute()  # AES-GCM under a key derived from the code keys
    faskey_hint = UnicodeAttribute()  # last 4 characters, for the console
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, site_id: str) -> tuple[str, str]:
        return f"FAS#{site_id}", "META"


class FasAuthorisation(Model):
    """One client's authorisation, queued until the gateway's authmon acknowledges it."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # the client's rhid
    line = UnicodeAttribute()  # authmon's auth-list entry, not yet url-encoded
    org_id = UnicodeAttribute()
    queued_at = NumberAttribute()
    expires_at = NumberAttribute()  # not handed out after this (TTL removes it later)
    ttl = TTLAttribute(attr_name="ttl")

    @classmethod
    def partition(cls, site_id: str) -> str:
        return f"FASQ#{site_id}"
