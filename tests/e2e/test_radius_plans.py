"""Plans as venues sell them, over the real FreeRADIUS (infra/radius) and `radclient`, against the local stack.

The stack's API runs with the real clock, so the plans' windows are set relative to the current local
time at each site: one that opened a minute ago and closes in about three (an accept must stop at its
end), one that opens in an hour (a reject must say when). A day's data used up ends the session with a
Disconnect-Request, and the reject names local midnight. A top-up sold onto a live code reaches the NAS
as a CoA-Request with the session's new limits.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.services.guest_messages import DAY_NAMES, REJECTIONS
from infra.radius import RadiusReply, RadiusServer, RadiusSettings, radclient, running
from tests.e2e.conftest import RADIUS_NAS_SECRET, NasListener, Stack
from tests.e2e.processes import free_ports

pytestmark = pytest.mark.e2e
MB = 1_048_576
RUN = uuid.uuid4().hex[:8]  # NAS identities are unique in all of Kuota, and the stack may be shared
SITES = {"JKT": ("Asia/Jakarta", "id"), "DJJ": ("Asia/Jayapura", "en")}  # name -> timezone, guests' language
COME_BACK = {"id": "Berlaku lagi", "en": "Usable again"}


@dataclass
class Venue:
    """An organisation with a site in WIB and one in WIT, each with a registered NAS, and its radius key."""

    stack: Stack
    org_id: str
    owner: str = field(repr=False)
    radius_key: str = field(repr=False)
    sites: dict[str, str]
    nas_ids: dict[str, str]

    def code(self, site: str, **plan: Any) -> str:
        """One code of a new plan with these terms, for `site`."""
        base = f"/v1/orgs/{self.org_id}"
        terms = {"name": "Paket", "price": 5000, "duration_minutes": 60, "validity_days": 30, **plan}
        plan_id = self.stack.call("POST", f"{base}/plans", terms, token=self.owner)["plan_id"]
        order = {"plan_id": plan_id, "site_id": self.sites[site], "quantity": 1}
        batch = self.stack.call("POST", f"{base}/batches", order, token=self.owner)
        (code,) = self.stack.call("GET", f"{base}/batches/{batch['batch_id']}/codes", token=self.owner)["codes"]
        return str(code)

    def top_up(self, code: str, **plan: Any) -> dict[str, Any]:
        """The owner sells a top-up plan onto the code (console: voucher > top up)."""
        base = f"/v1/orgs/{self.org_id}"
        terms = {"name": "Tambah", "price": 2000, "validity_days": 30, "kind": "topup", **plan}
        plan_id = self.stack.call("POST", f"{base}/plans", terms, token=self.owner)["plan_id"]
        return dict(self.stack.call("POST", f"{base}/vouchers/{code}/topup", {"plan_id": plan_id}, token=self.owner))


def _venue(stack: Stack) -> Venue:
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = stack.call("POST", "/v1/orgs", {"name": f"Warung {uuid.uuid4().hex[:6]}"}, token=admin)["org_id"]
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    stack.call("POST", f"/v1/orgs/{org_id}/users", {"email": email, "password": "radius-e2e-owner", "role": "owner"},
               token=admin)  # fmt: skip
    owner = stack.login(email, "radius-e2e-owner")
    base = f"/v1/orgs/{org_id}"
    sites, nas_ids = {}, {}
    for name, (timezone, language) in SITES.items():
        about = {"name": f"Teras {name}", "timezone": timezone, "language": language}
        sites[name] = stack.call("POST", f"{base}/sites", about, token=owner)["site_id"]
        nas_ids[name] = f"e2e-{RUN}-plans-{name.lower()}"
        stack.call("POST", f"{base}/sites/{sites[name]}/nas", {"name": f"hAP {name}", "nas_identifier": nas_ids[name]},
                   token=owner)  # fmt: skip
    radius_key = stack.call("POST", f"{base}/keys", {"kind": "radius", "name": "freeradius"}, token=owner)["api_key"]
    return Venue(stack, org_id, owner, radius_key, sites, nas_ids)


@dataclass
class Radius:
    """FreeRADIUS in front of the stack, the venue behind it, and the NAS it sends Disconnect- and CoA-Requests."""

    venue: Venue
    server: RadiusServer
    nas: NasListener

    def login(self, code: str, mac: str, site: str = "JKT") -> RadiusReply:
        attributes: dict[str, str | int] = {
            "User-Name": code, "User-Password": code, "Calling-Station-Id": mac,
            "NAS-Identifier": self.venue.nas_ids[site], "NAS-IP-Address": "127.0.0.1",
        }  # fmt: skip
        return radclient(f"127.0.0.1:{self.server.settings.auth_port}", "auth", RADIUS_NAS_SECRET, attributes)

    def account(self, code: str, mac: str, session: str, status: str, *, seconds: int = 0, octets: int = 0,
                site: str = "JKT") -> RadiusReply:  # fmt: skip
        """One Accounting-Request with the NAS's Event-Timestamp (now), as MikroTik sends it."""
        attributes: dict[str, str | int] = {
            "User-Name": code, "Acct-Status-Type": status, "Acct-Session-Id": session, "Calling-Station-Id": mac,
            "NAS-Identifier": self.venue.nas_ids[site], "NAS-IP-Address": "127.0.0.1",
            "Acct-Session-Time": seconds, "Acct-Input-Octets": octets // 4, "Acct-Output-Octets": octets - octets // 4,
            "Event-Timestamp": int(time.time()),
        }  # fmt: skip
        return radclient(f"127.0.0.1:{self.server.settings.acct_port}", "acct", RADIUS_NAS_SECRET, attributes)


