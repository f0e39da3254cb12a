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
    # Sells only through the POS: a printed voucher sold at its first redeem is an anomaly.
    pos_only_sales = BooleanAttribute(null=True)
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
    language = UnicodeAttribute(default="id")  # guest-facing messages (RADIUS replies): id | en
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
    """A controller, POS or RADIUS credential; the secret is kept only as a SHA-256 hash.

    Controller and POS keys belong to a site. A `radius` key (FreeRADIUS's) belongs to an
    organisation (no site: the NAS of each request picks it) or to the platform (no org either).
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    key_id = UnicodeAttribute()
    org_id = UnicodeAttribute(null=True)  # None: a platform radius key, for every organisation
    site_id = UnicodeAttribute(null=True)  # None: a radius key
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

    @staticmethod
    def owner_listing_key(org_id: str | None) -> str:
        """Keys that belong to an organisation (or, for None, the platform) rather than a site."""
        return f"{org_pk(org_id)}#KEYS"


class Nas(Model):
    """A RADIUS client (hotspot router, controller) registered at a site."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    nas_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute()
    name = UnicodeAttribute()
    nas_identifier = UnicodeAttribute(null=True)
    nas_ip = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, org_id: str, site_id: str, nas_id: str) -> tuple[str, str]:
        return org_pk(org_id), f"NAS#{site_id}#{nas_id}"

    @staticmethod
    def site_prefix(site_id: str) -> str:
        return f"NAS#{site_id}#"


class NasClaim(Model):
    """One item per NAS-Identifier and per NAS address, in one namespace for all organisations.

    A RADIUS request is matched to its site by one GetItem on this item. A platform radius
    key serves every organisation, so for it an identifier registered twice anywhere would be
    ambiguous: the namespace is global, like email addresses, and a second registration of
    the same identifier or address is a 409.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    nas_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute()

    @classmethod
    def by_identifier(cls, nas_identifier: str) -> tuple[str, str]:
        return f"NASID#{nas_identifier}", "META"

    @classmethod
    def by_ip(cls, nas_ip: str) -> tuple[str, str]:
        return f"NASIP#{nas_ip}", "META"
