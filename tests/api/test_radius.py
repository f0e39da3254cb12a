"""What FreeRADIUS's rest module gets from Kuota: accept with the plan's limits, readable rejects, accounting once."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.models import ApiKey, AuditEvent, NasClaim, Site, Voucher
from chalicelib.models.base import dynamodb_client
from chalicelib.services.guest_messages import REJECTIONS
from tests.support import MAC, Api, FakeClock, Reply, Venue, World, audit_events, issue

NAS_A, NAS_B = "warung-kopi-a", "warung-kopi-b"


@dataclass
class Hotspot:
    """A venue whose sites A and B each have a registered router, and the org's FreeRADIUS key."""

    venue: Venue
    key: str

    @property
    def org_id(self) -> str:
        return self.venue.tenant.org_id

    @property
    def owner(self) -> str:
        return self.venue.tenant.owner.token


def radius_key(api: Api, org_id: str, token: str) -> str:
    reply = api.post(f"/v1/orgs/{org_id}/keys", {"kind": "radius", "name": "FreeRADIUS"}, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["api_key"])


def register_nas(api: Api, org_id: str, site_id: str, token: str, **identity: str) -> str:
    reply = api.post(f"/v1/orgs/{org_id}/sites/{site_id}/nas", {"name": "router", **identity}, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["nas_id"])


@pytest.fixture
def hotspot(api: Api, venue: Venue) -> Hotspot:
    org, owner = venue.tenant.org_id, venue.tenant.owner.token
    register_nas(api, org, venue.site_a, owner, nas_identifier=NAS_A)
    register_nas(api, org, venue.site_b, owner, nas_identifier=NAS_B, nas_ip="10.20.0.1")
    return Hotspot(venue, radius_key(api, org, owner))


def attributes(values: dict[str, Any]) -> dict[str, Any]:
    """rlm_rest's JSON: every attribute as {"type", "value": [...]}."""
    return {
        name: {"type": "integer" if isinstance(value, int) else "string", "value": [value]}
        for name, value in values.items()
        if value is not None
    }


def access_request(code: str | None, *, mac: str | None = MAC, nas: str | None = NAS_A,
                   password: str | None = "", **extra: Any) -> dict[str, Any]:  # fmt: skip
    return attributes({
        "User-Name": code, "User-Password": code if password == "" else password, "Calling-Station-Id": mac,
        "NAS-Identifier": nas, "NAS-IP-Address": "192.168.88.1", "Called-Station-Id": "hotspot1",
        "NAS-Port-Type": "Wireless-802.11", "Service-Type": "Login-User", "Framed-IP-Address": "10.5.50.2", **extra,
    })  # fmt: skip


def accounting_request(code: str, status: str, *, session: str = "81a00001", mac: str | None = MAC,
                       nas: str = NAS_A, octets_in: int = 0, octets_out: int = 0, gigawords_in: int = 0,
                       gigawords_out: int = 0, time: int = 0) -> dict[str, Any]:  # fmt: skip
    return attributes({
        "Acct-Status-Type": status, "User-Name": code, "Calling-Station-Id": mac, "NAS-Identifier": nas,
        "Acct-Session-Id": session, "Acct-Input-Octets": octets_in, "Acct-Output-Octets": octets_out,
        "Acct-Input-Gigawords": gigawords_in, "Acct-Output-Gigawords": gigawords_out, "Acct-Session-Time": time,
        "Event-Timestamp": "Dec  2 2026 01:00:00 UTC", "Acct-Delay-Time": 0,
    })  # fmt: skip


def authorize(api: Api, key: str, body: Any) -> Reply:
    return api.post("/v1/radius/authorize", body, token=key)


def account(api: Api, key: str, body: Any) -> Reply:
    return api.post("/v1/radius/accounting", body, token=key)


def voucher(api: Api, spot: Hotspot, code: str) -> dict[str, Any]:
    reply = api.get(f"/v1/orgs/{spot.org_id}/vouchers/{code}", token=spot.owner)
    assert reply.status == 200
    return dict(reply.json)


