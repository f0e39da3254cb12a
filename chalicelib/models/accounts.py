"""Organizations, users, sites and API keys."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import AppMeta

PLATFORM_PARTITION = "PLATFORM"


def org_pk(org_id: str | None) -> str:
    return f"ORG#{org_id}" if org_id else PLATFORM_PARTITION


class _OrgsIndex(GlobalSecondaryIndex["Org"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class Org(Model):
    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK", default="ORGS")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    by_listing = _OrgsIndex()

    @classmethod
    def key(cls, org_id: str) -> tuple[str, str]:
        return org_pk(org_id), "META"


class User(Model):
    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    user_id = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)  # None: platform admin
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    disabled = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, org_id: str | None, user_id: str) -> tuple[str, str]:
        return org_pk(org_id), f"USER#{user_id}"


class EmailClaim(Model):
    """One item per email address: makes emails unique and finds the user at login."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    user_id = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)

    @classmethod
    def key(cls, email: str) -> tuple[str, str]:
        return f"EMAIL#{email}", "META"


class Site(Model):
    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    site_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    opens_at = UnicodeAttribute()  # "HH:MM", site-local
    closes_at = UnicodeAttribute()
    # What printed voucher cards show (venue name, the WiFi network's SSID, a small logo).
    venue_name = UnicodeAttribute(null=True)
    ssid = UnicodeAttribute(null=True)
    logo = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, org_id: str, site_id: str) -> tuple[str, str]:
        return org_pk(org_id), f"SITE#{site_id}"


class _KeysBySiteIndex(GlobalSecondaryIndex["ApiKey"]):
    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class ApiKey(Model):
    """A controller or POS credential; the secret is kept only as a SHA-256 hash."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    key_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    by_site = _KeysBySiteIndex()

    @classmethod
    def key(cls, key_id: str) -> tuple[str, str]:
        return f"KEY#{key_id}", "META"

    @staticmethod
    def site_listing_key(org_id: str, site_id: str) -> str:
        return f"ORG#{org_id}#SITE#{site_id}"
