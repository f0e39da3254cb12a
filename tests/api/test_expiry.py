"""The expiry job: due vouchers and batches are recorded as expired, once, and only what is due is read.

Test data is made the way the product makes it (a batch through the issuing
service, a first use through the redeem service) or, for bulk and for index
states that only races produce, written directly with the models.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import pytest

from chalicelib.api import deps
from chalicelib.api.deps import Services
from chalicelib.auth.principal import Actor, Principal, RequestMeta
from chalicelib.codes import CodeShape, code_hash
from chalicelib.models import Batch, Plan, Voucher
from chalicelib.models.base import dynamodb_client
from chalicelib.models.batching import write_items
from chalicelib.models.vouchers import expiry_shard
from chalicelib.services import epoch
from chalicelib.services.expiring import ExpiryReport, ExpiryService
from chalicelib.services.outbox import AuditOutbox
from chalicelib.services.redeeming import VoucherExpired
from tests.support import Api, FakeClock, audit_events

ORG = "org-expiry"
SITE = "site-a"
HOUR = 3600
DAY = 86400
STAFF = Actor(principal=None, meta=RequestMeta(source_ip="203.0.113.5", user_agent="tests", request_id="t"))
CONTROLLER = Principal(kind="api_key", id="key-a", org_id=ORG, site_id=SITE, key_kind="controller")


@pytest.fixture
def registry(clock: FakeClock) -> Services:
    return deps.services()


@pytest.fixture
def plan(registry: Services) -> Plan:
    terms = {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 7}
    return registry.plans.create(STAFF, ORG, terms)


# --- making vouchers ------------------------------------------------------------------------------


def issue_batch(registry: Services, plan: Plan, quantity: int) -> tuple[Batch, list[str]]:
    batch = registry.issuing.create_batch(STAFF, ORG, plan=plan, site_id=None, quantity=quantity, shape=CodeShape())
    return batch, list(registry.issuing.codes(batch))


def use(registry: Services, code: str, mac: str = "AA:BB:CC:00:11:22") -> None:
    """A first redeem at site A, through the redeem service."""
    registry.redeem.redeem(CONTROLLER, code, mac, STAFF)


def voucher(code: str) -> Voucher:
    return Voucher.get(*Voucher.key(code_hash(ORG, code)), consistent_read=True)


def active_voucher(code: str, *, activated_at: int, window: int = HOUR) -> Voucher:
    """A voucher as a first redeem leaves it: active, expiring `window` later, in the expiry index."""
    voucher_hash = code_hash(ORG, code)
    item = Voucher(
        *Voucher.key(voucher_hash), org_id=ORG, source_id="batch-x", site_id=None, plan_id="p", plan_name="1 Jam",
        price=5000, duration_minutes=window // 60, time_mode="wallclock", window_seconds=window, max_devices=1,
        status="active", issued_at=activated_at - DAY, valid_until=activated_at + 6 * DAY, sold_at=activated_at,
        activated_at=activated_at, activated_site_id=SITE, expires_at=activated_at + window, devices={"dev"},
        gsi2pk=expiry_shard(voucher_hash), gsi2sk=activated_at + window,
    )  # fmt: skip
    item.save()
    return item


def pos_voucher(code: str, *, sold_at: int, shelf_life: int) -> Voucher:
    """A voucher as a POS sale leaves it: sold, unused, in the index until its shelf life ends."""
    voucher_hash = code_hash(ORG, code)
    item = Voucher(
        *Voucher.key(voucher_hash), org_id=ORG, source_id="sale-1", site_id=SITE, plan_id="p", plan_name="1 Jam",
        price=5000, duration_minutes=60, time_mode="wallclock", window_seconds=HOUR, max_devices=1,
        status="sold", issued_at=sold_at, valid_until=sold_at + shelf_life, sold_at=sold_at, sale_id="sale-1",
        gsi2pk=expiry_shard(voucher_hash), gsi2sk=sold_at + shelf_life,
    )  # fmt: skip
    item.save()
    return item


def in_index(item: Voucher | Batch) -> bool:
    item.refresh(consistent_read=True)
    return item.gsi2pk is not None


def run(clock: FakeClock, **kwargs: Any) -> ExpiryReport:
    return ExpiryService(clock).run(request_id="job-run-1", **kwargs)


def expiry_events() -> list[dict[str, Any]]:
    return [event for event in audit_events(ORG) if event["action"] == "voucher.expired"]


@contextmanager
def counting_requests() -> Iterator[Counter[str]]:
    """DynamoDB requests by operation, counted on the client every voucher model call goes through."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    events = dynamodb_client(Voucher).meta.events
    events.register("before-call.dynamodb", count, unique_id="test-expiry-count")
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", unique_id="test-expiry-count")


