"""Issuing 10,000 vouchers vs a raw BatchWriteItem of the same items, on the same emulator.

Budget (design): <= 2 WCU per voucher; <= 2 x the raw BatchWriteItem time.
Run: .venv/bin/python bench/issue.py [--dynamodb moto]

A first, unmeasured batch warms the emulator up (DynamoDB Local's JIT compiles
its write path during the first few thousand items: the first 10,000 take about
twice as long as the next). Then ROUNDS rounds, each an issue of 10,000 through
`IssuingService` followed by the very same items written under keys of their
own with nothing but BatchWriteItem; the ratio is of the totals.
"""

from __future__ import annotations

import time
from typing import Any

import stack

QUANTITY = 10_000
ROUNDS = 2


def main() -> None:
    stop = stack.start(stack.options(__doc__.splitlines()[0]).dynamodb)
    from chalicelib.api.deps import configure
    from chalicelib.auth.principal import Actor, RequestMeta
    from chalicelib.codes import CodeShape
    from chalicelib.models import Voucher
    from chalicelib.models.base import dynamodb_client

    registry = configure()
    actor = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="bench", request_id="bench"))
    org = registry.accounts.create_org(actor, "Bench")
    plan = registry.plans.create(
        actor, org.org_id, {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30}
    )
    registry.issuing._enqueue = lambda org_id, batch_id: None  # the benchmark is the worker
    client = dynamodb_client(Voucher)

    def issue() -> Any:
        batch = registry.issuing.create_batch(
            actor, org.org_id, plan=plan, site_id=None, quantity=QUANTITY, shape=CodeShape()
        )
        return registry.issuing.issue(org.org_id, batch.batch_id)

    def raw_write(items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), 25):
            chunk = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            client.batch_write_item(RequestItems={Voucher.Meta.table_name: chunk})

    issue()  # warm-up, not measured
    issue_seconds = raw_seconds = 0.0
    with stack.counting() as calls:
        for _ in range(ROUNDS):
            started = time.perf_counter()
            batch = issue()
            issue_seconds += time.perf_counter() - started
            requests, write_units = dict(calls.requests), calls.write_units
            # Inserted under keys one character longer: an overwrite costs DynamoDB Local less than an insert.
            items = [{**item, "PK": {"S": item["PK"]["S"] + "R"}}
                     for item in registry.issuing.voucher_items(batch, 0, QUANTITY)]  # fmt: skip
            started = time.perf_counter()
            raw_write(items)
            raw_seconds += time.perf_counter() - started
            calls.requests.clear()
            calls.requests.update(requests)
            calls.write_units = write_units

    wcu_per_voucher = calls.write_units / (QUANTITY * ROUNDS)
    ratio = issue_seconds / raw_seconds
    print(f"vouchers issued:            {QUANTITY} x {ROUNDS} rounds (after one warm-up batch)")
    print(f"issue (create + write):     {issue_seconds:.2f} s")
    print(f"raw BatchWriteItem:         {raw_seconds:.2f} s  (ratio {ratio:.2f}, budget 2.0)")
    print(f"DynamoDB requests of issuing: {dict(calls.requests)}")
    print(f"write units per voucher:    {wcu_per_voucher:.3f}  (budget 2.0)")
    print(f"issue_seconds={issue_seconds:.2f} raw_batchwrite_seconds={raw_seconds:.2f} issue_ratio={ratio:.2f} "
          f"wcu_per_voucher={wcu_per_voucher:.3f}")  # fmt: skip
    stop()


if __name__ == "__main__":
    main()
