"""Redeem latency through the app vs a bare UpdateItem, side by side on one emulator.

Budget (design): exactly one DynamoDB write request per successful redeem, and
a median latency <= 1.5 x a bare UpdateItem measured in the same run.
Run: .venv/bin/python bench/redeem.py [--dynamodb moto]

The app is called as Lambda calls it: `app(event, context)` with the event API
Gateway delivers for `POST /v1/redeem` (routing, middleware and logging, the API
key check from its cache, validation, HMAC, the conditional write, the JSON
answer). Each round runs, back to back and in rotating order, one first redeem
through the app, one bare `UpdateItem` (`SET n = n + :one` on a small item of
the same table) and the redeem's own `UpdateItem` sent without the app (a
reconnect, the same single write); so load on a shared machine cannot favour
one side. DynamoDB calls are counted during the first redeems.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import stack

ROUNDS = 400
WARM_UP = 300  # rounds before measuring: DynamoDB Local's JIT compiles the expression paths


def main() -> None:
    stop = stack.start(stack.options(__doc__.splitlines()[0]).dynamodb)
    from app import app
    from chalicelib.api.deps import configure
    from chalicelib.auth.principal import Actor, RequestMeta
    from chalicelib.codes import CodeShape
    from chalicelib.models import Voucher
    from chalicelib.models.base import dynamodb_client

    registry = configure()
    actor = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="bench", request_id="bench"))
    org = registry.accounts.create_org(actor, "Bench")
    site = registry.sites.create_site(actor, org.org_id, name="Kios", timezone="Asia/Jakarta", opens="08:00",
                                      closes="22:00")  # fmt: skip
    _, api_key = registry.sites.create_key(actor, org.org_id, site.site_id, kind="controller", name="bench")
    plan = registry.plans.create(
        actor, org.org_id, {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30}
    )
    batch = registry.issuing.create_batch(actor, org.org_id, plan=plan, site_id=None, quantity=ROUNDS + WARM_UP,
                                          shape=CodeShape())  # fmt: skip
    registry.issuing.issue(org.org_id, batch.batch_id)
    codes = list(registry.issuing.codes(batch))
    client = dynamodb_client(Voucher)
    table = Voucher.Meta.table_name
    client.put_item(TableName=table, Item={"PK": {"S": "BENCH"}, "SK": {"S": "META"}, "n": {"N": "0"}})
    mac = "02:00:00:00:00:01"

    counted = stack.Calls()

    def redeem_through_app(code: str) -> float:
        event = stack.api_gateway_event("POST", "/v1/redeem", json.dumps({"code": code, "mac": mac}),
                                         {"authorization": f"Bearer {api_key}", "content-type": "application/json"})
        with stack.counting(counted):
            started = time.perf_counter()
            response = app(event, stack.LambdaContext())
            elapsed = time.perf_counter() - started
        assert response["statusCode"] == 200, response
        return elapsed

    def bare_update() -> float:
        started = time.perf_counter()
        client.update_item(
            TableName=table, Key={"PK": {"S": "BENCH"}, "SK": {"S": "META"}},
            UpdateExpression="SET n = n + :one", ExpressionAttributeValues={":one": {"N": "1"}},
        )  # fmt: skip
        return time.perf_counter() - started

    write_alone = redeem_write(org.org_id, site.site_id, mac)

    warm, measured = codes[:WARM_UP], codes[WARM_UP:]
    for code in warm:  # caches (API key, site), connections, the emulator's JIT
        redeem_through_app(code)
        bare_update()
        write_alone(code)
    counted.requests.clear()
    # Each round: a first redeem of a fresh code through the app, a bare update, and the redeem's
    # write alone for a device reconnecting with a warm-up code; in rotating order.
    sides: list[tuple[str, Callable[[int], float]]] = [
        ("app", lambda i: redeem_through_app(measured[i])),
        ("bare", lambda i: bare_update()),
        ("write", lambda i: write_alone(warm[i % WARM_UP])),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in sides}
    for index in range(ROUNDS):
        for name, measure in sides[index % 3 :] + sides[: index % 3]:
            times[name].append(measure(index))

    app_ms, bare_ms, write_ms = (statistics.median(times[name]) * 1000 for name in ("app", "bare", "write"))
    writes_per_redeem = (counted.requests["UpdateItem"] + counted.requests["PutItem"]) / ROUNDS
    print(f"redeem through the app (Lambda handler): median {app_ms:.2f} ms over {len(times['app'])}")
    print(f"bare UpdateItem:                         median {bare_ms:.2f} ms over {len(times['bare'])}")
    print(f"the redeem's UpdateItem alone, no app:   median {write_ms:.2f} ms ({write_ms / bare_ms:.2f} x bare); "
          f"app overhead {app_ms - write_ms:.2f} ms")  # fmt: skip
    print(f"DynamoDB requests of the {ROUNDS} first redeems: {dict(counted.requests)}")
    print(f"write requests per redeem: {writes_per_redeem:.2f}")
    print(f"redeem_ratio={app_ms / bare_ms:.2f} write_ratio={write_ms / bare_ms:.2f} "
          f"requests_per_redeem={counted.total / ROUNDS:g}")  # fmt: skip
    stop()


def redeem_write(org_id: str, site_id: str, mac: str) -> Callable[[str], float]:
    """Time `models.redeem.activate` itself: a reconnect of the same device, without the app around it."""
    from chalicelib.auth.principal import Actor, Principal, RequestMeta
    from chalicelib.codes import code_hash
    from chalicelib.models.redeem import Activation, activate
    from chalicelib.services.outbox import outbox_entry
    from chalicelib.services.redeeming import mac_hash

    key = Principal(kind="api_key", id="bench", org_id=org_id, site_id=site_id, key_kind="controller")
    actor = Actor(principal=key, meta=RequestMeta(source_ip=None, user_agent="bench", request_id="bench"))
    device = mac_hash(org_id, mac)

    def write(code: str) -> float:
        activation = Activation(
            voucher_hash=code_hash(org_id, code), mac_hash=device, site_id=site_id, now=int(time.time()),
            sales_day_key="ORG#x#DAY#2026-01-01", sales_sort_key="x", expiry_shard="EXP#0", outbox_shard="OUTBOX#0",
            audit_entry=outbox_entry(actor, action="voucher.redeem", at=0, site_id=site_id, after={}),
            local=datetime.now(UTC),
        )  # fmt: skip
        started = time.perf_counter()
        activate(activation)
        return time.perf_counter() - started

    return write


if __name__ == "__main__":
    main()
