"""Plans, code shapes, batches, vouchers and sales."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import AppMeta


class Plan(Model):
    """What is sold. Its terms are copied into every voucher issued from it."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    plan_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    price = NumberAttribute()
    duration_minutes = NumberAttribute()
    validity_days = NumberAttribute()
    time_mode = UnicodeAttribute(default="wallclock")
    data_quota_mb = NumberAttribute(null=True)
    rate_up_kbps = NumberAttribute(null=True)
    rate_down_kbps = NumberAttribute(null=True)
    max_devices = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    archived_at = UTCDateTimeAttribute(null=True)
    # Offered on the guest page for QRIS purchase, at these sites only.
    sold_online = BooleanAttribute(default=False)
    online_sites = UnicodeSetAttribute(null=True)
    # How venues sell (docs: DESIGN "Voucher model"); all optional.
    kind = UnicodeAttribute(default="voucher")  # voucher | topup (adds its minutes and data to a code)
    windows = JSONAttribute(null=True)  # [{days, start, end}] in the site's local time
    period_quota_mb = NumberAttribute(null=True)
    quota_period = UnicodeAttribute(null=True)  # day | week | month
    pause = JSONAttribute(null=True)  # {by: staff | guest, max_pauses, max_pause_minutes}
    device_policy = UnicodeAttribute(default="shared")  # shared | first_devices
    idle_release_minutes = NumberAttribute(null=True)
    version = VersionAttribute()

    @classmethod
    def key(cls, org_id: str, plan_id: str) -> tuple[str, str]:
        return f"ORG#{org_id}", f"PLAN#{plan_id}"


class ShapeRegistry(Model):
    """The code shapes an organisation uses; a new shape may not overlap an old one."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="SHAPES")
    shapes = UnicodeSetAttribute(default=set)
    version = VersionAttribute()


class ShapeCounter(Model):
    """How many code numbers of one shape an organisation has taken."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    taken = NumberAttribute(default=0)


class DueIndex(GlobalSecondaryIndex["Model"]):
    """Sparse (GSI2): items with something still to carry out at a time (an expiry, a stage's deadline),
    by partition (expiry shards, `COMPLIANCE`, `AGREEMENT_END`), sorted by when (epoch seconds)."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2sk = NumberAttribute(range_key=True, attr_name="GSI2SK")


EXPIRY_SHARDS = 16


def expiry_shard(key: str) -> str:
    """The expiry index partition of an item: due expiries are spread over a few; the job queries each one."""
    return f"EXP#{int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % EXPIRY_SHARDS}"


class _OutboxIndex(GlobalSecondaryIndex["Model"]):
    """Sparse: vouchers whose changes still wait to be written to the audit table (GSI1)."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class _SalesIndex(GlobalSecondaryIndex["Model"]):
    """Revenue lines (sales, first redeems of printed vouchers, voids) by org and local day."""

    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(range_key=True, attr_name="GSI3SK")


class Batch(Model):
    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    batch_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    site_id = UnicodeAttribute(null=True)
    quantity = NumberAttribute()
    issued = NumberAttribute(default=0)
    status = UnicodeAttribute()  # pending | running | done | failed
    alphabet = UnicodeAttribute()
    code_length = NumberAttribute()
    prefix = UnicodeAttribute(default="")
    first_number = NumberAttribute()
    terms = JSONAttribute()  # the plan's terms at issue time
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    valid_until = UTCDateTimeAttribute()
    error = UnicodeAttribute(null=True)
    expiry_done = NumberAttribute(null=True)  # vouchers the expiry job has gone through: where a resume starts
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = NumberAttribute(null=True, attr_name="GSI2SK")
    by_expiry = DueIndex()

    @classmethod
    def key(cls, org_id: str, batch_id: str) -> tuple[str, str]:
        return f"ORG#{org_id}", f"BATCH#{batch_id}"


def packed(entry: dict[str, Any]) -> str:
    """An outbox entry as stored: one compact JSON string, which DynamoDB and botocore handle far more
    cheaply than a nested map (the redeem's one write carries one)."""
    return json.dumps(entry, separators=(",", ":"))


def unpacked(stored: Any) -> dict[str, Any]:
    """An entry as read back (a map: written before entries were packed)."""
    return cast(dict[str, Any], json.loads(stored) if isinstance(stored, str) else stored)



