"""The redeem write: one conditional UpdateItem that admits a device or says why not.

Written against the DynamoDB API directly because it needs what PynamoDB's
`update` does not expose: arithmetic on the item's own attributes (expiry =
first use + window) and the old item back when the condition fails, so the
caller learns *why* without a second request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.models.base import dynamodb_client
from chalicelib.models.vouchers import Voucher

_serializer = TypeSerializer()

_UPDATE = (
    "SET #st = :active, "
    "activated_at = if_not_exists(activated_at, :now), "
    "activated_site_id = if_not_exists(activated_site_id, :site), "
    "expires_at = if_not_exists(activated_at, :now) + window_seconds, "
    "GSI2PK = if_not_exists(GSI2PK, :expiry_shard), "
    "GSI2SK = if_not_exists(activated_at, :now) + window_seconds, "
    # A printed voucher never sold at a till is sold now: one revenue line, once.
    "sold_at = if_not_exists(sold_at, :now), "
    "GSI3PK = if_not_exists(GSI3PK, :sales_day), "
    "GSI3SK = if_not_exists(GSI3SK, :sales_sk), "
    "rev_site = if_not_exists(rev_site, :site), "
    "rev_plan = if_not_exists(rev_plan, plan_id), "
    "rev_amount = if_not_exists(rev_amount, price), "
    "rev_count = if_not_exists(rev_count, :one), "
    "pending_audit = list_append(if_not_exists(pending_audit, :empty), :audit), "
    "GSI1PK = if_not_exists(GSI1PK, :outbox), "
    "GSI1SK = if_not_exists(GSI1SK, :outbox_sk), "
    "sessions = if_not_exists(sessions, :no_sessions) "
    "ADD #dev :device"
)
_CONDITION = (
    "attribute_exists(PK) "
    "AND (attribute_not_exists(site_id) OR site_id = :site) "
    "AND ((#st IN (:issued, :sold) AND valid_until > :now) OR (#st = :active AND expires_at > :now)) "
    "AND (attribute_not_exists(quota_bytes) OR used_bytes < quota_bytes) "
    "AND (attribute_not_exists(#dev) OR contains(#dev, :mac) OR size(#dev) < max_devices)"
)


@dataclass(frozen=True)
class Activation:
    """Parameters of one redeem, computed before the write."""

    voucher_hash: str
    mac_hash: str
    site_id: str
    now: int
    sales_day_key: str
    sales_sort_key: str
    expiry_shard: str
    outbox_shard: str
    audit_entry: dict[str, Any]


class RedeemRefused(Exception):
    """The condition failed; `voucher` is the item as it was (None: no such code)."""

    def __init__(self, voucher: Voucher | None) -> None:
        super().__init__("redeem refused")
        self.voucher = voucher


def _value(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(value))


def activate(activation: Activation) -> Voucher:
    """Admit the device (first use or reconnect) and return the voucher as it is now."""
    pk, sk = Voucher.key(activation.voucher_hash)
    values = {
        ":active": "active",
        ":issued": "issued",
        ":sold": "sold",
        ":now": activation.now,
        ":site": activation.site_id,
        ":mac": activation.mac_hash,
        ":expiry_shard": activation.expiry_shard,
        ":sales_day": activation.sales_day_key,
        ":sales_sk": activation.sales_sort_key,
        ":one": 1,
        ":empty": [],
        ":no_sessions": {},
        ":audit": [activation.audit_entry],
        ":outbox": activation.outbox_shard,
        ":outbox_sk": f"{activation.now:012d}#{activation.voucher_hash}",
    }
    attribute_values = {name: _value(value) for name, value in values.items()}
    attribute_values[":device"] = {"SS": [activation.mac_hash]}
    try:
        response = dynamodb_client(Voucher).update_item(
            TableName=Voucher.Meta.table_name,
            Key={"PK": {"S": pk}, "SK": {"S": sk}},
            UpdateExpression=_UPDATE,
            ConditionExpression=_CONDITION,
            ExpressionAttributeNames={"#st": "status", "#dev": "devices"},
            ExpressionAttributeValues=attribute_values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old = error.response.get("Item")
        raise RedeemRefused(Voucher.from_raw_data(old) if old else None) from error
    return Voucher.from_raw_data(response["Attributes"])
