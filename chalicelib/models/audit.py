"""The append-only audit table."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.config import aws_region, get_settings


class AuditEvent(Model):
    class Meta:
        table_name = get_settings().audit_table
        region = aws_region()
        billing_mode = "PAY_PER_REQUEST"
        max_pool_connections = get_settings().aws_max_pool_connections

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # ORG#<org> or PLATFORM
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # <iso time>#<event id>
    event_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    org_id = UnicodeAttribute(null=True)
    actor_id = UnicodeAttribute(null=True)
    actor_kind = UnicodeAttribute()  # user | api_key | system | anonymous
    actor_role = UnicodeAttribute(null=True)
    actor_name = UnicodeAttribute(null=True)  # the user's email or the key's name when it acted
    platform_action = BooleanAttribute(default=False)
    source_ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    action = UnicodeAttribute()
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute(null=True)
    site_id = UnicodeAttribute(null=True)
    off_hours = BooleanAttribute(null=True)
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    # Its place in its chain (chalicelib/services/chain.py): which, where, the hash before it and its own.
    chain_id = UnicodeAttribute(null=True)
    chain_seq = NumberAttribute(null=True)
    chain_prev = UnicodeAttribute(null=True)
    chain_hash = UnicodeAttribute(null=True)


class ChainDigest(Model):
    """A day's chains of one owner, signed: what verification holds the records to.

    Lives in the append-only audit table; the signing key lives in Secrets
    Manager (a local file in dev), never in a table.
    """

    class Meta:
        table_name = get_settings().audit_table
        region = aws_region()
        billing_mode = "PAY_PER_REQUEST"
        max_pool_connections = get_settings().aws_max_pool_connections

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")  # DIGEST#<ORG#org | PLATFORM>
    sk = UnicodeAttribute(range_key=True, attr_name="SK")  # <yyyy-mm-dd>
    payload = UnicodeAttribute()  # canonical JSON: owner, day, chains [[chain, seq, hash]], previous digest
    signature = UnicodeAttribute()  # Ed25519 over the payload, base64
    key_id = UnicodeAttribute()
    sealed_at = UTCDateTimeAttribute()