def set_language(api: Api, spot: Hotspot, language: str) -> None:
    path = f"/v1/orgs/{spot.org_id}/sites/{spot.venue.site_a}"
    assert api.patch(path, {"language": language}, token=spot.owner).status == 200


# --- accept ------------------------------------------------------------------------------------------------


def test_accept_carries_every_limit_of_the_plan(api: Api, world: World, hotspot: Hotspot, clock: FakeClock) -> None:
    (code,) = issue(api, world, hotspot.venue, duration_minutes=60, rate_up_kbps=512, rate_down_kbps=2048,
                    data_quota_mb=5000, max_devices=2)  # fmt: skip
    reply = authorize(api, hotspot.key, access_request(code))
    assert reply.status == 200, reply.body
    left = 5000 * 1048576  # 5,242,880,000 bytes: more than 32 bits hold
    assert reply.json == {
        "control:Auth-Type": "Accept",
        "reply:Session-Timeout": 3600,
        "reply:Acct-Interim-Interval": 300,
        "reply:Mikrotik-Rate-Limit": "512k/2048k",
        "reply:WISPr-Bandwidth-Max-Up": 512_000,
        "reply:WISPr-Bandwidth-Max-Down": 2_048_000,
        "reply:Mikrotik-Total-Limit": left - 2**32,
        "reply:Mikrotik-Total-Limit-Gigawords": 1,
        "reply:ChilliSpot-Max-Total-Octets": 2**32 - 1,
        "reply:Reply-Message": "Tersambung. Sisa waktu: 1 jam. Sisa kuota: 4,9 GB.",
    }
    assert reply.headers["X-Kuota-Reason"] == "accepted"

    # Ten minutes and 1 MB later, the second device gets what is left.
    account(api, hotspot.key, accounting_request(code, "Interim-Update", octets_in=700_000, octets_out=348_576))
    clock.advance(600)
    set_language(api, hotspot, "en")  # read again: the site cache's 60 s have passed
    again = authorize(api, hotspot.key, access_request(code, mac="AA:BB:CC:00:00:02")).json
    assert again["reply:Session-Timeout"] == 3000
    assert again["reply:Mikrotik-Total-Limit"] == left - 1048576 - 2**32
    assert again["reply:Reply-Message"] == "Connected. Time left: 50 min. Data left: 4.9 GB."


def test_a_plan_without_limits_sends_only_time(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue, duration_minutes=1500, rate_down_kbps=1024)
    reply = authorize(api, hotspot.key, access_request(code)).json
    # No Idle-Timeout: plans have none. No data attributes without a quota. 0 = unlimited upload on RouterOS.
    assert reply == {
        "control:Auth-Type": "Accept",
        "reply:Session-Timeout": 90_000,
        "reply:Acct-Interim-Interval": 300,
        "reply:Mikrotik-Rate-Limit": "0/1024k",
        "reply:WISPr-Bandwidth-Max-Down": 1_024_000,
        "reply:Reply-Message": "Tersambung. Sisa waktu: 1 hari 1 jam.",
    }


def test_every_mac_spelling_is_one_device(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue, max_devices=1)
    for spelling in ("AA-BB-CC-00-11-22", "aabb.cc00.1122", "AABBCC001122", "aa:bb:cc:00:11:22", "aabbcc001122"):
        reply = authorize(api, hotspot.key, access_request(code, mac=spelling))
        assert reply.status == 200, (spelling, reply.body)
    assert voucher(api, hotspot, code)["devices_used"] == 1
    other = authorize(api, hotspot.key, access_request(code, mac="AA-BB-CC-00-11-23"))
    assert other.headers["X-Kuota-Reason"] == "device_limit_reached"


@pytest.mark.parametrize("mac", [None, "", "not-a-mac", "AA-BB-CC-00-11", "AA-BB-CC-00-11-22-33", "GG-BB-CC-00-11-22"])
def test_a_login_without_a_usable_mac_is_rejected_with_a_reason(
    api: Api, world: World, hotspot: Hotspot, mac: str | None
) -> None:
    (code,) = issue(api, world, hotspot.venue)
    reply = authorize(api, hotspot.key, access_request(code, mac=mac))
    assert reply.status == 401
    assert reply.json == {"reply:Reply-Message": "Hotspot tidak mengirim alamat perangkat Anda. Hubungi petugas."}
    assert voucher(api, hotspot, code)["status"] == "issued"  # nothing was used up