# --- vouchers in use ------------------------------------------------------------------------------


def test_an_active_voucher_past_its_time_is_expired_and_audited(
    registry: Services, plan: Plan, clock: FakeClock
) -> None:
    _, (code,) = issue_batch(registry, plan, 1)
    use(registry, code)
    started = voucher(code)
    assert started.status == "active" and in_index(started)

    clock.advance(HOUR + 1)
    report = run(clock)

    expired = voucher(code)
    assert expired.status == "expired" and report.vouchers_expired == 1
    assert expired.ended_at == started.expires_at  # when its time ran out, not when the job came by
    assert not in_index(expired)
    assert expired.ttl is not None
    retention = expired.ttl - clock.now
    assert timedelta(days=180) - timedelta(seconds=2) <= retention <= timedelta(days=180)

    assert expiry_events() == []  # not in the audit table until the outbox is drained
    AuditOutbox().drain()
    (event,) = expiry_events()
    assert event["actor_kind"] == "system" and event["user_agent"] == "kuota-scheduler"
    assert event["request_id"] == "job-run-1" and event.get("source_ip") is None
    assert event["target_type"] == "voucher" and event["after"] == {
        "status": "expired", "reason": "time_up", "site_id": SITE
    }  # fmt: skip


def test_a_voucher_not_yet_due_is_untouched(registry: Services, plan: Plan, clock: FakeClock) -> None:
    _, (code,) = issue_batch(registry, plan, 1)
    use(registry, code)
    clock.advance(HOUR - 60)
    report = run(clock)
    still = voucher(code)
    assert (report.vouchers_expired, still.status, still.gsi2sk) == (0, "active", still.expires_at)
    assert report.requests == 16  # one query per index shard, nothing else


def test_expiry_is_recorded_for_a_voucher_that_is_already_refused(
    registry: Services, plan: Plan, clock: FakeClock
) -> None:
    _, (code,) = issue_batch(registry, plan, 1)
    use(registry, code)
    clock.advance(2 * HOUR)
    # Redeem refuses by comparing times, before any job ran...
    with pytest.raises(VoucherExpired):
        use(registry, code)
    assert voucher(code).status == "active"
    # ...and the job writes it down.
    run(clock)
    assert voucher(code).status == "expired"


def test_index_entries_that_are_out_of_date_are_moved_or_dropped(clock: FakeClock) -> None:
    now = epoch(clock.now)
    # The index says due, but the voucher was given more time (entry not yet moved).
    extended = active_voucher("EXTENDED01", activated_at=now - 2 * HOUR, window=3 * HOUR)
    extended.update(actions=[Voucher.gsi2sk.set(now - HOUR)])
    # A revoked voucher whose index entry was left behind.
    revoked = active_voucher("REVOKED001", activated_at=now - 2 * HOUR)
    revoked.update(actions=[Voucher.status.set("revoked"), Voucher.ended_at.set(now - 90 * 60)])

    report = run(clock)

    assert (report.vouchers_expired, report.entries_moved, report.entries_removed) == (0, 1, 1)
    extended.refresh(consistent_read=True)
    assert extended.status == "active" and extended.gsi2sk == now + HOUR
    revoked.refresh(consistent_read=True)
    assert revoked.status == "revoked" and revoked.gsi2pk is None and revoked.ended_at == now - 90 * 60


def test_a_pos_voucher_expires_at_the_end_of_its_shelf_life_unless_activated(
    registry: Services, clock: FakeClock
) -> None:
    now = epoch(clock.now)
    unused = pos_voucher("POSUNUSED1", sold_at=now - 8 * DAY, shelf_life=7 * DAY)
    activated = pos_voucher("POSUSED001", sold_at=now - 8 * DAY, shelf_life=8 * DAY + HOUR)
    clock.advance(-30 * 60)
    use(registry, "POSUSED001")  # its index entry moves from the shelf life to its expiry, 30 minutes on
    clock.advance(30 * 60)

    report = run(clock)

    assert report.vouchers_expired == 1
    unused.refresh(consistent_read=True)
    assert unused.status == "expired" and unused.ended_at == unused.valid_until and unused.gsi2pk is None
    activated.refresh(consistent_read=True)
    assert activated.status == "active" and activated.gsi2sk == now + 30 * 60


