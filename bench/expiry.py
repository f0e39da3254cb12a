"""The expiry job's cost against table size: 100 due vouchers in a table of 1,000, then of 50,000.

Budget (design): requests grow with the number of due vouchers, not with table size.
Run: .venv/bin/python bench/expiry.py [--dynamodb moto]
Last line: requests_small=<n> requests_large=<n> (DynamoDB requests of one run at each size).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import stack

SMALL, LARGE = 1_000, 50_000
DUE = 100  # per size: active, expiry passed, in the expiry index
RUNNING_SHARE = 20  # one voucher in this many is active with its expiry still ahead (in the index, not due)
HOUR, DAY = 3600, 86400


class Requests:
    """DynamoDB requests by operation, and the time spent in each operation (single-threaded use)."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.seconds: dict[str, float] = {}
        self._started = 0.0

    def before(self, model: Any, **_: Any) -> None:
        self.count[model.name] += 1
        self._started = time.perf_counter()

    def after(self, model: Any, **_: Any) -> None:
        self.seconds[model.name] = self.seconds.get(model.name, 0.0) + time.perf_counter() - self._started

    @property
    def total(self) -> int:
        return sum(self.count.values())


@contextmanager
def counting_requests() -> Iterator[Requests]:
    """Count on the client the voucher model (and so the expiry job) sends its requests through."""
    from chalicelib.models import Voucher
    from chalicelib.models.base import dynamodb_client


    requests = Requests()
    events = dynamodb_client(Voucher).meta.events
    events.register("before-call.dynamodb", requests.before, unique_id="bench-expiry-before")
    events.register("after-call.dynamodb", requests.after, unique_id="bench-expiry-after")
    try:
        yield requests
    finally:
        events.unregister("before-call.dynamodb", unique_id="bench-expiry-before")
        events.unregister("after-call.dynamodb", unique_id="bench-expiry-after")


def fill(start: int, count: int, due: int, now: int) -> float:
    """Write vouchers start..start+count: `due` past their expiry, some running, the rest unused."""
    from chalicelib.models import Voucher
    from chalicelib.models.batching import write_items
    from chalicelib.models.vouchers import expiry_shard


    items = []
    for number in range(start, start + count):
        voucher_hash = hashlib.sha256(f"bench-expiry-{number}".encode()).hexdigest()
        voucher = Voucher(
            *Voucher.key(voucher_hash), org_id="bench", source_id="bench-batch", plan_id="p", plan_name="1 Jam",
            price=5000, duration_minutes=60, time_mode="wallclock", window_seconds=HOUR, max_devices=1,
            status="issued", issued_at=now - DAY, valid_until=now + 29 * DAY,
        )  # fmt: skip
        index = number - start
        if index < due or index % RUNNING_SHARE == 0:
            # As a first redeem leaves it: expiring an hour after activation, in the index at that time.
            activated = now - 2 * HOUR if index < due else now - 10 * 60
            voucher.status, voucher.activated_at, voucher.expires_at = "active", activated, activated + HOUR
            voucher.sold_at, voucher.activated_site_id = activated, "bench-site"
            voucher.gsi2pk, voucher.gsi2sk = expiry_shard(voucher_hash), activated + HOUR
        items.append(voucher.serialize())
    started = time.perf_counter()
    write_items(Voucher, items)
    return time.perf_counter() - started


def measure(label: str, table_size: int) -> int:
    from chalicelib.services.expiring import ExpiryService

    with counting_requests() as requests:
        started = time.perf_counter()
        report = ExpiryService().run(request_id=f"bench-{label}")
        seconds = time.perf_counter() - started
    print(f"{label}: table of {table_size:,} vouchers, {DUE} due")
    print(f"  expired {report.vouchers_expired} in {seconds:.2f} s; complete={report.complete}")
    print(f"  DynamoDB requests: {requests.total} {dict(sorted(requests.count.items()))}"
          f" (the job's own count: {report.requests})")  # fmt: skip
    for operation, count in sorted(requests.count.items()):
        spent = requests.seconds[operation]
        print(f"  {operation}: {spent:.2f} s on the emulator, {1000 * spent / count:.1f} ms each")
    if report.vouchers_expired != DUE or report.requests != requests.total:
        raise SystemExit(f"{label}: expected {DUE} expiries and matching counts")
    return requests.total


def main() -> None:
    stop = stack.start(stack.options(__doc__.splitlines()[0]).dynamodb)
    try:
        now = int(time.time())

        seconds = fill(0, SMALL, DUE, now)
        print(f"wrote {SMALL:,} vouchers in {seconds:.1f} s")
        small = measure("small", SMALL)

        # The small run's due vouchers are expired now; grow the table and make 100 more due.
        seconds = fill(SMALL, LARGE - SMALL, DUE, now)
        print(f"wrote {LARGE - SMALL:,} more vouchers in {seconds:.1f} s")
        large = measure("large", LARGE)

        verdict = "within budget" if large == small else "OVER BUDGET: grows with table size"
        print(f"requests at {LARGE:,} / at {SMALL:,}: {large / small:.2f} ({verdict})")
        print(f"requests_small={small} requests_large={large}")
    finally:
        stop()


if __name__ == "__main__":
    main()