def test_the_password_must_be_the_code_when_sent(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue, max_devices=3)
    wrong = authorize(api, hotspot.key, access_request(code, password="something-else"))
    assert (wrong.status, wrong.headers["X-Kuota-Reason"]) == (401, "invalid_code")
    assert voucher(api, hotspot, code)["status"] == "issued"
    spelled_otherwise = authorize(api, hotspot.key, access_request(code.lower(), password=code.replace("-", " ")))
    assert spelled_otherwise.status == 200
    no_password = authorize(api, hotspot.key, access_request(code, password=None, mac="AA:BB:CC:00:00:07"))
    assert no_password.status == 200


def test_basic_auth_works_as_rlm_rest_sends_it(api: Api, world: World, hotspot: Hotspot) -> None:
    import base64

    (code,) = issue(api, world, hotspot.venue)
    basic = base64.b64encode(f"freeradius:{hotspot.key}".encode()).decode()
    reply = api.post("/v1/radius/authorize", access_request(code), headers={"Authorization": f"Basic {basic}"})
    assert reply.status == 200


def test_the_accept_path_is_one_write_and_no_reads_once_caches_are_warm(
    api: Api, world: World, hotspot: Hotspot
) -> None:
    codes = issue(api, world, hotspot.venue, quantity=2)
    assert authorize(api, hotspot.key, access_request(codes[0])).status == 200  # warms key, NAS and site caches
    with counting_requests() as calls:
        assert authorize(api, hotspot.key, access_request(codes[1])).status == 200
    assert calls == Counter({"UpdateItem": 1})


@contextmanager
def counting_requests() -> Iterator[Counter[str]]:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    clients = {id(client): client for client in (dynamodb_client(m) for m in (Voucher, NasClaim, ApiKey, Site,
                                                                              AuditEvent))}  # fmt: skip
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", count, unique_id=f"radius-count-{id(client)}")
    try:
        yield calls
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", unique_id=f"radius-count-{id(client)}")


# --- rejects -----------------------------------------------------------------------------------------------


def _make_refusal(api: Api, world: World, spot: Hotspot, clock: FakeClock, reason: str) -> dict[str, Any]:
    """An Access-Request that Kuota must refuse for `reason`."""
    venue = spot.venue
    if reason == "invalid_code":
        return access_request("ZZZZ-ZZZZ-ZZ")
    if reason == "missing_code":
        return access_request(None)
    if reason == "unknown_nas":
        return access_request("ABCD-EFGH-JK", nas="not-registered")
    if reason == "wrong_site":
        (code,) = issue(api, world, venue, site_id=venue.site_b)
        return access_request(code)
    (code,) = issue(api, world, venue, duration_minutes=30, data_quota_mb=1, max_devices=1)
    assert authorize(api, spot.key, access_request(code)).status == 200
    if reason == "voucher_expired":
        clock.advance(31 * 60)
    elif reason == "voucher_revoked":
        path = f"/v1/orgs/{spot.org_id}/vouchers/{code}/revoke"
        assert api.post(path, {"reason": "refund"}, token=spot.owner).status == 200
    elif reason == "voucher_exhausted":
        account(api, spot.key, accounting_request(code, "Interim-Update", octets_out=2_000_000))
    elif reason == "device_limit_reached":
        return access_request(code, mac="02:00:00:00:00:99")
    elif reason == "too_many_attempts":
        for attempt in range(10):
            authorize(api, spot.key, access_request(f"GUESS-{attempt:04d}"))
    return access_request(code)


