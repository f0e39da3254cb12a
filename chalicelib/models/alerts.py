"""Anomaly alerts: what looked wrong, who did it, from where, and the audit events it came from."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.accounts import org_pk
from chalicelib.models.base import AppMeta

ALERT_PREFIX = "ALERT#"


class Alert(Model):
    """One alert, listed by time under its organization (PK=ORG#<org>, SK=ALERT#<iso time>#<id>).

    The id is derived from what raised it (an audit event, or a scope and its window),
    so the same observation made twice writes nothing the second time.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    alert_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute(null=True)
    actor_kind = UnicodeAttribute()
    actor_name = UnicodeAttribute(null=True)  # a user's email or a key's name, as it was when raised
    source_ip = UnicodeAttribute(null=True)
    site_id = UnicodeAttribute(null=True)
    summary = UnicodeAttribute()
    details = JSONAttribute(null=True)
    audit_event_ids = ListAttribute[str](default=list)

    @classmethod
    def sort_key(cls, at_iso: str, alert_id: str) -> str:
        return f"{ALERT_PREFIX}{at_iso}#{alert_id}"

    @classmethod
    def partition(cls, org_id: str) -> str:
        return org_pk(org_id)


class AlertClaim(Model):
    """Claims an alert id for alerts raised per scope and window, whose time is not derived.

    Written with the alert in one transaction, conditioned on not existing: the first
    observation in a window raises the alert, later ones (any container) write nothing.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")

    @classmethod
    def key(cls, org_id: str, alert_id: str) -> tuple[str, str]:
        return org_pk(org_id), f"ALERTID#{alert_id}"
