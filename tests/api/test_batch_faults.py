"""Large batches survive what DynamoDB does under load: unprocessed items, throttling, crashes."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from chalicelib.api import deps
from chalicelib.auth.principal import Actor, RequestMeta
from chalicelib.codes import CodeShape
from chalicelib.config import get_settings
from chalicelib.models import Voucher
from chalicelib.models.base import dynamodb_client
from tests.support import World

ACTOR = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="test", request_id="faults"))


class Faults:
    """Botocore event hooks that make BatchWriteItem behave like a busy table."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.held_back: dict[int, list[dict[str, Any]]] = {}
        self.unprocessed = 0
        self.throttled = 0
        self.crash_after_requests: int | None = None
        self.requests = 0

    def before_parameter_build(self, params: dict[str, Any], **_: Any) -> None:
        """Drop part of the request before it is sent, to report it unprocessed afterwards."""
        self.requests += 1
        if self.crash_after_requests is not None and self.requests > self.crash_after_requests:
            self.crash_after_requests = None
            raise ConnectionError("the worker lost its connection")
        ((table, requests),) = params["RequestItems"].items()
        if len(requests) > 1 and self.random.random() < 0.3:
            keep = self.random.randrange(1, len(requests))
            params["RequestItems"][table] = requests[:keep]
            self.held_back[threading.get_ident()] = requests[keep:]
            self.unprocessed += len(requests) - keep

    def after_call(self, parsed: dict[str, Any], **_: Any) -> None:
        held = self.held_back.pop(threading.get_ident(), None)
        if held:
            parsed.setdefault("UnprocessedItems", {})[get_settings().app_table] = held

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.random.random() < 0.1:
            self.throttled += 1
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                               "message": "Rate of requests exceeds the allowed throughput."})  # fmt: skip
            return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ProvisionedThroughputExceededException"},
                               _Raw(body.encode()))  # fmt: skip
        return None


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


@pytest.fixture
def faults() -> Iterator[Faults]:
    events = dynamodb_client(Voucher).meta.events
    injected = Faults()
    hooks: list[tuple[str, Callable[..., Any]]] = [
        ("before-parameter-build.dynamodb.BatchWriteItem", injected.before_parameter_build),
        ("after-call.dynamodb.BatchWriteItem", injected.after_call),
        ("before-send.dynamodb.BatchWriteItem", injected.before_send),
    ]
    for event, handler in hooks:
        events.register(event, handler)
    yield injected
    for event, handler in hooks:
        events.unregister(event, handler)


def _vouchers_of(batch_id: str) -> list[str]:
    """Test-only scan: every voucher item of a batch."""
    client = boto3.client("dynamodb")
    keys: list[str] = []
    for page in client.get_paginator("scan").paginate(
        TableName=get_settings().app_table,
        FilterExpression="source_id = :batch",
        ExpressionAttributeValues={":batch": {"S": batch_id}},
        ProjectionExpression="PK",
    ):
        keys += [item["PK"]["S"] for item in page["Items"]]
    return keys


def _new_batch(world: World, quantity: int) -> tuple[str, str]:
    tenant = world.org()
    registry = deps.services()
    plan = registry.plans.get(tenant.org_id, world.plan(tenant))
    registry.issuing._enqueue = lambda org_id, batch_id: None  # the test plays the worker
    batch = registry.issuing.create_batch(
        ACTOR, tenant.org_id, plan=plan, site_id=None, quantity=quantity, shape=CodeShape()
    )
    return tenant.org_id, batch.batch_id


def test_ten_thousand_vouchers_despite_unprocessed_items_and_throttling(world: World, faults: Faults) -> None:
    org_id, batch_id = _new_batch(world, 10_000)
    batch = deps.services().issuing.issue(org_id, batch_id)
    assert (batch.status, batch.issued) == ("done", 10_000)
    assert faults.unprocessed > 100 and faults.throttled > 10  # the faults really happened
    keys = _vouchers_of(batch_id)
    assert len(keys) == len(set(keys)) == 10_000
    codes = list(deps.services().issuing.codes(batch))
    assert len(set(codes)) == 10_000


def test_an_interrupted_batch_resumes_without_duplicates(world: World, faults: Faults) -> None:
    org_id, batch_id = _new_batch(world, 3_000)
    faults.crash_after_requests = 70  # part way through the second chunk of 1,000
    with pytest.raises(ConnectionError):
        deps.services().issuing.issue(org_id, batch_id)
    failed = deps.services().issuing.get_batch(org_id, batch_id)
    assert failed.status == "failed" and 0 < failed.issued < 3_000

    done = deps.services().issuing.issue(org_id, batch_id)  # SQS delivers the message again
    assert (done.status, done.issued) == ("done", 3_000)
    keys = _vouchers_of(batch_id)
    assert len(keys) == len(set(keys)) == 3_000
