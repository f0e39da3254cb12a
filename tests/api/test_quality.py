"""Service-quality figures: a seeded day of logins, rejects, accounting and controller calls, counted twice.

The test plays a day at a venue (HTTP controller and FreeRADIUS at site A, a controller at
site B) with the clock set for each call, computes the figures it expects from its own list of
what happened, and compares them with what `GET /v1/orgs/{org_id}/quality` says.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api.test_radius import NAS_A, access_request, accounting_request, radius_key, register_nas
from tests.support import Api, FakeClock, Reply, Tenant, Venue, World, issue

JAKARTA = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 10)
OTHER_MAC = "AA:BB:CC:00:11:23"


def local(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=JAKARTA).astimezone(UTC)


@contextmanager
def counting_requests() -> Iterator[Counter[str]]:
    """Every DynamoDB request any client in this process makes, by operation."""
    from botocore.client import BaseClient

    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return original(self, operation, params)

    BaseClient._make_api_call = counted
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


def drain() -> int:
    from chalicelib.api.deps import services
    from chalicelib.services.outbox import AuditOutbox

    return AuditOutbox(services().audit).drain()


@dataclass
class Shop:
    tenant: Tenant
    site_a: str
    site_b: str
    controller_a: str
    controller_b: str
    radius: str

    @property
    def venue(self) -> Venue:
        return Venue(self.tenant, self.site_a, self.site_b, self.controller_a, self.controller_b, key_id_a="")


@pytest.fixture
def shop(clock: FakeClock, api: Api, world: World) -> Shop:
    """An org with sites A and B (Jakarta), created just after midnight of DAY; a router at A for FreeRADIUS.

    People sign in first, at the real time: access tokens are checked against the real clock.
    """
    tenant = world.org()
    world.member(tenant, "auditor")
    clock.now = local(DAY, 0, 1)
    site_a, site_b = world.site(tenant, "A"), world.site(tenant, "B")
    _, controller_a = world.key(tenant, site_a)
    _, controller_b = world.key(tenant, site_b)
    register_nas(api, tenant.org_id, site_a, tenant.owner.token, nas_identifier=NAS_A)
    return Shop(tenant, site_a, site_b, controller_a, controller_b, radius_key(api, tenant.org_id, tenant.owner.token))


# --- what happened, and what it should add up to -------------------------------------------------------------


@dataclass
class Call:
    """One controller call: when (local time on DAY), at which site, and what the site was told."""

    at: tuple[int, int]
    site: str
    outcome: str  # "accepted", an error code, or "reported" (accounting)
    session: str | None = None  # accounting: the session, its cumulative bytes and time, and whether it stopped
    octets: int = 0
    seconds: int = 0
    stop: bool = False
    counted: bool = True  # accounting: False for a report older than what the session already reported


@dataclass
class Expected:
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    bytes_by_session: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    intervals: set[int] = field(default_factory=set)


def expected_figures(calls: list[Call]) -> dict[str, Expected]:
    """The figures each site should show, from the list alone."""
    sites: dict[str, Expected] = {}
    for call in calls:
        figures = sites.setdefault(call.site, Expected())
        figures.intervals.add((call.at[0] * 60 + call.at[1]) // 5)  # every call shows the controller is up
        if call.outcome == "accepted":
            figures.accepted += 1
        elif call.outcome != "reported":
            figures.rejected[call.outcome] += 1
        elif call.counted and call.session is not None:
            # Counters are cumulative: a session's data is the most it reported; its length, its first stop.
            figures.bytes_by_session[call.session] = max(figures.bytes_by_session.get(call.session, 0), call.octets)
            if call.stop:
                figures.lengths.setdefault(call.session, call.seconds)
    return sites


def as_row(site_id: str, day: date, figures: Expected, elapsed_intervals: int) -> dict[str, Any]:
    rejects = sum(n for code, n in figures.rejected.items() if code not in ("invalid_code", "service_suspended"))
    return {
        "site_id": site_id,
        "day": day.isoformat(),
        "accepted": figures.accepted,
        "rejected": dict(figures.rejected),
        "reject_rate": rejects / (figures.accepted + rejects) if figures.accepted + rejects else 0.0,
        "sessions": len(figures.bytes_by_session),
        "bytes": sum(figures.bytes_by_session.values()),
        "median_session_s": float(statistics.median(figures.lengths.values())) if figures.lengths else None,
        "median_exact": True,
        "availability": len(figures.intervals) / elapsed_intervals,
    }


def by_day_and_site(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: (row["day"], row["site_id"]))


def quality(api: Api, shop: Shop, start: date, end: date, token: str | None = None) -> list[dict[str, Any]]:
    org = shop.tenant.org_id
    reply = api.get(f"/v1/orgs/{org}/quality?from={start}&to={end}", token=token or shop.tenant.owner.token)
    assert reply.status == 200, reply.body
    rows = reply.json["days"]
    for row in rows:
        assert row.pop("org_id") == org
    return list(rows)


# --- the day -----------------------------------------------------------------------------------------------------


class Day:
    """Plays calls at the venue with the clock at each call's time, checking each answer as it goes."""

    def __init__(self, api: Api, shop: Shop, clock: FakeClock) -> None:
        self.api, self.shop, self.clock = api, shop, clock
        self.calls: list[Call] = []

    def _at(self, at: tuple[int, int]) -> None:
        self.clock.now = local(DAY, *at)

    def redeem(self, at: tuple[int, int], site: str, code: str, mac: str, outcome: str) -> None:
        self._at(at)
        key = self.shop.controller_a if site == "A" else self.shop.controller_b
        reply = self.api.post("/v1/redeem", {"code": code, "mac": mac}, token=key)
        assert (reply.error_code or "accepted") == outcome, (at, reply.body)
        self.calls.append(Call(at, site, outcome))

    def report(self, at: tuple[int, int], site: str, code: str, mac: str, session: str, event: str, octets: int,
               seconds: int, *, counted: bool = True) -> None:  # fmt: skip
        self._at(at)
        key = self.shop.controller_a if site == "A" else self.shop.controller_b
        body = {"code": code, "mac": mac, "session_id": session, "event": event, "input_octets": octets // 3,
                "output_octets": octets - octets // 3, "session_time": seconds}  # fmt: skip
        reply = self.api.post("/v1/accounting", body, token=key)
        assert reply.status == 200, reply.body
        self.calls.append(Call(at, site, "reported", f"{site}:{session}", octets, seconds, event == "stop", counted))

    def radius_login(self, at: tuple[int, int], body: dict[str, Any], outcome: str) -> None:
        self._at(at)
        reply = self.api.post("/v1/radius/authorize", body, token=self.shop.radius)
        assert reply.headers["X-Kuota-Reason"] == outcome, reply.body
        self.calls.append(Call(at, "A", outcome))

    def radius_report(self, at: tuple[int, int], code: str, mac: str, session: str, status: str, octets: int,
                      seconds: int, *, counted: bool = True) -> Reply:  # fmt: skip
        self._at(at)
        body = accounting_request(code, status, session=session, mac=mac, octets_in=octets // 2,
                                  octets_out=octets - octets // 2, time=seconds)  # fmt: skip
        reply = self.api.post("/v1/radius/accounting", body, token=self.shop.radius)
        assert reply.status == 200, reply.body
        self.calls.append(Call(at, "A", "reported", f"radius:{session}", octets, seconds, status == "Stop", counted))
        return reply


def play_the_day(api: Api, world: World, shop: Shop, clock: FakeClock) -> Day:
    org, owner = shop.tenant.org_id, shop.tenant.owner.token
    venue = shop.venue
    c1, c2, c3, c4 = issue(api, world, venue, 4, duration_minutes=120, max_devices=2)
    (short,) = issue(api, world, venue, duration_minutes=5)
    (only_b,) = issue(api, world, venue, site_id=shop.site_b)
    (revoked,) = issue(api, world, venue)
    reply = api.post(f"/v1/orgs/{org}/vouchers/{revoked}/revoke", {"reason": "lost card"}, token=owner)
    assert reply.status == 200, reply.body
    mac1, mac2, mac3, mac4, mac_r, mac_b = (f"AA:BB:CC:00:00:{n:02X}" for n in range(1, 7))

    day = Day(api, shop, clock)
    # Site A, HTTP controller: logins, reconnects and refusals of several kinds.
    day.redeem((8, 0), "A", c1, mac1, "accepted")
    day.redeem((8, 3), "A", c1, mac1, "accepted")  # a reconnect is a login too
    day.redeem((8, 20), "A", c1, mac2, "accepted")
    day.redeem((8, 21), "A", c1, mac3, "device_limit_reached")
    day.redeem((8, 40), "A", "ZZZZ-ZZZZ-ZZ", mac3, "invalid_code")
    day.redeem((9, 0), "A", only_b, mac3, "wrong_site")
    day.redeem((9, 10), "A", revoked, mac3, "voucher_revoked")
    day.redeem((9, 15), "A", short, mac3, "accepted")
    day.redeem((9, 25), "A", short, mac3, "voucher_expired")
    for minute in (30, 31, 32):
        day.redeem((9, minute), "A", c2, mac4, "accepted")
    # A session over two interim reports, one arriving late, a stop sent twice and an interim after it.
    day.report((8, 5), "A", c1, mac1, "s-1", "start", 0, 0)
    day.report((8, 10), "A", c1, mac1, "s-1", "interim", 1000, 300)
    day.report((8, 15), "A", c1, mac1, "s-1", "interim", 5000, 600)
    day.report((8, 16), "A", c1, mac1, "s-1", "interim", 1000, 300, counted=False)  # older: out of order
    day.report((8, 50), "A", c1, mac1, "s-1", "stop", 8000, 900)
    day.report((8, 52), "A", c1, mac1, "s-1", "stop", 8000, 900)  # retried
    day.report((8, 58), "A", c1, mac1, "s-1", "interim", 8000, 900, counted=False)  # after its stop
    day.report((9, 5), "A", c1, mac1, "s-1", "interim", 9000, 1000)  # the same id used again: it moved on
    day.report((8, 25), "A", c1, mac2, "s-2", "start", 100, 0)
    day.report((9, 40), "A", c1, mac2, "s-2", "interim", 20000, 4500)  # never stops: no length
    day.report((9, 35), "A", c2, mac4, "s-3", "stop", 3000, 120)  # first seen at its stop
    # Site A through FreeRADIUS: its own rejects, the redeem's, an accept and a session.
    day.radius_login((10, 0), access_request("QQQQ-QQQQ-QQ", mac=mac_r), "invalid_code")
    day.radius_login((10, 5), access_request(c3, mac=None), "device_unknown")
    day.radius_login((10, 10), access_request(c3, mac=mac_r), "accepted")
    day.radius_login((10, 11), access_request(c3, mac=mac_r, password="not-the-code"), "invalid_code")
    day.radius_report((10, 15), c3, mac_r, "81a0", "Start", 0, 0)
    day.radius_report((10, 20), c3, mac_r, "81a0", "Interim-Update", 4096, 300)
    day.radius_report((10, 30), c3, mac_r, "81a0", "Stop", 9000, 1200)
    day.radius_report((10, 31), c3, mac_r, "81a0", "Stop", 9000, 1200)  # retried
    # Site B.
    day.redeem((11, 0), "B", c4, mac_b, "accepted")
    day.redeem((11, 5), "B", "YYYY-YYYY-YY", mac_b, "invalid_code")
    day.report((11, 7), "B", c4, mac_b, "s-b", "stop", 500, 60)
    return day


def test_a_days_figures_equal_what_the_test_counts_itself(
    clock: FakeClock, api: Api, world: World, shop: Shop
) -> None:
    day = play_the_day(api, world, shop, clock)
    expected = expected_figures(day.calls)
    assert expected["A"].accepted == 8 and expected["A"].rejected["invalid_code"] == 3  # the story as written

    # Accepted logins are counted when their audit events are drained; a second drain counts nothing twice.
    clock.now = local(DAY, 12, 2)
    assert drain() >= 9
    assert drain() == 0
    elapsed = 12 * 12 + 1  # today: 00:00 to the interval of 12:02, that one included
    assert quality(api, shop, DAY, DAY) == by_day_and_site([
        as_row(shop.site_a, DAY, expected["A"], elapsed),
        as_row(shop.site_b, DAY, expected["B"], elapsed),
    ])

    # The next day: DAY is over (of 288 intervals); the new day is there, empty; the day before the sites, not.
    clock.now = local(DAY + timedelta(days=1), 0, 30)
    drain()
    rows = quality(api, shop, DAY - timedelta(days=1), DAY + timedelta(days=1), token=world.member(shop.tenant,
                                                                                                   "auditor").token)
    empty = Expected()
    assert rows == by_day_and_site([
        as_row(shop.site_a, DAY, expected["A"], 288),
        as_row(shop.site_b, DAY, expected["B"], 288),
        as_row(shop.site_a, DAY + timedelta(days=1), empty, 7),
        as_row(shop.site_b, DAY + timedelta(days=1), empty, 7),
    ])
    (site_a,) = [row for row in rows if row["site_id"] == shop.site_a and row["day"] == DAY.isoformat()]
    assert site_a["reject_rate"] == pytest.approx(5 / 13)  # device limit, wrong site, revoked, expired, no MAC
    assert site_a["median_session_s"] == 900.0  # of 120, 900 and 1200 s

    # The platform sees the same figures, with the organisation named.
    reply = api.get(f"/v1/platform/quality?from={DAY}&to={DAY}", token=world.admin.token)
    assert reply.status == 200, reply.body
    assert [row for row in reply.json["days"] if row["org_id"] == shop.tenant.org_id] == by_day_and_site([
        {**as_row(shop.site_a, DAY, expected["A"], 288), "org_id": shop.tenant.org_id},
        {**as_row(shop.site_b, DAY, expected["B"], 288), "org_id": shop.tenant.org_id},
    ])


def test_a_successful_redeem_is_still_one_write(clock: FakeClock, api: Api, world: World, shop: Shop) -> None:
    (code,) = issue(api, world, shop.venue)
    api.post("/v1/redeem", {"code": "WARM-UP-CACHE", "mac": OTHER_MAC}, token=shop.controller_a)  # caches the key
    for _ in range(2):  # first use, then a reconnect
        with counting_requests() as calls:
            assert api.post("/v1/redeem", {"code": code, "mac": OTHER_MAC}, token=shop.controller_a).status == 200
        writes = {name: n for name, n in calls.items() if name not in ("GetItem", "Query")}
        assert writes == {"UpdateItem": 1}


def test_a_rejected_login_writes_one_small_update(clock: FakeClock, api: Api, shop: Shop) -> None:
    api.post("/v1/redeem", {"code": "WARM-UP-CACHE", "mac": OTHER_MAC}, token=shop.controller_a)  # caches the key
    with counting_requests() as calls:
        assert api.post("/v1/redeem", {"code": "NOPE-NOPE-NO", "mac": OTHER_MAC},
                        token=shop.controller_a).error_code == "invalid_code"  # fmt: skip
    # The refused redeem itself, the failure counters (per device, per site), and now the day's figures.
    assert calls == Counter({"UpdateItem": 4})


# --- a month, read in a bounded number of requests -------------------------------------------------------------


def test_a_month_is_read_in_two_queries_per_organisation(clock: FakeClock, api: Api, world: World) -> None:
    from chalicelib.api.deps import services
    from chalicelib.models.quality import add_length, update_day

    tenants = [world.org(f"Warung {n}") for n in range(3)]  # signed in at the real time (tokens)
    clock.now = local(DAY - timedelta(days=40), 9, 0)
    sites = [world.site(tenants[0], name) for name in ("A", "B")]
    first = DAY - timedelta(days=29)
    for offset in range(30):
        day = first + timedelta(days=offset)
        for number, site_id in enumerate(sites):
            counts = {"accepted": offset + number, "rej_wrong_site": 1, "sessions": 2, "bytes": 1000}
            update_day(tenants[0].org_id, day, site_id, interval=offset, counts=counts)
            for hour, seconds in ((8, 60 * offset), (9, 120), (20, 7200)):
                add_length(tenants[0].org_id, day, site_id, hour, seconds, tag=hour)
    clock.now = local(DAY + timedelta(days=1), 9, 0)

    with counting_requests() as calls:
        days = services().quality.days(tenants[0].org_id, first, DAY)
    assert calls == Counter({"Query": 2})  # the sites, then every item of the month in one query
    assert len(days) == 60
    assert sorted((d.day, d.accepted, d.sessions, d.bytes, d.median_session_s, d.availability) for d in days[:2]) == [
        (first, 0, 2, 1000, 120.0, 1 / 288),
        (first, 1, 2, 1000, 120.0, 1 / 288),
    ]
    assert days[-1].median_session_s == 60 * 29 and days[-1].rejected == {"wrong_site": 1}
    assert days[-1].reject_rate == pytest.approx(1 / (days[-1].accepted + 1))

    with counting_requests() as calls:
        reply = api.get(f"/v1/orgs/{tenants[0].org_id}/quality?from={first}&to={DAY}", token=tenants[0].owner.token)
    assert reply.status == 200 and len(reply.json["days"]) == 60
    assert calls["Query"] == 2 and calls.total() <= 4  # + the caller's user (and org) by key

    with counting_requests() as calls:
        services().quality.all_days(first, DAY)
    assert calls == Counter({"Query": 1 + 2 * len(tenants)})  # the org listing, then two per organisation


def test_the_range_and_the_site_are_checked(clock: FakeClock, api: Api, shop: Shop) -> None:
    org, owner = shop.tenant.org_id, shop.tenant.owner.token
    one_site = api.get(f"/v1/orgs/{org}/quality?from={DAY}&to={DAY}&site_id={shop.site_b}", token=owner)
    assert [row["site_id"] for row in one_site.json["days"]] == [shop.site_b]
    assert api.get(f"/v1/orgs/{org}/quality?from={DAY}&to={DAY}&site_id=nosuchsite", token=owner).status == 404
    too_long = api.get(f"/v1/orgs/{org}/quality?from=2026-01-01&to=2026-04-02", token=owner)  # 92 days: fine
    assert too_long.status == 200
    refused = api.get(f"/v1/orgs/{org}/quality?from=2026-01-01&to=2026-04-03", token=owner)
    assert (refused.status, refused.json["error"]["field"]) == (400, "to")
    backwards = api.get(f"/v1/orgs/{org}/quality?from=2026-01-02&to=2026-01-01", token=owner)
    assert backwards.status == 400
    assert api.get(f"/v1/orgs/{org}/quality?from=2026-1-1&to=2026-01-02", token=owner).status == 400


def test_past_the_exact_bound_the_median_is_an_estimate(
    clock: FakeClock, api: Api, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.api.deps import services
    from chalicelib.models import quality as storage
    from chalicelib.models.quality import add_length

    monkeypatch.setattr(storage, "LENGTHS_PER_HOUR", 3)
    org = shop.tenant.org_id
    for tag, seconds in enumerate((100, 200, 300, 1000, 1100, 1200, 1300)):
        add_length(org, DAY, shop.site_a, 10, seconds, tag)
    (figures,) = services().quality.days(org, DAY, DAY, site_id=shop.site_a)
    assert not figures.median_exact
    assert figures.median_session_s is not None and 1000 * 0.8 < figures.median_session_s < 1000 * 1.25


def test_an_opennds_site_counts_its_guest_logins_and_its_polls(
    clock: FakeClock, api: Api, world: World, shop: Shop
) -> None:
    from tests.api.test_fas import _configure, _guest_arrives, _router, _session

    router = _router(api, _configure(api, shop.venue))
    (code,) = issue(api, world, shop.venue)
    clock.now = local(DAY, 7, 0)
    token = _session(api, _guest_arrives(api, router))
    wrong = api.post("/v1/fas/login", {"site_id": shop.site_a, "client_token": token, "code": "WRON-GCOD-EX"})
    assert wrong.error_code == "invalid_code"
    assert api.post("/v1/fas/login", {"site_id": shop.site_a, "client_token": token, "code": code}).status == 200
    view = {"auth_get": "view", "gatewayhash": router.gatewayhash, "payload": "bm9uZQ=="}  # "none"
    polls = {(7, 10): 2, (7, 12): 1, (9, 0): 1}  # authmon polls every few seconds; 7:10 and 7:12 share an interval
    writes = 0
    for (hour, minute), count in polls.items():
        clock.now = local(DAY, hour, minute)
        for _ in range(count):
            with counting_requests() as calls:
                assert router.post(router.fas_url, view).startswith("*")
            writes += calls["UpdateItem"]
    assert writes == 2  # the interval is written once per container: 7:10 and 9:00 (7:12 is the same interval)

    clock.now = local(DAY + timedelta(days=1), 0, 0)
    drain()
    (figures,) = [row for row in quality(api, shop, DAY, DAY) if row["site_id"] == shop.site_a]
    assert (figures["accepted"], figures["rejected"]) == (1, {"invalid_code": 1})
    assert figures["availability"] == 3 / 288  # 7:00 (the logins), 7:10, 9:00


def test_the_median_of_a_few_thousand_sessions_a_day_is_exact(clock: FakeClock, shop: Shop) -> None:
    """What accounting writes for 3,000 stopped sessions spread over a day (through the recorder it calls)."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.api.deps import services

    rng = random.Random(14)
    stops = [(local(DAY, rng.randrange(24), rng.randrange(60)), rng.randrange(30, 4 * 3600)) for _ in range(3000)]
    recorder = services().redeem.quality
    org = shop.tenant.org_id

    def account(numbered: tuple[int, tuple[datetime, int]]) -> None:
        number, (at, seconds) = numbered
        recorder.accounted(org, shop.site_a, at, new_session=True, added_bytes=seconds * 10, stopped_after=seconds,
                           tag=number)  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(account, enumerate(stops)))
    clock.now = local(DAY + timedelta(days=1), 0, 0)
    (figures,) = services().quality.days(org, DAY, DAY, site_id=shop.site_a)
    lengths = [seconds for _, seconds in stops]
    assert (figures.sessions, figures.bytes) == (3000, 10 * sum(lengths))
    assert figures.median_exact and figures.median_session_s == statistics.median(lengths)


def test_logins_refused_while_a_site_is_suspended_are_counted_but_not_in_the_reject_rate(
    clock: FakeClock, api: Api, world: World, shop: Shop
) -> None:
    org = shop.tenant.org_id
    code, bound_to_a = issue(api, world, shop.venue, 2), issue(api, world, shop.venue, site_id=shop.site_a)[0]
    clock.now = local(DAY, 11, 0)
    assert api.post("/v1/redeem", {"code": code[0], "mac": OTHER_MAC}, token=shop.controller_b).status == 200
    assert api.post("/v1/redeem", {"code": bound_to_a, "mac": OTHER_MAC},
                    token=shop.controller_b).error_code == "wrong_site"  # fmt: skip
    clock.now = local(DAY, 12, 0)
    move = {"stage": "suspended", "reason": "manual", "note": "Jalur rumah, bukan jalur usaha"}
    assert api.post(f"/v1/platform/orgs/{org}/sites/{shop.site_b}/stage", move, token=world.admin.token).status == 200
    for _ in range(2):
        refused = api.post("/v1/redeem", {"code": code[1], "mac": OTHER_MAC}, token=shop.controller_b)
        assert refused.error_code == "service_suspended"

    clock.now = local(DAY + timedelta(days=1), 0, 0)
    drain()
    (figures,) = [row for row in quality(api, shop, DAY, DAY) if row["site_id"] == shop.site_b]
    assert (figures["accepted"], figures["rejected"]) == (1, {"service_suspended": 2, "wrong_site": 1})
    assert figures["reject_rate"] == 0.5  # the wrong site only, over it and the accepted login


def test_the_compliance_job_compares_yesterdays_figures_with_the_policy(
    clock: FakeClock, api: Api, world: World, shop: Shop
) -> None:
    from chalicelib.api.deps import services
    from chalicelib.auth.principal import scheduler_actor
    from tests.support import audit_events

    (code,) = issue(api, world, shop.venue, duration_minutes=24 * 60)
    for hour in range(8, 20):  # site A's controller calls every hour: 12 intervals of 288
        clock.now = local(DAY, hour, 0)
        assert api.post("/v1/redeem", {"code": code, "mac": OTHER_MAC}, token=shop.controller_a).status == 200
    clock.now = local(DAY + timedelta(days=1), 8, 0)  # the next UTC day: DAY is "yesterday"
    drain()
    services().compliance.advance(scheduler_actor("test-quality"))
    triggered = {event["target_id"]: event["after"] for event in audit_events(shop.tenant.org_id)
                 if event["action"] == "compliance.triggered"}  # fmt: skip
    assert set(triggered) == {shop.site_a, shop.site_b}  # B's controller never called
    assert triggered[shop.site_a]["reason"] == "quality_breach" and triggered[shop.site_a]["policy"] == "record"
    assert "availability 4%" in triggered[shop.site_a]["note"]
