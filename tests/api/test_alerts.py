"""Anomaly alerts: each raised when someone provokes it, none on a normal day, listed for those who watch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.api import deps
from chalicelib.auth.principal import Actor, Principal, RequestMeta
from chalicelib.auth.roles import Role
from chalicelib.config import get_settings
from chalicelib.models import Site
from tests.support import Api, FakeClock, Member, Tenant, World, audit_events, redeem

DEVICE = "AA:BB:CC:00:11:22"
JAKARTA = ZoneInfo("Asia/Jakarta")
# The sites open 3 hours before the test starts and close 9 hours after it, so the test begins in
# business hours whenever it runs (access tokens are checked against the real time: the test
# clock cannot start at a fixed date), and 10 hours after its start it is off hours.
OFF_HOURS_LATER = timedelta(hours=10)


@dataclass
class Shop:
    tenant: Tenant
    site_a: str
    site_b: str
    controller_a: str
    controller_b: str
    key_id_b: str
    plan_id: str
    manager: Member
    cashier: Member
    auditor: Member
    start: datetime  # in business hours

    @property
    def org(self) -> str:
        return f"/v1/orgs/{self.tenant.org_id}"


@pytest.fixture
def shop(api: Api, world: World, clock: FakeClock) -> Shop:
    """An org with two Jakarta sites, a controller at each, a plan and its staff; set up in business hours."""
    local = clock.now.astimezone(JAKARTA)
    hours = {"opens": f"{local - timedelta(hours=3):%H:%M}", "closes": f"{local + timedelta(hours=9):%H:%M}"}
    tenant = world.org()

    def site(name: str) -> str:
        body = {"name": name, "timezone": "Asia/Jakarta", "business_hours": hours}
        reply = api.post(f"/v1/orgs/{tenant.org_id}/sites", body, token=tenant.owner.token)
        assert reply.status == 201, reply.body
        return str(reply.json["site_id"])

    site_a, site_b = site("Cabang Kota"), site("Cabang Pantai")
    _, controller_a = world.key(tenant, site_a)
    key_id_b, controller_b = world.key(tenant, site_b)
    return Shop(
        tenant, site_a, site_b, controller_a, controller_b, key_id_b, world.plan(tenant),
        world.member(tenant, "manager"), world.member(tenant, "cashier"), world.member(tenant, "auditor"),
        start=clock.now,
    )  # fmt: skip


def alerts(api: Api, shop: Shop, token: str | None = None, query: str = "") -> list[dict[str, Any]]:
    reply = api.get(f"{shop.org}/alerts{'?' + query if query else ''}", token=token or shop.tenant.owner.token)
    assert reply.status == 200, reply.body
    return list(reply.json["alerts"])


def sell(api: Api, shop: Shop, seller: Member, quantity: int = 1, site_id: str | None = None) -> dict[str, Any]:
    body = {"site_id": site_id or shop.site_a, "plan_id": shop.plan_id, "quantity": quantity}
    reply = api.post(f"{shop.org}/sales", body, token=seller.token)
    assert reply.status == 201, reply.body
    return dict(reply.json)


def event_ids(org_id: str, action: str) -> list[str]:
    return [event["event_id"] for event in audit_events(org_id) if event["action"] == action]


def test_a_normal_day_raises_no_alert(api: Api, world: World, shop: Shop, clock: FakeClock) -> None:
    """Sales in hours, redeems at the right site, a mistyped code, one revoke and one void: nothing to report."""
    first = sell(api, shop, shop.cashier, quantity=3)
    clock.advance(3600)
    second = sell(api, shop, shop.cashier, site_id=shop.site_b)
    codes = [voucher["code"] for voucher in first["vouchers"]]
    assert redeem(api, shop.controller_a, codes[0], DEVICE).status == 200
    assert redeem(api, shop.controller_b, second["vouchers"][0]["code"], DEVICE).status == 200
    assert redeem(api, shop.controller_a, "ZZZZ-ZZZZ-ZZ", DEVICE).error_code == "invalid_code"
    clock.advance(3600)
    revoke = api.post(f"{shop.org}/vouchers/{codes[1]}/revoke", {"reason": "salah cetak"}, token=shop.manager.token)
    assert revoke.status == 200, revoke.body
    void = api.post(f"{shop.org}/sales/{second['sale_id']}/void", {"reason": "batal"}, token=shop.manager.token)
    assert void.status == 200, void.body
    assert api.patch(f"/v1/orgs/{shop.tenant.org_id}/sites/{shop.site_a}", {"ssid": "KopiWiFi"},
                     token=shop.tenant.owner.token).status == 200  # fmt: skip
    assert api.patch(f"{shop.org}/plans/{shop.plan_id}", {"price": 6000}, token=shop.manager.token).status == 200

    assert alerts(api, shop) == []


def test_a_sale_an_extension_and_a_price_change_in_the_night_are_off_hours(
    api: Api, world: World, shop: Shop, clock: FakeClock
) -> None:
    sold = sell(api, shop, shop.cashier)
    clock.now = night = shop.start + OFF_HOURS_LATER
    assert api.login(shop.cashier.email, "wrong password").status == 401  # changes nothing: no alert
    night_sale = sell(api, shop, shop.cashier)
    code = sold["vouchers"][0]["code"]
    extend = api.post(f"{shop.org}/vouchers/{code}/extend", {"minutes": 600, "reason": "bonus"},
                      token=shop.manager.token)  # fmt: skip
    assert extend.status == 200, extend.body
    # A plan belongs to no one site: its change is off hours because every site is closed.
    assert api.patch(f"{shop.org}/plans/{shop.plan_id}", {"price": 500}, token=shop.manager.token).status == 200

    found = sorted(alerts(api, shop), key=lambda alert: alert["details"]["action"])
    assert [alert["kind"] for alert in found] == ["off_hours", "off_hours", "off_hours"]
    plan_alert, sale_alert, extend_alert = found
    assert (plan_alert["details"]["action"], plan_alert["site_id"]) == ("plan.update", None)
    assert plan_alert["details"]["target_id"] == shop.plan_id and plan_alert["actor_id"] == shop.manager.user_id
    assert len(plan_alert["details"]["sites_closed"]) == 2 and "every site was closed" in plan_alert["summary"]
    assert plan_alert["audit_event_ids"] == event_ids(shop.tenant.org_id, "plan.update")
    assert sale_alert["details"]["action"] == "sale.create"
    assert sale_alert["details"]["target_id"] == night_sale["sale_id"]
    assert (sale_alert["actor_id"], sale_alert["actor_kind"], sale_alert["actor_name"]) == (
        shop.cashier.user_id, "user", shop.cashier.email,
    )  # fmt: skip
    assert sale_alert["site_id"] == shop.site_a
    assert sale_alert["source_ip"]  # the caller's address, as the audit event recorded it
    assert datetime.fromisoformat(sale_alert["at"].replace("Z", "+00:00")) == night
    local = night.astimezone(JAKARTA)
    assert sale_alert["details"]["local_time"] == local.isoformat(timespec="seconds")
    assert "Cabang Kota" in sale_alert["summary"] and f"{local:%H:%M}" in sale_alert["summary"]
    # It links to the very audit event of the night sale.
    assert sale_alert["audit_event_ids"] == [
        e["event_id"] for e in audit_events(shop.tenant.org_id)
        if e["action"] == "sale.create" and e["target_id"] == night_sale["sale_id"]
    ]  # fmt: skip
    assert extend_alert["details"]["action"] == "voucher.extend"
    assert (extend_alert["actor_id"], extend_alert["site_id"]) == (shop.manager.user_id, shop.site_a)
    assert extend_alert["audit_event_ids"] == event_ids(shop.tenant.org_id, "voucher.extend")


def _observe_drained_redeem(shop: Shop, sale: dict[str, Any] | None) -> str:
    """What the outbox drainer announces: a redeem by the site's controller, `sale` when it sold the voucher."""
    services = deps.services()
    key = Principal(kind="api_key", id="key-a", org_id=shop.tenant.org_id, site_id=shop.site_a,
                    key_kind="controller", name="controller 1")  # fmt: skip
    actor = Actor(principal=key, meta=RequestMeta(source_ip="203.0.113.7", user_agent=None, request_id="drain"))
    after: dict[str, Any] = {"device": "0123456789ab"}
    if sale is not None:
        after["sale"] = sale
    event = services.audit.event(
        actor, org_id=shop.tenant.org_id, action="voucher.redeem", target_type="voucher", target_id="v0123456789",
        after=after, site=Site.get(*Site.key(shop.tenant.org_id, shop.site_a)),
    )  # fmt: skip
    services.alerts.observe([event])
    services.alerts.observe([event])  # a repeated drain announces it again: still one alert
    return event.event_id


