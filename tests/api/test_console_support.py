"""What the console needs from the API: batch list, print settings on the site, dashboard figures."""

from __future__ import annotations

import base64

from tests.support import Api, Venue, World, audit_events, issue, redeem

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()


def test_batches_are_listed_with_what_the_console_sorts_them_by(api: Api, world: World, venue: Venue) -> None:
    """The list comes a page at a time in key order; the console reads every page and shows newest first."""
    plan_id = world.plan(venue.tenant)
    org = f"/v1/orgs/{venue.tenant.org_id}"
    first = api.post(f"{org}/batches", {"plan_id": plan_id, "quantity": 2}, token=venue.tenant.owner.token).json
    second = api.post(f"{org}/batches", {"plan_id": plan_id, "quantity": 3}, token=venue.tenant.owner.token).json
    listed = api.get(f"{org}/batches", token=world.member(venue.tenant, "auditor").token).json["batches"]
    by_id = {batch["batch_id"]: batch for batch in listed}
    assert set(by_id) == {first["batch_id"], second["batch_id"]}
    assert by_id[second["batch_id"]]["quantity"] == 3
    assert by_id[first["batch_id"]]["created_at"] <= by_id[second["batch_id"]]["created_at"]


def test_print_settings_live_on_the_site(api: Api, venue: Venue) -> None:
    path = f"/v1/orgs/{venue.tenant.org_id}/sites/{venue.site_a}"
    owner = venue.tenant.owner.token
    reply = api.patch(path, {"venue_name": "Warung Senja", "ssid": "Senja-WiFi", "logo": PNG}, token=owner)
    assert reply.status == 200, reply.body
    site = api.get(path, token=owner).json
    assert (site["venue_name"], site["ssid"], site["logo"]) == ("Warung Senja", "Senja-WiFi", PNG)
    event = [e for e in audit_events(venue.tenant.org_id) if e["action"] == "site.update"][-1]
    assert event["after"]["logo"] == "set" and PNG not in str(event)  # the audit trail keeps no image bytes
    assert api.patch(path, {"logo": None}, token=owner).json["logo"] is None
    too_big = api.patch(path, {"logo": "data:image/png;base64," + "A" * 50_000}, token=owner)
    assert (too_big.status, too_big.json["error"]["field"]) == (400, "logo")
    script = api.patch(path, {"logo": "data:text/html;base64,PHNjcmlwdD4="}, token=owner)
    assert script.json["error"]["field"] == "logo"
    assert api.patch(path, {"ssid": "x" * 33}, token=owner).json["error"]["field"] == "ssid"


def test_dashboard_shows_today_active_vouchers_and_30_days(api: Api, world: World, venue: Venue) -> None:
    codes = issue(api, world, venue, quantity=3, price=2000)
    redeem(api, venue.controller_a, codes[0])
    redeem(api, venue.controller_a, codes[1])
    board = api.get(f"/v1/orgs/{venue.tenant.org_id}/dashboard", token=venue.tenant.owner.token)
    assert board.status == 200, board.body
    body = board.json
    assert body["today"] == {"count": 2, "amount": 4000}
    assert body["active_vouchers"] == 2
    assert len(body["days"]) == 30 and body["days"][-1]["redemptions"] == 2
    assert sum(day["amount"] for day in body["days"]) == 4000
    assert api.get(f"/v1/orgs/{venue.tenant.org_id}/dashboard",
                   token=world.member(venue.tenant, "cashier").token).status == 403  # fmt: skip
