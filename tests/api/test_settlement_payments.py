"""Settlement payments: what each organisation paid towards what it owes, and `settlement_overdue` when it did not.

Two organisations sell at 10 %: Kopi Nusantara three vouchers of Rp 5,000 (it owes
Rp 1,500), Warnet Sejahtera one (Rp 500). The settlement is issued three days later.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib.api.deps import services
from chalicelib.auth.principal import scheduler_actor
from chalicelib.errors import KuotaError
from tests.support import Api, FakeClock, Reply, Tenant, World, audit_events

DAY = 86400


@dataclass
class Settled:
    settlement_id: str
    kopi: Tenant  # owes 1,500
    warnet: Tenant  # owes 500
    issued_on: date  # UTC


def sell(api: Api, world: World, tenant: Tenant, vouchers: int) -> None:
    site_id = world.site(tenant)
    plan_id = world.plan(tenant)
    _, pos = world.key(tenant, site_id, kind="pos")
    for n in range(vouchers):
        reply = api.post("/v1/pos/sales", {"plan_id": plan_id, "quantity": 1}, token=pos,
                         headers={"Idempotency-Key": f"struk-{n}"})  # fmt: skip
        assert reply.status == 201, reply.body


@pytest.fixture
def settled(api: Api, world: World, clock: FakeClock) -> Settled:
    sold_on = clock.now.date()
    tenants = {}
    for name, vouchers in (("Kopi Nusantara", 3), ("Warnet Sejahtera", 1)):
        tenant = world.org(name)
        share = {"percent": 10, "effective_from": (sold_on - timedelta(days=30)).isoformat(), "reason": "PKS 2026"}
        assert api.call("PUT", f"/v1/platform/orgs/{tenant.org_id}/share", json_body=share,
                        token=world.admin.token).status == 200  # fmt: skip
        sell(api, world, tenant, vouchers)
        tenants[name] = tenant
    world.org("Toko Tanpa Penjualan")  # sold nothing: not in the settlement
    clock.advance(3 * DAY)
    # The local days around the sale (Jakarta is ahead of UTC), all over by now.
    period = {"from": (sold_on - timedelta(days=1)).isoformat(), "to": (sold_on + timedelta(days=1)).isoformat()}
    reply = api.post("/v1/platform/settlements", period, token=world.admin.token)
    assert reply.status == 201, reply.body
    owed = {line["org_name"]: line["isp_share"] for line in reply.json["lines"]}
    assert owed == {"Kopi Nusantara": 1500, "Warnet Sejahtera": 500}
    return Settled(reply.json["settlement_id"], tenants["Kopi Nusantara"], tenants["Warnet Sejahtera"],
                   clock.now.date())  # fmt: skip


def pay(api: Api, world: World, settled: Settled, org_id: str, amount: Any, paid_on: Any = None,
        reference: Any = "BCA TRF 0001", token: str | None = None) -> Reply:  # fmt: skip
    body = {"org_id": org_id, "amount": amount, "paid_on": paid_on or settled.issued_on.isoformat(),
            "reference": reference}  # fmt: skip
    return api.post(f"/v1/platform/settlements/{settled.settlement_id}/payments", body,
                    token=token or world.admin.token)  # fmt: skip


def reverse(api: Api, world: World, settled: Settled, payment_id: str, reason: str = "salah catat") -> Reply:
    return api.post(f"/v1/platform/settlements/{settled.settlement_id}/payments/{payment_id}/reverse",
                    {"reason": reason}, token=world.admin.token)  # fmt: skip


def balances(api: Api, world: World, settled: Settled) -> dict[str, dict[str, Any]]:
    reply = api.get(f"/v1/platform/settlements/{settled.settlement_id}", token=world.admin.token)
    assert reply.status == 200, reply.body
    return {balance["org_name"]: balance for balance in reply.json["balances"]}


def figures(balance: dict[str, Any]) -> tuple[int, int, int]:
    return balance["owed"], balance["paid"], balance["outstanding"]


def advance() -> int:
    return services().compliance.advance(scheduler_actor("test-settlement-overdue"))


def stage(api: Api, tenant: Tenant) -> dict[str, Any]:
    reply = api.get(f"/v1/orgs/{tenant.org_id}/compliance", token=tenant.owner.token)
    assert reply.status == 200, reply.body
    return dict(reply.json)


# --- payments -------------------------------------------------------------------------------------


def test_payments_are_recorded_reversed_and_counted_in_what_is_outstanding(
    api: Api, world: World, settled: Settled, clock: FakeClock
) -> None:
    kopi = settled.kopi
    assert {name: figures(b) for name, b in balances(api, world, settled).items()} == {
        "Kopi Nusantara": (1500, 0, 1500), "Warnet Sejahtera": (500, 0, 500),
    }  # fmt: skip

    first = pay(api, world, settled, kopi.org_id, 600, reference="BCA TRF 0001")
    assert first.status == 201, first.body
    assert {k: first.json[k] for k in ("org_id", "org_name", "amount", "paid_on", "reference", "by", "reversed")} == {
        "org_id": kopi.org_id, "org_name": "Kopi Nusantara", "amount": 600,
        "paid_on": settled.issued_on.isoformat(), "reference": "BCA TRF 0001", "by": "platform@example.com",
        "reversed": None,
    }  # fmt: skip
    # An adjustment moves what is owed; the payment stays what it was.
    adjustment = api.post(f"/v1/platform/settlements/{settled.settlement_id}/adjustments",
                          {"org_id": kopi.org_id, "amount": 200, "reason": "selisih"}, token=world.admin.token)
    assert adjustment.status == 201
    kopi_balance = balances(api, world, settled)["Kopi Nusantara"]
    assert figures(kopi_balance) == (1700, 600, 1100)
    assert (kopi_balance["isp_share"], kopi_balance["adjustments"]) == (1500, 200)
    assert [p["payment_id"] for p in kopi_balance["payments"]] == [first.json["payment_id"]]

    # Recorded by mistake: reversed once, it no longer counts; it is still listed, saying so.
    clock.advance(60)  # the trail is in time order
    reversed_ = reverse(api, world, settled, first.json["payment_id"], "salah organisasi")
    assert reversed_.status == 200, reversed_.body
    assert reversed_.json["reversed"]["reason"] == "salah organisasi"
    assert reversed_.json["reversed"]["by"] == "platform@example.com"
    again = reverse(api, world, settled, first.json["payment_id"])
    assert (again.status, again.error_code) == (409, "conflict")
    kopi_balance = balances(api, world, settled)["Kopi Nusantara"]
    assert figures(kopi_balance) == (1700, 0, 1700)
    assert kopi_balance["payments"][0]["reversed"]["reason"] == "salah organisasi"

    # Paid in full, in two transfers; nothing more may be paid.
    for amount, reference in ((1000, "BCA TRF 0002"), (700, "BCA TRF 0003")):
        clock.advance(60)  # listed in the order recorded
        assert pay(api, world, settled, kopi.org_id, amount, reference=reference).status == 201
    kopi_balance = balances(api, world, settled)["Kopi Nusantara"]
    assert figures(kopi_balance) == (1700, 1700, 0)
    assert [p["reference"] for p in kopi_balance["payments"]] == ["BCA TRF 0001", "BCA TRF 0002", "BCA TRF 0003"]
    over = pay(api, world, settled, kopi.org_id, 1)
    assert (over.status, over.json["error"]["field"]) == (400, "amount")

    # Each in the platform's trail, once.
    events = [event for event in audit_events(None) if event["action"].startswith("settlement.payment")]
    assert [event["action"] for event in events] == [
        "settlement.payment_recorded", "settlement.payment_reversed", "settlement.payment_recorded",
        "settlement.payment_recorded",
    ]  # fmt: skip
    assert events[0]["after"] == {"payment_id": first.json["payment_id"], "org_id": kopi.org_id, "amount": 600,
                                  "paid_on": settled.issued_on.isoformat(), "reference": "BCA TRF 0001",
                                  "outstanding": 900}  # fmt: skip
    assert events[1]["before"]["amount"] == 600 and events[1]["after"]["reason"] == "salah organisasi"
    assert all(event["target_id"] == settled.settlement_id for event in events)


def test_payments_recorded_at_once_never_pay_more_than_is_owed(api: Api, world: World, settled: Settled) -> None:
    """Four admins record a Rp 1,000 transfer towards Kopi's Rp 1,500 at the same moment: one lands."""
    settlements, kopi = services().settlements, settled.kopi
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def record(n: int) -> None:
        start.wait()
        try:
            settlements.record_payment(scheduler_actor(f"t{n}"), settled.settlement_id, kopi.org_id, 1000,
                                       settled.issued_on, f"BCA TRF {n}")  # fmt: skip
            outcomes.append("recorded")
        except KuotaError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The others were told so: 409 when they lost the race, 400 when they read the new balance first.
    assert outcomes.count("recorded") == 1, outcomes
    assert set(outcomes) <= {"recorded", "conflict", "validation_error"}
    kopi_balance = balances(api, world, settled)["Kopi Nusantara"]
    assert figures(kopi_balance) == (1500, 1000, 500) and len(kopi_balance["payments"]) == 1
    events = [event for event in audit_events(None) if event["action"] == "settlement.payment_recorded"]
    assert len(events) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -500}, "amount"),
        ({"amount": 1501}, "amount"),  # more than is outstanding
        ({"amount": "seribu"}, "amount"),
        ({"paid_on": "2026-02-30"}, "paid_on"),
        ({"paid_on": "30/11/2026"}, "paid_on"),
        ({"paid_on": "2099-01-01"}, "paid_on"),  # in the future
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 101}, "reference"),
        ({"org_id": "nosuchorg"}, "org_id"),
    ],
)
def test_a_bad_payment_is_400_naming_the_field_and_records_nothing(
    api: Api, world: World, settled: Settled, change: dict[str, Any], field: str
) -> None:
    body = {"org_id": settled.kopi.org_id, "amount": 500, "paid_on": settled.issued_on.isoformat(),
            "reference": "BCA TRF 0001", **change}  # fmt: skip
    reply = api.post(f"/v1/platform/settlements/{settled.settlement_id}/payments", body, token=world.admin.token)
    assert (reply.status, reply.json["error"]["field"]) == (400, field), reply.body
    assert figures(balances(api, world, settled)["Kopi Nusantara"]) == (1500, 0, 1500)
    assert not [event for event in audit_events(None) if event["action"] == "settlement.payment_recorded"]


