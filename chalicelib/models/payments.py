"""Online purchase with QRIS: the venue's merchant accounts, guests' orders, and what makes fulfilment once.

An order lives under its own unguessable id (`ORDER#<id>`), since the guest holding
the link is all there is to find it by; the organisation lists its orders through
GSI1 (`ORG#<org>#ORDERS`, by creation time). While an order waits for its money it
sits in the sparse GSI2 under `PAYDUE`, sorted by its expiry, which is how the
reconciler finds what to ask the provider about without scanning. A provider's
payment id is claimed once (`PAYMENT#<provider>#<id>`) in the fulfilment
transaction: the same payment can never make a second voucher, whichever of the
webhook, the guest's poll or the reconciler comes first.
"""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.accounts import org_pk
from chalicelib.models.base import AppMeta

DUE_PARTITION = "PAYDUE"
ACCOUNTS_PARTITION = "PAYACCOUNTS"
FINAL = ("fulfilled", "refunded")


class _AccountsIndex(GlobalSecondaryIndex["PaymentAccount"]):
    """GSI1: every merchant account (`PAYACCOUNTS`), for the reconciler's daily check."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class _OrdersByOrgIndex(GlobalSecondaryIndex["Order"]):
    """GSI1: an organisation's orders by creation time."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class _OrdersDueIndex(GlobalSecondaryIndex["Order"]):
    """GSI2 (sparse, like `DueIndex`): orders whose money may still come, by when to ask the provider."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2sk = NumberAttribute(range_key=True, attr_name="GSI2SK")


class PaymentAccount(Model):
    """A venue's own merchant account at a provider. The keys are in Secrets Manager, never here."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # PAYACCT#<provider>
    account_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    environment = UnicodeAttribute()
    key_hint = UnicodeAttribute()
    site_ids = UnicodeSetAttribute(null=True)  # None: every site of the org
    secret_id = UnicodeAttribute()
    connected_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK", default=ACCOUNTS_PARTITION)
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")  # <org>#<provider>
    every = _AccountsIndex()

    @classmethod
    def key(cls, org_id: str, provider: str) -> tuple[str, str]:
        return org_pk(org_id), f"PAYACCT#{provider}"

    def covers(self, site_id: str) -> bool:
        return self.site_ids is None or site_id in self.site_ids


class PaymentAccountRef(Model):
    """The webhook's account id -> its organisation and provider (the URL carries only the id)."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # PAYACCT#<account_id>
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    org_id = UnicodeAttribute()
    provider = UnicodeAttribute()

    @classmethod
    def key(cls, account_id: str) -> tuple[str, str]:
        return f"PAYACCT#{account_id}", "META"


class SiteRef(Model):
    """A site id -> its organisation, for the guest routes, which name only the site. Written when a plan is
    saved as sold online at the site: a site no such plan names has nothing to sell online."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # SITE#<site>
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    org_id = UnicodeAttribute()

    @classmethod
    def key(cls, site_id: str) -> tuple[str, str]:
        return f"SITE#{site_id}", "META"


class Order(Model):
    """A guest's purchase: pending -> fulfilled (paid, with its voucher), or expired | cancelled | failed."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORDER#<order_id>
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    order_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    plan_name = UnicodeAttribute()
    venue_name = UnicodeAttribute(null=True)  # for the guest's receipt, as they were when bought
    site_name = UnicodeAttribute(null=True)
    duration_minutes = NumberAttribute()
    data_quota_mb = NumberAttribute(null=True)
    amount = NumberAttribute()
    currency = UnicodeAttribute(default="IDR")
    provider = UnicodeAttribute()
    account_id = UnicodeAttribute()
    status = UnicodeAttribute()
    failure = UnicodeAttribute(null=True)  # why failed: provider_unavailable, amount_mismatch, ...
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute(null=True)  # the provider's, once the QR exists
    provider_ref = UnicodeAttribute(null=True)
    qr_string = UnicodeAttribute(null=True)
    deeplink = UnicodeAttribute(null=True)
    provider_status = UnicodeAttribute(null=True)  # what the provider said last
    checked_at = NumberAttribute(null=True)  # epoch seconds of the last status read (polls share it)
    paid_at = UTCDateTimeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    sale_id = UnicodeAttribute(null=True)
    code_number = NumberAttribute(null=True)  # the sale's code number: the code is re-derived, never stored
    ended_at = UTCDateTimeAttribute(null=True)  # expired, cancelled or failed at
    refunded_at = UTCDateTimeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    refund_reason = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")  # PAYDUE while the money may still come
    gsi2sk = NumberAttribute(null=True, attr_name="GSI2SK")  # when to ask the provider, epoch seconds
    by_org = _OrdersByOrgIndex()
    by_due = _OrdersDueIndex()

    @classmethod
    def key(cls, order_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", "META"

    @staticmethod
    def list_key(org_id: str) -> str:
        return f"ORG#{org_id}#ORDERS"


class PaymentClaim(Model):
    """A provider's payment, taken by exactly one order's fulfilment."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # PAYMENT#<provider>#<payment id>
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    order_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, provider: str, payment_id: str) -> tuple[str, str]:
        return f"PAYMENT#{provider}#{payment_id}", "META"


class WebhookRecord(Model):
    """Every webhook as it came (secrets taken out) and what Kuota made of it; kept for disputes."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # WEBHOOK#<account_id>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # <iso at>#<id>
    org_id = UnicodeAttribute(null=True)
    provider = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    verdict = UnicodeAttribute()  # rejected | unknown_order | fulfilled | duplicate | recorded | ...
    body = UnicodeAttribute(null=True)  # redacted JSON
    at = UTCDateTimeAttribute()
    ttl = TTLAttribute(null=True)