REASONS = ["invalid_code", "voucher_expired", "voucher_revoked", "voucher_exhausted", "device_limit_reached",
           "wrong_site", "too_many_attempts", "missing_code"]  # fmt: skip


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("reason", REASONS)
def test_each_refusal_is_a_reject_with_a_message_in_the_sites_language(
    api: Api, world: World, hotspot: Hotspot, clock: FakeClock, reason: str, language: str
) -> None:
    set_language(api, hotspot, language)
    request = _make_refusal(api, world, hotspot, clock, reason)
    reply = authorize(api, hotspot.key, request)
    assert reply.status == 401, reply.body
    assert reply.json == {"reply:Reply-Message": REJECTIONS[reason][language]}
    assert reply.headers["X-Kuota-Reason"] == reason
    assert "%" not in reply.json["reply:Reply-Message"]  # rlm_rest would expand it


def test_messages_read_as_a_guest_expects() -> None:
    assert REJECTIONS["voucher_expired"] == {"id": "Masa berlaku voucher ini sudah habis.",
                                             "en": "This voucher has expired."}  # fmt: skip
    for reason, messages in REJECTIONS.items():
        assert set(messages) == {"id", "en"} and all(messages.values()), reason
        assert messages["id"] != messages["en"], reason


def test_an_unknown_nas_is_rejected_and_audited_once_a_minute(
    api: Api, world: World, hotspot: Hotspot, clock: FakeClock
) -> None:
    (code,) = issue(api, world, hotspot.venue)
    for _ in range(3):
        reply = authorize(api, hotspot.key, access_request(code, nas="tukang-bakso"))
        assert reply.status == 401
        assert reply.json == {"reply:Reply-Message": "Hotspot ini belum terdaftar di Kuota. Hubungi pengelola tempat."}
    events = [e for e in audit_events(hotspot.org_id) if e["action"] == "radius.unknown_nas"]
    assert len(events) == 1
    assert events[0]["after"] == {"nas_identifier": "tukang-bakso", "nas_ip": "192.168.88.1"}
    assert code not in str(events) and code.replace("-", "") not in str(events)
    clock.advance(61)
    authorize(api, hotspot.key, access_request(code, nas="tukang-bakso"))
    assert len([e for e in audit_events(hotspot.org_id) if e["action"] == "radius.unknown_nas"]) == 2
    assert voucher(api, hotspot, code)["status"] == "issued"


def test_a_nas_is_found_by_address_when_its_identifier_is_not_registered(
    api: Api, world: World, hotspot: Hotspot
) -> None:
    (code,) = issue(api, world, hotspot.venue, site_id=hotspot.venue.site_b)
    body = access_request(code, nas="some-identity")
    body["NAS-IP-Address"] = {"type": "ipaddr", "value": ["10.20.0.1"]}
    assert authorize(api, hotspot.key, body).status == 200  # site B's router, by its address
    body = access_request(code, nas=None, mac="AA:BB:CC:00:00:05")
    body["NAS-IP-Address"] = {"type": "ipaddr", "value": ["10.20.0.1"]}
    assert authorize(api, hotspot.key, body).headers["X-Kuota-Reason"] == "device_limit_reached"


def test_a_deleted_nas_stops_being_served(api: Api, world: World, venue: Venue) -> None:
    org, owner = venue.tenant.org_id, venue.tenant.owner.token
    nas_id = register_nas(api, org, venue.site_a, owner, nas_identifier="short-lived")
    key = radius_key(api, org, owner)
    codes = issue(api, world, venue, quantity=2)
    assert authorize(api, key, access_request(codes[0], nas="short-lived")).status == 200
    assert api.delete(f"/v1/orgs/{org}/sites/{venue.site_a}/nas/{nas_id}", token=owner).status == 204
    reply = authorize(api, key, access_request(codes[1], nas="short-lived"))
    assert reply.headers["X-Kuota-Reason"] == "unknown_nas"


# --- isolation -----------------------------------------------------------------------------------------


