"""What every benchmark needs: the emulators, the tables, and a count of DynamoDB calls.

DynamoDB is AWS's DynamoDB Local by default (in memory, a Java child process);
`--dynamodb moto` runs the same benchmark on moto server instead, for the
figure beside it. SQS, Secrets Manager and S3 are moto either way.
Import this before anything from chalicelib: it sets the configuration those
modules read at import time.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_KEYS = tempfile.mkdtemp(prefix="kuota-bench-")
os.environ.update(
    {
        "KUOTA_STAGE": "bench",
        "KUOTA_JWT_KEYS_FILE": f"{_KEYS}/jwt-keys.json",
        "KUOTA_CODE_KEYS_FILE": f"{_KEYS}/code-keys.json",
        "KUOTA_LEDGER_KEY_FILE": f"{_KEYS}/ledger-key.pem",
        "KUOTA_PASSWORD_TIME_COST": "1",
        "KUOTA_PASSWORD_MEMORY_KIB": "8192",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(_name, None)
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def options(description: str, more: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The command line every benchmark shares: which DynamoDB to measure on (`more` adds a benchmark's own)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dynamodb", choices=("local", "moto"), default="local",
                        help="AWS's DynamoDB Local (default) or moto server")  # fmt: skip
    parser.add_argument("--dynamodb-endpoint", metavar="URL",
                        help="a DynamoDB already running (a test session's) instead of either")  # fmt: skip
    if more is not None:
        more(parser)
    return parser.parse_args()


def start(dynamodb: str = "local", endpoint: str | None = None) -> Callable[[], None]:
    """Start the emulators and create the tables; return the function that stops them.

    `endpoint`: a DynamoDB already running, used (its `kuota-bench-*` tables) instead of starting one."""
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    stops: list[Callable[[], None]] = [moto.stop]
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
    if endpoint:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    elif dynamodb == "local":
        from infra import dynamodb_local

        server = dynamodb_local.start()
        stops.append(server.stop)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
    from chalicelib.models.tables import ensure_tables

    ensure_tables()
    named = {"local": "DynamoDB Local", "moto": "moto server"}[dynamodb]
    print(f"DynamoDB: {f'the one running at {endpoint}' if endpoint else named}")

    def stop() -> None:
        for each in stops:
            each()

    return stop


class LambdaContext:
    """What Chalice reads from Lambda's context object."""

    function_name = "kuota-bench-APIHandler"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def api_gateway_event(method: str, path: str, body: str | None, headers: dict[str, str], *,
                      resource: str | None = None, path_parameters: dict[str, str] | None = None,
                      query: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """The REST API proxy event API Gateway hands the API function (`resource`: the route's template)."""
    headers = {"user-agent": "bench", **headers}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/api{path}",
            "requestId": uuid.uuid4().hex,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size rule, closely enough for counting write units."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(inner.strip("-").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in inner.items())
    return len(str(inner))


class Calls:
    """DynamoDB requests made while counting, and the write units they consumed."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.write_units = 0.0

    def record(self, operation: str, params: dict[str, Any]) -> None:
        self.requests[operation] += 1
        if operation == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    self.write_units += math.ceil(item_size(request["PutRequest"]["Item"]) / 1024)
        elif operation in ("PutItem",):
            self.write_units += math.ceil(item_size(params["Item"]) / 1024)
        elif operation in ("UpdateItem", "DeleteItem"):
            self.write_units += 1  # small items: our updates touch items well under 1 KB
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                item = entry.get("Put", {}).get("Item")
                self.write_units += 2 * (math.ceil(item_size(item) / 1024) if item else 1)

    @property
    def total(self) -> int:
        return sum(self.requests.values())


@contextmanager
def counting(calls: Calls | None = None) -> Iterator[Calls]:
    """Count every DynamoDB call any client in this process makes (into `calls`, to add up several spans)."""
    from botocore.client import BaseClient

    calls = calls if calls is not None else Calls()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls.record(operation, params)
        return original(self, operation, params)

    BaseClient._make_api_call = counted
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original
