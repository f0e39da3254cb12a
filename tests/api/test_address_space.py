"""The ISP's registered address space, and each site's uplink judged by the address the platform saw."""

from __future__ import annotations

import ipaddress
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.api import deps
from chalicelib.models import AddressSpaceChunk, Voucher
from chalicelib.models.accounts import PLATFORM_PARTITION
from chalicelib.models.base import dynamodb_client
from tests.api.test_radius import Hotspot, access_request, accounting_request, authorize, hotspot  # noqa: F401
from tests.support import Api, FakeClock, Venue, World, audit_events, issue, redeem

SPACE = "/v1/platform/address-space"
ISP_PREFIXES = [
    {"cidr": "127.0.0.2/32", "asn": 64500, "note": "test uplink"},
    {"cidr": "203.0.113.0/24", "asn": 64500, "note": "Jakarta POP"},
    {"cidr": "2001:DB8::/32", "asn": 4_200_000_001, "note": None},
]


def put_space(api: Api, world: World, prefixes: list[dict[str, Any]]) -> Any:
    return api.call("PUT", SPACE, json_body={"prefixes": prefixes}, token=world.admin.token)


@contextmanager
def source_address(address: str) -> Iterator[None]:
    """The in-process gateway's `sourceIp` (Chalice hard-codes 127.0.0.1), as API Gateway would set it."""
    from chalice.local import LambdaEventConverter

    before = LambdaEventConverter.LOCAL_SOURCE_IP
    LambdaEventConverter.LOCAL_SOURCE_IP = address
    try:
        yield
    finally:
        LambdaEventConverter.LOCAL_SOURCE_IP = before


def uplinks(api: Api, venue: Venue) -> dict[str, dict[str, Any]]:
    reply = api.get(f"/v1/orgs/{venue.tenant.org_id}/uplinks", token=venue.tenant.owner.token)
    assert reply.status == 200, reply.body
    return {site["site_id"]: site for site in reply.json["sites"]}


def uplink_alerts(api: Api, venue: Venue) -> list[dict[str, Any]]:
    reply = api.get(f"/v1/orgs/{venue.tenant.org_id}/alerts?kind=uplink_unregistered", token=venue.tenant.owner.token)
    assert reply.status == 200, reply.body
    return list(reply.json["alerts"])


@pytest.fixture
def triggers() -> list[tuple[str, str | None, str, str]]:
    """What the compliance service would be told (the lead wires it in deps; a test hook here)."""
    called: list[tuple[str, str | None, str, str]] = []
    deps.services().uplinks.on_trigger = lambda actor, org, site, reason, note: called.append((org, site, reason,
                                                                                                note))  # fmt: skip
    return called


# --- the list -----------------------------------------------------------------------------------------------


def test_the_list_is_stored_whole_normalised_and_read_back(api: Api, world: World) -> None:
    assert api.get(SPACE, token=world.admin.token).json == {"prefixes": []}
    reply = put_space(api, world, ISP_PREFIXES)
    assert reply.status == 200, reply.body
    expected = [
        {"cidr": "127.0.0.2/32", "asn": 64500, "note": "test uplink"},
        {"cidr": "203.0.113.0/24", "asn": 64500, "note": "Jakarta POP"},
        {"cidr": "2001:db8::/32", "asn": 4_200_000_001, "note": None},
    ]
    assert reply.json == {"prefixes": expected}
    assert api.get(SPACE, token=world.admin.token).json == {"prefixes": expected}
    # Replaced whole: what is not sent again is gone.
    assert put_space(api, world, [{"cidr": "198.51.100.0/24", "asn": 64501}]).status == 200
    assert api.get(SPACE, token=world.admin.token).json == {
        "prefixes": [{"cidr": "198.51.100.0/24", "asn": 64501, "note": None}]
    }


