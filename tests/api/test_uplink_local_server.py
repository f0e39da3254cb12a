"""Controllers calling the local API server from loopback addresses: the socket peer is the uplink.

The local server (`infra.api_server`, what `make dev` runs) is started in this process on a
free port, serving the same app and services as the other API tests; clients bind their
sockets to 127.0.0.2 (registered) and 127.0.0.3 (not), as a venue's router would call from
its own public address. A client's `X-Forwarded-For` header changes nothing (these tests
even trust it for the audit trail). Over RADIUS, real FreeRADIUS in front of the same
server passes on the packet source it saw.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from chalicelib.api import deps
from tests.api.local_server import LocalServer
from tests.support import Api, Venue, World, issue

REGISTERED, UNREGISTERED = "127.0.0.2", "127.0.0.3"


def test_controllers_on_registered_and_unregistered_loopback_addresses(
    api: Api, world: World, venue: Venue, server: LocalServer
) -> None:
    triggered: list[tuple[str, str | None, str, str]] = []
    deps.services().uplinks.on_trigger = lambda actor, org, site, reason, note: triggered.append(
        (org, site, reason, note)
    )
    admin, owner, org = world.admin.token, venue.tenant.owner.token, venue.tenant.org_id
    status, _ = server.call("PUT", "/v1/platform/address-space", {"prefixes": [
        {"cidr": f"{REGISTERED}/32", "asn": 64500, "note": "ISP uplink"}, {"cidr": "2001:db8::/32", "asn": 64500}
    ]}, token=admin)  # fmt: skip
    assert status == 200
    codes = issue(api, world, venue, quantity=3)

    # Site A's controller on the registered line, site B's on another; B's header claims A's address.
    status, _ = server.call("POST", "/v1/redeem", {"code": codes[0], "mac": "02:00:00:00:00:01"},
                            token=venue.controller_a, source=REGISTERED)  # fmt: skip
    assert status == 200
    status, _ = server.call("POST", "/v1/redeem", {"code": codes[1], "mac": "02:00:00:00:00:02"},
                            token=venue.controller_b, source=UNREGISTERED,
                            headers={"X-Forwarded-For": REGISTERED})  # fmt: skip
    assert status == 200  # the guest is let in all the same
    accounting = {"code": codes[1], "mac": "02:00:00:00:00:02", "session_id": "s-1", "event": "start",
                  "input_octets": 0, "output_octets": 0, "session_time": 0}  # fmt: skip
    status, _ = server.call("POST", "/v1/accounting", accounting, token=venue.controller_b, source=UNREGISTERED,
                            headers={"X-Forwarded-For": REGISTERED})  # fmt: skip
    assert status == 200

    status, reply = server.call("GET", f"/v1/orgs/{org}/uplinks", token=owner)
    sites = {site["site_id"]: site for site in reply["sites"]}
    assert (sites[venue.site_a]["status"], sites[venue.site_a]["last_address"]) == ("registered", REGISTERED)
    assert (sites[venue.site_b]["status"], sites[venue.site_b]["last_address"]) == ("unregistered", UNREGISTERED)
    assert sites[venue.site_b]["last_seen_at"]

    status, reply = server.call("GET", f"/v1/orgs/{org}/alerts?kind=uplink_unregistered", token=owner)
    (alert,) = reply["alerts"]
    assert alert["site_id"] == venue.site_b and alert["details"]["address"] == UNREGISTERED
    assert triggered == [(org, venue.site_b, "uplink_unregistered",
                          f"controller called from {UNREGISTERED}, outside the registered address space")]  # fmt: skip

    # openNDS's authmon polls from the router: its request's source is the site's uplink too.
    status, config = server.call("POST", f"/v1/orgs/{org}/sites/{venue.site_a}/fas", {}, token=owner)
    assert status == 201
    from chalicelib.opennds import gateway_hash

    poll = {"auth_get": "view", "gatewayhash": gateway_hash(str(config["gateway_name"])),
            "payload": base64.b64encode(b"none").decode()}  # fmt: skip
    status, _ = server.call("POST", str(config["faspath"]), poll, source=UNREGISTERED, form=True,
                            headers={"X-Forwarded-For": REGISTERED})  # fmt: skip
    assert status == 200
    status, reply = server.call("GET", f"/v1/orgs/{org}/uplinks", token=owner)
    site_a = {site["site_id"]: site for site in reply["sites"]}[venue.site_a]
    assert (site_a["status"], site_a["last_address"]) == ("unregistered", UNREGISTERED)
    assert [site for _, site, _, _ in triggered] == [venue.site_b, venue.site_a]


def test_under_enforce_a_site_on_an_unregistered_line_enters_grace(
    api: Api, world: World, venue: Venue, server: LocalServer
) -> None:
    """The real wiring (no test hook): the compliance service acts on the trigger by the platform's policy."""
    admin, owner, org = world.admin.token, venue.tenant.owner.token, venue.tenant.org_id
    policy = {"grace_days": 14, "restricted_days": 7, "triggers": {"uplink_unregistered": "enforce"},
              "quality": {"min_availability": 0.5, "max_reject_rate": 0.5}}  # fmt: skip
    assert server.call("PUT", "/v1/platform/policy", policy, token=admin)[0] == 200
    status, _ = server.call("PUT", "/v1/platform/address-space",
                            {"prefixes": [{"cidr": f"{REGISTERED}/32", "asn": 64500}]}, token=admin)  # fmt: skip
    assert status == 200
    codes = issue(api, world, venue, quantity=2)
    for code, key, source in ((codes[0], venue.controller_a, REGISTERED), (codes[1], venue.controller_b, UNREGISTERED)):
        status, _ = server.call("POST", "/v1/redeem", {"code": code, "mac": "02:00:00:00:00:09"}, token=key,
                                source=source, headers={"X-Forwarded-For": REGISTERED})  # fmt: skip
        assert status == 200

    status, view = server.call("GET", f"/v1/orgs/{org}/compliance", token=owner)
    assert status == 200, view
    sites = {site["site_id"]: site for site in view["sites"]}
    assert sites[venue.site_a]["stage"] == "active"
    assert sites[venue.site_a]["uplink"]["status"] == "registered"
    assert sites[venue.site_b]["stage"] == "grace"
    assert sites[venue.site_b]["own"]["reason"] == "uplink_unregistered"
    assert (sites[venue.site_b]["uplink"]["status"], sites[venue.site_b]["uplink"]["last_address"]) == (
        "unregistered", UNREGISTERED)  # fmt: skip
    assert view["stage"] == "active"  # the organisation itself and its other site are untouched


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/usr/sbin/freeradius").is_file(), reason="FreeRADIUS is not installed (make system-deps)")
def test_radius_logins_are_judged_by_the_packet_source_freeradius_saw(
    api: Api, world: World, venue: Venue, server: LocalServer
) -> None:
    """radclient sends from 127.0.0.3 (its `Packet-Src-IP-Address` binds the socket); FreeRADIUS calls
    Kuota from 127.0.0.1, which is registered here: the venue's packet source must decide."""
    from infra.radius import RadiusSettings, radclient, running
    from tests.e2e.processes import free_ports

    triggered: list[str | None] = []
    deps.services().uplinks.on_trigger = lambda actor, org, site, reason, note: triggered.append(site)
    admin, owner, org = world.admin.token, venue.tenant.owner.token, venue.tenant.org_id
    status, _ = server.call("PUT", "/v1/platform/address-space", {"prefixes": [
        {"cidr": "127.0.0.1/32", "asn": 64500, "note": "FreeRADIUS host"}, {"cidr": f"{REGISTERED}/32", "asn": 64500},
    ]}, token=admin)  # fmt: skip
    assert status == 200
    nas_identifier = f"uplink-{uuid.uuid4().hex[:8]}"
    status, nas = server.call("POST", f"/v1/orgs/{org}/sites/{venue.site_a}/nas",
                              {"name": "hAP", "nas_identifier": nas_identifier}, token=owner)  # fmt: skip
    assert status == 201
    status, key = server.call("POST", f"/v1/orgs/{org}/keys", {"kind": "radius", "name": "FreeRADIUS"}, token=owner)
    assert status == 201
    (code,) = issue(api, world, venue)
    auth_port, acct_port, coa_port = free_ports(3)
    settings = RadiusSettings(api_url=f"http://127.0.0.1:{server.port}", radius_key=key["api_key"],
                              nas_secret="uplink-test-secret", auth_port=auth_port, acct_port=acct_port,
                              nas_address=UNREGISTERED, nas_coa_port=coa_port)  # fmt: skip
    with running(settings):
        reply = radclient(f"127.0.0.1:{auth_port}", "auth", "uplink-test-secret", {
            "User-Name": code, "User-Password": code, "Calling-Station-Id": "02-4B-55-00-00-31",
            "NAS-Identifier": nas_identifier, "Packet-Src-IP-Address": UNREGISTERED,
        })  # fmt: skip
    assert reply.code == "Access-Accept", reply
    status, uplinks = server.call("GET", f"/v1/orgs/{org}/uplinks", token=owner)
    site_a = {site["site_id"]: site for site in uplinks["sites"]}[venue.site_a]
    assert (site_a["status"], site_a["last_address"]) == ("unregistered", UNREGISTERED)
    assert [(n["nas_id"], n["status"], n["last_address"]) for n in uplinks["nas"]] == [
        (nas["nas_id"], "unregistered", UNREGISTERED)
    ]
    assert triggered == [venue.site_a]
