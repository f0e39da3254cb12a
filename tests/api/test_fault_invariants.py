"""Under DynamoDB faults, sales, batches, redeems, accounting, voids and expiry lose nothing and repeat nothing.

Faults (tests/api/faults.py) are injected above botocore's retry handler on every client the app's models
and transactions use: throttling and 5xx answers instead of the call, and responses lost after the call
landed, so the app (its own retries, conditions and idempotent writes) and its callers (the till and the
controller retrying a 5xx, the till with the same Idempotency-Key) must cope; batch writes also get partial
results. The idempotency store (Powertools' own client) is left alone. Then, with faults off, the state is
held to the invariants: every answered sale exists once and a retry answers the same sale; no code twice;
the ledger equals sales less voids (verified as `make verify-ledger` does); no voucher over its devices;
nothing half-written; an audit event for every change.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.api import deps
from chalicelib.codes import code_hash, normalise
from chalicelib.models import Batch, LedgerEntry, Sale
from chalicelib.services.expiring import ExpiryService
from chalicelib.services.ledger import LedgerService
from chalicelib.services.outbox import AuditOutbox
from tests.api.faults import Faults, injected
from tests.support import (
    FakeClock,
    Reply,
    Tenant,
    World,
    audit_events,
    dump_app_table,
    fuzz_seed,
    fuzzing,
    run_batch_jobs,
)

FAULT_RATE = 0.25  # of the app's DynamoDB calls, above botocore's retries
PARTIAL_BATCHES = 0.5  # of the BatchWriteItem calls that meet no other fault
ATTEMPTS = 40  # a client gives up after this many 5xx answers to one operation
PRICE = 5000
MAX_DEVICES = 2
MACS = [f"02:00:00:00:00:{n:02X}" for n in range(4)]  # more devices than a voucher admits
MIX = {"sale": 22, "resend": 4, "batch": 3, "redeem": 36, "accounting": 27, "void": 6, "expiry": 2}


@dataclass
class Shop:
    tenant: Tenant
    site_id: str
    plan_id: str
    pos_key: str
    controller_key: str


@dataclass
class Seen:
    """What the clients were told, to hold the stored state to."""

    sales: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # Idempotency-Key -> its 2xx receipts
    sale_ids: dict[str, str] = field(default_factory=dict)  # sale id -> Idempotency-Key
    batches: dict[str, list[str]] = field(default_factory=dict)  # batch answered 201 -> its codes
    admitted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # code -> MACs let in
    redeemed: Counter[str] = field(default_factory=Counter)  # code -> redeems answered 200
    voided: set[str] = field(default_factory=set)  # sales whose void was answered 200 (or 409 after a 5xx)
    operations: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)  # "kind status"
    retries: int = 0
    gave_up: Counter[str] = field(default_factory=Counter)


class Run:
    def __init__(self, world: World, shop: Shop, clock: FakeClock, rng: random.Random) -> None:
        self.api, self.shop, self.clock, self.rng = world.api, shop, clock, rng
        self.owner = shop.tenant.owner.token
        self.org_id = shop.tenant.org_id
        self.batches = f"/v1/orgs/{self.org_id}/batches"
        self.seen = Seen()
        self.sessions = 0

    def retried(self, kind: str, send: Callable[[], Reply]) -> list[Reply]:
        """Send until an answer that is not a 5xx, as a till or a controller does; every answer, in order."""
        replies: list[Reply] = []
        for _ in range(ATTEMPTS):
            reply = send()
            replies.append(reply)
            self.seen.answers[f"{kind} {reply.status}"] += 1
            if reply.status < 500:
                break
            self.seen.retries += 1
        else:
            self.seen.gave_up[kind] += 1
        return replies

    def codes(self) -> list[str]:
        sold = [code for receipts in self.seen.sales.values() for code in receipts[0]["codes"]]
        printed = [code for codes in self.seen.batches.values() for code in codes]
        return sold + printed

    def step(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if kind == "resend" and not self.seen.sales:
            kind = "sale"
        if kind in ("redeem", "accounting") and not self.codes():
            kind = "sale"
        if kind == "accounting" and not self.seen.admitted:
            kind = "redeem"
        if kind == "void" and not set(self.seen.sale_ids) - self.seen.voided:
            kind = "sale"
        self.seen.operations[kind] += 1
        getattr(self, kind)()
        self.clock.advance(self.rng.uniform(1, 10))

    def sale(self, key: str | None = None, quantity: int | None = None) -> None:
        key = key or f"till-{self.rng.getrandbits(64):016x}"
        body = {"plan_id": self.shop.plan_id, "quantity": quantity or self.rng.randint(1, 3), "cashier_ref": "ani"}
        headers = {"Idempotency-Key": key}
        replies = self.retried(
            "sale", lambda: self.api.post("/v1/pos/sales", body, token=self.shop.pos_key, headers=headers)
        )
        last = replies[-1]
        if last.status == 201:
            codes = [normalise(voucher["code"]) for voucher in last.json["vouchers"]]
            receipt = {"sale_id": last.json["sale_id"], "total": last.json["total"], "codes": codes,
                       "quantity": body["quantity"]}  # fmt: skip
            self.seen.sales.setdefault(key, []).append(receipt)
            self.seen.sale_ids[receipt["sale_id"]] = key
        else:
            assert last.status >= 500, last.body

    def resend(self) -> None:
        """The till sends a sale again that was answered already (its receipt printer jammed)."""
        key = self.rng.choice(sorted(self.seen.sales))
        self.sale(key, self.seen.sales[key][0]["quantity"])

    def batch(self) -> None:
        body = {"plan_id": self.shop.plan_id, "quantity": self.rng.randint(5, 40), "site_id": self.shop.site_id}
        last = self.retried("batch", lambda: self.api.post(self.batches, body, token=self.owner))[-1]
        if last.status in (201, 202):  # 202: the worker finishes it
            self.seen.batches[last.json["batch_id"]] = []
            if last.status == 201:
                self.batch_codes(last.json["batch_id"])
        else:
            assert last.status >= 500, last.body

    def batch_codes(self, batch_id: str) -> None:
        path = f"{self.batches}/{batch_id}/codes"
        codes = self.retried("codes", lambda: self.api.get(path, token=self.owner))[-1]
        if codes.status == 200:
            self.seen.batches[batch_id] = [normalise(code) for code in codes.json["codes"]]

    def redeem(self) -> None:
        code = self.rng.choice(self.codes())
        mac = self.rng.choice(MACS)
        body = {"code": code, "mac": mac}
        last = self.retried("redeem", lambda: self.api.post("/v1/redeem", body, token=self.shop.controller_key))[-1]
        if last.status == 200:
            self.seen.admitted[code].add(mac)
            self.seen.redeemed[code] += 1
        else:
            assert last.status in (409, 410, 500, 503) or last.status >= 500, last.body

    def accounting(self) -> None:
        code = self.rng.choice(sorted(self.seen.admitted))
        mac = self.rng.choice(sorted(self.seen.admitted[code]))
        self.sessions += 1
        body = {"code": code, "mac": mac, "session_id": f"s{self.sessions}", "event": self.rng.choice(
            ["start", "interim", "stop"]), "session_time": self.rng.randint(0, 3000),
            "input_octets": self.rng.randint(0, 10**6), "output_octets": self.rng.randint(0, 10**6)}  # fmt: skip
        last = self.retried("accounting", lambda: self.api.post("/v1/accounting", body, token=self.shop.controller_key))
        assert last[-1].status in (200, 404) or last[-1].status >= 500, last[-1].body

    def void(self) -> None:
        sale_id = self.rng.choice(sorted(set(self.seen.sale_ids) - self.seen.voided))
        path = f"/v1/orgs/{self.org_id}/sales/{sale_id}/void"
        replies = self.retried("void", lambda: self.api.post(path, {"reason": "customer changed mind"},
                                                              token=self.owner))  # fmt: skip
        last = replies[-1]
        if last.status == 200 or (last.status == 409 and len(replies) > 1):  # an earlier attempt landed
            self.seen.voided.add(sale_id)
        else:
            assert last.status >= 500, last.body

    def expiry(self) -> None:
        """The scheduled jobs, with the services' clock: expire what is due, drain the audit outbox."""
        self.clock.advance(self.rng.uniform(600, 1800))  # sessions of an hour run out
        for job in (ExpiryService(self.clock).run, AuditOutbox(deps.services().audit).drain):
            try:
                job()
            except Exception:  # the next run (a minute later, in production) finishes it
                self.seen.gave_up["job_interrupted"] += 1


