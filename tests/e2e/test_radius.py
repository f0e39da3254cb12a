"""A NAS talking RADIUS to Kuota through the real FreeRADIUS (infra/radius) and `radclient`, against the local stack.

Given a venue with a radius key and a registered NAS, FreeRADIUS started once for
this module on loopback ports, and a pyrad NAS listening for Disconnect-Requests:
logins get Access-Accept with the plan's limits or Access-Reject with a message
the guest can read, accounting updates count once however often the NAS resends
them, and a voucher that is used up, revoked or out of time ends its session with
a Disconnect-Request to the NAS.
"""

from __future__ import annotations

import os
import stat
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.services.guest_messages import REJECTIONS
from infra.radius import (
    RadiusError,
    RadiusReply,
    RadiusServer,
    RadiusSettings,
    build_config,
    radclient,
    refuse_world_writable,
    running,
)
from tests.e2e.conftest import RADIUS_NAS_SECRET, NasListener, Stack
from tests.e2e.processes import free_ports

pytestmark = pytest.mark.e2e
MB = 1_048_576
# A NAS identity is registered once in all of Kuota: unique per run, as the stack may be shared.
RUN = uuid.uuid4().hex[:8]
GIGAWORD = 2**32
MAIN_PLAN = {"name": "Harian 5 GB", "price": 10000, "duration_minutes": 60, "validity_days": 30,
             "rate_up_kbps": 512, "rate_down_kbps": 2048, "data_quota_mb": 5000, "max_devices": 1}  # fmt: skip
SMALL_PLAN = {"name": "Hemat 1 MB", "price": 2000, "duration_minutes": 60, "validity_days": 30, "data_quota_mb": 1}
USAGE_PLAN = {"name": "Pakai 1 menit", "price": 1000, "duration_minutes": 1, "validity_days": 30, "time_mode": "usage"}


@dataclass
class Venue:
    """An organisation with three sites (A, B, and EN whose guests read English), each with a registered NAS,
    FreeRADIUS's radius key, and unused codes per plan."""

    org_id: str
    owner: str = field(repr=False)
    radius_key: str = field(repr=False)
    codes: dict[str, list[str]] = field(repr=False)
    sites: dict[str, str]
    nas_ids: dict[str, str]

    def code(self, pool: str) -> str:
        return self.codes[pool].pop()


def _venue(stack: Stack, tag: str = "") -> Venue:
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = stack.call("POST", "/v1/orgs", {"name": f"Warung {uuid.uuid4().hex[:6]}"}, token=admin)["org_id"]
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": "radius-e2e-owner", "role": "owner"},
               token=admin)  # fmt: skip
    owner = stack.login(email, "radius-e2e-owner")
    base = f"/v1/orgs/{org_id}"
    sites, nas_ids = {}, {name: f"e2e-{RUN}{tag}-{name.lower()}" for name in ("A", "B", "EN")}
    for name, language in (("A", "id"), ("B", "id"), ("EN", "en")):
        nas_id = nas_ids[name]
        about = {"name": f"Teras {name}", "timezone": "Asia/Jakarta", "language": language}
        site_id = stack.call("POST", f"{base}/sites", about, token=owner)["site_id"]
        stack.call("POST", f"{base}/sites/{site_id}/nas", {"name": f"hAP {name}", "nas_identifier": nas_id},
                   token=owner)  # fmt: skip
        sites[name] = site_id
    radius_key = stack.call("POST", f"{base}/keys", {"kind": "radius", "name": "freeradius"}, token=owner)["api_key"]
    codes = {}
    for pool, plan, site, quantity in (("main", MAIN_PLAN, "A", 8), ("small", SMALL_PLAN, "A", 2),
                                       ("usage", USAGE_PLAN, "A", 2), ("elsewhere", MAIN_PLAN, "B", 1)):  # fmt: skip
        plan_id = stack.call("POST", f"{base}/plans", plan, token=owner)["plan_id"]
        order = {"plan_id": plan_id, "site_id": sites[site], "quantity": quantity}
        batch = stack.call("POST", f"{base}/batches", order, token=owner)
        codes[pool] = list(stack.call("GET", f"{base}/batches/{batch['batch_id']}/codes", token=owner)["codes"])
    return Venue(org_id, owner, radius_key, codes, sites, nas_ids)


