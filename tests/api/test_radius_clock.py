"""Real FreeRADIUS and `radclient` against the local API server with an injected clock.

The local server runs in this process with the test's FakeClock, so radclient's packets cross
the edges the plans care about exactly: Sunday 31 January 2027 23:59 to Monday 1 February 00:00
at the site is the end of a day, a week and a month at once, and 07:00 that Monday opens a
school window. Each zone (WIB, WITA, WIT) has its own site, NAS and language.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.services.guest_messages import DAY_NAMES, REJECTIONS
from infra.radius import RadiusReply, RadiusSettings, radclient, running
from tests.api.local_server import LocalServer
from tests.e2e.conftest import RADIUS_NAS_SECRET, NasListener
from tests.support import Api, FakeClock, World

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/usr/sbin/freeradius").is_file(), reason="FreeRADIUS is not installed"),
]
MB = 1_048_576
ZONES = {"WIB": ("Asia/Jakarta", "id"), "WITA": ("Asia/Makassar", "en"), "WIT": ("Asia/Jayapura", "id")}
SCHOOL = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "15:00"}]
AGAIN = {"id": "Berlaku lagi", "en": "Usable again"}


@dataclass
class Nas:
    """A venue's NAS behind FreeRADIUS: it logs guests in and reports their sessions."""

    identifier: str
    auth: str
    acct: str
    zone: ZoneInfo
    language: str

    def login(self, code: str, mac: str) -> RadiusReply:
        attributes: dict[str, str | int] = {"User-Name": code, "User-Password": code, "Calling-Station-Id": mac,
                                            "NAS-Identifier": self.identifier,
                                            "NAS-IP-Address": "127.0.0.1"}  # fmt: skip
        return radclient(self.auth, "auth", RADIUS_NAS_SECRET, attributes)

    def report(self, code: str, mac: str, session: str, octets: int, seconds: int, read_at: datetime) -> RadiusReply:
        """An Interim-Update whose counters the NAS read at `read_at` (its Event-Timestamp)."""
        attributes: dict[str, str | int] = {
            "User-Name": code, "Acct-Status-Type": "Interim-Update", "Acct-Session-Id": session,
            "Calling-Station-Id": mac, "NAS-Identifier": self.identifier, "NAS-IP-Address": "127.0.0.1",
            "Acct-Session-Time": seconds, "Acct-Input-Octets": octets,
            "Event-Timestamp": int(read_at.timestamp()),
        }  # fmt: skip
        return radclient(self.acct, "acct", RADIUS_NAS_SECRET, attributes)

    def rejected_until(self, reason: str, at: datetime) -> str:
        """The Reply-Message of a reject that names when the guest may come back."""
        return f"{REJECTIONS[reason][self.language]} {AGAIN[self.language]} {DAY_NAMES[self.language][at.weekday()]} " \
               f"{at:%H:%M}."  # fmt: skip


@dataclass
class Venue:
    nas: Nas
    codes: dict[str, str]


def at(clock: FakeClock, zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0,
       second: int = 0) -> datetime:  # fmt: skip
    """Move the clock to a local time at the site; the local time back."""
    local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    clock.now = local.astimezone(UTC)
    return local


@pytest.fixture(params=list(ZONES))
def venue(request: pytest.FixtureRequest, api: Api, world: World, clock: FakeClock,
          server: LocalServer) -> Iterator[Venue]:  # fmt: skip
    """A site in the zone with a NAS, FreeRADIUS in front of the local server, and one code of each plan.
    Made on the real clock (sign-in tokens are checked against it), before the test moves the clock."""
    from tests.e2e.processes import free_ports

    timezone, language = ZONES[request.param]
    tenant = world.org()
    org, owner = f"/v1/orgs/{tenant.org_id}", tenant.owner.token
    site_id = api.post(f"{org}/sites", {"name": "Asrama", "timezone": timezone, "language": language},
                       token=owner).json["site_id"]  # fmt: skip
    identifier = f"clock-{uuid.uuid4().hex[:8]}"
    assert api.post(f"{org}/sites/{site_id}/nas", {"name": "hAP", "nas_identifier": identifier},
                    token=owner).status == 201  # fmt: skip
    radius_key = api.post(f"{org}/keys", {"kind": "radius", "name": "FreeRADIUS"}, token=owner).json["api_key"]
    month = 45 * 24 * 60
    plans = {
        "school": {"duration_minutes": 30 * 24 * 60, "windows": SCHOOL},
        "day": {"duration_minutes": month, "data_quota_mb": 25, "period_quota_mb": 10, "quota_period": "day"},
        "week": {"duration_minutes": month, "period_quota_mb": 10, "quota_period": "week"},
        "month": {"duration_minutes": month, "period_quota_mb": 10, "quota_period": "month"},
    }
    codes = {}
    for name, terms in plans.items():
        plan_id = world.plan(tenant, name=name, validity_days=365, **terms)
        batch = api.post(f"{org}/batches", {"plan_id": plan_id, "quantity": 1, "site_id": site_id}, token=owner).json
        (codes[name],) = api.get(f"{org}/batches/{batch['batch_id']}/codes", token=owner).json["codes"]
    auth_port, acct_port = free_ports(2)
    listener = NasListener()  # the NAS's side of the Disconnect-Requests a used-up day sends: acknowledged
    settings = RadiusSettings(api_url=f"http://127.0.0.1:{server.port}", radius_key=radius_key,
                              nas_secret=RADIUS_NAS_SECRET, auth_port=auth_port, acct_port=acct_port,
                              nas_coa_port=listener.port)  # fmt: skip
    with running(settings):
        nas = Nas(identifier, f"127.0.0.1:{auth_port}", f"127.0.0.1:{acct_port}", ZoneInfo(timezone), language)
        yield Venue(nas, codes)
    listener.close()