def test_each_replacement_is_audited_as_a_platform_action_with_what_changed(api: Api, world: World) -> None:
    put_space(api, world, ISP_PREFIXES)
    put_space(api, world, [ISP_PREFIXES[1], {"cidr": "198.51.100.0/24", "asn": 64501}])
    events = [event for event in audit_events(None) if event["action"] == "address_space.set"]
    assert len(events) == 2
    first, second = events
    assert first["before"] == {"prefixes": 0}
    assert first["after"]["prefixes"] == 3 and first["after"]["added_count"] == 3
    assert second["before"] == {"prefixes": 3}
    assert second["after"] == {"prefixes": 2, "added_count": 1, "removed_count": 2, "added": ["198.51.100.0/24"],
                               "removed": ["127.0.0.2/32", "2001:db8::/32"]}  # fmt: skip
    assert second["actor_role"] == "platform_admin" and second.get("org_id") is None


def test_twenty_thousand_prefixes_fit_in_chunks_and_old_chunks_are_deleted(api: Api, world: World) -> None:
    big: list[dict[str, Any]] = [
        {"cidr": f"10.{i // 256}.{i % 256}.0/24", "asn": 64500 + i % 7, "note": f"POP {i % 97} Jakarta Selatan"}
        for i in range(15_000)
    ]
    big += [{"cidr": f"2001:db8:{i:x}::/48", "asn": 4_200_000_000} for i in range(5_000)]
    reply = put_space(api, world, big)
    assert reply.status == 200, reply.body[:300]
    assert len(reply.json["prefixes"]) == 20_000
    stored = api.get(SPACE, token=world.admin.token).json["prefixes"]
    assert [p["cidr"] for p in stored] == [str(ipaddress.ip_network(str(p["cidr"]))) for p in big]
    chunks = list(AddressSpaceChunk.query(PLATFORM_PARTITION, AddressSpaceChunk.sk.startswith("ADDRSPACE#")))
    assert len(chunks) > 1 and len({chunk.version for chunk in chunks}) == 1
    assert all(len(chunk.lines.encode()) <= 300_000 for chunk in chunks)
    put_space(api, world, ISP_PREFIXES)
    chunks = list(AddressSpaceChunk.query(PLATFORM_PARTITION, AddressSpaceChunk.sk.startswith("ADDRSPACE#")))
    assert len(chunks) == 1  # the big version's chunks went with it
    assert put_space(api, world, [*big, {"cidr": "192.0.2.0/24", "asn": 1}]).error_code == "validation_error"


