"""The ISP's registered address space (platform-wide) and where each site's controller calls from.

The prefix list is stored as a head item naming a version, and that version's
chunks: each chunk one compact string of `cidr<TAB>asn<TAB>note` lines, a few
hundred kilobytes at most (DynamoDB's item limit is 400 KB). A replacement
writes the new version's chunks first, then moves the head in one transaction
with its audit event, then deletes the old chunks: readers see the old list or
the new one, never a mixture, in 1 + (chunks) key reads.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.accounts import PLATFORM_PARTITION, org_pk
from chalicelib.models.base import AppMeta

HEAD_SK = "ADDRSPACE"
UPLINK_PREFIX = "UPLINK#"


class AddressSpaceHead(Model):
    """PK=PLATFORM, SK=ADDRSPACE: which chunk set is the registered list, and its size."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default=HEAD_SK)
    version = UnicodeAttribute()
    chunks = NumberAttribute()
    prefixes = NumberAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)

    @classmethod
    def key(cls) -> tuple[str, str]:
        return PLATFORM_PARTITION, HEAD_SK


class AddressSpaceChunk(Model):
    """PK=PLATFORM, SK=ADDRSPACE#<version>#<index>: part of one version of the list, one line per prefix."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    version = UnicodeAttribute()
    lines = UnicodeAttribute()

    @classmethod
    def key(cls, version: str, index: int) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{HEAD_SK}#{version}#{index:04d}"


class Uplink(Model):
    """PK=ORG#<org>, SK=UPLINK#<site> (or UPLINK#<site>#NAS#<nas>): the address a site's controller
    (or one NAS of it) last called from, whether it is registered, and when it was seen."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute()
    nas_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # registered | unregistered | unknown
    last_address = UnicodeAttribute()
    last_seen_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, org_id: str, site_id: str, nas_id: str | None = None) -> tuple[str, str]:
        suffix = f"#NAS#{nas_id}" if nas_id else ""
        return org_pk(org_id), f"{UPLINK_PREFIX}{site_id}{suffix}"