def test_an_org_key_cannot_reach_another_orgs_nas_and_a_platform_key_serves_every_org(
    api: Api, world: World, hotspot: Hotspot
) -> None:
    other = world.org("Lain")
    their_site = world.site(other)
    register_nas(api, other.org_id, their_site, other.owner.token, nas_identifier="their-router")
    their_plan = world.plan(other)
    batch = api.post(f"/v1/orgs/{other.org_id}/batches", {"plan_id": their_plan, "quantity": 1},
                     token=other.owner.token).json  # fmt: skip
    (their_code,) = api.get(f"/v1/orgs/{other.org_id}/batches/{batch['batch_id']}/codes",
                            token=other.owner.token).json["codes"]  # fmt: skip

    refused = authorize(api, hotspot.key, access_request(their_code, nas="their-router"))
    assert (refused.status, refused.headers["X-Kuota-Reason"]) == (401, "unknown_nas")
    acct = account(api, hotspot.key, accounting_request(their_code, "Start", nas="their-router"))
    assert acct.json == {"control:Kuota-Disconnect": "unknown_nas"}
    # Their code through my NAS is simply unknown here (codes are scoped to their organisation).
    assert authorize(api, hotspot.key, access_request(their_code)).headers["X-Kuota-Reason"] == "invalid_code"
    status = api.get(f"/v1/orgs/{other.org_id}/vouchers/{their_code}", token=other.owner.token).json["status"]
    assert status == "issued"
    # The refusal is audited in my organisation, not theirs.
    assert not [e for e in audit_events(other.org_id) if e["action"].startswith("radius.")]

    platform = api.post("/v1/platform/keys", {"kind": "radius", "name": "ISP"}, token=world.admin.token)
    platform_key = platform.json["api_key"]
    assert authorize(api, platform_key, access_request(their_code, nas="their-router")).status == 200
    (mine,) = issue(api, world, hotspot.venue)
    assert authorize(api, platform_key, access_request(mine)).status == 200


# --- malformed requests --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not json", "body"),
        ("[1, 2]", "body"),
        ('{"User-Name": {"type": "string"}}', "User-Name"),
        ('{"User-Name": {"type": "string", "value": [{"nested": 1}]}}', "User-Name"),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_attribute(api: Api, hotspot: Hotspot, raw: str, field: str) -> None:
    for route in ("/v1/radius/authorize", "/v1/radius/accounting"):
        reply = api.call("POST", route, token=hotspot.key, raw=raw)
        assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", field)


@pytest.mark.parametrize("octets", ["lots", -1, 1.5, True])
def test_counters_that_are_not_counts_are_a_400(api: Api, world: World, hotspot: Hotspot, octets: Any) -> None:
    (code,) = issue(api, world, hotspot.venue)
    authorize(api, hotspot.key, access_request(code))
    body = accounting_request(code, "Interim-Update")
    body["Acct-Input-Octets"] = {"type": "integer", "value": [octets]}
    reply = account(api, hotspot.key, body)
    assert (reply.status, reply.json["error"]["field"]) == (400, "Acct-Input-Octets")
    assert voucher(api, hotspot, code)["used_bytes"] == 0


def test_unknown_attributes_and_bare_values_are_tolerated(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue)
    body = access_request(code)
    body["Vendor-Specific-Thing-9999"] = {"type": "octets", "value": ["0x0102"]}
    body["Mikrotik-Host-IP"] = {"type": "ipaddr", "value": ["10.5.50.2"]}
    body["Calling-Station-Id"] = "AA-BB-CC-00-11-22"  # not wrapped: still read
    assert authorize(api, hotspot.key, body).status == 200


def test_post_auth_is_cheap(api: Api, hotspot: Hotspot) -> None:
    api.post("/v1/radius/post-auth", {}, token=hotspot.key)  # the key is now cached
    with counting_requests() as calls:
        reply = api.post("/v1/radius/post-auth", access_request("ABCD"), token=hotspot.key)
    assert (reply.status, reply.body) == (204, b"")
    assert calls == Counter()


# --- accounting ----------------------------------------------------------------------------------------------