BAD = [
    ("host bits set", [{"cidr": "203.0.113.1/24", "asn": 64500}], "prefixes.0.cidr", "203.0.113.1/24"),
    ("IPv6 host bits set", [ISP_PREFIXES[1], {"cidr": "2001:db8::1/32", "asn": 64500}], "prefixes.1.cidr",
     "2001:db8::1/32"),
    ("not an address", [{"cidr": "kantor-pusat/24", "asn": 64500}], "prefixes.0.cidr", "kantor-pusat"),
    ("no prefix length", [{"cidr": "203.0.113.0", "asn": 64500}], "prefixes.0.cidr", "prefix length"),
    ("prefix too long", [{"cidr": "203.0.113.0/33", "asn": 64500}], "prefixes.0.cidr", "203.0.113.0/33"),
    ("duplicate", [ISP_PREFIXES[1], ISP_PREFIXES[0], {"cidr": "203.0.113.0/24", "asn": 64501}], "prefixes.2.cidr",
     "listed twice (prefixes.0 and prefixes.2)"),
    ("IPv6 duplicate spelled otherwise", [ISP_PREFIXES[2], {"cidr": "2001:0db8:0::/32", "asn": 1}], "prefixes.1.cidr",
     "2001:db8::/32 is listed twice"),
    ("overlap inside", [ISP_PREFIXES[1], {"cidr": "203.0.113.128/25", "asn": 64500}], "prefixes.1.cidr",
     "203.0.113.128/25 overlaps 203.0.113.0/24 (prefixes.0)"),
    ("overlap around", [{"cidr": "10.0.5.0/24", "asn": 1}, {"cidr": "172.16.0.0/12", "asn": 1},
                        {"cidr": "10.0.0.0/8", "asn": 1}], "prefixes.2.cidr", "10.0.0.0/8 overlaps 10.0.5.0/24"),
    ("IPv6 overlap", [{"cidr": "2001:db8:1::/48", "asn": 1}, ISP_PREFIXES[2]], "prefixes.1.cidr",
     "2001:db8::/32 overlaps 2001:db8:1::/48 (prefixes.0)"),
    ("AS number zero", [{"cidr": "203.0.113.0/24", "asn": 0}], "prefixes.0.asn", "prefixes.0.asn"),
    ("AS number over 32 bits", [{"cidr": "203.0.113.0/24", "asn": 4_294_967_296}], "prefixes.0.asn", "asn"),
    ("AS number as text", [{"cidr": "203.0.113.0/24", "asn": "64500"}], "prefixes.0.asn", "asn"),
    ("note too long", [{"cidr": "203.0.113.0/24", "asn": 1, "note": "x" * 101}], "prefixes.0.note", "note"),
    ("note over two lines", [{"cidr": "203.0.113.0/24", "asn": 1, "note": "POP\nJakarta"}], "prefixes.0.note",
     "printable"),
    ("unknown field", [{"cidr": "203.0.113.0/24", "asn": 1, "country": "ID"}], "prefixes.0.country", "unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("prefixes", "field", "named"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_a_bad_duplicate_or_overlapping_prefix_is_a_400_naming_it_and_nothing_changes(
    api: Api, world: World, prefixes: list[dict[str, Any]], field: str, named: str
) -> None:
    assert put_space(api, world, [{"cidr": "192.0.2.0/24", "asn": 1}]).status == 200
    reply = put_space(api, world, prefixes)
    assert reply.status == 400, reply.body
    error = reply.json["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == field
    assert named in error["message"]
    assert api.get(SPACE, token=world.admin.token).json == {"prefixes": [{"cidr": "192.0.2.0/24", "asn": 1,
                                                                          "note": None}]}  # fmt: skip


def test_two_admins_replacing_the_list_at_once_leave_one_whole_list(api: Api, world: World) -> None:
    from chalicelib.auth.principal import Actor, RequestMeta
    from chalicelib.errors import Conflict
    from chalicelib.services.address_space import Prefix

    put_space(api, world, ISP_PREFIXES)
    service = deps.services().address_space
    lists = {
        "a": [Prefix(f"10.1.{i}.0/24", 64500) for i in range(50)],
        "b": [Prefix(f"10.2.{i}.0/24", 64501) for i in range(70)],
    }
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def replace(name: str) -> None:
        actor = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="test", request_id=name))
        start.wait()
        try:
            service.replace(actor, lists[name])
            outcomes[name] = "ok"
        except Conflict:
            outcomes[name] = "conflict"

    threads = [threading.Thread(target=replace, args=(name,)) for name in lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "ok" in outcomes.values()
    stored = [Prefix(p["cidr"], p["asn"], p["note"]) for p in api.get(SPACE, token=world.admin.token).json["prefixes"]]
    assert stored in (lists["a"], lists["b"])
    if list(outcomes.values()).count("ok") == 1:  # the loser's list is nowhere, not even half of it
        assert stored == lists[next(name for name, outcome in outcomes.items() if outcome == "ok")]
    chunks = list(AddressSpaceChunk.query(PLATFORM_PARTITION, AddressSpaceChunk.sk.startswith("ADDRSPACE#")))
    assert len({chunk.version for chunk in chunks}) == 1  # no orphaned chunks of the loser or of the old list


def test_more_than_twenty_thousand_prefixes_are_refused(api: Api, world: World) -> None:
    too_many = [{"cidr": f"10.{i // 256 % 256}.{i % 256}.{i // 65536 * 16}/28", "asn": 1} for i in range(20_001)]
    reply = put_space(api, world, too_many)
    assert (reply.status, reply.error_code) == (400, "validation_error")
    assert reply.json["error"]["field"] == "prefixes"


def test_only_platform_admins_read_or_write_it(api: Api, world: World, venue: Venue) -> None:
    owner = venue.tenant.owner.token
    assert api.call("PUT", SPACE, json_body={"prefixes": ISP_PREFIXES}, token=owner).status == 403
    assert api.get(SPACE, token=owner).status == 403
    assert api.get(SPACE, token=venue.controller_a).status == 401


# --- uplinks over HTTP (redeem, accounting) ------------------------------------------------------------------


def test_sites_calling_from_registered_and_unregistered_addresses(
    api: Api, world: World, venue: Venue, triggers: list[Any]
) -> None:
    put_space(api, world, ISP_PREFIXES)
    codes = issue(api, world, venue, quantity=3)
    assert uplinks(api, venue)[venue.site_a]["status"] == "unknown"  # not seen yet
    with source_address("127.0.0.2"):
        assert redeem(api, venue.controller_a, codes[0]).status == 200
    with source_address("127.0.0.3"):
        # The client's own header changes nothing (these tests even trust it for the audit trail).
        reply = api.post("/v1/redeem", {"code": codes[1], "mac": "AA:BB:CC:00:00:01"}, token=venue.controller_b,
                         headers={"X-Forwarded-For": "127.0.0.2"})  # fmt: skip
        assert reply.status == 200  # the guest is let in all the same
    seen = uplinks(api, venue)
    assert seen[venue.site_a]["status"] == "registered" and seen[venue.site_a]["last_address"] == "127.0.0.2"
    assert seen[venue.site_b]["status"] == "unregistered" and seen[venue.site_b]["last_address"] == "127.0.0.3"
    assert seen[venue.site_b]["last_seen_at"] is not None
    (alert,) = uplink_alerts(api, venue)
    assert alert["site_id"] == venue.site_b and "127.0.0.3" in alert["summary"]
    assert alert["source_ip"] == "127.0.0.3"  # what the platform saw, not the header
    assert alert["details"]["address"] == "127.0.0.3"
    assert triggers == [(venue.tenant.org_id, venue.site_b, "uplink_unregistered",
                         "controller called from 127.0.0.3, outside the registered address space")]  # fmt: skip
    # Again the same day: no second alert, no second trigger; accounting is a controller call too.
    with source_address("127.0.0.3"):
        body = {"code": codes[1], "mac": "AA:BB:CC:00:00:01", "session_id": "s1", "event": "start",
                "input_octets": 0, "output_octets": 0, "session_time": 0}  # fmt: skip
        assert api.post("/v1/accounting", body, token=venue.controller_b).status == 200
        assert redeem(api, venue.controller_b, codes[2]).status == 200
    assert len(uplink_alerts(api, venue)) == 1 and len(triggers) == 1
    # The site moves to a registered line: its status follows at its next call.
    with source_address("203.0.113.9"):
        assert redeem(api, venue.controller_b, codes[2]).status == 200
    assert uplinks(api, venue)[venue.site_b] | {"last_seen_at": None} == {
        "site_id": venue.site_b, "site_name": "B", "status": "registered", "last_address": "203.0.113.9",
        "last_seen_at": None,
    }  # fmt: skip


def test_without_a_registered_address_space_every_site_is_unknown_and_nothing_is_raised(
    api: Api, world: World, venue: Venue, triggers: list[Any]
) -> None:
    (code,) = issue(api, world, venue)
    with source_address("198.51.100.20"):
        assert redeem(api, venue.controller_a, code).status == 200
    site = uplinks(api, venue)[venue.site_a]
    assert (site["status"], site["last_address"]) == ("unknown", "198.51.100.20")
    assert uplink_alerts(api, venue) == [] and triggers == []


def test_a_site_is_written_only_when_its_uplink_changes_or_every_five_minutes(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    put_space(api, world, ISP_PREFIXES)
    codes = issue(api, world, venue, quantity=6)
    with source_address("127.0.0.2"):
        assert redeem(api, venue.controller_a, codes[0]).status == 200  # warms the caches, records the uplink
        with counting_requests() as calls:
            assert redeem(api, venue.controller_a, codes[1]).status == 200
        assert calls == Counter({"UpdateItem": 1})  # the redeem's one write, nothing else
        clock.advance(301)
        with counting_requests() as calls:
            assert redeem(api, venue.controller_a, codes[2]).status == 200
        assert calls["PutItem"] == 1, calls  # last_seen refreshed after five minutes
    with source_address("203.0.113.7"), counting_requests() as calls:
        assert redeem(api, venue.controller_a, codes[3]).status == 200
    assert calls["PutItem"] == 1, calls  # a new address
    assert uplinks(api, venue)[venue.site_a]["last_address"] == "203.0.113.7"


def test_a_list_replaced_elsewhere_reaches_the_status_within_the_cache_time(
    api: Api, world: World, venue: Venue, clock: FakeClock
) -> None:
    from chalicelib.auth.principal import Actor, RequestMeta
    from chalicelib.services.address_space import AddressSpaceService, Prefix
    from chalicelib.services.audit import AuditLog

    put_space(api, world, ISP_PREFIXES)
    codes = issue(api, world, venue, quantity=3)
    with source_address("198.51.100.20"):
        assert redeem(api, venue.controller_a, codes[0]).status == 200
        assert uplinks(api, venue)[venue.site_a]["status"] == "unregistered"
        # Another container registers the venue's line; this one keeps its copy for up to 60 s.
        elsewhere = AddressSpaceService(AuditLog(clock), clock, clock.monotonic)
        actor = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="test", request_id="t"))
        elsewhere.replace(actor, [Prefix("198.51.100.0/24", 64500)])
        clock.advance(30)
        assert redeem(api, venue.controller_a, codes[1]).status == 200
        assert uplinks(api, venue)[venue.site_a]["status"] == "unregistered"
        clock.advance(31)
        assert redeem(api, venue.controller_a, codes[2]).status == 200
    assert uplinks(api, venue)[venue.site_a]["status"] == "registered"