@pytest.fixture
def shop(world: World, clock: FakeClock) -> Shop:
    tenant = world.org()
    site_id = world.site(tenant, "Kios Pantai")
    _, pos_key = world.key(tenant, site_id, kind="pos")
    _, controller_key = world.key(tenant, site_id)
    plan_id = world.plan(tenant, price=PRICE, duration_minutes=60, validity_days=30, max_devices=MAX_DEVICES)
    return Shop(tenant, site_id, plan_id, pos_key, controller_key)


def test_operations_under_dynamodb_faults_keep_every_invariant(world: World, shop: Shop, clock: FakeClock) -> None:
    seed = fuzz_seed(20261202)
    operations = 5000 if fuzzing() else 1000
    print(f"\nfault injection: seed {seed} (KUOTA_FUZZ_SEED={seed} to repeat), {operations} operations")
    rng = random.Random(seed)
    state = random.getstate()
    random.seed(seed)  # the app's own draws (which chain lane a writer takes) too: the same calls each run
    run = Run(world, shop, clock, rng)
    start_day = clock.now.date()
    run.sale()  # before the faults: the idempotency store's client exists, and stays unhooked
    run.seen.operations.clear()
    faults = Faults(seed, rate=FAULT_RATE, unprocessed=PARTIAL_BATCHES)
    began = time.monotonic()
    with injected(faults), _quiet():
        for _ in range(operations):
            run.step()
        faults.enabled = False
        _settle(run)  # faults off: the jobs and the worker finish what was left
    random.setstate(state)
    took = time.monotonic() - began
    seen = run.seen
    print(f"operations: {dict(sorted(seen.operations.items()))}; client retries {seen.retries}, "
          f"gave up {dict(seen.gave_up)}; {took:.1f} s")  # fmt: skip
    print(faults.summary())
    assert sum(seen.operations.values()) >= operations
    assert faults.fraction >= 0.2, faults.summary()
    assert all(faults.injected[kind] for kind in ("throttle", "server_error", "lost_write_response",
                                                   "partial_batch")), faults.summary()  # fmt: skip

    stored = _stored(shop.tenant.org_id)
    _check_sales(seen, stored)
    _check_codes(seen, stored)
    _check_devices(seen, stored)
    _check_batches(seen, stored)
    _check_ledger(shop.tenant.org_id, stored, start_day - timedelta(days=1), clock.now.date() + timedelta(days=1))
    _check_audit(seen, shop.tenant.org_id, stored)