@pytest.fixture(scope="module")
def radius(stack: Stack, nas: NasListener) -> Iterator[Radius]:
    venue = _venue(stack)
    auth_port, acct_port = free_ports(2)
    settings = RadiusSettings(api_url=stack.api, radius_key=venue.radius_key, nas_secret=RADIUS_NAS_SECRET,
                              auth_port=auth_port, acct_port=acct_port, nas_coa_port=nas.port)  # fmt: skip
    with running(settings) as server:
        yield Radius(venue, server, nas)
        assert venue.radius_key not in server.output.text()


def _local_now(site: str) -> datetime:
    return datetime.now(UTC).astimezone(ZoneInfo(SITES[site][0]))


def _window(opens: datetime, minutes: int) -> dict[str, Any]:
    """A window opening at `opens` (whole minutes, the site's local time) for `minutes` (past midnight too)."""
    closes = opens + timedelta(minutes=minutes)
    return {"days": [DAY_NAMES["en"][opens.weekday()].lower()], "start": f"{opens:%H:%M}", "end": f"{closes:%H:%M}"}


def _mac(index: int) -> str:
    return f"02:4B:56:00:00:{index:02X}"


@pytest.mark.parametrize("site", list(SITES))
def test_an_accept_inside_a_window_stops_at_the_windows_end(radius: Radius, site: str) -> None:
    opened = _local_now(site).replace(second=0, microsecond=0) - timedelta(minutes=1)
    closes = opened + timedelta(minutes=4)  # a 60-minute plan: the window's end comes first
    code = radius.venue.code(site, windows=[_window(opened, 4)])

    before = datetime.now(UTC)
    reply = radius.login(code, _mac(1), site=site)
    after = datetime.now(UTC)

    assert reply.code == "Access-Accept", reply
    timeout = int(reply.first("Session-Timeout") or 0)
    assert (closes - after).total_seconds() - 1 <= timeout <= (closes - before).total_seconds(), (timeout, closes)
    assert 0 < timeout <= 180


@pytest.mark.parametrize("site", list(SITES))
def test_a_login_before_the_window_is_rejected_with_when_it_opens(radius: Radius, site: str) -> None:
    now = _local_now(site)
    opens = now.replace(second=0, microsecond=0) + timedelta(hours=1)
    code = radius.venue.code(site, windows=[_window(opens, 60)])

    reply = radius.login(code, _mac(2), site=site)

    language = SITES[site][1]
    expected = f"{REJECTIONS['outside_window'][language]} {COME_BACK[language]} " \
               f"{DAY_NAMES[language][opens.weekday()]} {opens:%H:%M}."  # fmt: skip
    assert (reply.code, reply.first("Reply-Message")) == ("Access-Reject", expected)