def test_a_voucher_redeemed_before_it_was_sold_in_a_pos_only_org(api: Api, shop: Shop, clock: FakeClock) -> None:
    sale = {"amount": 5000, "plan_id": shop.plan_id}
    _observe_drained_redeem(shop, sale)
    assert alerts(api, shop) == []  # the org sells printed vouchers at redeem too: nothing wrong

    setting = api.patch(shop.org, {"pos_only_sales": True}, token=shop.tenant.owner.token)
    assert setting.status == 200 and setting.json["pos_only_sales"] is True
    assert api.get(shop.org, token=shop.cashier.token).json["pos_only_sales"] is True
    (changed,) = [e for e in audit_events(shop.tenant.org_id) if e["action"] == "org.settings_update"]
    assert (changed["before"], changed["after"]) == ({"pos_only_sales": False}, {"pos_only_sales": True})

    clock.advance(120)  # past the per-container cache of the setting
    _observe_drained_redeem(shop, None)  # a redeem of a voucher the POS sold: fine
    event_id = _observe_drained_redeem(shop, sale)

    (alert,) = alerts(api, shop)
    assert alert["kind"] == "redeem_before_sale"
    assert alert["audit_event_ids"] == [event_id]
    assert (alert["actor_id"], alert["actor_kind"], alert["source_ip"]) == ("key-a", "api_key", "203.0.113.7")
    assert alert["site_id"] == shop.site_a
    assert alert["details"]["amount"] == 5000 and alert["details"]["voucher_id"] == "v0123456789"
    assert "Rp 5.000" in alert["summary"]


