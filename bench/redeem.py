"""Redeem latency through the Chalice app vs a bare UpdateItem, side by side on one emulator.

Budget (design): exactly one DynamoDB write request per successful redeem, and
a median latency <= 1.5 x a bare UpdateItem measured in the same run.
Run: .venv/bin/python bench/redeem.py [--dynamodb moto]
"""

from __future__ import annotations

import json
import statistics
import time

import stack

ROUNDS = 400


def main() -> None:
    stop = stack.start(stack.options(__doc__.splitlines()[0]).dynamodb)
    from chalice.test import Client

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
    batch = registry.issuing.create_batch(actor, org.org_id, plan=plan, site_id=None, quantity=ROUNDS + 20,
                                          shape=CodeShape())  # fmt: skip
    registry.issuing._enqueue(org.org_id, batch.batch_id) if batch.status != "done" else None
    registry.issuing.issue(org.org_id, batch.batch_id)
    codes = list(registry.issuing.codes(batch))
    client = dynamodb_client(Voucher)
    table = Voucher.Meta.table_name
    client.put_item(TableName=table, Item={"PK": {"S": "BENCH"}, "SK": {"S": "META"}, "n": {"N": "0"}})
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}

    def bare_update() -> float:
        started = time.perf_counter()
        client.update_item(
            TableName=table, Key={"PK": {"S": "BENCH"}, "SK": {"S": "META"}},
            UpdateExpression="SET n = n + :one", ExpressionAttributeValues={":one": {"N": "1"}},
        )  # fmt: skip
        return time.perf_counter() - started

    with Client(app) as http:

        def redeem(code: str) -> float:
            body = json.dumps({"code": code, "mac": "02:00:00:00:00:01"})
            started = time.perf_counter()
            response = http.http.post("/v1/redeem", headers=headers, body=body)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.body
            return elapsed

        for code in codes[:20]:  # warm caches (API key, site) and connections
            redeem(code)
            bare_update()
        app_times, bare_times = [], []
        with stack.counting() as calls:
            for code in codes[20:]:
                app_times.append(redeem(code))
        for _ in codes[20:]:
            bare_times.append(bare_update())
        # Interleaved too, so drift on a shared machine cannot favour either side.
        for code in codes[20:]:
            bare_times.append(bare_update())
            app_times.append(redeem_again(http, headers, code))
        # The redeem's own UpdateItem sent without the app: what the emulator charges for the expression.
        write_times = [same_write(registry, org.org_id, site.site_id, code) for code in codes[20:]]

    write_median = statistics.median(write_times) * 1000
    app_median = statistics.median(app_times) * 1000
    bare_median = statistics.median(bare_times) * 1000
    requests_per_redeem = calls.total / ROUNDS
    writes_per_redeem = (calls.requests["UpdateItem"] + calls.requests["PutItem"]) / ROUNDS
    print(f"redeems through the app:   {len(app_times)}, median {app_median:.2f} ms")
    print(f"bare UpdateItem:           {len(bare_times)}, median {bare_median:.2f} ms")
    print(f"the redeem's UpdateItem alone (no app): median {write_median:.2f} ms -> app overhead "
          f"{app_median - write_median:.2f} ms")  # fmt: skip
    print(f"DynamoDB requests:         {dict(calls.requests)} for {ROUNDS} first redeems")
    print(f"write requests per redeem: {writes_per_redeem:.2f}")
    print(f"redeem_ratio={app_median / bare_median:.2f} requests_per_redeem={requests_per_redeem:g}")
    stop()


def redeem_again(http: object, headers: dict[str, str], code: str) -> float:
    """A reconnect of the same device: the same single conditional write."""
    body = json.dumps({"code": code, "mac": "02:00:00:00:00:01"})
    started = time.perf_counter()
    response = http.http.post("/v1/redeem", headers=headers, body=body)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.body
    return elapsed


def same_write(registry: object, org_id: str, site_id: str, code: str) -> float:
    """Time `models.redeem.activate` itself for a reconnect of the same device."""
    from chalicelib.auth.principal import Actor, Principal, RequestMeta
    from chalicelib.codes import code_hash
    from chalicelib.models.redeem import Activation, activate
    from chalicelib.services.redeeming import mac_hash

    key = Principal(kind="api_key", id="bench", org_id=org_id, site_id=site_id, key_kind="controller")
    actor = Actor(principal=key, meta=RequestMeta(source_ip=None, user_agent="bench", request_id="bench"))
    voucher_hash = code_hash(org_id, code)
    from chalicelib.services.outbox import outbox_entry

    activation = Activation(
        voucher_hash=voucher_hash, mac_hash=mac_hash(org_id, "02:00:00:00:00:01"), site_id=site_id,
        now=int(time.time()), sales_day_key="ORG#x#DAY#2026-01-01", sales_sort_key="x", expiry_shard="EXP#0",
        outbox_shard="OUTBOX#0", audit_entry=outbox_entry(actor, action="voucher.redeem", at=0, site_id=site_id,
                                                          after={}),
    )  # fmt: skip
    started = time.perf_counter()
    activate(activation)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