def test_an_org_not_in_the_settlement_an_unknown_settlement_or_payment(
    api: Api, world: World, settled: Settled
) -> None:
    outsider = world.org("Warung Lain")
    reply = pay(api, world, settled, outsider.org_id, 100)
    assert (reply.status, reply.json["error"]["field"]) == (400, "org_id")
    assert outsider.org_id in reply.json["error"]["message"]
    body = {"org_id": settled.kopi.org_id, "amount": 100, "paid_on": "2026-11-30", "reference": "x"}
    assert api.post("/v1/platform/settlements/nosuch/payments", body, token=world.admin.token).status == 404
    assert reverse(api, world, settled, "nosuchpayment").status == 404
    # Only platform admins record payments.
    owner = pay(api, world, settled, settled.kopi.org_id, 100, token=settled.kopi.owner.token)
    assert (owner.status, owner.error_code) == (403, "forbidden")
    # An organisation adjusted into a settlement (it sold nothing) owes, and may pay, the adjustment.
    api.post(f"/v1/platform/settlements/{settled.settlement_id}/adjustments",
             {"org_id": outsider.org_id, "amount": 300, "reason": "biaya lisensi"}, token=world.admin.token)
    assert pay(api, world, settled, outsider.org_id, 300).status == 201
    assert figures(balances(api, world, settled)["Warung Lain"]) == (300, 300, 0)


