"""Bulk writes that lose nothing: BatchWriteItem with retries of unprocessed items and throttling."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.models import Model

from chalicelib.models.base import dynamodb_client

THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
BATCH_SIZE = 25  # DynamoDB's limit per BatchWriteItem


class BatchWriteFailed(Exception):
    """Items still unwritten after every retry; the caller may resume later."""


@dataclass
class WriteStats:
    requests: int = 0
    retries: int = 0
    items: int = 0


def write_items(
    model: type[Model],
    items: Sequence[dict[str, Any]],
    *,
    max_attempts: int = 12,
    sleep: Callable[[float], None] = time.sleep,
) -> WriteStats:
    """Put serialized items, retrying what DynamoDB leaves unprocessed or throttles, with backoff."""
    client = dynamodb_client(model)
    table = model.Meta.table_name
    stats = WriteStats()
    for start in range(0, len(items), BATCH_SIZE):
        pending: list[dict[str, Any]] = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_SIZE]]
        attempt = 0
        while pending:
            if attempt:
                stats.retries += 1
                if attempt >= max_attempts:
                    raise BatchWriteFailed(f"{len(pending)} items unwritten after {attempt} attempts")
                sleep(min(2.0, 0.02 * 2**attempt) * random.uniform(0.5, 1.0))  # noqa: S311 (jitter)  # nosec B311
            attempt += 1
            stats.requests += 1
            try:
                response = client.batch_write_item(RequestItems={table: pending})
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in THROTTLED:
                    continue
                raise
            pending = response.get("UnprocessedItems", {}).get(table, [])
        stats.items += min(BATCH_SIZE, len(items) - start)
    return stats