def test_start_interim_stop_count_once_each_even_when_retried(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue, data_quota_mb=10_000)
    assert authorize(api, hotspot.key, access_request(code)).status == 200
    start = accounting_request(code, "Start")
    interim = accounting_request(code, "Interim-Update", octets_in=100, gigawords_in=1, octets_out=5_000,
                                 gigawords_out=0, time=300)  # fmt: skip
    stop = accounting_request(code, "Stop", octets_in=200, gigawords_in=1, octets_out=9_000, gigawords_out=1,
                              time=600)  # fmt: skip
    for body, used_bytes, used_seconds in ((start, 0, 0), (interim, 2**32 + 5_100, 300),
                                           (stop, 2 * 2**32 + 9_200, 600)):  # fmt: skip
        for _ in range(3):  # FreeRADIUS retries: each answered 200, counted once
            reply = account(api, hotspot.key, body)
            assert (reply.status, reply.json) == (200, {}), reply.body
        seen = voucher(api, hotspot, code)
        assert (seen["used_bytes"], seen["used_seconds"]) == (used_bytes, used_seconds)


def test_a_stop_without_a_start_counts_and_two_sessions_add_up(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue, max_devices=2)
    authorize(api, hotspot.key, access_request(code))
    authorize(api, hotspot.key, access_request(code, mac="AA:BB:CC:00:00:02"))
    assert account(api, hotspot.key, accounting_request(code, "Stop", octets_out=1_000, time=60)).status == 200
    # The same Acct-Session-Id from another device's session is another session.
    other = accounting_request(code, "Interim-Update", mac="AA:BB:CC:00:00:02", octets_out=500, time=30)
    assert account(api, hotspot.key, other).status == 200
    seen = voucher(api, hotspot, code)
    assert (seen["used_bytes"], seen["used_seconds"]) == (1_500, 90)


def test_late_or_backwards_reports_are_answered_and_not_counted(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue)
    authorize(api, hotspot.key, access_request(code))
    newer = accounting_request(code, "Interim-Update", octets_out=2_000, time=600)
    older = accounting_request(code, "Interim-Update", octets_out=1_000, time=300)
    backwards = accounting_request(code, "Interim-Update", octets_out=10, time=900)  # a counter that went back
    assert account(api, hotspot.key, newer).headers["X-Kuota-Reason"] == "counted"
    for body in (older, backwards):
        reply = account(api, hotspot.key, body)
        assert (reply.status, reply.json, reply.headers["X-Kuota-Reason"]) == (200, {}, "not_counted")
    seen = voucher(api, hotspot, code)
    assert (seen["used_bytes"], seen["used_seconds"]) == (2_000, 600)
    later = accounting_request(code, "Stop", octets_out=3_000, time=1_200)
    assert account(api, hotspot.key, later).status == 200
    assert voucher(api, hotspot, code)["used_bytes"] == 3_000


def test_accounting_on_and_off_count_nothing(api: Api, world: World, hotspot: Hotspot) -> None:
    for status in ("Accounting-On", "Accounting-Off", "7"):
        body = attributes({"Acct-Status-Type": status, "NAS-Identifier": NAS_A, "Acct-Session-Id": "0"})
        reply = account(api, hotspot.key, body)
        assert (reply.status, reply.json) == (200, {})


def test_a_numeric_status_type_is_read_too(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue)
    authorize(api, hotspot.key, access_request(code))
    body = accounting_request(code, "Interim-Update", octets_out=777, time=10)
    body["Acct-Status-Type"] = {"type": "integer", "value": [3]}
    assert account(api, hotspot.key, body).status == 200
    assert voucher(api, hotspot, code)["used_bytes"] == 777


@pytest.mark.parametrize(
    ("remove", "field"),
    [("Calling-Station-Id", "Calling-Station-Id"), ("Acct-Session-Id", "Acct-Session-Id"),
     ("User-Name", "User-Name"), ("Acct-Status-Type", "Acct-Status-Type")],
)  # fmt: skip
def test_accounting_without_what_it_needs_is_a_400(
    api: Api, world: World, hotspot: Hotspot, remove: str, field: str
) -> None:
    body = accounting_request("ABCD-EFGH-JK", "Interim-Update")
    del body[remove]
    reply = account(api, hotspot.key, body)
    assert (reply.status, reply.json["error"]["field"]) == (400, field)