# --- batches --------------------------------------------------------------------------------------


def test_unused_vouchers_of_a_batch_expire_with_its_shelf_life(
    registry: Services, plan: Plan, clock: FakeClock
) -> None:
    batch, codes = issue_batch(registry, plan, 5)
    used, revoked, extended, *unused = codes
    clock.advance(7 * DAY - 30 * 60)
    use(registry, used)  # an hour of access, running on past the batch's shelf life
    registry.vouchers.revoke(STAFF, ORG, revoked, "lost")
    registry.vouchers.extend(STAFF, ORG, extended, 24 * 60, "event moved")
    clock.advance(30 * 60 + 1)

    report = run(clock)

    assert (report.vouchers_expired, report.batches_processed) == (len(unused), 1)
    for code in unused:
        expired = voucher(code)
        assert expired.status == "expired" and expired.ended_at == epoch(batch.valid_until)
        assert expired.ttl is not None
    assert voucher(used).status == "active" and in_index(voucher(used))
    assert voucher(revoked).status == "revoked"
    assert voucher(extended).status == "issued" and in_index(voucher(extended))
    assert not in_index(Batch(*Batch.key(ORG, batch.batch_id)))

    AuditOutbox().drain()
    events = expiry_events()
    assert len(events) == len(unused)
    assert {event["after"]["reason"] for event in events} == {"shelf_life"}

    # A day later the extended voucher's own entry comes due; the used one's came first.
    clock.advance(DAY)
    assert run(clock).vouchers_expired == 2
    assert voucher(extended).status == "expired" and voucher(used).status == "expired"


def test_a_batch_still_being_issued_waits(registry: Services, plan: Plan, clock: FakeClock) -> None:
    batch, _ = issue_batch(registry, plan, 2)
    Batch(*Batch.key(ORG, batch.batch_id)).update(actions=[Batch.status.set("running")])
    clock.advance(8 * DAY)
    report = run(clock)
    assert (report.vouchers_expired, report.batches_processed) == (0, 0)
    assert in_index(Batch(*Batch.key(ORG, batch.batch_id)))


# --- runs repeated, at once, cut short ------------------------------------------------------------


def _due_world(registry: Services, plan: Plan, clock: FakeClock, *, batch_size: int, singles: int) -> int:
    issue_batch(registry, plan, batch_size)
    now = epoch(clock.now)
    for number in range(singles):
        active_voucher(f"SINGLE{number:04d}", activated_at=now + 6 * DAY)
    clock.advance(7 * DAY + 1)
    return batch_size + singles


def test_running_twice_changes_nothing_more(registry: Services, plan: Plan, clock: FakeClock) -> None:
    due = _due_world(registry, plan, clock, batch_size=30, singles=10)
    first = run(clock)
    assert (first.vouchers_expired, first.batches_processed, first.complete) == (due, 1, True)
    AuditOutbox().drain()

    second = run(clock)
    assert (second.vouchers_expired, second.batches_processed, second.requests) == (0, 0, 16)
    assert AuditOutbox().drain() == 0
    assert len(expiry_events()) == due


def test_entries_leaving_the_index_while_it_is_paged_through_are_not_missed(
    registry: Services, plan: Plan, clock: FakeClock
) -> None:
    due = _due_world(registry, plan, clock, batch_size=5, singles=40)
    report = ExpiryService(clock, page_size=2).run()
    assert (report.vouchers_expired, report.batches_processed) == (due, 1)
    assert run(clock).vouchers_expired == 0


def test_two_runs_at_once_expire_each_voucher_once(registry: Services, plan: Plan, clock: FakeClock) -> None:
    due = _due_world(registry, plan, clock, batch_size=120, singles=20)
    start = threading.Barrier(2)
    reports: list[ExpiryReport] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            start.wait()
            reports.append(ExpiryService(clock).run())
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(report.requests > 16 for report in reports)  # both found the work due: they did overlap
    assert sum(report.vouchers_expired for report in reports) == due
    assert sum(report.batches_processed for report in reports) == 1
    AuditOutbox().drain()
    events = expiry_events()
    assert len(events) == due
    assert len({event["target_id"] for event in events}) == due  # one per voucher, none twice


class Budget:
    """A deadline that runs out after a number of checks."""

    def __init__(self, checks: int) -> None:
        self.left = checks

    def __call__(self) -> float:
        self.left -= 1
        return 1.0 if self.left >= 0 else 0.0