@dataclass
class Radius:
    """FreeRADIUS in front of the stack, the venue behind it, and the NAS it disconnects."""

    stack: Stack
    venue: Venue
    server: RadiusServer
    nas: NasListener

    def login(self, code: str, mac: str, site: str = "A") -> RadiusReply:
        """The NAS of `site` asks FreeRADIUS for a guest who typed `code` on a device with `mac` (MikroTik's
        PAP login)."""
        attributes: dict[str, str | int] = {
            "User-Name": code, "User-Password": code, "Calling-Station-Id": mac,
            "NAS-Identifier": self.venue.nas_ids[site],
            "NAS-IP-Address": "127.0.0.1", "Called-Station-Id": "hotspot1", "NAS-Port-Type": "Wireless-802.11",
        }  # fmt: skip
        return radclient(f"127.0.0.1:{self.server.settings.auth_port}", "auth", RADIUS_NAS_SECRET, attributes)

    def account(self, code: str, mac: str, session: str, status: str, *, seconds: int = 0, octets_in: int = 0,
                octets_out: int = 0) -> RadiusReply:  # fmt: skip
        """One Accounting-Request; octets above 4 GiB go in the Gigawords attributes, as NASes send them."""
        attributes: dict[str, str | int] = {
            "User-Name": code, "Acct-Status-Type": status, "Acct-Session-Id": session, "Calling-Station-Id": mac,
            "NAS-Identifier": self.venue.nas_ids["A"], "NAS-IP-Address": "127.0.0.1", "Framed-IP-Address": "10.5.50.7",
            "Acct-Session-Time": seconds,
            "Acct-Input-Octets": octets_in % GIGAWORD, "Acct-Input-Gigawords": octets_in // GIGAWORD,
            "Acct-Output-Octets": octets_out % GIGAWORD, "Acct-Output-Gigawords": octets_out // GIGAWORD,
        }  # fmt: skip
        return radclient(f"127.0.0.1:{self.server.settings.acct_port}", "acct", RADIUS_NAS_SECRET, attributes)

    def voucher(self, code: str) -> Any:
        return self.stack.call("GET", f"/v1/orgs/{self.venue.org_id}/vouchers/{code}", token=self.venue.owner)


@contextmanager
def _radius_for(stack: Stack, nas: NasListener, venue: Venue) -> Iterator[Radius]:
    """FreeRADIUS on free loopback ports with the venue's radius key, sending disconnects to the pyrad NAS."""
    auth_port, acct_port = free_ports(2)
    settings = RadiusSettings(api_url=stack.api, radius_key=venue.radius_key, nas_secret=RADIUS_NAS_SECRET,
                              auth_port=auth_port, acct_port=acct_port, nas_coa_port=nas.port)  # fmt: skip
    with running(settings) as server:
        yield Radius(stack, venue, server, nas)
        assert venue.radius_key not in server.output.text()  # FreeRADIUS never printed the key


@pytest.fixture(scope="module")
def radius(stack: Stack, nas: NasListener) -> Iterator[Radius]:
    """FreeRADIUS started once for the module."""
    with _radius_for(stack, nas, _venue(stack)) as started:
        yield started


def _mac(index: int) -> str:
    return f"02:4B:55:00:00:{index:02X}"


def test_a_valid_code_gets_access_accept_with_the_plans_time_rates_and_data(radius: Radius) -> None:
    reply = radius.login(radius.venue.code("main"), _mac(1))

    assert reply.code == "Access-Accept", reply
    assert 3500 < int(reply.first("Session-Timeout") or 0) <= 3600  # the plan's hour, just started
    assert int(reply.first("Acct-Interim-Interval") or 0) > 0
    assert reply.first("Mikrotik-Rate-Limit") == "512k/2048k"  # MikroTik's rx/tx: the guest's upload first
    assert reply.first("WISPr-Bandwidth-Max-Up") == str(512 * 1000)
    assert reply.first("WISPr-Bandwidth-Max-Down") == str(2048 * 1000)
    quota = 5000 * MB  # over 4 GiB: the NAS gets it as gigawords plus the rest
    assert int(reply.first("Mikrotik-Total-Limit-Gigawords") or 0) * GIGAWORD + int(
        reply.first("Mikrotik-Total-Limit") or 0
    ) == quota
    assert reply.first("ChilliSpot-Max-Total-Octets") == str(min(quota, GIGAWORD - 1))  # 32 bits, no gigawords
    assert reply.first("Reply-Message")


