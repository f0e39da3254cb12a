"""Reports keep their figures after TTL removes expired vouchers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from chalicelib.models import Voucher
from chalicelib.services.expiring import ExpiryService
from chalicelib.services.outbox import AuditOutbox
from tests.support import Api, FakeClock, Venue, World, dump_app_table, issue, redeem


def _report(api: Api, venue: Venue, day: str) -> dict[str, int]:
    path = f"/v1/orgs/{venue.tenant.org_id}/reports/sales?from={day}&to={day}"
    total = api.get(path, token=venue.tenant.owner.token).json["total"]
    return {"count": total["count"], "amount": total["amount"]}


def test_a_sold_voucher_still_counts_after_it_expired_and_ttl_deleted_it(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    codes = issue(api, world, venue, quantity=2, price=4000, duration_minutes=30)
    for code in codes:
        assert redeem(api, venue.controller_a, code).status == 200
    day = clock.now.astimezone(ZoneInfo("Asia/Jakarta")).date().isoformat()
    assert _report(api, venue, day) == {"count": 2, "amount": 8000}

    AuditOutbox().drain()  # the scheduled drain books each first redeem's sale in the ledger
    assert _report(api, venue, day) == {"count": 2, "amount": 8000}  # the voucher's line and its copy: once
    clock.advance(31 * 60)
    assert ExpiryService(clock).run(request_id="t").vouchers_expired == 2
    assert _report(api, venue, day) == {"count": 2, "amount": 8000}
    assert ExpiryService(clock).run(request_id="t").vouchers_expired == 0

    for item in dump_app_table():  # what TTL does, 180 days later
        if item["PK"]["S"].startswith("V#"):
            Voucher(item["PK"]["S"], item["SK"]["S"]).delete()
    assert _report(api, venue, day) == {"count": 2, "amount": 8000}