def test_a_code_tried_at_another_site_raises_one_alert_per_window(api: Api, shop: Shop, clock: FakeClock) -> None:
    sold = sell(api, shop, shop.cashier)  # its voucher belongs to site A
    code = sold["vouchers"][0]["code"]
    for _ in range(3):  # the guest tries again and again
        refused = redeem(api, shop.controller_b, code, DEVICE)
        assert (refused.status, refused.error_code) == (403, "wrong_site")

    (alert,) = alerts(api, shop)
    assert alert["kind"] == "wrong_site"
    assert (alert["actor_id"], alert["actor_kind"], alert["actor_name"]) == (shop.key_id_b, "api_key", "controller 1")
    assert alert["site_id"] == shop.site_b
    assert (alert["details"]["voucher_site_id"], alert["details"]["tried_site_id"]) == (shop.site_a, shop.site_b)
    assert "Cabang Kota" in alert["summary"] and "Cabang Pantai" in alert["summary"]
    assert alert["audit_event_ids"] == []  # a refusal writes no audit event
    assert redeem(api, shop.controller_a, code, DEVICE).status == 200  # at its own site: fine, no alert

    clock.advance(get_settings().redeem_window_seconds)
    assert redeem(api, shop.controller_b, code, DEVICE).error_code == "wrong_site"
    assert [alert["kind"] for alert in alerts(api, shop)] == ["wrong_site", "wrong_site"]  # a new window