def test_each_refused_login_is_an_access_reject_with_its_message_in_the_sites_language(radius: Radius) -> None:
    venue = radius.venue
    refusals: dict[str, RadiusReply] = {}

    refusals["invalid_code"] = radius.login("ZZZZ-ZZZZ-ZZ", _mac(10))
    refusals["wrong_site"] = radius.login(venue.code("elsewhere"), _mac(11))
    shared = venue.code("main")
    assert radius.login(shared, _mac(12)).code == "Access-Accept"
    refusals["device_limit_reached"] = radius.login(shared, _mac(13))
    revoked = venue.code("main")
    radius.stack.call("POST", f"/v1/orgs/{venue.org_id}/vouchers/{revoked}/revoke", {"reason": "lost at the till"},
                      token=venue.owner)  # fmt: skip
    refusals["voucher_revoked"] = radius.login(revoked, _mac(14))
    for attempt in range(10):  # a device guessing codes: the 11th try is refused for trying too often
        assert radius.login(f"ZZZZ-ZZZZ-{attempt:02d}", _mac(15)).code == "Access-Reject"
    refusals["too_many_attempts"] = radius.login(venue.code("main"), _mac(15))

    for reason, reply in refusals.items():
        assert (reply.code, reply.first("Reply-Message")) == ("Access-Reject", REJECTIONS[reason]["id"]), reason
    english = radius.login("ZZZZ-ZZZZ-ZZ", _mac(16), site="EN")
    assert (english.code, english.first("Reply-Message")) == ("Access-Reject", REJECTIONS["invalid_code"]["en"])


def test_start_interim_and_stop_count_once_each_even_when_the_nas_resends_them(radius: Radius) -> None:
    code, mac, session = radius.venue.code("main"), _mac(20), "81f00001"
    assert radius.login(code, mac).code == "Access-Accept"

    steps = [
        ("Start", 0, 0, 0),
        ("Interim-Update", 300, 1_000_000, 4_000_000),
        ("Stop", 600, 2_000_000, GIGAWORD + 8_000_000),  # past 4 GiB: Acct-Output-Gigawords = 1
    ]
    for status, seconds, octets_in, octets_out in steps:
        for _resend in range(2):  # the NAS did not see the first Accounting-Response and sends it again
            reply = radius.account(code, mac, session, status, seconds=seconds, octets_in=octets_in,
                                   octets_out=octets_out)  # fmt: skip
            assert reply.code == "Accounting-Response", (status, reply)
        voucher = radius.voucher(code)
        assert (voucher["used_seconds"], voucher["used_bytes"]) == (seconds, octets_in + octets_out), status
        assert voucher["status"] == "active"
    assert radius.nas.disconnects == [] or all(d.get("Acct-Session-Id") != [session] for d in radius.nas.disconnects)


def _assert_disconnected(radius: Radius, code: str, mac: str, session: str, reason: str) -> None:
    """The NAS got a Disconnect-Request naming the session, and the guest cannot log in again."""
    request = radius.nas.wait_for_disconnect(session)
    assert request["User-Name"] == [code]
    assert request["Calling-Station-Id"] == [mac]
    assert request["NAS-Identifier"] == [radius.venue.nas_ids["A"]]
    assert request["NAS-IP-Address"] == ["127.0.0.1"]
    again = radius.login(code, mac)
    assert (again.code, again.first("Reply-Message")) == ("Access-Reject", REJECTIONS[reason]["id"])


def test_data_used_up_through_accounting_disconnects_the_guest(radius: Radius) -> None:
    code, mac, session = radius.venue.code("small"), _mac(30), "81f00002"
    accept = radius.login(code, mac)
    assert accept.code == "Access-Accept"
    assert accept.first("Mikrotik-Total-Limit") == str(MB)
    assert radius.account(code, mac, session, "Start").code == "Accounting-Response"

    update = radius.account(code, mac, session, "Interim-Update", seconds=120, octets_in=300_000, octets_out=900_000)

    assert update.code == "Accounting-Response"
    _assert_disconnected(radius, code, mac, session, "voucher_exhausted")
    assert radius.voucher(code)["status"] == "exhausted"


def test_a_revoked_voucher_is_disconnected_at_its_next_interim_update(radius: Radius) -> None:
    venue = radius.venue
    code, mac, session = venue.code("main"), _mac(40), "81f00003"
    assert radius.login(code, mac).code == "Access-Accept"
    assert radius.account(code, mac, session, "Start").code == "Accounting-Response"
    radius.stack.call("POST", f"/v1/orgs/{venue.org_id}/vouchers/{code}/revoke", {"reason": "refunded"},
                      token=venue.owner)  # fmt: skip

    update = radius.account(code, mac, session, "Interim-Update", seconds=60, octets_in=1000, octets_out=5000)

    assert update.code == "Accounting-Response"
    _assert_disconnected(radius, code, mac, session, "voucher_revoked")