@contextmanager
def counting_requests() -> Iterator[Counter[str]]:
    """DynamoDB requests of every model the redeem path may touch (each model has its own client)."""
    from chalicelib.models import AddressSpaceHead, ApiKey, Site, Uplink

    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    clients = {id(client): client for client in (dynamodb_client(m) for m in (Voucher, Uplink, AddressSpaceHead,
                                                                              AddressSpaceChunk, ApiKey, Site))}
    for client in clients.values():
        client.meta.events.register("before-call.dynamodb", count, unique_id=f"address-space-count-{id(client)}")
    try:
        yield calls
    finally:
        for client in clients.values():
            client.meta.events.unregister("before-call.dynamodb", unique_id=f"address-space-count-{id(client)}")


# --- uplinks over RADIUS -------------------------------------------------------------------------------------


def test_radius_judges_the_packet_source_freeradius_passes_on_not_its_own_address(
    api: Api, world: World, hotspot: Hotspot, triggers: list[Any]  # noqa: F811 (the fixture)
) -> None:
    # FreeRADIUS calls Kuota from 127.0.0.1, inside the registered space: that must not count.
    put_space(api, world, [{"cidr": "127.0.0.0/8", "asn": 64500}, {"cidr": "2001:db8::/32", "asn": 64500}])
    venue = hotspot.venue
    codes = issue(api, world, venue, quantity=2)
    assert authorize(api, hotspot.key, access_request(codes[0])).status == 200
    assert uplinks(api, venue)[venue.site_a]["status"] == "unknown"  # no packet source in the body: not judged
    body = access_request(codes[1], **{"Packet-Src-IP-Address": "198.51.100.44"})
    assert authorize(api, hotspot.key, body).status == 200
    site = uplinks(api, venue)[venue.site_a]
    assert (site["status"], site["last_address"]) == ("unregistered", "198.51.100.44")
    assert [alert["site_id"] for alert in uplink_alerts(api, venue)] == [venue.site_a]
    assert [(site_id, reason) for _, site_id, reason, _ in triggers] == [(venue.site_a, "uplink_unregistered")]
    # Accounting from the NAS's IPv6 address: registered; the NAS is listed with it.
    start = accounting_request(codes[1], "Start", **{}) | {
        "Packet-Src-IPv6-Address": {"type": "ipv6addr", "value": ["2001:db8::10"]}
    }
    assert api.post("/v1/radius/accounting", start, token=hotspot.key).status == 200
    reply = api.get(f"/v1/orgs/{hotspot.org_id}/uplinks", token=hotspot.owner).json
    (nas,) = reply["nas"]
    assert (nas["site_id"], nas["status"], nas["last_address"]) == (venue.site_a, "registered", "2001:db8::10")
    assert {s["site_id"]: s["status"] for s in reply["sites"]}[venue.site_a] == "registered"