def test_a_days_data_used_up_disconnects_and_the_reject_names_local_midnight(radius: Radius) -> None:
    code, mac, session = radius.venue.code("JKT", period_quota_mb=1, quota_period="day"), _mac(3), "81f10003"
    accept = radius.login(code, mac)
    assert accept.code == "Access-Accept", accept
    assert (accept.first("Mikrotik-Total-Limit"), accept.first("Mikrotik-Total-Limit-Gigawords")) == (str(MB), "0")
    assert radius.account(code, mac, session, "Start").code == "Accounting-Response"

    update = radius.account(code, mac, session, "Interim-Update", seconds=60, octets=MB)

    assert update.code == "Accounting-Response"
    request = radius.nas.wait_for_disconnect(session)
    assert (request["User-Name"], request["Calling-Station-Id"]) == ([code], [mac])
    tomorrow = _local_now("JKT") + timedelta(days=1)
    again = radius.login(code, mac)
    expected = f"{REJECTIONS['period_quota_used']['id']} Berlaku lagi {DAY_NAMES['id'][tomorrow.weekday()]} 00:00."
    assert (again.code, again.first("Reply-Message")) == ("Access-Reject", expected)


def test_a_top_up_reaches_the_live_session_as_a_coa_request_once(radius: Radius) -> None:
    venue = radius.venue
    code, mac, session = venue.code("JKT", duration_minutes=60, data_quota_mb=100), _mac(4), "81f10004"
    accept = radius.login(code, mac)
    assert accept.code == "Access-Accept", accept
    assert accept.first("Mikrotik-Total-Limit") == str(100 * MB)
    assert radius.account(code, mac, session, "Start").code == "Accounting-Response"
    assert radius.account(code, mac, session, "Interim-Update", seconds=120, octets=10 * MB).code == (
        "Accounting-Response")  # fmt: skip

    time.sleep(1.1)  # Kuota compares whole seconds: a top-up in the second of the last report is not seen as later
    sold = venue.top_up(code, duration_minutes=30, data_quota_mb=50)
    assert sold["data_remaining_bytes"] == 140 * MB
    started = datetime.now(UTC)
    update = radius.account(code, mac, session, "Interim-Update", seconds=180, octets=20 * MB)

    assert update.code == "Accounting-Response"
    assert update.attributes == {}  # the limits stay inside FreeRADIUS: not in the Accounting-Response
    coa = radius.nas.wait_for_coa(session)
    assert coa["User-Name"] == [code]
    assert coa["Calling-Station-Id"] == [mac]
    assert coa["NAS-Identifier"] == [venue.nas_ids["JKT"]]
    assert coa["NAS-IP-Address"] == ["127.0.0.1"]
    # From the session's start: its 20 MB plus the 130 MB left; its 180 s plus the time left of 90 minutes.
    assert coa["Mikrotik-Total-Limit"] == [150 * MB]
    assert coa["Mikrotik-Total-Limit-Gigawords"] == [0]
    assert coa["ChilliSpot-Max-Total-Octets"] == [150 * MB]
    expires_at = datetime.fromisoformat(sold["expires_at"].replace("Z", "+00:00"))
    left = (expires_at - started).total_seconds()
    assert left - 5 <= coa["Session-Timeout"][0] - 180 <= left + 1  # whole seconds
    assert radius.nas.disconnects == [] or all(d.get("Acct-Session-Id") != [session] for d in radius.nas.disconnects)

    later = radius.account(code, mac, session, "Interim-Update", seconds=240, octets=21 * MB)
    assert later.code == "Accounting-Response"
    time.sleep(1)  # a second CoA-Request would have arrived by now
    assert [c for c in radius.nas.coas if c.get("Acct-Session-Id") == [session]] == [coa]