def test_a_voucher_whose_time_runs_out_is_disconnected(radius: Radius) -> None:
    code, mac, session = radius.venue.code("usage"), _mac(50), "81f00004"
    accept = radius.login(code, mac)
    assert accept.code == "Access-Accept"
    assert int(accept.first("Session-Timeout") or 0) == 60  # a one-minute plan counting connected time
    assert radius.account(code, mac, session, "Start").code == "Accounting-Response"

    update = radius.account(code, mac, session, "Interim-Update", seconds=61, octets_in=1000, octets_out=5000)

    assert update.code == "Accounting-Response"
    _assert_disconnected(radius, code, mac, session, "voucher_expired")
    assert radius.voucher(code)["status"] == "expired"


def test_a_reseller_walked_through_the_stages_over_radius(stack: Stack, nas: NasListener) -> None:
    """Suspended: logins are rejected with the guest's message in each site's language while a session in
    progress runs on; reinstated: guests get in again; terminated: the live session gets a Disconnect-Request
    and the organisation's keys stop working."""
    venue = _venue(stack, tag="-stages")
    admin = stack.login(stack.admin_email, stack.admin_password)

    def move(stage: str, note: str) -> None:
        stack.call("POST", f"/v1/platform/orgs/{venue.org_id}/stage",
                   {"stage": stage, "reason": "manual", "note": note}, token=admin)  # fmt: skip

    with _radius_for(stack, nas, venue) as radius:
        live, mac, session = venue.code("main"), _mac(60), "81f00060"
        assert radius.login(live, mac).code == "Access-Accept"
        assert radius.account(live, mac, session, "Start").code == "Accounting-Response"

        move("suspended", "Uplink is a home line")
        for site, language in (("A", "id"), ("EN", "en")):
            refused = radius.login(venue.code("main"), _mac(61), site=site)
            assert (refused.code, refused.first("Reply-Message")) == (
                "Access-Reject", REJECTIONS["service_suspended"][language]), site  # fmt: skip
        interim = radius.account(live, mac, session, "Interim-Update", seconds=60, octets_in=1000, octets_out=9000)
        assert interim.code == "Accounting-Response"
        assert radius.voucher(live)["used_seconds"] == 60  # counted, and the session runs on

        move("active", "Moved to the ISP's line")
        assert radius.login(venue.code("main"), _mac(62)).code == "Access-Accept"

        move("terminated", "Agreement ended by the ISP")
        ending = radius.account(live, mac, session, "Interim-Update", seconds=120, octets_in=2000, octets_out=9000)
        assert ending.code == "Accounting-Response"
        request = nas.wait_for_disconnect(session)
        assert (request["User-Name"], request["Calling-Station-Id"]) == ([live], [mac])
        assert radius.login(venue.code("main"), _mac(63)).code == "Access-Reject"
        # The organisation's keys stop working; its owner may still read.
        assert stack.request("POST", "/v1/radius/authorize", {}, token=venue.radius_key).status == 401
        assert stack.request("GET", f"/v1/orgs/{venue.org_id}/compliance", token=venue.owner).status == 200


def test_the_private_configuration_differs_from_debians_only_where_kuota_needs(tmp_path: Any) -> None:
    raddb = build_config(tmp_path, reject_delay=0)

    assert sorted(path.name for path in (raddb / "sites-enabled").iterdir()) == ["kuota"]  # no inner-tunnel listener
    assert (raddb / "mods-enabled" / "rest").resolve() == (raddb / "mods-available" / "rest").resolve()
    radiusd = (raddb / "radiusd.conf").read_text()
    assert "reject_delay = 0" in radiusd
    assert not [line for line in radiusd.splitlines() if line.strip().startswith(("user =", "group ="))]
    assert (raddb / "dictionary").read_text().endswith("$INCLUDE dictionary.kuota\n")
    assert not [p for p in raddb.rglob("*") if not p.is_symlink() and p.stat().st_mode & (stat.S_IWOTH | stat.S_IROTH)]
    settings = RadiusSettings(api_url="http://127.0.0.1:9", radius_key="k", nas_secret="s")
    check = subprocess.run(["/usr/sbin/freeradius", "-XC", "-d", str(raddb)], capture_output=True, text=True,
                           env={**os.environ, **settings.environment()}, timeout=30, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout[-3000:]


def test_a_world_writable_file_is_refused_before_freeradius_starts(tmp_path: Any) -> None:
    loose = tmp_path / "clients.conf"
    loose.write_text("# anyone may edit this\n")
    loose.chmod(0o666)

    with pytest.raises(RadiusError, match=r"clients\.conf is world-writable"):
        refuse_world_writable(tmp_path)