@contextmanager
def _quiet() -> Iterator[None]:
    """Thousands of expected 500s: their tracebacks would cost more time than the requests."""
    logger = logging.getLogger("kuota")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


def _settle(run: Run) -> None:
    """What production does after the faults: the expiry and outbox jobs run again, SQS redelivers."""
    run_batch_jobs()
    for batch_id, codes in run.seen.batches.items():
        if not codes:
            run.batch_codes(batch_id)
    ExpiryService(run.clock).run()
    while AuditOutbox(deps.services().audit).drain():
        pass


@dataclass
class Stored:
    sales: dict[str, Sale]
    vouchers: dict[str, dict[str, Any]]  # by PK
    batches: dict[str, Batch]
    ledger: list[LedgerEntry]


def _stored(org_id: str) -> Stored:
    sales = {sale.sale_id: sale for sale in Sale.query(f"ORG#{org_id}", Sale.sk.startswith("SALE#"),
                                                        consistent_read=True)}  # fmt: skip
    batches = {batch.batch_id: batch for batch in Batch.query(f"ORG#{org_id}", Batch.sk.startswith("BATCH#"),
                                                              consistent_read=True)}  # fmt: skip
    vouchers = {item["PK"]["S"]: item for item in dump_app_table() if item["PK"]["S"].startswith("V#")}
    ledger = [entry for entry in LedgerEntry.query(f"ORG#{org_id}", LedgerEntry.sk.startswith("LEDGER#"))]
    return Stored(sales, vouchers, batches, ledger)


