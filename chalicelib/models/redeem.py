"""The redeem write: one conditional UpdateItem that admits a device or says why not.

Written against the DynamoDB API directly because it needs what PynamoDB's
`update` does not expose: arithmetic on the item's own attributes (expiry =
first use + window) and the old item back when the condition fails, so the
caller learns *why* without a second request.

The write asks for the item as it was (ALL_OLD) on success too, and derives the
new state here, clause by clause (`_after`): the old item is smaller than the
new one (a first redeem adds the revenue line, the index keys and the outbox
entry), and botocore's parsing of a returned item grows with it, about 0.1 ms
more for ALL_NEW on a first redeem and 0.07 ms per outbox entry not yet drained.
The expression and its constant values are built once, at import.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import NumberAttribute

from chalicelib.models.base import dynamodb_client
from chalicelib.models.vouchers import Voucher, packed
from chalicelib.plan_rules import hour_key, period_key

# `_after` derives the same new state in Python: change both together (a test compares them).
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
    "pending_audit = list_append(if_not_exists(pending_audit, :empty), :audit), "
    "GSI1PK = if_not_exists(GSI1PK, :outbox), "
    "GSI1SK = if_not_exists(GSI1SK, :outbox_sk) "
    "ADD #dev :device"
)
# No `attribute_exists(PK)`: an item that does not exist has no status, so the status clause fails for it.
_CONDITION = (
    "(attribute_not_exists(site_id) OR site_id = :site) "
    "AND ((#st IN (:issued, :sold) AND valid_until > :now) OR (#st = :active AND expires_at > :now)) "
    "AND (attribute_not_exists(quota_bytes) OR used_bytes < quota_bytes) "
    "AND (attribute_not_exists(#dev) OR contains(#dev, :mac) OR size(#dev) < max_devices) "
    # Inside a window (plan_rules.window_hours), and data left in this day's, week's or month's period.
    "AND (attribute_not_exists(wb) OR wb.#hour = :one OR contains(wb.#hour, :minute)) "
    "AND (attribute_not_exists(pu.#day) OR pu.#day < period_quota_bytes) "
    "AND (attribute_not_exists(pu.#week) OR pu.#week < period_quota_bytes) "
    "AND (attribute_not_exists(pu.#month) OR pu.#month < period_quota_bytes)"
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
    local: datetime  # the time at the site: which window hour and which periods the condition reads


class RedeemRefused(Exception):
    """The condition failed; `voucher` is the item as it was (None: no such code)."""

    def __init__(self, voucher: Voucher | None) -> None:
        super().__init__("redeem refused")
        self.voucher = voucher


_NAMES = {"#st": "status", "#dev": "devices"}
_CONSTANT_VALUES: dict[str, dict[str, Any]] = {
    ":one": {"N": "1"},
    ":active": {"S": "active"},
    ":issued": {"S": "issued"},
    ":sold": {"S": "sold"},
    ":empty": {"L": []},
}
# Not deserialised from a returned item: a redeem's answer and its refusal reason
# never need them, and the outbox list is what makes an item large until drained.
NOT_LOADED = frozenset({"pending_audit", "sessions", "history", "wb"})


def _values(activation: Activation) -> dict[str, dict[str, Any]]:
    values = dict(_CONSTANT_VALUES)
    values[":now"] = {"N": str(activation.now)}
    values[":site"] = {"S": activation.site_id}
    values[":mac"] = {"S": activation.mac_hash}
    values[":device"] = {"SS": [activation.mac_hash]}
    values[":expiry_shard"] = {"S": activation.expiry_shard}
    values[":sales_day"] = {"S": activation.sales_day_key}
    values[":sales_sk"] = {"S": activation.sales_sort_key}
    values[":outbox"] = {"S": activation.outbox_shard}
    values[":outbox_sk"] = {"S": _outbox_sort_key(activation)}
    values[":audit"] = {"L": [{"S": packed(activation.audit_entry)}]}
    values[":minute"] = {"N": str(activation.local.minute)}
    return values


def _names(activation: Activation) -> dict[str, str]:
    local = activation.local
    return {**_NAMES, "#hour": hour_key(local)[0], "#day": period_key("day", local),
            "#week": period_key("week", local), "#month": period_key("month", local)}  # fmt: skip


def _outbox_sort_key(activation: Activation) -> str:
    return f"{activation.now:012d}#{activation.voucher_hash}"


# What `Voucher.from_raw_data` does, without the generic machinery around it (instance set-up, defaults
# set twice, a descriptor call per attribute, a JSON decoder per number): a third of the app's own time on
# a redeem. tests/unit/test_redeem_load.py holds the two to the same result.
_LOADED = [(name, attr) for name, attr in Voucher.get_attributes().items() if attr.attr_name not in NOT_LOADED]
_DEFAULTS = [(name, attr.default) for name, attr in _LOADED if attr.default is not None]


def _number(text: str) -> Any:
    """NumberAttribute's `json.loads`, skipped for the plain integers a voucher holds."""
    return int(text) if text.isdigit() else json.loads(text)


