"""The queue that carries large batches to the background worker (SQS)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from chalicelib.config import aws_region, get_settings


@lru_cache(maxsize=1)
def _sqs() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sqs", region_name=aws_region(), config=Config(max_pool_connections=get_settings().aws_max_pool_connections)
    )


@lru_cache(maxsize=1)
def _queue_url() -> str:
    return str(_sqs().get_queue_url(QueueName=get_settings().batch_queue)["QueueUrl"])


def send_batch_job(org_id: str, batch_id: str) -> None:
    _sqs().send_message(QueueUrl=_queue_url(), MessageBody=json.dumps({"org_id": org_id, "batch_id": batch_id}))


def parse_batch_job(body: str) -> tuple[str, str]:
    data = json.loads(body)
    return str(data["org_id"]), str(data["batch_id"])


def receive_batch_jobs(wait_seconds: int = 0) -> list[tuple[str, str, str]]:
    """For `make dev` and tests, which have no SQS trigger: (org, batch, receipt handle)."""
    response = _sqs().receive_message(QueueUrl=_queue_url(), MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
    jobs = []
    for message in response.get("Messages", []):
        org_id, batch_id = parse_batch_job(message["Body"])
        jobs.append((org_id, batch_id, message["ReceiptHandle"]))
    return jobs


def finish_batch_job(receipt_handle: str) -> None:
    _sqs().delete_message(QueueUrl=_queue_url(), ReceiptHandle=receipt_handle)


def ensure_queue() -> None:
    _sqs().create_queue(QueueName=get_settings().batch_queue, Attributes={"VisibilityTimeout": "900"})
