"""The whole life of vouchers through the HTTP API: plan to expiry, with sales, a void and the report."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from chalicelib.api import deps
from chalicelib.services.expiring import ExpiryService
from chalicelib.services.outbox import AuditOutbox
from tests.support import Api, FakeClock, World, audit_events

MAC_1, MAC_2 = "AA:BB:CC:00:00:01", "AA:BB:CC:00:00:02"


def test_plan_batch_sale_redeem_accounting_expiry_revoke_void_and_report(api: Api, world: World) -> None:
    clock = FakeClock()
    deps.configure(clock=clock, monotonic=clock.monotonic)
    # The day everything is sold on, at the site: the expiry an hour later may fall on the next one.
    day = clock.now.astimezone(ZoneInfo("Asia/Jakarta")).date().isoformat()
    tenant = world.org("Warung Kopi Senja")
    owner = tenant.owner.token
    org = f"/v1/orgs/{tenant.org_id}"
    site_id = world.site(tenant, "Senja Utama", "Asia/Jakarta")
    _, controller = world.key(tenant, site_id, kind="controller")
    _, pos = world.key(tenant, site_id, kind="pos")

    # The owner sets up a plan and prints a batch.
    plan = api.post(f"{org}/plans", {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30},
                    token=owner).json  # fmt: skip
    batch = api.post(f"{org}/batches", {"plan_id": plan["plan_id"], "quantity": 5}, token=owner).json
    printed = api.get(f"{org}/batches/{batch['batch_id']}/codes", token=owner).json["codes"]
    assert len(printed) == 5

    # The till sells two vouchers, then one more that the guest returns (void).
    sale = api.post("/v1/pos/sales", {"plan_id": plan["plan_id"], "quantity": 2, "cashier_ref": "ani"}, token=pos,
                    headers={"Idempotency-Key": "till-1-0001"})  # fmt: skip
    assert sale.status == 201, sale.body
    assert sale.json["total"] == 10_000 and len(sale.json["vouchers"]) == 2
    sold_code = sale.json["vouchers"][0]["code"]
    returned = api.post("/v1/pos/sales", {"plan_id": plan["plan_id"], "quantity": 1, "cashier_ref": "budi"},
                        token=pos, headers={"Idempotency-Key": "till-1-0002"}).json  # fmt: skip
    void = api.post(f"{org}/sales/{returned['sale_id']}/void", {"reason": "guest changed mind"}, token=owner)
    assert void.status == 200, void.body

    # Guests connect: a till-sold voucher and a printed one (sold at its first redeem).
    assert api.post("/v1/redeem", {"code": sold_code, "mac": MAC_1}, token=controller).status == 200
    assert api.post("/v1/redeem", {"code": printed[0], "mac": MAC_2}, token=controller).status == 200
    session = {"code": sold_code, "mac": MAC_1, "session_id": "radius-1", "event": "start"}
    assert api.post("/v1/accounting", session, token=controller).json["continue"] is True
    stop = {**session, "event": "stop", "input_octets": 5_000_000, "output_octets": 1_000_000, "session_time": 900}
    assert api.post("/v1/accounting", stop, token=controller).json["continue"] is True

    # A voided voucher no longer works; the owner revokes a lost printed one.
    voided_code = returned["vouchers"][0]["code"]
    assert api.post("/v1/redeem", {"code": voided_code, "mac": MAC_1}, token=controller).error_code == (
        "voucher_revoked"
    )
    api.post(f"{org}/vouchers/{printed[1]}/revoke", {"reason": "card lost"}, token=owner)
    assert api.post("/v1/redeem", {"code": printed[1], "mac": MAC_1}, token=controller).status == 410

    # An hour later the vouchers in use expire; the scheduled job records it.
    clock.advance(61 * 60)
    assert api.post("/v1/redeem", {"code": sold_code, "mac": MAC_1}, token=controller).error_code == "voucher_expired"
    report = ExpiryService(clock).run(request_id="lifecycle")
    assert report.vouchers_expired == 2
    voucher = api.get(f"{org}/vouchers/{sold_code}", token=owner).json
    assert voucher["status"] == "expired"
    assert [event["event"] for event in voucher["timeline"]] == ["issued", "sold", "activated", "expired"]

    # The report: computed here independently from what happened above.
    expected = {"count": 2 + 1 + 1 - 1, "amount": 5000 * (2 + 1 + 1 - 1)}
    query = f"{org}/reports/sales?from={day}&to={day}&group_by=day"
    json_report = api.get(query, token=owner).json
    assert {k: json_report["total"][k] for k in ("count", "amount")} == expected
    rows = list(csv.DictReader(io.StringIO(api.get(query + "&format=csv", token=owner).body.decode())))
    total = next(row for row in rows if row["day"] == "total")
    assert (int(total["count"]), int(total["amount"])) == (expected["count"], expected["amount"])
    by_cashier = {line["key"]: line["amount"] for line in api.get(
        f"{org}/reports/sales?from={day}&to={day}&group_by=cashier", token=owner).json["lines"]}  # fmt: skip
    assert by_cashier == {"ani": 10_000, "budi": 0, "(printed)": 5000}

    # Every state change is in the audit trail, hot-path ones once the outbox is drained.
    AuditOutbox().drain()
    actions = [event["action"] for event in audit_events(tenant.org_id)]
    for action in ("plan.create", "batch.create", "batch.codes_exported", "sale.create", "sale.void",
                   "voucher.redeem", "voucher.revoke", "voucher.expired"):  # fmt: skip
        assert action in actions, action