def test_a_burst_of_unknown_codes_from_one_device_raises_one_alert(api: Api, shop: Shop) -> None:
    limit = get_settings().redeem_max_failures_per_mac
    for attempt in range(limit + 3):
        reply = redeem(api, shop.controller_b, f"ZZZZ-ZZZZ-{attempt:02d}", DEVICE)
        assert reply.error_code == ("invalid_code" if attempt < limit else "too_many_attempts")

    (alert,) = alerts(api, shop)
    assert alert["kind"] == "failed_redeem_burst"
    assert (alert["details"]["scope"], alert["details"]["failures"]) == ("device", limit)
    assert alert["details"]["device"]  # the device by its keyed reference, never its MAC
    assert DEVICE.lower() not in str(alert).lower() and DEVICE.replace(":", "").lower() not in str(alert).lower()
    assert (alert["actor_id"], alert["site_id"]) == (shop.key_id_b, shop.site_b)


@pytest.fixture
def low_site_limit(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[int]:
    """A site limit a test can reach (production's is 300 failures per window)."""
    monkeypatch.setenv("KUOTA_REDEEM_MAX_FAILURES_PER_SITE", "6")
    get_settings.cache_clear()
    deps.configure(clock=clock, monotonic=clock.monotonic)
    yield 6
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_burst_of_unknown_codes_at_one_controller_raises_one_alert(
    api: Api, shop: Shop, low_site_limit: int
) -> None:
    for attempt in range(low_site_limit + 2):  # each from another device: no device reaches its own limit
        reply = redeem(api, shop.controller_a, f"ZZZZ-ZZZZ-{attempt:02d}", f"02:00:00:00:00:{attempt:02x}")
        assert reply.error_code == ("invalid_code" if attempt < low_site_limit else "too_many_attempts")

    (alert,) = alerts(api, shop)
    assert alert["kind"] == "failed_redeem_burst"
    assert (alert["details"]["scope"], alert["details"]["device"]) == ("site", None)
    assert alert["details"]["failures"] == low_site_limit and alert["site_id"] == shop.site_a
    assert "Cabang Kota" in alert["summary"]


def test_five_revokes_or_voids_by_one_person_in_ten_minutes_raise_one_alert(
    api: Api, world: World, shop: Shop, clock: FakeClock
) -> None:
    limit = get_settings().alert_bulk_revoke_count
    assert limit == 5
    codes = [voucher["code"] for voucher in sell(api, shop, shop.cashier, quantity=8)["vouchers"]]
    sales = [sell(api, shop, shop.cashier)["sale_id"] for _ in range(2)]

    def revoke(code: str, member: Member) -> None:
        reply = api.post(f"{shop.org}/vouchers/{code}/revoke", {"reason": "rusak"}, token=member.token)
        assert reply.status == 200, reply.body

    window = get_settings().alert_bulk_revoke_window_seconds
    clock.now = datetime.fromtimestamp((int(shop.start.timestamp()) // window + 1) * window, UTC)  # a window opens
    revoke(codes[0], shop.tenant.owner)  # another person: counted apart
    for code in codes[1:4]:
        revoke(code, shop.manager)
        clock.advance(60)
    assert alerts(api, shop) == []
    for sale_id in sales:
        assert api.post(f"{shop.org}/sales/{sale_id}/void", {"reason": "batal"}, token=shop.manager.token).status == 200
        clock.advance(60)
    revoke(codes[4], shop.manager)  # a sixth, same window: no second alert

    (alert,) = alerts(api, shop)
    assert alert["kind"] == "bulk_revoke"
    assert (alert["actor_id"], alert["actor_name"]) == (shop.manager.user_id, shop.manager.email)
    manager_events = [
        e["event_id"] for e in audit_events(shop.tenant.org_id)
        if e["action"] in ("voucher.revoke", "sale.void") and e["actor_id"] == shop.manager.user_id
    ]  # fmt: skip
    assert len(manager_events) == 6
    assert sorted(alert["audit_event_ids"]) == sorted(manager_events[:limit])
    assert alert["details"]["count"] == limit

    clock.now += timedelta(hours=1)  # a later window: three more are not a burst
    for code in codes[5:8]:
        revoke(code, shop.manager)
    assert [alert["kind"] for alert in alerts(api, shop)] == ["bulk_revoke"]


def test_a_burst_across_two_counting_windows_is_still_a_burst(api: Api, shop: Shop, clock: FakeClock) -> None:
    codes = [voucher["code"] for voucher in sell(api, shop, shop.cashier, quantity=5)["vouchers"]]
    window = get_settings().alert_bulk_revoke_window_seconds
    boundary = (int(shop.start.timestamp()) // window + 1) * window
    clock.now = datetime.fromtimestamp(boundary - 180, UTC)  # three minutes before a counting window ends
    for code in codes:  # five revokes, one a minute: three in one window, two in the next
        reply = api.post(f"{shop.org}/vouchers/{code}/revoke", {"reason": "rusak"}, token=shop.manager.token)
        assert reply.status == 200, reply.body
        clock.advance(60)

    (alert,) = alerts(api, shop)
    assert alert["kind"] == "bulk_revoke" and alert["details"]["count"] == 5
    assert sorted(alert["audit_event_ids"]) == sorted(event_ids(shop.tenant.org_id, "voucher.revoke"))


def test_every_export_of_codes_raises_an_alert(api: Api, shop: Shop, clock: FakeClock) -> None:
    batch = api.post(f"{shop.org}/batches", {"plan_id": shop.plan_id, "quantity": 3}, token=shop.manager.token)
    assert batch.status == 201, batch.body
    assert alerts(api, shop) == []  # issuing shows no code
    path = f"{shop.org}/batches/{batch.json['batch_id']}/codes"
    assert api.get(path, token=shop.manager.token).status == 200
    clock.advance(30)
    assert api.get(path, token=shop.tenant.owner.token).status == 200

    owner_export, manager_export = alerts(api, shop)  # newest first
    assert owner_export["kind"] == manager_export["kind"] == "code_export"
    assert (manager_export["actor_id"], owner_export["actor_id"]) == (shop.manager.user_id, shop.tenant.owner.user_id)
    assert manager_export["details"]["target_id"] == batch.json["batch_id"] and manager_export["details"]["count"] == 3
    exports = event_ids(shop.tenant.org_id, "batch.codes_exported")
    assert sorted([*owner_export["audit_event_ids"], *manager_export["audit_event_ids"]]) == sorted(exports)


def _void_event(shop: Shop, before_shift: bool) -> str:
    """The `sale.void` event as the shift-aware void writes it (written through the audit log, announced)."""
    services = deps.services()
    manager = Principal(kind="user", id=shop.manager.user_id, org_id=shop.tenant.org_id, role=Role.MANAGER,
                        email=shop.manager.email)  # fmt: skip
    actor = Actor(principal=manager, meta=RequestMeta(source_ip="198.51.100.4", user_agent="t", request_id="r1"))
    event = services.audit.event(
        actor, org_id=shop.tenant.org_id, action="sale.void", target_type="sale", target_id="sale-1",
        before={"status": "sold", "quantity": 1, "total": 5000},
        after={"status": "voided", "reason": "kembalian", "vouchers_revoked": 1, "sale_before_shift": before_shift},
        site=Site.get(*Site.key(shop.tenant.org_id, shop.site_a)),
    )  # fmt: skip
    services.audit.record(event)
    return event.event_id


def test_a_void_of_a_sale_older_than_the_shift_raises_an_alert(api: Api, shop: Shop) -> None:
    _void_event(shop, before_shift=False)  # a sale of the voider's own shift: fine
    assert alerts(api, shop) == []
    event_id = _void_event(shop, before_shift=True)

    (alert,) = alerts(api, shop)
    assert alert["kind"] == "void_after_shift"
    assert alert["audit_event_ids"] == [event_id]
    assert (alert["actor_id"], alert["actor_name"], alert["source_ip"]) == (
        shop.manager.user_id, shop.manager.email, "198.51.100.4",
    )  # fmt: skip
    assert alert["details"]["total"] == 5000 and "kembalian" in alert["summary"]


def test_alerts_are_listed_newest_first_by_kind_and_time_a_page_at_a_time(
    api: Api, world: World, shop: Shop, clock: FakeClock
) -> None:
    code = sell(api, shop, shop.cashier)["vouchers"][0]["code"]
    redeem(api, shop.controller_b, code, DEVICE)  # wrong_site at the start
    clock.now = shop.start + OFF_HOURS_LATER
    sell(api, shop, shop.cashier)  # off_hours

    both = alerts(api, shop)
    assert [alert["kind"] for alert in both] == ["off_hours", "wrong_site"]
    assert [alert["kind"] for alert in alerts(api, shop, query="kind=wrong_site")] == ["wrong_site"]
    between = (shop.start + OFF_HOURS_LATER / 2).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert alerts(api, shop, query=f"from={between}") == both[:1]
    assert alerts(api, shop, query=f"to={between}") == both[1:]
    assert alerts(api, shop, query="from=2030-01-01&to=2030-01-31") == []

    first = api.get(f"{shop.org}/alerts?limit=1", token=shop.manager.token).json
    assert first["alerts"] == both[:1] and first["next_cursor"]
    rest = api.get(f"{shop.org}/alerts?limit=1&cursor={first['next_cursor']}", token=shop.auditor.token)
    assert rest.json["alerts"] == both[1:]
    # A cursor of other days: its key lies outside the range asked (DynamoDB would refuse it: a 500).
    elsewhere = api.get(f"{shop.org}/alerts?from=2030-01-01&to=2030-01-31&cursor={first['next_cursor']}",
                        token=shop.manager.token)  # fmt: skip
    assert (elsewhere.status, elsewhere.json["error"]["field"]) == (400, "cursor")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=everything", "kind"),
        ("from=yesterday", "from"),
        ("from=2026-12-03&to=2026-12-01", "from"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=bm90LWEta2V5", "cursor"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(api: Api, shop: Shop, query: str, field: str) -> None:
    reply = api.get(f"{shop.org}/alerts?{query}", token=shop.tenant.owner.token)
    assert (reply.status, reply.error_code) == (400, "validation_error")
    assert reply.json["error"]["field"] == field


def test_another_orgs_alerts_do_not_exist_for_a_caller(api: Api, world: World, shop: Shop) -> None:
    sell(api, shop, shop.cashier)
    redeem(api, shop.controller_b, sell(api, shop, shop.cashier)["vouchers"][0]["code"], DEVICE)
    assert alerts(api, shop)
    other = world.org("Toko Lain")
    reply = api.get(f"{shop.org}/alerts", token=other.owner.token)
    assert (reply.status, reply.error_code) == (404, "not_found")
    cashier = api.get(f"{shop.org}/alerts", token=shop.cashier.token)
    assert (cashier.status, cashier.error_code) == (403, "forbidden")
    assert alerts(api, shop, token=world.admin.token)  # the platform sees every org's


def test_only_the_owner_sets_pos_only_sales_and_the_body_is_checked(api: Api, shop: Shop) -> None:
    assert api.patch(shop.org, {"pos_only_sales": True}, token=shop.manager.token).status == 403
    bad = api.patch(shop.org, {"pos_only_sales": "sometimes"}, token=shop.tenant.owner.token)
    assert (bad.status, bad.json["error"]["field"]) == (400, "pos_only_sales")
    assert api.get(shop.org, token=shop.tenant.owner.token).json["pos_only_sales"] is False


def test_a_failing_alert_write_never_fails_the_redeem_answer(
    api: Api, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("alerts table unavailable")

    monkeypatch.setattr(deps.services().alerts, "wrong_site", broken)
    code = sell(api, shop, shop.cashier)["vouchers"][0]["code"]
    refused = redeem(api, shop.controller_b, code, DEVICE)
    assert (refused.status, refused.error_code) == (403, "wrong_site")


def test_off_hours_counts_changes_by_people_not_guests_or_sign_ins(shop: Shop) -> None:
    from chalicelib.services.alerts import is_staff_change

    services = deps.services()
    site = Site.get(*Site.key(shop.tenant.org_id, shop.site_a))
    meta = RequestMeta(source_ip="192.0.2.1", user_agent=None, request_id="r")
    user = Actor(Principal(kind="user", id="u", org_id=shop.tenant.org_id, role=Role.OWNER), meta)
    pos = Actor(Principal(kind="api_key", id="k", org_id=shop.tenant.org_id, key_kind="pos"), meta)
    controller = Actor(Principal(kind="api_key", id="c", org_id=shop.tenant.org_id, key_kind="controller"), meta)

    def change(actor: Actor, action: str) -> bool:
        event = services.audit.event(actor, org_id=shop.tenant.org_id, action=action, target_type="x",
                                     target_id="1", site=site)  # fmt: skip
        return is_staff_change(event)

    assert change(user, "sale.void") and change(user, "site.update") and change(pos, "sale.create")
    assert not change(user, "auth.login") and not change(user, "auth.login_failed")
    assert not change(user, "batch.codes_exported")  # a read: raised as code_export instead
    assert not change(controller, "voucher.redeem") and not change(controller, "voucher.device_release")


def test_a_real_first_redeem_of_a_printed_voucher_in_a_pos_only_org_raises_the_alert_when_drained(
    api: Api, shop: Shop, clock: FakeClock
) -> None:
    from chalicelib.services.outbox import AuditOutbox

    assert api.patch(shop.org, {"pos_only_sales": True}, token=shop.tenant.owner.token).status == 200
    clock.advance(120)  # past the per-container cache of the setting
    batch = api.post(f"{shop.org}/batches", {"plan_id": shop.plan_id, "quantity": 1}, token=shop.tenant.owner.token)
    (code,) = api.get(f"{shop.org}/batches/{batch.json['batch_id']}/codes", token=shop.tenant.owner.token).json["codes"]
    assert api.post("/v1/redeem", {"code": code, "mac": "02:00:00:00:00:09"}, token=shop.controller_a).status == 200
    assert [alert for alert in alerts(api, shop) if alert["kind"] == "redeem_before_sale"] == []  # not drained yet
    AuditOutbox(deps.services().audit).drain()  # what the scheduled drain does
    (alert,) = [alert for alert in alerts(api, shop) if alert["kind"] == "redeem_before_sale"]
    (redeemed,) = [event for event in audit_events(shop.tenant.org_id) if event["action"] == "voucher.redeem"]
    assert alert["audit_event_ids"] == [redeemed["event_id"]] and redeemed["after"]["sale"]["amount"] == 5000


def test_a_real_void_of_a_sale_from_a_closed_shift_raises_the_alert(api: Api, shop: Shop) -> None:
    shift = api.post(f"{shop.org}/shifts", {"site_id": shop.site_a}, token=shop.cashier.token).json
    sale = api.post(f"{shop.org}/sales", {"site_id": shop.site_a, "plan_id": shop.plan_id, "quantity": 1},
                    token=shop.cashier.token).json  # fmt: skip
    closed = api.post(f"{shop.org}/shifts/{shift['shift_id']}/close", {"declared_cash": 5000}, token=shop.cashier.token)
    assert closed.status == 200 and closed.json["sales_count"] == 1
    reply = api.post(f"{shop.org}/sales/{sale['sale_id']}/void", {"reason": "salah"}, token=shop.manager.token)
    assert reply.status == 200
    (alert,) = [alert for alert in alerts(api, shop) if alert["kind"] == "void_after_shift"]
    (voided,) = [event for event in audit_events(shop.tenant.org_id) if event["action"] == "sale.void"]
    assert alert["audit_event_ids"] == [voided["event_id"]] and alert["actor_id"] == shop.manager.user_id
