"""Refresh tokens, their families, and rate-limit counters."""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import AppMeta


class RefreshToken(Model):
    """An issued refresh token, keyed by the SHA-256 of its opaque value."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    family_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)
    issued_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()
    ttl = TTLAttribute(attr_name="ttl")

    @classmethod
    def key(cls, token_hash: str) -> tuple[str, str]:
        return f"RT#{token_hash}", "META"


class TokenFamily(Model):
    """All refresh tokens descended from one login; revoked as a whole on reuse."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    family_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    ttl = TTLAttribute(attr_name="ttl")

    @classmethod
    def key(cls, family_id: str) -> tuple[str, str]:
        return f"RTF#{family_id}", "META"


class RateCounter(Model):
    """A fixed-window counter of failed attempts (or of counted events); TTL removes old windows."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    failures = NumberAttribute(default=0)
    # The audit events counted, where the count raises an alert that must name them.
    events = ListAttribute[str](null=True)
    ttl = TTLAttribute(attr_name="ttl")
