"""Issuing 10,000 vouchers vs a raw BatchWriteItem of the same items, on the same emulator.

Budget (design): <= 2 WCU per voucher; <= 2 x the raw BatchWriteItem time.
Run: .venv/bin/python bench/issue.py [--dynamodb moto]
"""

from __future__ import annotations

import time

import stack

QUANTITY = 10_000


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
    queued: list[str] = []
    registry.issuing._enqueue = lambda org_id, batch_id: queued.append(batch_id)

    with stack.counting() as calls:
        started = time.perf_counter()
        batch = registry.issuing.create_batch(
            actor, org.org_id, plan=plan, site_id=None, quantity=QUANTITY, shape=CodeShape()
        )
        registry.issuing.issue(org.org_id, batch.batch_id)
        issue_seconds = time.perf_counter() - started

    # The same items, already built, written with nothing but BatchWriteItem.
    items = list(registry.issuing.voucher_items(batch, 0, QUANTITY))
    client = dynamodb_client(Voucher)
    started = time.perf_counter()
    for start in range(0, len(items), 25):
        chunk = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        client.batch_write_item(RequestItems={Voucher.Meta.table_name: chunk})
    raw_seconds = time.perf_counter() - started

    wcu_per_voucher = calls.write_units / QUANTITY
    print(f"vouchers issued:            {QUANTITY}")
    print(f"issue (create + write):     {issue_seconds:.2f} s")
    print(f"raw BatchWriteItem:         {raw_seconds:.2f} s  (ratio {issue_seconds / raw_seconds:.2f}, budget 2.0)")
    print(f"DynamoDB requests:          {dict(calls.requests)}")
    print(f"write units per voucher:    {wcu_per_voucher:.3f}  (budget 2.0)")
    print(
        f"issue_seconds={issue_seconds:.2f} raw_batchwrite_seconds={raw_seconds:.2f} "
        f"wcu_per_voucher={wcu_per_voucher:.3f}"
    )
    stop()


if __name__ == "__main__":
    main()