def mac(index: int) -> str:
    return f"02:4B:57:00:00:{index:02X}"


def test_a_day_a_week_and_a_month_reset_at_the_sites_midnight(venue: Venue, clock: FakeClock) -> None:
    nas, zone = venue.nas, venue.nas.zone
    at(clock, zone, 2027, 1, 31, 23, 50)  # Sunday, the last day of January
    for index, plan in enumerate(("day", "week", "month")):
        accept = nas.login(venue.codes[plan], mac(index))
        assert accept.code == "Access-Accept", (plan, accept)
        assert accept.first("Mikrotik-Total-Limit") == str(10 * MB)
        used = nas.report(venue.codes[plan], mac(index), f"s-{plan}", 10 * MB, 300, clock.now)
        assert used.code == "Accounting-Response"

    midnight = at(clock, zone, 2027, 2, 1, 0, 0)
    at(clock, zone, 2027, 1, 31, 23, 59, 59)
    for index, plan in enumerate(("day", "week", "month")):
        refused = nas.login(venue.codes[plan], mac(index))
        assert (refused.code, refused.first("Reply-Message")) == (
            "Access-Reject", nas.rejected_until("period_quota_used", midnight)
        ), plan

    at(clock, zone, 2027, 2, 1, 0, 0)  # Monday 1 February: a new day, week and month
    for index, plan in enumerate(("day", "week", "month")):
        again = nas.login(venue.codes[plan], mac(index))
        assert again.code == "Access-Accept", (plan, again)
        assert again.first("Mikrotik-Total-Limit") == str(10 * MB)

    # A report arriving after midnight, read by the NAS before it, counts into Sunday: today keeps its 10 MB.
    late = nas.report(venue.codes["day"], mac(0), "s-day", 12 * MB, 580, at(clock, zone, 2027, 1, 31, 23, 59, 50))
    assert late.code == "Accounting-Response"
    at(clock, zone, 2027, 2, 1, 0, 1)
    today = nas.login(venue.codes["day"], mac(0))
    assert today.first("Mikrotik-Total-Limit") == str(10 * MB)
    # The total left (25 - 12 MB) is less than a full day's 10 MB only once more is used: still 10 MB here.
    at(clock, zone, 2027, 2, 1, 9, 0)
    nas.report(venue.codes["day"], mac(0), "s-day2", 5 * MB, 60, clock.now)
    last = nas.login(venue.codes["day"], mac(0))
    assert last.first("Mikrotik-Total-Limit") == str(5 * MB)


def test_a_school_window_opens_at_seven_and_its_sessions_stop_at_three(venue: Venue, clock: FakeClock) -> None:
    nas, zone, code = venue.nas, venue.nas.zone, venue.codes["school"]
    seven = at(clock, zone, 2027, 2, 1, 7, 0)
    at(clock, zone, 2027, 2, 1, 6, 59, 59)
    early = nas.login(code, mac(9))
    assert (early.code, early.first("Reply-Message")) == (
        "Access-Reject", nas.rejected_until("outside_window", seven))
    at(clock, zone, 2027, 2, 1, 7, 0)
    opened = nas.login(code, mac(9))
    assert opened.code == "Access-Accept", opened
    assert opened.first("Session-Timeout") == str(8 * 3600)
    at(clock, zone, 2027, 2, 5, 15, 0)  # Friday at three: next is Monday at seven
    closed = nas.login(code, mac(9))
    assert closed.first("Reply-Message") == nas.rejected_until(
        "outside_window", datetime(2027, 2, 8, 7, 0, tzinfo=zone))