def test_the_csv_has_owed_paid_and_outstanding_per_org_and_a_row_per_payment(
    api: Api, world: World, settled: Settled, clock: FakeClock
) -> None:
    kept = pay(api, world, settled, settled.kopi.org_id, 1000, reference="BCA TRF 0001").json
    clock.advance(60)
    wrong = pay(api, world, settled, settled.kopi.org_id, 500, reference="=SALAH").json
    reverse(api, world, settled, wrong["payment_id"], "dobel")

    reply = api.get(f"/v1/platform/settlements/{settled.settlement_id}?format=csv", token=world.admin.token)

    assert reply.status == 200
    header, *rows = list(csv.reader(io.StringIO(reply.body.decode("utf-8"))))
    assert header == ["org_name", "org_id", "gross", "voids", "net", "percent", "isp_share", "reseller_share",
                      "owed", "paid", "outstanding", "note"]  # fmt: skip
    table = [dict(zip(header, row, strict=True)) for row in rows]
    by_org = {row["org_name"]: row for row in table if row["note"] == ""}
    assert [(by_org[name]["owed"], by_org[name]["paid"], by_org[name]["outstanding"])
            for name in ("Kopi Nusantara", "Warnet Sejahtera")] == [("1500", "1000", "500"), ("500", "0", "500")]
    assert (by_org["total"]["owed"], by_org["total"]["paid"], by_org["total"]["outstanding"]) == ("2000", "1000",
                                                                                                  "1000")
    payments = [(row["org_name"], row["paid"], row["note"]) for row in table if row["note"].startswith("payment")]
    assert payments == [
        ("Kopi Nusantara", "1000", f"payment {settled.issued_on}: BCA TRF 0001"),
        ("Kopi Nusantara", "", f"payment {settled.issued_on}: =SALAH (reversed: dobel)"),
    ]
    assert kept["amount"] == 1000


