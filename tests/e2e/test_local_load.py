"""The local API holds a busy venue's load: 200 connections at once all answered, 2,000 mixed requests none lost.

Bounded in count and time, loopback only, against the running local stack (`make dev`).
"""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
CONCURRENT_CONNECTIONS = 200
MIXED_REQUESTS = 2_000
MIXED_THREADS = 50
TIMEOUT_SECONDS = 120


@dataclass
class Venue:
    org_id: str
    owner_token: str
    controller_key: str
    pos_key: str
    plan_id: str
    codes: list[str]


def _venue(stack: Stack, vouchers: int) -> Venue:
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = stack.call("POST", "/v1/orgs", {"name": f"Kafe {uuid.uuid4().hex[:6]}"}, token=admin)["org_id"]
    owner_email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    owner_body = {"email": owner_email, "password": "load-test-owner", "role": "owner"}
    stack.call("POST", f"/v1/orgs/{org_id}/users", owner_body, token=admin)
    owner = stack.login(owner_email, "load-test-owner")
    base = f"/v1/orgs/{org_id}"
    site_id = stack.call("POST", f"{base}/sites", {"name": "Kasir", "timezone": "Asia/Jakarta"}, token=owner)["site_id"]
    keys = {
        kind: stack.call("POST", f"{base}/sites/{site_id}/keys", {"kind": kind, "name": kind}, token=owner)["api_key"]
        for kind in ("controller", "pos")
    }
    plan = {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30, "max_devices": 2}
    plan_id = stack.call("POST", f"{base}/plans", plan, token=owner)["plan_id"]
    batch = stack.call("POST", f"{base}/batches", {"plan_id": plan_id, "quantity": vouchers}, token=owner)
    codes = stack.call("GET", f"{base}/batches/{batch['batch_id']}/codes", token=owner)["codes"]
    return Venue(org_id, owner, keys["controller"], keys["pos"], plan_id, list(codes))


def _send(stack: Stack, method: str, path: str, body: Any = None, *, token: str,
          headers: dict[str, str] | None = None) -> int:  # fmt: skip
    """One request on a new connection; its status (a reset or timeout raises, and so fails the count)."""
    connection = http.client.HTTPConnection("127.0.0.1", int(stack.api.rsplit(":", 1)[1]), timeout=TIMEOUT_SECONDS)
    try:
        sent = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=sent)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_two_hundred_connections_at_once_are_all_answered(stack: Stack) -> None:
    venue = _venue(stack, CONCURRENT_CONNECTIONS)
    start = threading.Barrier(CONCURRENT_CONNECTIONS)

    def redeem(index: int) -> int | str:
        start.wait(timeout=TIMEOUT_SECONDS)  # every thread connects at the same moment
        try:
            mac = f"02:00:00:00:{index // 256:02x}:{index % 256:02x}"
            return _send(stack, "POST", "/v1/redeem", {"code": venue.codes[index], "mac": mac},
                         token=venue.controller_key)  # fmt: skip
        except OSError as error:
            return type(error).__name__

    with ThreadPoolExecutor(max_workers=CONCURRENT_CONNECTIONS) as pool:
        answers = Counter(pool.map(redeem, range(CONCURRENT_CONNECTIONS)))
    assert answers == {200: CONCURRENT_CONNECTIONS}, answers  # every guest let in, no reset, no 5xx


def test_two_thousand_mixed_requests_from_fifty_threads_are_all_answered(stack: Stack) -> None:
    venue = _venue(stack, MIXED_THREADS)
    base = f"/v1/orgs/{venue.org_id}"
    for index, code in enumerate(venue.codes):
        assert _send(stack, "POST", "/v1/redeem", {"code": code, "mac": _mac(index)}, token=venue.controller_key) == 200

    def work(thread: int) -> Counter[tuple[str, int | str]]:
        code, mac = venue.codes[thread], _mac(thread)
        seen: Counter[tuple[str, int | str]] = Counter()
        for step in range(MIXED_REQUESTS // MIXED_THREADS):
            kind = ("redeem", "accounting", "lookup", "sale")[step % 4]
            status: int | str
            try:
                if kind == "redeem":  # the guest's phone reconnects
                    status = _send(stack, "POST", "/v1/redeem", {"code": code, "mac": mac}, token=venue.controller_key)
                elif kind == "accounting":
                    usage = {"code": code, "mac": mac, "session_id": f"s-{thread}", "event": "interim",
                             "input_octets": 1000 * step, "output_octets": 5000 * step, "session_time": 10 * step}
                    status = _send(stack, "POST", "/v1/accounting", usage, token=venue.controller_key)  # fmt: skip
                elif kind == "lookup":
                    status = _send(stack, "GET", f"{base}/vouchers/{code}", token=venue.owner_token)
                else:
                    till = {"Idempotency-Key": f"till-{thread}-{step}"}
                    sale = {"plan_id": venue.plan_id, "quantity": 1}
                    status = _send(stack, "POST", "/v1/pos/sales", sale, token=venue.pos_key, headers=till)
            except OSError as error:
                status = type(error).__name__
            seen[(kind, status)] += 1
        return seen

    with ThreadPoolExecutor(max_workers=MIXED_THREADS) as pool:
        answers: Counter[tuple[str, int | str]] = sum(pool.map(work, range(MIXED_THREADS)), Counter())
    per_kind = MIXED_REQUESTS // 4
    errors = [line for line in stack.output.lines if '"level":"ERROR"' in line or "Traceback" in line]
    # Every sale at once at one site: the audit chains' lanes absorb them (no writer runs out of attempts).
    assert answers == {("redeem", 200): per_kind, ("accounting", 200): per_kind, ("lookup", 200): per_kind,
                       ("sale", 201): per_kind}, (answers, errors[-3:])  # fmt: skip
    assert not errors, errors[-3:]


def _mac(index: int) -> str:
    return f"02:00:00:01:{index // 256:02x}:{index % 256:02x}"
