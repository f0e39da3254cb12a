"""QRIS fulfilment through the app: DynamoDB requests per fulfilment and webhook-to-code latency.

Budget (design): one `TransactWriteItems` per paid order, whichever of webhook, poll or
reconciler comes first; the webhook answered in <= 1 s (providers time out at 30 s).
Run: .venv/bin/python bench/payments.py [--dynamodb moto]

Each round a guest opens an order through the app (`POST /v1/guest/orders`, which asks the
fake Midtrans on loopback for the QR), the fake pays it and posts its signed notification,
which the app handles as Lambda would (`app(event, context)`), and the guest's next poll
(`GET /v1/guest/orders/{id}`) shows the code. DynamoDB calls are counted per webhook;
webhook-to-code is the webhook's handling plus that poll.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

import stack

ROUNDS = 60


def main() -> None:
    from tests.fakes.midtrans import FakeMidtrans

    midtrans = FakeMidtrans()
    os.environ["KUOTA_MIDTRANS_API_URL"] = midtrans.start()  # before anything reads the settings
    os.environ["KUOTA_GUEST_MAX_ORDERS_PER_ADDRESS"] = str(ROUNDS)  # every round's guest calls from 127.0.0.1
    stop = stack.start(stack.options(__doc__.splitlines()[0]).dynamodb)
    from app import app
    from chalicelib.api.deps import configure
    from chalicelib.auth.principal import Actor, RequestMeta

    registry = configure()
    actor = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="bench", request_id="bench"))
    org = registry.accounts.create_org(actor, "Bench")
    site = registry.sites.create_site(actor, org.org_id, name="Kios", timezone="Asia/Jakarta", opens="08:00",
                                      closes="22:00")  # fmt: skip
    plan = registry.plans.create(actor, org.org_id, {"name": "1 Jam", "price": 5000, "duration_minutes": 60,
                                                    "validity_days": 30, "sold_online": True,
                                                    "online_sites": [site.site_id]})  # fmt: skip
    key = {"server_key": str(midtrans.credentials.server_key)}
    registry.payments.connect(actor, org.org_id, "midtrans", environment="sandbox", secrets_in=key, site_ids=None)

    def call(method: str, path: str, body: str | None, *, resource: str, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        event = stack.api_gateway_event(method, path, body, {"content-type": "application/json", **(headers or {})},
                                        resource=resource, path_parameters=params)  # fmt: skip
        return dict(app(event, stack.LambdaContext()))

    webhook_ms: list[float] = []
    to_code_ms: list[float] = []
    create_ms: list[float] = []
    per_fulfilment = stack.Calls()
    fulfilled = 0

    def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        path = urlsplit(url).path
        _, _, _, provider, _, account_id = path.split("/")
        with stack.counting(per_fulfilment):
            started = time.perf_counter()
            answer = call("POST", path, body.decode(), resource="/v1/payments/{provider}/webhook/{account_id}",
                          params={"provider": provider, "account_id": account_id},
                          headers={name.lower(): value for name, value in headers.items()})  # fmt: skip
            webhook_ms.append((time.perf_counter() - started) * 1000)
        return int(answer["statusCode"])

    midtrans.deliver = deliver
    order_body = json.dumps({"site_id": site.site_id, "plan_id": plan.plan_id})
    for _ in range(ROUNDS):
        started = time.perf_counter()
        created = call("POST", "/v1/guest/orders", order_body, resource="/v1/guest/orders")
        create_ms.append((time.perf_counter() - started) * 1000)
        assert created["statusCode"] == 201, created
        order_id = json.loads(created["body"])["order_id"]
        (delivery,) = midtrans.simulate_payment(order_id)
        assert delivery.status == 200, delivery
        started = time.perf_counter()
        seen = call("GET", f"/v1/guest/orders/{order_id}", None, resource="/v1/guest/orders/{order_id}",
                    params={"order_id": order_id})  # fmt: skip
        polled = (time.perf_counter() - started) * 1000
        to_code_ms.append(webhook_ms[-1] + polled)
        fulfilled += json.loads(seen["body"]).get("code") is not None
    midtrans.stop()
    stop()

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    writes = per_fulfilment.requests["TransactWriteItems"] / ROUNDS
    print(f"orders fulfilled (code on the guest's next poll): {fulfilled} of {ROUNDS}")
    print(f"DynamoDB requests of the {ROUNDS} webhooks: {dict(per_fulfilment.requests)}")
    print(f"order create (app + fake provider): p50 {p(create_ms, 50):.1f} ms, p95 {p(create_ms, 95):.1f} ms")
    print(f"webhook answered: p50 {p(webhook_ms, 50):.1f} ms, p95 {p(webhook_ms, 95):.1f} ms, "
          f"max {max(webhook_ms):.1f} ms")  # fmt: skip
    print(f"webhook to code on the guest page: p50 {p(to_code_ms, 50):.1f} ms, p95 {p(to_code_ms, 95):.1f} ms")
    print(f"transact_writes_per_fulfilment={writes:g} requests_per_fulfilment={per_fulfilment.total / ROUNDS:g} "
          f"webhook_p95_ms={p(webhook_ms, 95):.1f} webhook_to_code_p50_ms={p(to_code_ms, 50):.1f} "
          f"webhook_to_code_p95_ms={p(to_code_ms, 95):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
