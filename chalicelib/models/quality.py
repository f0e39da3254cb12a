"""Service-quality roll-ups: one small item per site and local day, kept by atomic `ADD`s.

Keys (application table, under the organisation, so a month is one query over a key range):

- `ORG#<org>` / `QUALITY#<yyyy-mm-dd>#<site>`: the day's counters. `accepted`,
  `sessions`, `bytes`, `rej_<error code>` are numbers; `iv` is the number set of the
  day's 5-minute intervals (0..287, local time) in which the site's controller called.
  Adding an interval twice changes nothing, so marking it needs no guard.
- `ORG#<org>` / `QUALITY#<yyyy-mm-dd>#<site>#LEN#<hh>`: the lengths of the sessions that
  stopped in that local hour, for the day's median, kept apart from the counters so the
  counters item (written on every report) stays small. `len` is a number set of
  `seconds * LENGTH_SCALE + tag` (the tag, from the session's key, keeps two sessions of
  the same length apart and makes a repeated add a no-op). At most `LENGTHS_PER_HOUR`
  exact values per hour (about 20 KB); past that a stopped session only adds one to its
  histogram bucket `h<n>` (n = floor(4 * log2(seconds + 1)), about 19 % wide) and the
  median becomes an estimate within a bucket.

Every write here is one UpdateItem (or, for accepted logins, one update inside the outbox
drain's transaction), never a read first.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import NumberAttribute, NumberSetAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.accounts import org_pk
from chalicelib.models.base import AppMeta, dynamodb_client

INTERVALS_PER_DAY = 288  # 5-minute intervals
LENGTH_SCALE = 10**9  # element = seconds * LENGTH_SCALE + tag (tag < LENGTH_SCALE)
LENGTHS_PER_HOUR = 2000  # exact session lengths kept per site and local hour (48,000 a day)
REJECTED_PREFIX = "rej_"
HISTOGRAM_PREFIX = "h"
PREFIX = "QUALITY#"


class QualityRollup(Model):
    """The counters item of a site's day (declared here for the outbox drain's transaction)."""

    class Meta(AppMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    site_id = UnicodeAttribute(null=True)
    day = UnicodeAttribute(null=True)
    accepted = NumberAttribute(null=True)
    intervals = NumberSetAttribute(null=True, attr_name="iv")

    @classmethod
    def key(cls, org_id: str, day: date, site_id: str) -> tuple[str, str]:
        return org_pk(org_id), day_key(day, site_id)


def day_key(day: date, site_id: str) -> str:
    return f"{PREFIX}{day.isoformat()}#{site_id}"


def lengths_key(day: date, site_id: str, hour: int) -> str:
    return f"{day_key(day, site_id)}#LEN#{hour:02d}"


def range_keys(start: date, end: date) -> tuple[str, str]:
    """The SK range holding every item of the days start..end (both included)."""
    return f"{PREFIX}{start.isoformat()}", f"{PREFIX}{end.isoformat()}~"


def length_bucket(seconds: int) -> int:
    return int(4 * math.log2(seconds + 1))


def bucket_middle(bucket: int) -> float:
    """A representative length of a histogram bucket (its geometric middle)."""
    return float(2 ** ((bucket + 0.5) / 4) - 1)


def update_day(
    org_id: str,
    day: date,
    site_id: str,
    *,
    interval: int | None = None,
    counts: dict[str, int] | None = None,
) -> None:
    """ADD `counts` (attribute name -> amount) and mark `interval`, in one UpdateItem."""
    names: dict[str, str] = {"#site": "site_id", "#day": "day"}
    values: dict[str, Any] = {":site": {"S": site_id}, ":day": {"S": day.isoformat()}}
    adds: list[str] = []
    for position, (name, amount) in enumerate(sorted((counts or {}).items())):
        names[f"#c{position}"] = name
        values[f":c{position}"] = {"N": str(amount)}
        adds.append(f"#c{position} :c{position}")
    if interval is not None:
        names["#iv"] = "iv"
        values[":iv"] = {"NS": [str(interval)]}
        adds.append("#iv :iv")
    expression = "SET #site = if_not_exists(#site, :site), #day = if_not_exists(#day, :day)"
    if adds:
        expression += " ADD " + ", ".join(adds)
    pk, sk = QualityRollup.key(org_id, day, site_id)
    for attempt in range(3):
        try:
            dynamodb_client(QualityRollup).update_item(
                TableName=QualityRollup.Meta.table_name,
                Key={"PK": {"S": pk}, "SK": {"S": sk}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return
        except ClientError as error:
            # The outbox drain counts accepted logins on this item in transactions; botocore does not retry
            # an update that met one. An ADD is applied once or not at all, so trying again is safe.
            if attempt == 2 or error.response.get("Error", {}).get("Code") != "TransactionConflictException":
                raise


def add_length(org_id: str, day: date, site_id: str, hour: int, seconds: int, tag: int) -> None:
    """Keep a stopped session's length: exactly while the hour holds fewer than the cap, else in a bucket."""
    client = dynamodb_client(QualityRollup)
    key = {"PK": {"S": org_pk(org_id)}, "SK": {"S": lengths_key(day, site_id, hour)}}
    try:
        client.update_item(
            TableName=QualityRollup.Meta.table_name,
            Key=key,
            UpdateExpression="ADD #len :len",
            ConditionExpression="attribute_not_exists(#len) OR size(#len) < :cap",
            ExpressionAttributeNames={"#len": "len"},
            ExpressionAttributeValues={
                ":len": {"NS": [str(seconds * LENGTH_SCALE + tag % LENGTH_SCALE)]},
                ":cap": {"N": str(LENGTHS_PER_HOUR)},
            },
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        client.update_item(
            TableName=QualityRollup.Meta.table_name,
            Key=key,
            UpdateExpression="ADD #bucket :one",
            ExpressionAttributeNames={"#bucket": f"{HISTOGRAM_PREFIX}{length_bucket(seconds)}"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def query_days(org_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Every quality item of an organisation's days start..end: one query (and its 1 MB pages)."""
    from boto3.dynamodb.types import TypeDeserializer

    low, high = range_keys(start, end)
    client = dynamodb_client(QualityRollup)
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": QualityRollup.Meta.table_name,
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": org_pk(org_id)}, ":low": {"S": low}, ":high": {"S": high}},
    }
    while True:
        page = client.query(**request)
        items.extend({name: deserializer.deserialize(value) for name, value in item.items()}
                     for item in page.get("Items", []))  # fmt: skip
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
