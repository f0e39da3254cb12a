"""A top-up sold while the code is in use: logins and accounting racing it lose nothing, and it sells once.

The top-up's limits are additions DynamoDB evaluates (`ADD window_seconds`, `expires_at + :seconds`),
a login computes its expiry from `window_seconds`, and accounting never writes the limits: these
tests race them for real, threads against DynamoDB Local through the API, and count what is left.
A staff extend, which writes limits computed from its read, is made to lose that race on purpose.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest

from chalicelib.codes import code_hash
from chalicelib.models import LedgerEntry, Sale, Voucher
from chalicelib.plan_rules import MB
from tests.support import Api, FakeClock, Reply, Venue, World, issue, redeem

MINUTES, DATA_MB = 60, 100  # the voucher's plan
TOPUP_MINUTES, TOPUP_MB = 120, 50  # the top-up plan's


@dataclass(frozen=True)
class Code:
    org_id: str
    code: str
    topup_plan: str

    def stored(self) -> Voucher:
        return Voucher.get(*Voucher.key(code_hash(self.org_id, self.code)), consistent_read=True)


def topup_sales(org_id: str) -> list[Sale]:
    return [sale for sale in Sale.query(f"ORG#{org_id}", Sale.sk.startswith("SALE#"), consistent_read=True)
            if sale.kind == "topup"]  # fmt: skip


def ledger_lines(org_id: str) -> list[LedgerEntry]:
    return list(LedgerEntry.query(f"ORG#{org_id}", LedgerEntry.sk.startswith("LEDGER#"), consistent_read=True))


def mac(n: int) -> str:
    return f"02:00:00:00:{n // 256:02x}:{n % 256:02x}"


def in_use(api: Api, world: World, venue: Venue, devices: int) -> Code:
    """A code in use on `devices` devices, and a top-up plan to sell onto it."""
    (code,) = issue(api, world, venue, duration_minutes=MINUTES, data_quota_mb=DATA_MB, max_devices=40)
    for n in range(devices):
        assert redeem(api, venue.controller_a, code, mac(n)).status == 200
    topup = world.plan(venue.tenant, name="Tambah 2 Jam", price=3000, kind="topup", duration_minutes=TOPUP_MINUTES,
                       data_quota_mb=TOPUP_MB)  # fmt: skip
    return Code(venue.tenant.org_id, code, topup)


def race(operations: list[Callable[[], Reply]], spread: list[float] | None = None) -> list[Reply]:
    """Run every operation in its own thread, released together (each `spread` seconds later); their replies."""
    replies: list[Reply | BaseException | None] = [None] * len(operations)
    start = threading.Barrier(len(operations))

    def run(index: int) -> None:
        start.wait()
        if spread:
            time.sleep(spread[index])
        try:
            replies[index] = operations[index]()
        except BaseException as exc:  # reported below, with the others' outcomes
            replies[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(operations))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [reply for reply in replies if not isinstance(reply, Reply)]
    assert not failures, failures
    return [reply for reply in replies if isinstance(reply, Reply)]


def test_a_topup_racing_logins_and_accounting_adds_exactly_once_and_loses_no_report(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    online = 4  # devices already online, reporting their sessions' cumulative counters
    code = in_use(api, world, venue, online)
    before = code.stored()
    # Four sessions, 3 or 4 interim reports each (cumulative: a later one is larger); fifteen new devices.
    reports = [(device, k, (k + 1) * (device + 1) * 1_000_000) for device in range(online)
               for k in range(4 if device < 2 else 3)]  # fmt: skip

    def account(device: int, k: int, octets: int) -> Callable[[], Reply]:
        body = {"code": code.code, "mac": mac(device), "session_id": f"sesi-{device}", "event": "interim",
                "input_octets": octets // 4, "output_octets": octets - octets // 4, "session_time": (k + 1) * 60}
        return lambda: api.post("/v1/accounting", body, token=venue.controller_a)  # fmt: skip

    def login(n: int) -> Callable[[], Reply]:
        return lambda: redeem(api, venue.controller_a, code.code, mac(n))

    def top_up() -> Reply:
        path = f"/v1/orgs/{code.org_id}/vouchers/{code.code}/topup"
        return api.post(path, {"plan_id": code.topup_plan}, token=venue.tenant.owner.token)

    operations: list[tuple[str, Callable[[], Reply]]] = [("topup", top_up)]
    operations += [("account", account(*report)) for report in reports]
    operations += [("login", login(online + n)) for n in range(30 - len(operations))]
    assert len(operations) == 30
    chance = random.Random(16)
    chance.shuffle(operations)
    # A login takes a tenth of what the top-up's transaction does: spread the starts over about the
    # top-up's length, so that logins and reports land before, during and after it.
    replies = race([operation for _, operation in operations], [chance.uniform(0, 2.0) for _ in operations])
    outcomes = Counter((kind, reply.status) for (kind, _), reply in zip(operations, replies, strict=True))
    assert outcomes == {("topup", 201): 1, ("account", 200): len(reports), ("login", 200): 30 - 1 - len(reports)}
    [sale] = topup_sales(code.org_id)
    [line] = ledger_lines(code.org_id)
    assert (sale.plan_id, sale.total, line.sale_id, line.rev_amount) == (code.topup_plan, 3000, sale.sale_id, 3000)

    after = code.stored()
    assert int(after.window_seconds) == int(before.window_seconds) + TOPUP_MINUTES * 60
    assert int(after.quota_bytes) == int(before.quota_bytes) + TOPUP_MB * MB
    assert int(after.expires_at) == int(after.activated_at) + int(after.window_seconds)
    assert int(after.expires_at) == int(before.expires_at) + TOPUP_MINUTES * 60
    last = {device: max(octets for d, _, octets in reports if d == device) for device in range(online)}
    assert int(after.used_bytes) == sum(last.values())  # each session's last report, none lost
    assert len(after.devices) == 30 - len(reports) - 1 + online
    # Every login answered the expiry as it stood then: before or after the top-up, never anything else.
    expiries = {_epoch(reply.json["expires_at"]) for (kind, _), reply in zip(operations, replies, strict=True)
                if kind == "login"}  # fmt: skip
    assert expiries <= {int(before.expires_at), int(after.expires_at)}, expiries
    shown = api.get(f"/v1/orgs/{code.org_id}/vouchers/{code.code}", token=venue.tenant.owner.token).json
    assert [event["event"] for event in shown["timeline"]].count("topped_up") == 1


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_a_pos_topup_retried_from_five_threads_with_one_key_sells_once(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    code = in_use(api, world, venue, 1)
    before = code.stored()
    _, pos_key = world.key(venue.tenant, venue.site_a, kind="pos")

    def top_up() -> Reply:
        return api.post("/v1/pos/topups", {"code": code.code, "plan_id": code.topup_plan}, token=pos_key,
                        headers={"Idempotency-Key": "kasir-1-struk-0042"})  # fmt: skip

    replies = race([top_up] * 5)
    done = [reply for reply in replies if reply.status == 201]
    assert done and all(reply.status == 409 for reply in replies if reply.status != 201), [r.body for r in replies]
    [sale] = topup_sales(code.org_id)
    assert {reply.json["sale_id"] for reply in done} == {sale.sale_id}
    assert len(ledger_lines(code.org_id)) == 1
    after = code.stored()
    assert int(after.window_seconds) == int(before.window_seconds) + TOPUP_MINUTES * 60
    assert int(after.quota_bytes) == int(before.quota_bytes) + TOPUP_MB * MB
    # The till, told 409 while the first attempt ran, retries once more: the same sale, nothing added.
    again = top_up()
    assert (again.status, again.json["sale_id"]) == (201, sale.sale_id)
    assert int(code.stored().window_seconds) == int(after.window_seconds) and len(topup_sales(code.org_id)) == 1


def test_an_extend_overtaken_by_a_topup_never_undoes_the_topups_minutes(
    api: Api, world: World, venue: Venue, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff extend a code (an outage) while a cashier sells it a top-up: the top-up lands between the
    extend's read and its write. Both count, or the extend is refused to be tried again; never a loss."""
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import Actor, Principal, RequestMeta
    from chalicelib.auth.roles import Role

    code = in_use(api, world, venue, 1)
    before = code.stored()
    owner = venue.tenant.owner
    cashier = Actor(Principal(kind="user", id=owner.user_id, org_id=code.org_id, role=Role.OWNER),
                    RequestMeta(source_ip="127.0.0.1", user_agent="test", request_id="topup"))  # fmt: skip
    vouchers = services().vouchers
    read = vouchers.find
    overtaken: list[str] = []

    def find_then_top_up(org_id: str, text: str) -> Voucher:
        voucher = read(org_id, text)
        if not overtaken:  # the extend's read (the top-up's own read comes through here too, after it)
            overtaken.append("extend read")
            services().topups.top_up(cashier, org_id, text, code.topup_plan, site_id=None, seller_id=owner.user_id)
        return voucher

    monkeypatch.setattr(vouchers, "find", find_then_top_up)
    path = f"/v1/orgs/{code.org_id}/vouchers/{code.code}/extend"
    extended = api.post(path, {"minutes": 30, "reason": "gangguan jaringan"}, token=owner.token)
    after = code.stored()
    assert len(overtaken) == 1 and len(topup_sales(code.org_id)) == 1
    if extended.status == 200:
        assert int(after.window_seconds) == int(before.window_seconds) + (TOPUP_MINUTES + 30) * 60
    else:
        assert extended.status == 409, extended.body  # look again and retry: the top-up stands meanwhile
        assert int(after.window_seconds) == int(before.window_seconds) + TOPUP_MINUTES * 60
    assert int(after.expires_at) == int(after.activated_at) + int(after.window_seconds)
