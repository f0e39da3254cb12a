"""Storage for the expiry job: due entries of the sparse expiry index, and writes that say why they failed.

Vouchers and batches share the expiry index (GSI2), so a page of due entries
holds both kinds; each is returned as its own model. Writes go through the
DynamoDB API with `ReturnValuesOnConditionCheckFailure`, so a refused update
hands back the item as it was and the caller decides what to do without a
second request. Every function here makes exactly one request, through the
same client as `Voucher` (benchmarks and tests count requests on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.models.base import dynamodb_client
from chalicelib.models.vouchers import Batch, LedgerEntry, Voucher

EXPIRY_INDEX = "GSI2"


@dataclass(frozen=True)
class DuePage:
    items: list[Voucher | Batch]  # oldest first
    next_key: dict[str, Any] | None  # None: the shard has no more due entries


@dataclass(frozen=True)
class Outcome:
    applied: bool
    old: dict[str, Any] | None = None  # when refused: the item as it was (None: it does not exist)


def due_page(shard: str, now: int, start_key: dict[str, Any] | None = None, limit: int | None = None) -> DuePage:
    """One page of a shard's entries due at or before `now`, oldest first."""
    kwargs: dict[str, Any] = {
        "TableName": Voucher.Meta.table_name,
        "IndexName": EXPIRY_INDEX,
        "KeyConditionExpression": "GSI2PK = :shard AND GSI2SK <= :now",
        "ExpressionAttributeValues": {":shard": {"S": shard}, ":now": {"N": str(now)}},
    }
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    if limit:
        kwargs["Limit"] = limit
    response = dynamodb_client(Voucher).query(**kwargs)
    items: list[Voucher | Batch] = []
    for item in response.get("Items", []):
        if item["PK"]["S"].startswith("V#"):
            items.append(Voucher.from_raw_data(item))
        elif item["SK"]["S"].startswith("BATCH#"):
            items.append(Batch.from_raw_data(item))
        # Anything else in the index is not the job's to handle; it stays where it is.
    return DuePage(items=items, next_key=response.get("LastEvaluatedKey"))


def update_if(item: Model, actions: list[Action], condition: Condition) -> Outcome:
    """Apply `actions` to the item with `item`'s key if `condition` holds; otherwise return the item as it was."""
    kwargs = item.get_update_kwargs_from_instance(
        actions=actions, condition=condition, return_values_on_condition_failure="ALL_OLD"
    )
    try:
        dynamodb_client(Voucher).update_item(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return Outcome(applied=False, old=error.response.get("Item"))
    return Outcome(applied=True)


def put_if_absent(item: LedgerEntry) -> bool:
    """Create `item` unless it exists (a repeated run finds it there); one request."""
    kwargs = item.get_save_kwargs_from_instance(condition=LedgerEntry.pk.does_not_exist())
    try:
        dynamodb_client(Voucher).put_item(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True
