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
    """A settlement as issued (kind "settlement"), or a record that follows one: an adjustment of what an
    organisation owes (kind "adjustment"), a payment it made (kind "payment") or the reversal of a
    payment recorded by mistake (kind "reversal", at most one per payment: its key is the payment's).
    None of these is ever changed. Beside them, per organisation, what it has paid so far (kind "paid"):
    every payment and reversal moves it on conditionally, so two recorded at once cannot together pay
    more than is owed.

    All live in the platform partition under the settlement's id, so one query
    reads a settlement with everything that followed it.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    # SETTLEMENT#<id>[#ADJ#<at>#<adjustment id> | #PAY#<at>#<payment id> | #REV#<payment id> | #PAID#<org>]
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    kind = UnicodeAttribute()  # settlement | adjustment | payment | reversal | paid
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
    reason = UnicodeAttribute(null=True)  # adjustments, reversals
    payment_id = UnicodeAttribute(null=True)  # payments and their reversals
    paid_on = UnicodeAttribute(null=True)  # YYYY-MM-DD (payments)
    reference = UnicodeAttribute(null=True)  # the transfer's reference (payments)

    PREFIX = "SETTLEMENT#"

    @classmethod
    def key(cls, settlement_id: str) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{cls.PREFIX}{settlement_id}"

    @classmethod
    def adjustment_key(cls, settlement_id: str, at: str, adjustment_id: str) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{cls.PREFIX}{settlement_id}#ADJ#{at}#{adjustment_id}"

    @classmethod
    def payment_key(cls, settlement_id: str, at: str, payment_id: str) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{cls.PREFIX}{settlement_id}#PAY#{at}#{payment_id}"

    @classmethod
    def paid_key(cls, settlement_id: str, org_id: str) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{cls.PREFIX}{settlement_id}#PAID#{org_id}"

    @classmethod
    def reversal_key(cls, settlement_id: str, payment_id: str) -> tuple[str, str]:
        return PLATFORM_PARTITION, f"{cls.PREFIX}{settlement_id}#REV#{payment_id}"


class SettlementCounter(Model):
    """How many settlements were issued: each issue moves it on conditionally, so two never overlap."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="SETTLEMENTS")
    issued = NumberAttribute(default=0)
