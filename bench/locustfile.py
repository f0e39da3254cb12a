"""A venue's day at speed, for locust: the till sells, guests redeem, the controller accounts for them.

Run by bench/load.py in a process of its own (locust monkey-patches the standard library with
gevent: never import this module anywhere else). The world it drives (keys, plan, printed codes)
is in the JSON file named by KUOTA_LOAD_WORLD; what it measured goes to the file named by
KUOTA_LOAD_RESULTS when the run stops.

Every user repeats one guest's cycle, one request a step: a POS sale (`POST /v1/pos/sales`, its
own `Idempotency-Key`), a redeem (`POST /v1/redeem`) of a fresh code (a printed card while any
are left, else the voucher just sold) with a MAC never used before, then the session's accounting
`start`, `interim` and `stop` (`POST /v1/accounting`). Every request should be answered 2xx by
design: anything else (a refusal, a 5xx, a reset or a timeout) is counted as an error.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from collections import defaultdict
from typing import Any

from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.env import Environment

with open(os.environ["KUOTA_LOAD_WORLD"]) as _file:
    WORLD: dict[str, Any] = json.load(_file)
RESULTS = os.environ["KUOTA_LOAD_RESULTS"]
RATE = float(os.environ.get("KUOTA_LOAD_USER_RATE", "0"))  # steps a second per user; 0: as fast as answered
KINDS = ("sale", "redeem", "accounting")

_printed: list[str] = list(WORLD["codes"])
_macs = itertools.count(1)
_latencies: dict[str, list[float]] = defaultdict(list)
_errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_redeemed = {"printed": 0, "sold": 0}
_window: list[float] = []  # the first request's start and the last answer's end (monotonic seconds)


def _mac() -> str:
    number = next(_macs)
    return "02:4c:" + ":".join(f"{(number >> shift) & 0xFF:02x}" for shift in (24, 16, 8, 0))


class Guests(FastHttpUser):
    """One till and the guests it sells to, one request at a time."""

    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)
    network_timeout = 30.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        self._step = 0
        self._sold: str | None = None
        self._session: dict[str, Any] = {}

    @task
    def step(self) -> None:
        steps = (self._sell, self._redeem, self._start, self._interim, self._stop)
        steps[self._step % len(steps)]()
        self._step += 1

    def _sell(self) -> None:
        body = {"plan_id": WORLD["plan_id"], "quantity": 1}
        answer = self._post("sale", "/v1/pos/sales", body, WORLD["pos_key"], {"Idempotency-Key": uuid.uuid4().hex})
        self._sold = answer["vouchers"][0]["code"] if answer else None

    def _redeem(self) -> None:
        source, code = ("printed", _printed.pop()) if _printed else ("sold", self._sold)
        self._session = {}
        if code is None:  # the sale before failed (counted): nothing to redeem this cycle
            return
        mac = _mac()
        if self._post("redeem", "/v1/redeem", {"code": code, "mac": mac}, WORLD["controller_key"]) is not None:
            _redeemed[source] += 1
            self._session = {"code": code, "mac": mac, "session_id": uuid.uuid4().hex[:16]}

    def _start(self) -> None:
        self._account("start", 0, 0)

    def _interim(self) -> None:
        self._account("interim", 60, 2_000_000)

    def _stop(self) -> None:
        self._account("stop", 120, 5_000_000)

    def _account(self, event: str, seconds: int, octets: int) -> None:
        if not self._session:  # its redeem failed (counted)
            return
        body = {**self._session, "event": event, "session_time": seconds, "input_octets": octets // 5,
                "output_octets": octets - octets // 5}  # fmt: skip
        self._post("accounting", "/v1/accounting", body, WORLD["controller_key"])

    def _post(self, kind: str, path: str, body: dict[str, Any], key: str,
              headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        """The answer's JSON when 2xx; otherwise None, with the error counted by status and error code only
        (never the body: it could echo a code)."""
        sent = {"Authorization": f"Bearer {key}", **(headers or {})}
        started = time.monotonic()
        with self.client.post(path, json=body, headers=sent, name=kind, catch_response=True) as response:
            ended = time.monotonic()
            if not _window:
                _window.append(started)
            _window[1:] = [ended]
            _latencies[kind].append((ended - started) * 1000)
            status = response.status_code or 0
            if 200 <= status < 300:
                response.success()
                return response.json()
            try:
                reason = f"{status} {response.json()['error']['code']}"
            except Exception:  # no JSON error body: a reset, a timeout, a proxy's page
                reason = f"{status} {type(response.error).__name__ if response.error else 'no error body'}"
            _errors[kind][reason] += 1
            response.failure(reason)
            return None


def _write_results(environment: Environment, **_: Any) -> None:
    results = {
        "latencies_ms": {kind: _latencies.get(kind, []) for kind in KINDS},
        "errors": {kind: dict(_errors.get(kind, {})) for kind in KINDS},
        "seconds": _window[-1] - _window[0] if len(_window) > 1 else 0.0,
        "redeemed": _redeemed,
    }
    with open(RESULTS, "w") as file:
        json.dump(results, file)


events.test_stop.add_listener(_write_results)  # type: ignore[no-untyped-call]  # locust leaves it unannotated
