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

A fourth side redeems, through the app, codes of a plan that sells the way venues
do: two windows a day (the current hour a partly open one, so the condition reads
its set of open minutes) and 100 MB a day, each code with 10 MB of today already
counted. Its write requests are counted on their own: still one `UpdateItem`. A fifth
side sends that plan's `UpdateItem` alone (a reconnect), to tell DynamoDB's share of
any difference from the app's.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    local_now = datetime.now(ZoneInfo(site.timezone))
    venue_plan = registry.plans.create(actor, org.org_id, {
        "name": "Malam", "price": 5000, "duration_minutes": 60, "validity_days": 30, "windows": open_now(local_now),
        "period_quota_mb": 100, "quota_period": "day",
    })  # fmt: skip
    venue_batch = registry.issuing.create_batch(actor, org.org_id, plan=venue_plan, site_id=None,
                                                quantity=ROUNDS + WARM_UP, shape=CodeShape())  # fmt: skip
    registry.issuing.issue(org.org_id, venue_batch.batch_id)
    venue_codes = list(registry.issuing.codes(venue_batch))
    client = dynamodb_client(Voucher)
    table = Voucher.Meta.table_name
    used_today(client, table, org.org_id, venue_codes, local_now)
    # Of an item as issued (with today's 10 MB); a reconnect's outbox entry grows it until the outbox is drained.
    sizes = [item_bytes(client, table, org.org_id, each[0]) for each in (codes, venue_codes)]
    units = [write_units(client, table, org.org_id, each[0]) for each in (codes, venue_codes)]
    client.put_item(TableName=table, Item={"PK": {"S": "BENCH"}, "SK": {"S": "META"}, "n": {"N": "0"}})
    mac = "02:00:00:00:00:01"

    counted, counted_venue = stack.Calls(), stack.Calls()

    def redeem_through_app(code: str, calls: stack.Calls = counted) -> float:
        event = stack.api_gateway_event("POST", "/v1/redeem", json.dumps({"code": code, "mac": mac}),
                                         {"authorization": f"Bearer {api_key}", "content-type": "application/json"})
        with stack.counting(calls):
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
    venue_write_alone = redeem_write(org.org_id, site.site_id, mac, ZoneInfo(site.timezone))

    warm, measured = codes[:WARM_UP], codes[WARM_UP:]
    venue_warm, venue_measured = venue_codes[:WARM_UP], venue_codes[WARM_UP:]
    for code, venue_code in zip(warm, venue_warm, strict=True):  # caches, connections, the emulator's JIT
        redeem_through_app(code)
        redeem_through_app(venue_code, counted_venue)
        bare_update()
        write_alone(code)
        venue_write_alone(venue_code)
    counted.requests.clear()
    counted_venue.requests.clear()
    # Each round: a first redeem of a fresh code through the app, a bare update, and the redeem's
    # write alone for a device reconnecting with a warm-up code; in rotating order.
    sides: list[tuple[str, Callable[[int], float]]] = [
        ("app", lambda i: redeem_through_app(measured[i])),
        ("bare", lambda i: bare_update()),
        ("write", lambda i: write_alone(warm[i % WARM_UP])),
        ("venue", lambda i: redeem_through_app(venue_measured[i], counted_venue)),
        ("venue_write", lambda i: venue_write_alone(venue_warm[i % WARM_UP])),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in sides}
    for index in range(ROUNDS):
        turn = index % len(sides)
        for name, measure in sides[turn:] + sides[:turn]:
            times[name].append(measure(index))

    app_ms, bare_ms, write_ms, venue_ms, venue_write_ms = (
        statistics.median(times[name]) * 1000 for name in ("app", "bare", "write", "venue", "venue_write")
    )
    writes_per_redeem = (counted.requests["UpdateItem"] + counted.requests["PutItem"]) / ROUNDS
    print(f"redeem through the app (Lambda handler): median {app_ms:.2f} ms over {len(times['app'])}")
    print(f"bare UpdateItem:                         median {bare_ms:.2f} ms over {len(times['bare'])}")
    print(f"the redeem's UpdateItem alone, no app:   median {write_ms:.2f} ms ({write_ms / bare_ms:.2f} x bare); "
          f"app overhead {app_ms - write_ms:.2f} ms")  # fmt: skip
    print(f"DynamoDB requests of the {ROUNDS} first redeems: {dict(counted.requests)}")
    print(f"write requests per redeem: {writes_per_redeem:.2f}")
    print(f"windows + 100 MB a day, through the app: median {venue_ms:.2f} ms over {len(times['venue'])} "
          f"({venue_ms / app_ms:.2f} x the plain plan's redeem)")  # fmt: skip
    print(f"its UpdateItem alone, no app (a reconnect):  median {venue_write_ms:.2f} ms "
          f"({venue_write_ms / write_ms:.2f} x the plain plan's write alone)")  # fmt: skip
    print(f"DynamoDB requests of its {ROUNDS} first redeems: {dict(counted_venue.requests)}")
    print(f"an issued voucher's item in DynamoDB JSON: {sizes[0]} bytes plain, {sizes[1]} with the windows and "
          f"a period; write units of an update to it: {units[0]:g} plain, {units[1]:g} with the windows and a period")
    print(f"redeem_ratio={app_ms / bare_ms:.2f} write_ratio={write_ms / bare_ms:.2f} "
          f"requests_per_redeem={counted.total / ROUNDS:g} venue_ratio={venue_ms / bare_ms:.2f} "
          f"venue_vs_plain={venue_ms / app_ms:.2f} venue_write_vs_plain={venue_write_ms / write_ms:.2f} "
          f"venue_requests_per_redeem={counted_venue.total / ROUNDS:g}")
    stop()