_READERS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    attr.attr_name: (name, attr.attr_type, _number if type(attr) is NumberAttribute else attr.deserialize)
    for name, attr in _LOADED
}


def _values_of(item: dict[str, Any]) -> dict[str, Any]:
    """The voucher's attribute values (by Python name) from a stored item."""
    values: dict[str, Any] = {name: default() if callable(default) else default for name, default in _DEFAULTS}
    for stored_name, stored in item.items():
        reader = _READERS.get(stored_name)
        if reader is None:
            continue
        name, attr_type, read = reader
        value = stored.get(attr_type)
        if value is not None:  # DynamoDB's NULL: not set
            values[name] = read(value)
    return values


def _voucher(values: dict[str, Any]) -> Voucher:
    voucher = Voucher.__new__(Voucher)
    voucher.attribute_values = values
    return voucher


def _load(item: dict[str, Any]) -> Voucher:
    return _voucher(_values_of(item))


def activate(activation: Activation) -> Voucher:
    """Admit the device (first use or reconnect) and return the voucher as this write left it.

    The returned voucher carries every attribute the write sets except those in
    `NOT_LOADED`, which are None (not loaded) whatever the stored item holds.
    """
    pk, sk = Voucher.key(activation.voucher_hash)
    try:
        response = dynamodb_client(Voucher).update_item(
            TableName=Voucher.Meta.table_name,
            Key={"PK": {"S": pk}, "SK": {"S": sk}},
            UpdateExpression=_UPDATE,
            ConditionExpression=_CONDITION,
            ExpressionAttributeNames=_names(activation),
            ExpressionAttributeValues=_values(activation),
            ReturnValues="ALL_OLD",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old = error.response.get("Item")
        raise RedeemRefused(_load(old) if old else None) from error
    return _after(_values_of(response["Attributes"]), activation)


def _after(values: dict[str, Any], activation: Activation) -> Voucher:
    """Apply `_UPDATE` to the old item's values, clause for clause (`if_not_exists` keeps what exists).

    Works on the values by Python name (only those set are present) rather than through the
    model's descriptors, which cost more than the rest of this function.
    """
    now, site = activation.now, activation.site_id
    values["status"] = "active"
    activated_at = values.setdefault("activated_at", now)
    values.setdefault("activated_site_id", site)
    values["expires_at"] = values["gsi2sk"] = activated_at + values["window_seconds"]
    values.setdefault("gsi2pk", activation.expiry_shard)
    values.setdefault("sold_at", now)
    values.setdefault("gsi3pk", activation.sales_day_key)
    values.setdefault("gsi3sk", activation.sales_sort_key)
    values.setdefault("rev_site", site)
    values.setdefault("gsi1pk", activation.outbox_shard)
    values.setdefault("gsi1sk", _outbox_sort_key(activation))
    values["devices"] = {*values.get("devices", ()), activation.mac_hash}
    return _voucher(values)
