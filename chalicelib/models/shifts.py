"""Cashier shifts: a till's cash from opening to close, and the claim that keeps one open per person."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import AppMeta


class Shift(Model):
    """One shift. Its id starts with the UTC opening time, so a key range lists shifts by day."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # SHIFT#<yyyymmddhhmmss>-<random>
    shift_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    user_email = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # open | closed
    opened_at = UTCDateTimeAttribute()
    opening_cash = NumberAttribute(default=0)
    # Set once, at close: the takings as they stood then, what was declared and the difference.
    closed_at = UTCDateTimeAttribute(null=True)
    closed_by = UnicodeAttribute(null=True)
    sales_count = NumberAttribute(null=True)
    sales_total = NumberAttribute(null=True)
    voids_total = NumberAttribute(null=True)
    expected_cash = NumberAttribute(null=True)
    declared_cash = NumberAttribute(null=True)
    difference = NumberAttribute(null=True)
    note = UnicodeAttribute(null=True)

    @classmethod
    def key(cls, org_id: str, shift_id: str) -> tuple[str, str]:
        return f"ORG#{org_id}", f"SHIFT#{shift_id}"


class OpenShiftClaim(Model):
    """Exists while a person has a shift open: written and deleted with the shift, so one at a time."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # OPENSHIFT#<user>
    shift_id = UnicodeAttribute()
    # Sales booked to the shift, counted in each sale's own transaction: a close lands only if
    # the count it added up is still the count, so no sale slips past a shift's figures.
    sales = NumberAttribute(default=0)

    @classmethod
    def key(cls, org_id: str, user_id: str) -> tuple[str, str]:
        return f"ORG#{org_id}", f"OPENSHIFT#{user_id}"