def open_now(local: datetime) -> list[dict[str, Any]]:
    """Every day, two windows with a minute between them just before `local`: open for hours from now on,
    and the current hour only partly open (the condition's `contains` on its minutes, not its `= 1`).
    At minute 0 the gap falls in the hour before, and the current hour is wholly open."""
    gap = local.replace(second=0, microsecond=0) - timedelta(minutes=1)
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return [
        {"days": days, "start": f"{(local.hour - 4) % 24:02d}:00", "end": f"{gap:%H:%M}"},
        {"days": days, "start": f"{local:%H:%M}", "end": f"{(local.hour + 6) % 24:02d}:00"},
    ]


def item_bytes(client: Any, table: str, org_id: str, code: str) -> int:
    from chalicelib.codes import code_hash
    from chalicelib.models import Voucher

    pk, sk = Voucher.key(code_hash(org_id, code))
    item = client.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}})["Item"]
    return len(json.dumps(item, separators=(",", ":")))  # as DynamoDB's JSON carries it, and botocore parses it


def write_units(client: Any, table: str, org_id: str, code: str) -> float:
    """What DynamoDB (Local) says one small update of the item consumed: one unit per KB of the item."""
    from chalicelib.codes import code_hash
    from chalicelib.models import Voucher

    pk, sk = Voucher.key(code_hash(org_id, code))
    reply = client.update_item(
        TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}}, UpdateExpression="SET bench_probe = :one",
        ExpressionAttributeValues={":one": {"N": "1"}}, ReturnConsumedCapacity="TOTAL",
    )  # fmt: skip
    return float(reply["ConsumedCapacity"]["CapacityUnits"])


def used_today(client: Any, table: str, org_id: str, codes: list[str], local: datetime) -> None:
    """10 MB of today counted on each code, as a guest back for the evening would have (setup; not measured)."""
    from chalicelib.codes import code_hash
    from chalicelib.models import Voucher
    from chalicelib.plan_rules import period_key

    for code in codes:
        pk, sk = Voucher.key(code_hash(org_id, code))
        client.update_item(
            TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}}, UpdateExpression="SET pu.#day = :used",
            ExpressionAttributeNames={"#day": period_key("day", local)},
            ExpressionAttributeValues={":used": {"N": str(10 * 1024 * 1024)}},
        )  # fmt: skip


def redeem_write(org_id: str, site_id: str, mac: str, tz: ZoneInfo | None = None) -> Callable[[str], float]:
    """Time `models.redeem.activate` itself: a reconnect of the same device, without the app around it.

    `tz`: the site's, for codes with windows (the condition reads the hour and minute at the site)."""
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
            local=datetime.now(tz or UTC),
        )  # fmt: skip
        started = time.perf_counter()
        activate(activation)
        return time.perf_counter() - started

    return write


if __name__ == "__main__":
    main()