class Voucher(Model):
    """One code's state machine. Keyed by HMAC(org, code); the code itself is not stored.

    Times are epoch seconds (numbers) so a single UpdateItem can compute with
    them: the expiry of a first redeem is `activated_at + window_seconds`.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # V#<hmac>
    sk = UnicodeAttribute(range_key=True, attr_name="SK", default="META")
    org_id = UnicodeAttribute()
    source_id = UnicodeAttribute()  # batch id or sale id
    site_id = UnicodeAttribute(null=True)  # valid only here; None: every site of the org
    plan_id = UnicodeAttribute()
    plan_name = UnicodeAttribute()
    price = NumberAttribute()
    duration_minutes = NumberAttribute()
    time_mode = UnicodeAttribute()  # wallclock | usage
    window_seconds = NumberAttribute()  # from first use to expiry (usage mode: the shelf life)
    quota_bytes = NumberAttribute(null=True)
    rate_up_kbps = NumberAttribute(null=True)
    rate_down_kbps = NumberAttribute(null=True)
    max_devices = NumberAttribute()
    # The plan's windows, and the same as the map the redeem's condition tests (plan_rules.window_hours).
    windows = JSONAttribute(null=True)
    window_hours = MapAttribute[str, object](null=True, attr_name="wb")
    period_quota_bytes = NumberAttribute(null=True)
    quota_period = UnicodeAttribute(null=True)  # day | week | month
    period_used = MapAttribute[str, object](null=True, attr_name="pu")  # period key -> bytes (the last two)
    pause_by = UnicodeAttribute(null=True)  # staff | guest: who may pause it (None: it does not pause)
    max_pauses = NumberAttribute(null=True)
    max_pause_minutes = NumberAttribute(null=True)
    pauses_used = NumberAttribute(null=True)
    paused_at = NumberAttribute(null=True)
    device_policy = UnicodeAttribute(null=True)  # None or shared | first_devices
    idle_release_minutes = NumberAttribute(null=True)
    topped_up_at = NumberAttribute(null=True)  # the last top-up: live sessions older than it get the new limits
    status = UnicodeAttribute()  # issued | sold | active | paused | expired | exhausted | revoked
    issued_at = NumberAttribute()
    valid_until = NumberAttribute()  # shelf life of an unused voucher
    sold_at = NumberAttribute(null=True)
    sale_id = UnicodeAttribute(null=True)
    activated_at = NumberAttribute(null=True)
    activated_site_id = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    ended_at = NumberAttribute(null=True)  # expired, exhausted or revoked
    devices = UnicodeSetAttribute(null=True)  # keyed hashes of device MACs
    # Devices whose slot a guest or staff freed: their sessions still running are told to end.
    released_devices = UnicodeSetAttribute(null=True)
    used_seconds = NumberAttribute(default=0)
    used_bytes = NumberAttribute(default=0)
    # session id -> {"s": seconds, "b": bytes, "d": the device's slot (mac_ref), "t": last update}
    refunded_at = NumberAttribute(null=True)  # epoch seconds: its money was given back (it is revoked too)
    sessions = MapAttribute[str, object](null=True)
    history = ListAttribute[object](null=True)  # changes people made: revoke, extend, void (time, actor, reason)
    pending_audit = ListAttribute[object](null=True)  # outbox: events not yet in the audit table
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")  # OUTBOX#<shard> while pending_audit is set
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")  # EXP#<shard> while an expiry is due
    gsi2sk = NumberAttribute(null=True, attr_name="GSI2SK")  # when (epoch seconds)
    gsi3pk = UnicodeAttribute(null=True, attr_name="GSI3PK")  # ORG#<org>#DAY#<local day> once sold
    gsi3sk = UnicodeAttribute(null=True, attr_name="GSI3SK")
    rev_site = UnicodeAttribute(null=True)
    rev_plan = UnicodeAttribute(null=True)
    rev_cashier = UnicodeAttribute(null=True)
    rev_amount = NumberAttribute(null=True)
    rev_count = NumberAttribute(null=True)
    rev_kind = UnicodeAttribute(null=True)  # sale | redeem_sale; absent on older lines: a sale
    ttl = TTLAttribute(null=True, attr_name="ttl")
    by_outbox = _OutboxIndex()
    by_expiry = DueIndex()
    by_sales_day = _SalesIndex()

    @classmethod
    def key(cls, code_hash: str) -> tuple[str, str]:
        return f"V#{code_hash}", "META"


class _SaleListIndex(GlobalSecondaryIndex["Model"]):
    """An organisation's sales by time (GSI1): the sales list and a shift's takings."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class Sale(Model):
    """A POS or counter sale; its codes are re-derived from (shape, first_number, quantity)."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    sale_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    site_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_price = NumberAttribute()
    total = NumberAttribute()
    cashier_ref = UnicodeAttribute(null=True)
    seller_id = UnicodeAttribute()  # the POS key or the cashier's user id
    rev_cashier = UnicodeAttribute(null=True)  # the cashier its revenue lines name; a void's reversal names it too
    sold_at = UTCDateTimeAttribute()
    first_number = NumberAttribute()
    valid_until = UTCDateTimeAttribute(null=True)  # its vouchers' shelf life, so a receipt can be shown again
    voucher_keys = JSONAttribute()  # the vouchers' table keys, for void
    voided_at = UTCDateTimeAttribute(null=True)
    void_reason = UnicodeAttribute(null=True)
    shift_id = UnicodeAttribute(null=True)  # the console cashier's open shift when sold
    kind = UnicodeAttribute(null=True)  # None: vouchers sold; "topup": minutes and data added to one code
    topup_seconds = NumberAttribute(null=True)  # what a top-up added (a void takes it back)
    topup_bytes = NumberAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")  # ORG#<org>#SALES
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")  # <iso sold_at>#<sale_id>
    version = VersionAttribute()
    by_time = _SaleListIndex()

    @classmethod
    def key(cls, org_id: str, sale_id: str) -> tuple[str, str]:
        return f"ORG#{org_id}", f"SALE#{sale_id}"

    @classmethod
    def list_key(cls, org_id: str) -> str:
        return f"ORG#{org_id}#SALES"


class LedgerEntry(Model):
    """A line of the ledger: money in or out, written once (`Changes.record`) and never changed.

    Kinds (`rev_kind`): `sale` (a till sale, count = its quantity), `redeem_sale`
    (a printed voucher sold at its first redeem; a copy of the voucher's own
    line, same GSI3SK), `void` and `refund` (negative count and amount on the
    site-local day they happen), `settlement` and `settlement_adjustment` (one per
    organisation, under its partition, with no sales-index keys so that no report
    counts them; their figures are in `details`). Keyed by time so that a day's
    entries are one query; chained like audit events.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # LEDGER#<iso time>#<kind>#<ref>
    gsi3pk = UnicodeAttribute(null=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(null=True, attr_name="GSI3SK")
    rev_kind = UnicodeAttribute()
    rev_site = UnicodeAttribute(null=True)
    rev_plan = UnicodeAttribute(null=True)
    rev_cashier = UnicodeAttribute(null=True)
    rev_amount = NumberAttribute(null=True)
    rev_count = NumberAttribute(null=True)
    sale_id = UnicodeAttribute(null=True)
    voucher_ref = UnicodeAttribute(null=True)
    settlement_id = UnicodeAttribute(null=True)
    details = JSONAttribute(null=True)  # a settlement line's or adjustment's figures
    reason = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    chain_id = UnicodeAttribute(null=True)
    chain_seq = NumberAttribute(null=True)
    chain_prev = UnicodeAttribute(null=True)
    chain_hash = UnicodeAttribute(null=True)
    by_sales_day = _SalesIndex()

    @classmethod
    def key(cls, org_id: str, at: datetime, kind: str, ref: str) -> tuple[str, str]:
        return f"ORG#{org_id}", f"{LEDGER_PREFIX}{at.isoformat(timespec='microseconds')}#{kind}#{ref}"

    @classmethod
    def platform_key(cls, at: datetime, kind: str, ref: str) -> tuple[str, str]:
        """The platform's own ledger (settlements), chained like an org's."""
        return "PLATFORM", f"{LEDGER_PREFIX}{at.isoformat(timespec='microseconds')}#{kind}#{ref}"


LEDGER_PREFIX = "LEDGER#"


class ChainHead(Model):
    """The last record of one chain: how many it holds and the hash of the last.

    One chain per owner (an org, or the platform), UTC day and site, so that
    writers at different sites never wait for each other. Every chained write
    moves its head in the same transaction, on the condition that nobody moved
    it meanwhile, so two writers can never both follow the same record.
    """

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # CHAIN#<ORG#org | PLATFORM>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # <yyyy-mm-dd>#<site id or ->
    seq = NumberAttribute()
    hash = UnicodeAttribute()
