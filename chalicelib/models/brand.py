"""The ISP's brand: one item in the platform partition, shown to every guest and on every voucher."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.models.accounts import PLATFORM_PARTITION
from chalicelib.models.base import AppMeta


class Brand(Model):
    """Name, tagline, logo (a PNG or SVG data URL, SVG stored base64) and colour, as a platform admin set them.

    Each PUT replaces the whole item; the version guards against two admins saving at once.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="BRAND")
    name = UnicodeAttribute()
    tagline = UnicodeAttribute(null=True)
    logo = UnicodeAttribute(null=True)  # data:image/png;base64,... or data:image/svg+xml;base64,... (<= 100,000 bytes)
    colour = UnicodeAttribute(null=True)  # #rrggbb, lower case
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)
    version = VersionAttribute()

    SK = "BRAND"