# --- settlement_overdue -----------------------------------------------------------------------------


def test_an_unpaid_org_goes_to_grace_the_day_after_its_settlement_is_due_once_and_a_paid_one_stays_active(
    api: Api, world: World, settled: Settled, clock: FakeClock
) -> None:
    kopi, warnet = settled.kopi, settled.warnet
    assert pay(api, world, settled, kopi.org_id, 1000).status == 201  # 500 still outstanding
    assert pay(api, world, settled, warnet.org_id, 500).status == 201  # paid in full

    clock.advance(30 * DAY)  # the due day itself (issued + 30): not overdue yet
    advance()
    assert stage(api, kopi)["stage"] == "active"
    assert settled.issued_on + timedelta(days=30) == clock.now.date()

    clock.advance(DAY)
    advance()
    advance()  # the job runs every five minutes: the trigger acts once a day
    kopi_view = stage(api, kopi)
    assert (kopi_view["stage"], kopi_view["reason"]) == ("grace", "settlement_overdue")
    due_on = settled.issued_on + timedelta(days=30)
    assert "500 rupiah outstanding" in kopi_view["note"] and f"due {due_on}" in kopi_view["note"]
    assert [(t["from"], t["to"], t["reason"]) for t in kopi_view["history"]] == [
        ("active", "grace", "settlement_overdue")
    ]
    moves = [event for event in audit_events(kopi.org_id) if event["action"] == "compliance.stage_changed"]
    assert len(moves) == 1
    assert stage(api, warnet)["stage"] == "active"
    assert not [event for event in audit_events(warnet.org_id) if event["action"].startswith("compliance.")]


def test_overdue_lists_what_is_owed_past_the_due_day_by_the_policys_days(
    api: Api, world: World, settled: Settled, clock: FakeClock
) -> None:
    settlements = services().settlements
    assert settlements.overdue(settled.issued_on + timedelta(days=30), 30) == []
    assert pay(api, world, settled, settled.warnet.org_id, 500).status == 201
    (overdue,) = settlements.overdue(settled.issued_on + timedelta(days=31), 30)
    assert (overdue.org_id, overdue.org_name, overdue.settlement_id, overdue.outstanding) == (
        settled.kopi.org_id, "Kopi Nusantara", settled.settlement_id, 1500,
    )  # fmt: skip
    assert overdue.due_on == settled.issued_on + timedelta(days=30)
    assert overdue.period_to - overdue.period_from == timedelta(days=2)
    # Long past the lookback the settlement is no longer read.
    assert settlements.overdue(settled.issued_on + timedelta(days=500), 30) == []

    # The policy's due days: 5 here, so a week after issue it is overdue; under `record` it only stays on record.
    policy = api.get("/v1/platform/policy", token=world.admin.token).json
    assert policy["settlement_due_days"] == 30
    body = {**policy, "settlement_due_days": 5, "triggers": {**policy["triggers"], "settlement_overdue": "record"}}
    saved = api.call("PUT", "/v1/platform/policy", json_body=body, token=world.admin.token)
    assert saved.status == 200 and saved.json["settlement_due_days"] == 5
    for bad in (0, 366):
        reply = api.call("PUT", "/v1/platform/policy", json_body={**body, "settlement_due_days": bad},
                         token=world.admin.token)  # fmt: skip
        assert (reply.status, reply.json["error"]["field"]) == (400, "settlement_due_days"), reply.body
    clock.advance(7 * DAY)
    advance()
    assert stage(api, settled.kopi)["stage"] == "active"
    (triggered,) = [e for e in audit_events(settled.kopi.org_id) if e["action"] == "compliance.triggered"]
    assert triggered["after"]["reason"] == "settlement_overdue" and triggered["after"]["policy"] == "record"
    # A policy saved without the field (a client that predates it) keeps the days it had.
    del body["settlement_due_days"]
    assert api.call("PUT", "/v1/platform/policy", json_body=body,
                    token=world.admin.token).json["settlement_due_days"] == 5  # fmt: skip
