"""Large batches survive what DynamoDB does under load: unprocessed items, throttling, crashes."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from chalicelib.api import deps
from chalicelib.auth.principal import Actor, RequestMeta
from chalicelib.codes import CodeShape
from chalicelib.config import get_settings
from chalicelib.models import Voucher
from chalicelib.models.base import dynamodb_client, transaction_client
from tests.api.faults import Faults, injected
from tests.support import Api, World, run_batch_jobs

ACTOR = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="test", request_id="faults"))


@pytest.fixture
def faults() -> Iterator[Faults]:
    """BatchWriteItem behaving like a busy table: part of a request unprocessed, attempts throttled (botocore
    retries those), and, when a test asks, the worker's connection lost part way."""
    with injected(Faults(7, unprocessed=0.3, throttle_sends=0.1), [dynamodb_client(Voucher)], "BatchWriteItem") as on:
        yield on


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


def _batch_request(api: Api, world: World) -> tuple[str, str, dict[str, object]]:
    tenant = world.org()
    body = {"plan_id": world.plan(tenant), "quantity": 60}
    return tenant.org_id, tenant.owner.token, body


def test_a_small_batch_that_fails_within_the_request_is_finished_by_the_worker(api: Api, world: World) -> None:
    org_id, token, body = _batch_request(api, world)
    crash = Faults(3)
    crash.crash_after_requests = 1  # the second of its three BatchWriteItem requests
    with injected(crash, [dynamodb_client(Voucher)], "BatchWriteItem"):
        reply = api.post(f"/v1/orgs/{org_id}/batches", body, token=token)
    assert reply.status == 202, reply.body  # not a 500 leaving a batch part-written that nobody resumes
    assert run_batch_jobs() >= 1
    done = api.get(f"/v1/orgs/{org_id}/batches/{reply.json['batch_id']}", token=token).json
    assert (done["status"], done["issued"]) == ("done", 60)
    assert len(set(_vouchers_of(reply.json["batch_id"]))) == 60


@pytest.mark.parametrize("fault", ["lost_response", "server_error"])
def test_a_batch_whose_creation_failed_is_issued_by_the_worker_if_it_landed(api: Api, world: World, fault: str) -> None:
    org_id, token, body = _batch_request(api, world)
    failing = Faults(3, rate=1.0, kinds=(fault,), operations=frozenset({"TransactWriteItems"}))
    with injected(failing, [transaction_client()]):
        reply = api.post(f"/v1/orgs/{org_id}/batches", body, token=token)
    assert reply.status == 500 and failing.failed_calls >= 1
    run_batch_jobs()
    batches = api.get(f"/v1/orgs/{org_id}/batches", token=token).json["batches"]
    if fault == "lost_response":  # it landed, its answer did not: the worker issued it
        assert [(batch["status"], batch["issued"]) for batch in batches] == [("done", 60)]
    else:  # it never landed: the worker found nothing to do
        assert batches == []
