"""Revenue shares (per organisation, with history) and the platform's settlements and their adjustments.

Shares and settlement records are written once and never changed: a new share
is a new history item, a correction to a settlement is a new adjustment.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.accounts import PLATFORM_PARTITION
from chalicelib.models.base import AppMeta


class RevenueShare(Model):
    """One setting of an organisation's share: the ISP's percent of its net sales from a day on.

    The share in force on a day is the item with the latest `effective_from` not after
    that day; of two items for the same day, the one set last.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # SHARE#<effective_from>#<set_at>#<id>
    org_id = UnicodeAttribute()
    effective_from = UnicodeAttribute()  # YYYY-MM-DD
    basis_points = NumberAttribute()  # hundredths of a percent: 12.5 % is 1250
    reason = UnicodeAttribute()
    set_at = UTCDateTimeAttribute()
    set_by = UnicodeAttribute(null=True)

    PREFIX = "SHARE#"

    @classmethod
    def key(cls, org_id: str, effective_from: str, set_at: str, share_id: str) -> tuple[str, str]:
        return f"ORG#{org_id}", f"{cls.PREFIX}{effective_from}#{set_at}#{share_id}"


class SettlementRecord(Model):
    """A settlement as issued (kind "settlement"), or an adjustment that follows one (kind "adjustment").

    Both live in the platform partition under the settlement's id, so one query
    reads a settlement with its adjustments.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # SETTLEMENT#<id>[#ADJ#<at>#<adjustment id>]
    kind = UnicodeAttribute()  # settlement | adjustment
    settlement_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()  # issued or adjusted
    by = UnicodeAttribute(null=True)
    period_from = UnicodeAttribute(null=True)  # YYYY-MM-DD (settlements)
    period_to = UnicodeAttribute(null=True)
    lines = JSONAttribute(null=True)  # per organisation, as issued (settlements)
    totals = JSONAttribute(null=True)
    adjustment_id = UnicodeAttribute(null=True)  # adjustments
    org_id = UnicodeAttribute(null=True)
    org_name = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    reason = UnicodeAttribute(null=True)

    PREFIX = "SETTLEMENT#"

    @classmethod
    def key(cls, settlement_id: str) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{cls.PREFIX}{settlement_id}"

    @classmethod
    def adjustment_key(cls, settlement_id: str, at: str, adjustment_id: str) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{cls.PREFIX}{settlement_id}#ADJ#{at}#{adjustment_id}"


class SettlementCounter(Model):
    """How many settlements were issued: each issue moves it on conditionally, so two never overlap."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="SETTLEMENTS")
    issued = NumberAttribute(default=0)