def test_a_run_cut_short_is_finished_by_the_next_without_redoing_work(
    registry: Services, plan: Plan, clock: FakeClock
) -> None:
    batch, codes = issue_batch(registry, plan, 250)
    clock.advance(7 * DAY + 1)

    first = run(clock, deadline=Budget(140))

    assert not first.complete and 0 < first.vouchers_expired < 250
    progress = Batch.get(*Batch.key(ORG, batch.batch_id), consistent_read=True)
    assert progress.gsi2pk is not None and progress.expiry_done == first.vouchers_expired

    with counting_requests() as calls:
        second = run(clock)
    assert second.complete and first.vouchers_expired + second.vouchers_expired == 250
    remaining = 250 - first.vouchers_expired
    # The rest once each, a few progress saves and the batch's own update: nothing from the first run again.
    assert remaining < calls["UpdateItem"] <= remaining + 3
    assert not in_index(Batch(*Batch.key(ORG, batch.batch_id)))
    assert {voucher(code).status for code in codes} == {"expired"}
    AuditOutbox().drain()
    assert len(expiry_events()) == 250


def test_an_exhausted_deadline_stops_before_any_work(registry: Services, plan: Plan, clock: FakeClock) -> None:
    _due_world(registry, plan, clock, batch_size=3, singles=3)
    report = run(clock, deadline=lambda: 0.0)
    assert (report.complete, report.requests, report.vouchers_expired) == (False, 0, 0)


# --- cost -----------------------------------------------------------------------------------------


def _fill(clock: FakeClock, *, total: int, due: int, start: int) -> None:
    """`total` vouchers of one org: `due` of them past their expiry, a tenth running, the rest unused."""
    now = epoch(clock.now)
    items = []
    for number in range(start, start + total):
        voucher_hash = hashlib.sha256(f"cost-{number}".encode()).hexdigest()
        item = Voucher(
            *Voucher.key(voucher_hash), org_id=ORG, source_id="batch-cost", plan_id="p", plan_name="1 Jam",
            price=5000, duration_minutes=60, time_mode="wallclock", window_seconds=HOUR, max_devices=1,
            status="issued", issued_at=now - DAY, valid_until=now + 6 * DAY,
        )  # fmt: skip
        index = number - start
        if index < due or index % 10 == 0:
            activated = now - 2 * HOUR if index < due else now - 60
            item.status, item.activated_at, item.expires_at = "active", activated, activated + HOUR
            item.gsi2pk, item.gsi2sk = expiry_shard(voucher_hash), activated + HOUR
        items.append(item.serialize())
    write_items(Voucher, items)


def test_the_cost_of_a_run_follows_what_is_due_not_the_table_size(clock: FakeClock) -> None:
    _fill(clock, total=200, due=10, start=0)
    with counting_requests() as small:
        small_report = run(clock)
    _fill(clock, total=1800, due=10, start=200)  # the table now holds 2,000 vouchers
    with counting_requests() as large:
        large_report = run(clock)

    assert small_report.vouchers_expired == large_report.vouchers_expired == 10
    assert small == large == Counter({"Query": 16, "UpdateItem": 10})
    assert small_report.requests == large_report.requests == 26


# --- the scheduled handlers -----------------------------------------------------------------------


def _scheduled(api: Api, function: str) -> dict[str, Any]:
    event = api.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    return cast(dict[str, Any], api.client.lambda_.invoke(function, event).payload)


def test_the_scheduled_handlers_run_the_expiry_and_drain_the_outbox(api: Api) -> None:
    from chalicelib.services import utc_now

    active_voucher("HANDLER001", activated_at=epoch(utc_now()) - 2 * HOUR)
    report = _scheduled(api, "expire_vouchers")
    assert report["vouchers_expired"] == 1 and report["complete"] is True
    assert _scheduled(api, "drain_audit_outbox") == {"events_written": 1}
    (event,) = expiry_events()
    assert event["user_agent"] == "kuota-scheduler"


def test_make_dev_runs_the_jobs_until_stopped() -> None:
    from chalicelib.services import utc_now
    from infra.dev import run_jobs

    due = active_voucher("DEVLOOP001", activated_at=epoch(utc_now()) - 2 * HOUR)
    stop = threading.Event()
    thread = threading.Thread(target=run_jobs, args=(stop, 0.05, 0.05))
    thread.start()
    try:
        for _ in range(100):
            if expiry_events():
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    due.refresh(consistent_read=True)
    assert due.status == "expired" and len(expiry_events()) == 1
