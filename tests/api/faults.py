"""DynamoDB faults injected through botocore's event hooks on the app's own clients; seeded, so reproducible.

Two layers, because botocore retries some failures by itself:

- *above botocore's retries* (`rate`): the `before-call` hook answers a call with a throttling or 5xx error
  instead of sending it, and the `after-call` hook raises a read timeout or a dropped connection after the
  request went through (a write has landed; the caller cannot know). botocore's retry handler never sees
  these: the app's own code, or the client of the API retrying with the same Idempotency-Key, must cope;
- *below them* (`throttle_sends`): `before-send` answers an HTTP attempt with a throttling error, which
  botocore's standard retry mode absorbs with its own back-off;

and partial batch results (`unprocessed`): a BatchWriteItem sends only part of its items and reports the rest
as UnprocessedItems, as a busy table does.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from botocore.session import Session

THROTTLES = ("ProvisionedThroughputExceededException", "ThrottlingException")
SERVER_ERRORS = ("InternalServerError", "ServiceUnavailable")
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


class Faults:
    """Decides, per call and per thread, which fault a DynamoDB call meets; counts calls and faults."""

    def __init__(
        self,
        seed: int = 7,
        *,
        rate: float = 0.0,
        unprocessed: float = 0.0,
        throttle_sends: float = 0.0,
        operations: frozenset[str] | None = None,
        kinds: tuple[str, ...] = ("throttle", "server_error", "lost_response"),
    ) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}  # per thread name: the same draws whatever the interleaving
        self.rate = rate
        self.unprocessed_rate = unprocessed
        self.throttle_sends = throttle_sends
        self.operations = operations  # None: every operation
        self.kinds = kinds  # what a call failing at `rate` meets
        self.enabled = True
        self.crash_after_requests: int | None = None
        self.calls: Counter[str] = Counter()  # API calls the app made, by operation
        self.injected: Counter[str] = Counter()  # faults, by kind
        self.failed_calls = 0  # calls whose caller saw an error (above botocore's retries)
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[str, Any]] = {}  # per thread: the fault the call in hand meets

    # Counts kept for the BatchWriteItem tests, by their old names.
    @property
    def unprocessed(self) -> int:
        return self.injected["unprocessed_items"]

    @property
    def throttled(self) -> int:
        return self.injected["throttled_send"]

    @property
    def fraction(self) -> float:
        total = sum(self.calls.values())
        return self.failed_calls / total if total else 0.0

    def _stream(self) -> random.Random:
        name = threading.current_thread().name
        with self._lock:
            if name not in self._streams:
                self._streams[name] = random.Random(f"{self.seed}:{name}")
            return self._streams[name]

    def _chance(self, probability: float) -> bool:
        return self._stream().random() < probability

    def _choice(self, options: tuple[str, ...]) -> str:
        return self._stream().choice(options)

    def _targeted(self, operation: str) -> bool:
        return self.enabled and (self.operations is None or operation in self.operations)

    def before_parameter_build(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        """Decide the call's fault; a partial batch drops part of its items before they are sent."""
        operation: str = model.name
        if not self._targeted(operation):
            return
        with self._lock:
            self.calls[operation] += 1
            if self.crash_after_requests is not None and self.calls[operation] > self.crash_after_requests:
                self.crash_after_requests = None
                self.failed_calls += 1
                self.injected["crash"] += 1
                raise ConnectionError("the worker lost its connection")
        me = threading.get_ident()
        self._pending.pop(me, None)
        if self._chance(self.rate):
            kind = self._choice(self.kinds)
            self._pending[me] = (kind, None)
            return
        if operation == "BatchWriteItem" and self._chance(self.unprocessed_rate):
            ((table, requests),) = params["RequestItems"].items()
            if len(requests) > 1:
                keep = self._stream().randrange(1, len(requests))
                params["RequestItems"][table] = requests[:keep]
                self._pending[me] = ("unprocessed", {table: requests[keep:]})
                self.injected["unprocessed_items"] += len(requests) - keep
                self.injected["partial_batch"] += 1

    def before_call(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """Answer instead of DynamoDB: an error the caller sees, past botocore's retry handler."""
        pending = self._pending.get(threading.get_ident())
        if pending is None or pending[0] not in ("throttle", "server_error"):
            return None
        del self._pending[threading.get_ident()]
        if pending[0] == "throttle":
            code, status, message = self._choice(THROTTLES), 400, "Rate of requests exceeds the allowed throughput."
        else:
            code, status, message = self._choice(SERVER_ERRORS), 500, "The server encountered an internal error."
        self._failed(pending[0])
        parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("http://dynamodb.faults", status, {"x-amzn-ErrorType": code}, _Raw(b"{}")), parsed

    def after_call(self, parsed: dict[str, Any], http_response: Any, model: Any, **_: Any) -> None:
        """The call went through: lose its response, or add the items held back to its UnprocessedItems."""
        pending = self._pending.pop(threading.get_ident(), None)
        if pending is None or http_response.status_code >= 300:
            return
        kind, held = pending
        if kind == "unprocessed":
            ((table, requests),) = held.items()
            parsed.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(requests)
        elif kind == "lost_response":
            self._failed("lost_write_response" if model.name in WRITES else "lost_read_response")
            if self._chance(0.5):
                raise ReadTimeoutError(endpoint_url="http://dynamodb.faults")
            raise ConnectionClosedError(endpoint_url="http://dynamodb.faults")

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        """An HTTP attempt throttled: botocore's own retries absorb it."""
        if not self.enabled or not self._chance(self.throttle_sends):
            return None
        with self._lock:
            self.injected["throttled_send"] += 1
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                           "message": "Rate of requests exceeds the allowed throughput."})  # fmt: skip
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ProvisionedThroughputExceededException"},
                           _Raw(body.encode()))  # fmt: skip

    def _failed(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1
            self.failed_calls += 1

    def summary(self) -> str:
        calls = sum(self.calls.values())
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.injected.items()))
        return f"DynamoDB calls {calls}, failed {self.failed_calls} ({self.fraction:.1%}); faults: {kinds}"


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def app_clients() -> list[Any]:
    """The botocore clients the app's models and transactions already use (PynamoDB: one per model)."""
    from pynamodb.models import Model

    from chalicelib.models.base import transaction_client

    def models(cls: type[Model]) -> Iterator[type[Model]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from models(sub)

    clients = [transaction_client()]
    for model in models(Model):
        connection = model.__dict__.get("_connection")  # set once the model was first used
        client = connection.connection._client if connection is not None else None
        if client is not None:
            clients.append(client)
    return list({id(client): client for client in clients}.values())


@contextmanager
def injected(faults: Faults, clients: list[Any] | None = None, operation: str = "*") -> Iterator[Faults]:
    """Hook `faults` into `clients`; by default into the app's, and every DynamoDB client made meanwhile (a
    model used for the first time makes its own: hooking all of them up front would make forty)."""
    hooks: list[tuple[str, Callable[..., Any]]] = [
        (f"before-parameter-build.dynamodb.{operation}", faults.before_parameter_build),
        (f"before-call.dynamodb.{operation}", faults.before_call),
        (f"after-call.dynamodb.{operation}", faults.after_call),
        (f"before-send.dynamodb.{operation}", faults.before_send),
    ]
    targets = app_clients() if clients is None else list(clients)

    def hook(client: Any) -> None:
        for event, handler in hooks:
            client.meta.events.register(event, handler)

    for client in targets:
        hook(client)
    create_client = Session.create_client

    def create_hooked(session: Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(session, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            hook(client)
            targets.append(client)
        return client

    if clients is None:
        Session.create_client = create_hooked
    try:
        yield faults
    finally:
        Session.create_client = create_client
        for client in targets:
            for event, handler in hooks:
                client.meta.events.unregister(event, handler)