def test_usage_mode_counts_only_connected_time(api: Api, world: World, hotspot: Hotspot, clock: FakeClock) -> None:
    (code,) = issue(api, world, hotspot.venue, duration_minutes=10, time_mode="usage")
    assert authorize(api, hotspot.key, access_request(code)).json["reply:Session-Timeout"] == 600
    assert account(api, hotspot.key, accounting_request(code, "Stop", time=240)).json == {}
    clock.advance(86_400)  # a day away costs nothing
    assert authorize(api, hotspot.key, access_request(code)).json["reply:Session-Timeout"] == 360
    last = accounting_request(code, "Interim-Update", session="81a00002", time=360)
    assert account(api, hotspot.key, last).json == {"control:Kuota-Disconnect": "voucher_expired"}
    assert authorize(api, hotspot.key, access_request(code)).headers["X-Kuota-Reason"] == "voucher_expired"


@pytest.mark.parametrize("cause", ["voucher_revoked", "voucher_expired", "voucher_exhausted"])
def test_a_session_that_must_end_gets_a_disconnect_and_the_next_login_a_reject(
    api: Api, world: World, hotspot: Hotspot, clock: FakeClock, cause: str
) -> None:
    (code,) = issue(api, world, hotspot.venue, duration_minutes=60, data_quota_mb=1)
    assert authorize(api, hotspot.key, access_request(code)).status == 200
    interim = accounting_request(code, "Interim-Update", octets_out=1_000, time=60)
    assert account(api, hotspot.key, interim).json == {}
    if cause == "voucher_revoked":
        path = f"/v1/orgs/{hotspot.org_id}/vouchers/{code}/revoke"
        assert api.post(path, {"reason": "refund"}, token=hotspot.owner).status == 200
    elif cause == "voucher_expired":
        clock.advance(3601)
    else:
        interim = accounting_request(code, "Interim-Update", octets_out=1_048_576, time=120)
    reply = account(api, hotspot.key, interim)
    assert (reply.status, reply.json) == (200, {"control:Kuota-Disconnect": cause})
    assert account(api, hotspot.key, interim).json == {"control:Kuota-Disconnect": cause}  # a retry: the same
    stop = {**interim, "Acct-Status-Type": {"type": "string", "value": ["Stop"]}}
    assert (account(api, hotspot.key, stop).json) == {}  # the session is over: nothing to disconnect
    assert authorize(api, hotspot.key, access_request(code)).headers["X-Kuota-Reason"] == cause


def test_a_device_without_a_slot_is_disconnected(api: Api, world: World, hotspot: Hotspot) -> None:
    (code,) = issue(api, world, hotspot.venue)
    authorize(api, hotspot.key, access_request(code))
    stranger = accounting_request(code, "Interim-Update", mac="02:00:00:00:00:42", octets_out=5)
    assert account(api, hotspot.key, stranger).json == {"control:Kuota-Disconnect": "device_released"}
    unknown = accounting_request("ZZZZ-ZZZZ-ZZ", "Start")
    assert account(api, hotspot.key, unknown).json == {"control:Kuota-Disconnect": "invalid_code"}
    (elsewhere,) = issue(api, world, hotspot.venue, site_id=hotspot.venue.site_b)
    authorize_b = access_request(elsewhere, nas=NAS_B)
    assert authorize(api, hotspot.key, authorize_b).status == 200
    wrong_site = accounting_request(elsewhere, "Interim-Update", nas=NAS_A)
    assert account(api, hotspot.key, wrong_site).json == {"control:Kuota-Disconnect": "wrong_site"}
    assert voucher(api, hotspot, code)["used_bytes"] == 0


def test_nothing_secret_reaches_the_logs(
    api: Api, world: World, hotspot: Hotspot, capsys: pytest.CaptureFixture[str]
) -> None:
    (code,) = issue(api, world, hotspot.venue)
    authorize(api, hotspot.key, access_request(code))
    authorize(api, hotspot.key, access_request(code, nas="unregistered-" + uuid.uuid4().hex[:4]))
    account(api, hotspot.key, accounting_request(code, "Start"))
    output = capsys.readouterr()
    logged = (output.out + output.err).lower()
    for secret in (code.lower(), code.replace("-", "").lower(), MAC.lower(), "aa-bb-cc-00-11-22",
                   hotspot.key.lower()):  # fmt: skip
        assert secret not in logged
