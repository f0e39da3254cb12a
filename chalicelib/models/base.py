"""Table definitions shared by the single-table models."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import aws_region, get_settings


class GSI1(GlobalSecondaryIndex["AppTable"]):
    """Overloaded secondary index: listings that the primary key cannot serve."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class GSI2(GlobalSecondaryIndex["AppTable"]):
    """Sparse expiry index: vouchers and batches with an expiry to carry out, by shard and time."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2sk = NumberAttribute(range_key=True, attr_name="GSI2SK")


class GSI3(GlobalSecondaryIndex["AppTable"]):
    """Revenue lines by organisation and local day."""

    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(range_key=True, attr_name="GSI3SK")


class AppMeta:
    table_name = get_settings().app_table
    region = aws_region()
    billing_mode = "PAY_PER_REQUEST"
    max_pool_connections = get_settings().aws_max_pool_connections


class AppTable(Model):
    """The application table's shape; used to create it and by maintenance code."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    gsi1 = GSI1()
    gsi2 = GSI2()
    gsi3 = GSI3()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    return Connection(region=aws_region(), max_pool_connections=get_settings().aws_max_pool_connections)


def dynamodb_client(model: type[Model]) -> Any:
    """The botocore client PynamoDB uses for `model` (tests hook fault injection here)."""
    return model._get_connection().connection.client


def transaction() -> TransactWrite:
    """All-or-nothing writes across items and tables (a change and its audit event)."""
    return TransactWrite(connection=_connection())


def transaction_client() -> Any:
    """The botocore client transactions go through (tests hook fault injection here)."""
    return _connection().client


def save_if(item: Model, condition: Condition) -> bool:
    """Save `item` when `condition` holds; False, and nothing written, when it does not."""
    try:
        item.save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def update_if(item: Model, actions: Sequence[Action], condition: Condition) -> bool:
    """Update `item` when `condition` holds; False, and nothing written, when it does not."""
    try:
        item.update(actions=list(actions), condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def failed_condition(error: TransactWriteError) -> bool:
    """Whether a cancelled transaction failed on an item's condition (and not, say, on throttling)."""
    return any(
        reason is not None and reason.code == "ConditionalCheckFailed" for reason in error.cancellation_reasons or []
    )


def cancelled_by_condition(error: TransactWriteError, index: int) -> bool:
    """Whether the item at `index` of a cancelled transaction failed its condition.

    PynamoDB sends a transaction's puts before its updates, whatever the order of
    the calls: index by puts first, or use `failed_condition` when updates are in it.
    """
    reasons = error.cancellation_reasons or []
    reason = reasons[index] if index < len(reasons) else None
    return reason is not None and reason.code == "ConditionalCheckFailed"
