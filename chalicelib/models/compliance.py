"""The ISP's side of resale: agreements, suspension stages and their history, the platform's policy.

A stage record per organisation (`STAGE#ORG`) and per site that ever left `active`
(`STAGE#SITE#<site>`), all in the organisation's partition so one query reads them
(the compliance gate caches that). A stage with a deadline sits in the sparse GSI2
under `COMPLIANCE` sorted by the deadline, which is how the job finds what is due
without scanning; an agreement with an end date sits there under `AGREEMENT_END`
until the job has acted on its end. Transitions are history items, written with the
stage change and its audit event in one transaction.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.accounts import PLATFORM_PARTITION, org_pk
from chalicelib.models.base import AppMeta
from chalicelib.models.vouchers import DueIndex

STAGES = ("active", "grace", "restricted", "suspended", "terminated")
DUE_PARTITION = "COMPLIANCE"
AGREEMENT_END_PARTITION = "AGREEMENT_END"


class StageRecord(Model):
    """Where an organisation, or one of its sites, stands; `seq` counts its transitions."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # STAGE#ORG | STAGE#SITE#<site>
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute(null=True)
    stage = UnicodeAttribute()
    since = UTCDateTimeAttribute()
    reason = UnicodeAttribute(null=True)  # the trigger code that started the current episode
    note = UnicodeAttribute(null=True)
    deadline = UTCDateTimeAttribute(null=True)  # when the job moves it on (grace, restricted)
    seq = NumberAttribute()
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")  # COMPLIANCE while a deadline runs
    gsi2sk = NumberAttribute(null=True, attr_name="GSI2SK")  # the deadline, epoch seconds
    by_due = DueIndex()

    PREFIX = "STAGE#"

    @classmethod
    def key(cls, org_id: str, site_id: str | None) -> tuple[str, str]:
        return org_pk(org_id), f"{cls.PREFIX}SITE#{site_id}" if site_id else f"{cls.PREFIX}ORG"


class StageTransition(Model):
    """One move between stages, as it happened: never changed."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # STAGELOG#<iso at>#<ORG|site>#<seq>
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute(null=True)
    from_stage = UnicodeAttribute()
    to_stage = UnicodeAttribute()
    reason = UnicodeAttribute()
    note = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute(null=True)
    actor_name = UnicodeAttribute(null=True)
    deadline = UTCDateTimeAttribute(null=True)

    PREFIX = "STAGELOG#"

    @classmethod
    def key(cls, org_id: str, at: str, site_id: str | None, seq: int) -> tuple[str, str]:
        return org_pk(org_id), f"{cls.PREFIX}{at}#{site_id or 'ORG'}#{seq:06d}"


class Agreement(Model):
    """The reseller's cooperation agreement with the ISP. The contact is personal data."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="AGREEMENT")
    org_id = UnicodeAttribute()
    legal_name = UnicodeAttribute()
    nib = UnicodeAttribute()  # Nomor Induk Berusaha: 13 digits
    agreement_no = UnicodeAttribute()
    starts_on = UnicodeAttribute()  # YYYY-MM-DD
    ends_on = UnicodeAttribute()
    contact_name = UnicodeAttribute()
    contact_phone = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")  # AGREEMENT_END until the job acted on it
    gsi2sk = NumberAttribute(null=True, attr_name="GSI2SK")  # the first moment after the end day
    by_due = DueIndex()

    @classmethod
    def key(cls, org_id: str) -> tuple[str, str]:
        return org_pk(org_id), "AGREEMENT"


class CompliancePolicy(Model):
    """The platform's policy: stage lengths, what each trigger does, the quality thresholds."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK", default=PLATFORM_PARTITION)
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="POLICY")
    grace_days = NumberAttribute()
    restricted_days = NumberAttribute()
    triggers = JSONAttribute()  # trigger code -> record | warn | enforce
    quality = JSONAttribute()  # {min_availability, max_reject_rate}
    settlement_due_days = NumberAttribute(null=True)  # null: saved before it existed, the default
    updated_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls) -> tuple[str, str]:
        return PLATFORM_PARTITION, "POLICY"


class TriggerClaim(Model):
    """A trigger acted on for a scope, reason and UTC day: written once, so it acts once a day."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # TRIGGER#<day>#<ORG|site>#<reason>
    ttl = TTLAttribute(null=True, attr_name="ttl")

    @classmethod
    def key(cls, org_id: str, site_id: str | None, reason: str, day: str) -> tuple[str, str]:
        return org_pk(org_id), f"TRIGGER#{day}#{site_id or 'ORG'}#{reason}"
