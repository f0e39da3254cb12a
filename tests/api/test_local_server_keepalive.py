"""The local API server (`infra.api_server`) serves every client in turn when more keep their connections
busy than it has workers (found by the load benchmark: 80 locust users on 64 workers, 16 never answered)."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest

WORKERS = 2
PATH = "/v1/openapi.json"  # no credentials, no table


@pytest.fixture
def small_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The local server with two workers on a free port; its port."""
    from infra.api_server import build_server

    monkeypatch.setenv("KUOTA_AWS_MAX_POOL_CONNECTIONS", "8")  # build_server sets it; put it back afterwards
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    local = build_server(port, "test", threads=WORKERS)
    thread = threading.Thread(target=local.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        local.server.shutdown()
        local.server.server_close()
        thread.join(timeout=10)


def test_a_client_beyond_the_workers_is_answered_while_the_others_keep_theirs_busy(small_server: int) -> None:
    stop = threading.Event()
    answered = threading.Barrier(WORKERS + 1)
    closes: list[str] = []

    def busy() -> None:
        """A controller that sends its next request as soon as one is answered, on one kept-alive connection
        (http.client opens a new one after an answer that closed it)."""
        connection = http.client.HTTPConnection("127.0.0.1", small_server, timeout=30)
        first = True
        try:
            while not stop.is_set():
                connection.request("GET", PATH)
                response = connection.getresponse()
                response.read()
                assert response.status == 200
                if response.getheader("Connection", "").lower() == "close":
                    closes.append("close")
                if first:
                    answered.wait(timeout=30)
                    first = False
        finally:
            connection.close()

    workers = [threading.Thread(target=busy, daemon=True) for _ in range(WORKERS)]
    for each in workers:
        each.start()
    answered.wait(timeout=30)  # both workers now hold a kept-alive, busy connection
    late = http.client.HTTPConnection("127.0.0.1", small_server, timeout=10)
    try:
        started = time.monotonic()
        late.request("GET", PATH)  # before the fix: never answered while the others stay busy
        response = late.getresponse()
        response.read()
        waited = time.monotonic() - started
    finally:
        late.close()
        stop.set()
        for each in workers:
            each.join(timeout=30)
    assert response.status == 200
    assert waited < 5, waited  # less than a worker's idle timeout: it did not wait for a busy one to fall idle
    assert closes  # a busy client was told its connection closes (and opened a new one)
