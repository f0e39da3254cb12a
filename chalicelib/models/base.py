"""Table definitions shared by the single-table models."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
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


class AppMeta:
    table_name = get_settings().app_table
    region = aws_region()
    billing_mode = "PAY_PER_REQUEST"


class AppTable(Model):
    """The application table's shape; used to create it and by maintenance code."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    gsi1 = GSI1()


@lru_cache(maxsize=1)
def _connection() -> Connection:
    return Connection(region=aws_region())


def transaction() -> TransactWrite:
    """All-or-nothing writes across items and tables (a change and its audit event)."""
    return TransactWrite(connection=_connection())


def cancelled_by_condition(error: TransactWriteError, index: int) -> bool:
    """Whether the item at `index` of a cancelled transaction failed its condition."""
    reasons = error.cancellation_reasons or []
    reason = reasons[index] if index < len(reasons) else None
    return reason is not None and reason.code == "ConditionalCheckFailed"