def _check_sales(seen: Seen, stored: Stored) -> None:
    for key, receipts in seen.sales.items():
        first = receipts[0]
        assert all(receipt == first for receipt in receipts), f"a retry of {key} answered another sale"
        sale = stored.sales.get(first["sale_id"])
        assert sale is not None, "a sale answered 201 is not stored"
        assert int(sale.total) == first["total"] == PRICE * first["quantity"]
        # Its vouchers, all of them, and no other.
        keys = [pk for pk, _ in sale.voucher_keys]
        assert len(keys) == len(set(keys)) == int(sale.quantity) == first["quantity"]
        assert sorted(keys) == sorted(f"V#{code_hash(sale.org_id, code)}" for code in first["codes"])
    answered = {receipts[0]["sale_id"] for receipts in seen.sales.values()}
    for sale in stored.sales.values():
        vouchers = [stored.vouchers.get(pk) for pk, _ in sale.voucher_keys]
        assert all(item is not None and item["sale_id"]["S"] == sale.sale_id for item in vouchers), "half a sale"
        if sale.voided_at is not None:
            assert all(item is not None and item["status"]["S"] == "revoked" for item in vouchers)
    # A sale its till was never told of can only be one whose till gave up retrying.
    unanswered = set(stored.sales) - answered
    assert len(unanswered) <= seen.gave_up["sale"], "a sale landed that its till was never told of"
    sold = {item["sale_id"]["S"] for item in stored.vouchers.values() if "sale_id" in item}
    assert sold <= set(stored.sales), "a voucher marked sold without its sale"
    assert seen.voided <= {sale_id for sale_id, sale in stored.sales.items() if sale.voided_at is not None}


def _check_codes(seen: Seen, stored: Stored) -> None:
    codes = [code for receipts in seen.sales.values() for code in receipts[0]["codes"]]
    codes += [code for batch in seen.batches.values() for code in batch]
    assert len(codes) == len(set(codes)), "a code was issued twice"
    sold = sum(int(sale.quantity) for sale in stored.sales.values())
    printed = sum(int(batch.issued) for batch in stored.batches.values())
    assert len(stored.vouchers) == sold + printed, "vouchers without a sale or a batch, or missing ones"


def _check_devices(seen: Seen, stored: Stored) -> None:
    for macs in seen.admitted.values():
        assert len(macs) <= MAX_DEVICES, "a voucher admitted more devices than allowed"
    for item in stored.vouchers.values():
        devices = item.get("devices", {}).get("SS", [])
        assert len(devices) <= int(item["max_devices"]["N"])


def _check_batches(seen: Seen, stored: Stored) -> None:
    by_batch = Counter(item["source_id"]["S"] for item in stored.vouchers.values() if "sale_id" not in item)
    for batch_id, codes in seen.batches.items():
        batch = stored.batches[batch_id]
        assert batch.status == "done" and len(codes) == int(batch.quantity), f"batch {batch_id} answered, not done"
    for batch_id, batch in stored.batches.items():
        assert batch.status == "done", f"batch {batch_id} left {batch.status} with {batch.issued} codes"
        assert by_batch[batch_id] == int(batch.issued) == int(batch.quantity), f"batch {batch_id} half-written"


def _check_ledger(org_id: str, stored: Stored, start: Any, end: Any) -> None:
    sold = sum(int(sale.total) for sale in stored.sales.values())
    voided = sum(int(sale.total) for sale in stored.sales.values() if sale.voided_at is not None)
    first_redeems = sum(PRICE for item in stored.vouchers.values()
                        if "sale_id" not in item and "activated_at" in item)  # fmt: skip
    kinds = Counter((entry.rev_kind, entry.sale_id) for entry in stored.ledger if entry.sale_id)
    assert all(count == 1 for count in kinds.values()), "a sale or a void booked twice"
    result = LedgerService().verify(org_id, start, end)
    print(f"ledger: {result.chains.chains} chains, {result.chains.records} records; report {result.totals.report}, "
          f"ledger {result.totals.ledger}, pending {result.totals.pending}, audit {result.totals.audit}")  # fmt: skip
    assert result.ok, result.problems[:3]
    assert result.totals.ledger == sold - voided + first_redeems == result.totals.report
    assert result.totals.pending == 0


def _check_audit(seen: Seen, org_id: str, stored: Stored) -> None:
    events = audit_events(org_id)
    by_action = Counter((event["action"], event["target_id"]) for event in events)
    for sale_id, sale in stored.sales.items():
        assert by_action["sale.create", sale_id] == 1, "a sale without its one audit event"
        assert by_action["sale.void", sale_id] == (1 if sale.voided_at is not None else 0)
    for batch_id in stored.batches:
        assert by_action["batch.create", batch_id] == 1
    for code, count in seen.redeemed.items():
        assert by_action["voucher.redeem", code_hash(org_id, code)[:20]] >= count, "a redeem without its event"
    for item in stored.vouchers.values():
        assert not item.get("pending_audit", {}).get("L"), "audit entries left in the outbox"
        if item["status"]["S"] == "expired":
            assert by_action["voucher.expired", item["PK"]["S"].removeprefix("V#")[:20]] >= 1
