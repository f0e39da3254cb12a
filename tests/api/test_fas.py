"""openNDS FAS level 3: a router behind NAT lets a guest in after a code is entered on Kuota's page."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.e2e.opennds_client import OpenNdsRouter
from tests.support import Api, FakeClock, Venue, World, audit_events, dump_app_table, issue

GUEST_MAC = "0c:8b:fd:12:34:56"


def _configure(api: Api, venue: Venue, site_id: str | None = None, **body: str) -> dict[str, object]:
    site_id = site_id or venue.site_a
    reply = api.post(f"/v1/orgs/{venue.tenant.org_id}/sites/{site_id}/fas", body, token=venue.tenant.owner.token)
    assert reply.status == 201, reply.body
    return dict(reply.json)


def _router(api: Api, config: dict[str, object]) -> OpenNdsRouter:
    def post(url: str, form: dict[str, str]) -> str:
        reply = api.call("POST", urlsplit(url).path, raw=urlencode(form),
                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                  "User-Agent": "openNDS(authmon;NDS:10.3.0;)"})  # fmt: skip
        return reply.body.decode()

    fas_url = f"https://{config['fasremotefqdn']}:{config['fasport']}{config['faspath']}"
    return OpenNdsRouter(fas_url=fas_url, faskey=str(config["faskey"]), gateway_name=str(config["gateway_name"]),
                         post=post)  # fmt: skip


def _guest_arrives(api: Api, router: OpenNdsRouter, mac: str = GUEST_MAC) -> dict[str, str]:
    """The phone follows the router's redirect to Kuota, which sends it on to the guest page."""
    url = urlsplit(router.redirect_url(mac, "192.168.8.23"))
    reply = api.get(f"{url.path}?{url.query}")
    assert reply.status == 302, reply.body
    location = urlsplit({k.lower(): v for k, v in reply.headers.items()}["location"])
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def _session(api: Api, params: dict[str, str]) -> str:
    reply = api.post("/v1/fas/session", {"site_id": params["site_id"], "fas": params["fas"], "iv": params["iv"]})
    assert reply.status == 200, reply.body
    return str(reply.json["client_token"])


def test_a_guest_with_a_good_code_is_let_in_at_the_next_poll_exactly_once(api: Api, world: World, venue: Venue) -> None:
    config = _configure(api, venue)
    router = _router(api, config)
    assert router.start_authmon() == ""
    (code,) = issue(api, world, venue, duration_minutes=90, data_quota_mb=500, rate_up_kbps=512, rate_down_kbps=2048)

    params = _guest_arrives(api, router)
    assert params["site_id"] == venue.site_a and params["org"] == venue.tenant.org_id
    token = _session(api, params)
    assert router.poll_once() == []  # nothing before the code is entered

    login = api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code})
    assert login.status == 200, login.body
    assert login.json["status"] == "active"
    assert 89 * 60 < login.json["session_timeout"] <= 90 * 60

    (entry,) = router.poll_once()
    client = router.clients[GUEST_MAC]
    assert client.authenticated
    assert (client.session_minutes, client.upload_rate, client.download_rate) == (90, 512, 2048)
    assert client.upload_quota == client.download_quota == 500 * 1024
    assert entry.split()[0] == hashlib_rhid(client.hid, str(config["faskey"]))
    assert router.poll_once() == []  # acknowledged: never handed out again
    assert any(e["action"] == "fas.deliver" for e in audit_events(venue.tenant.org_id))


def hashlib_rhid(hid: str, faskey: str) -> str:
    import hashlib

    return hashlib.sha256((hid + faskey).encode()).hexdigest()


def test_a_wrong_code_never_reaches_the_router(api: Api, world: World, venue: Venue) -> None:
    router = _router(api, _configure(api, venue))
    token = _session(api, _guest_arrives(api, router))
    reply = api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": "WRONG-CODE-1"})
    assert (reply.status, reply.error_code) == (404, "invalid_code")
    assert router.poll_once() == []
    assert not router.clients[GUEST_MAC].authenticated


def test_an_unacknowledged_grant_is_offered_again_until_acknowledged(api: Api, world: World, venue: Venue) -> None:
    config = _configure(api, venue)
    router = _router(api, config)
    (code,) = issue(api, world, venue)
    token = _session(api, _guest_arrives(api, router))
    assert api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code}).status == 200
    gatewayhash = router.gatewayhash
    view = {"auth_get": "view", "gatewayhash": gatewayhash, "payload": base64.b64encode(b"none").decode()}
    first = router.post(router.fas_url, view)
    assert first.startswith("* ") and len(first.split()) == 2
    assert router.post(router.fas_url, view) == first  # the router crashed before acknowledging
    rhid = first.split()[1].split("%20")[0]
    ack = {**view, "payload": base64.b64encode(f"* {rhid}".encode()).decode()}
    assert router.post(router.fas_url, ack) == "ack"
    assert router.post(router.fas_url, ack) == "ack"  # a repeated acknowledgement changes nothing
    assert router.post(router.fas_url, view) == "*"
    delivered = [e for e in audit_events(venue.tenant.org_id) if e["action"] == "fas.deliver"]
    assert len(delivered) == 1


def test_the_same_guest_logging_in_twice_is_queued_once(api: Api, world: World, venue: Venue) -> None:
    router = _router(api, _configure(api, venue))
    (code,) = issue(api, world, venue)
    token = _session(api, _guest_arrives(api, router))
    for _ in range(2):
        assert api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code}).status == 200
    assert len(router.poll_once()) == 1


def test_the_poll_needs_the_gateway_hash_and_sees_only_its_own_site(api: Api, world: World, venue: Venue) -> None:
    router_a = _router(api, _configure(api, venue))
    router_b = _router(api, _configure(api, venue, venue.site_b))
    (code,) = issue(api, world, venue)
    token = _session(api, _guest_arrives(api, router_a))
    assert api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code}).status == 200

    form = {"auth_get": "view", "gatewayhash": router_b.gatewayhash, "payload": base64.b64encode(b"none").decode()}
    forged = api.call("POST", urlsplit(router_a.fas_url).path, raw=urlencode(form),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert forged.status == 403 and forged.body.startswith(b"ERROR:")
    assert router_b.poll_once() == []
    assert len(router_a.poll_once()) == 1


def test_a_token_from_another_site_or_a_tampered_fas_is_refused(api: Api, world: World, venue: Venue) -> None:
    router_a = _router(api, _configure(api, venue))
    _configure(api, venue, venue.site_b)
    (code,) = issue(api, world, venue)
    params = _guest_arrives(api, router_a)
    token = _session(api, params)

    reply = api.post("/v1/fas/login", {"site_id": venue.site_b, "client_token": token, "code": code})
    assert (reply.status, reply.error_code) == (400, "validation_error")
    assert reply.json["error"]["field"] == "client_token"

    reply = api.post("/v1/fas/session", {"site_id": venue.site_b, "fas": params["fas"], "iv": params["iv"]})
    assert (reply.status, reply.json["error"]["field"]) == (400, "fas")
    reply = api.post("/v1/fas/session", {"site_id": venue.site_a, "fas": "bm90IGFlcw==", "iv": params["iv"]})
    assert (reply.status, reply.json["error"]["field"]) == (400, "fas")
    reply = api.post("/v1/fas/session", {"site_id": venue.site_a, "fas": params["fas"], "iv": "short"})
    assert (reply.status, reply.json["error"]["field"]) == (400, "fas")
    reply = api.post("/v1/fas/session", {"site_id": "nosuchsite", "fas": params["fas"], "iv": params["iv"]})
    assert (reply.status, reply.error_code) == (404, "not_found")


def test_a_client_token_expires(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    router = _router(api, _configure(api, venue))
    (code,) = issue(api, world, venue)
    token = _session(api, _guest_arrives(api, router))
    clock.advance(16 * 60)
    reply = api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code})
    assert (reply.status, reply.json["error"]["field"]) == (400, "client_token")


def test_wrong_codes_are_rate_limited_like_redeem(api: Api, world: World, venue: Venue, clock: FakeClock) -> None:
    # The clock stands still: on the real one the eleven attempts could straddle a limit window's end.
    router = _router(api, _configure(api, venue))
    (code,) = issue(api, world, venue)
    token = _session(api, _guest_arrives(api, router))
    statuses = [
        api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": f"BAD{n:04d}X"}).status
        for n in range(11)
    ]
    assert statuses[:10] == [404] * 10 and statuses[10] == 429
    reply = api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code})
    assert reply.status == 429  # even the right code waits until the window ends
    assert router.poll_once() == []


def test_the_faskey_is_shown_once_and_never_stored_in_clear(api: Api, world: World, venue: Venue) -> None:
    config = _configure(api, venue, gateway_name="warung-kopi-1")
    assert len(str(config["faskey"])) == 64
    assert config["gateway_name"] == "warung-kopi-1"
    assert config["faspath"] == f"/v1/fas/gateways/{venue.site_a}"
    shown = api.get(f"/v1/orgs/{venue.tenant.org_id}/sites/{venue.site_a}/fas", token=venue.tenant.owner.token)
    assert shown.status == 200 and "faskey" not in shown.json
    assert shown.json["faskey_hint"] == str(config["faskey"])[-4:]
    assert str(config["faskey"]) not in str(dump_app_table())
    assert str(config["faskey"]) not in str(audit_events(venue.tenant.org_id))
    actions = [e["action"] for e in audit_events(venue.tenant.org_id)]
    assert "fas.configure" in actions


def test_rotating_the_faskey_locks_out_the_old_router(api: Api, world: World, venue: Venue) -> None:
    old = _router(api, _configure(api, venue))
    params = _guest_arrives(api, old)
    _configure(api, venue)  # rotated: new key, new gateway name
    reply = api.post("/v1/fas/session", {"site_id": venue.site_a, "fas": params["fas"], "iv": params["iv"]})
    assert reply.status == 400
    view = {"auth_get": "view", "gatewayhash": old.gatewayhash, "payload": "bm9uZQ=="}
    assert old.post(old.fas_url, view).startswith("ERROR:")


@pytest.mark.parametrize(
    "body",
    [{"auth_get": "nonsense", "payload": "bm9uZQ=="}, {"auth_get": "view", "payload": "!!not base64!!"}],
)
def test_bad_polls_get_a_clear_4xx(api: Api, world: World, venue: Venue, body: dict[str, str]) -> None:
    router = _router(api, _configure(api, venue))
    reply = router.post(router.fas_url, {**body, "gatewayhash": router.gatewayhash})
    assert reply.startswith("ERROR:") and ("auth_get" in reply or "payload" in reply)


def test_authmon_over_wget_polls_with_a_get(api: Api, world: World, venue: Venue) -> None:
    router = _router(api, _configure(api, venue))
    (code,) = issue(api, world, venue)
    token = _session(api, _guest_arrives(api, router))
    assert api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code}).status == 200
    query = urlencode({"auth_get": "view", "gatewayhash": router.gatewayhash, "payload": "bm9uZQ=="})
    reply = api.get(f"{urlsplit(router.fas_url).path}?{query}")
    assert reply.status == 200 and reply.body.startswith(b"* ")


def test_only_owners_manage_fas(api: Api, world: World, venue: Venue) -> None:
    manager = world.member(venue.tenant, "manager")
    reply = api.post(f"/v1/orgs/{venue.tenant.org_id}/sites/{venue.site_a}/fas", {}, token=manager.token)
    assert (reply.status, reply.error_code) == (403, "forbidden")
    reply = api.post(
        f"/v1/orgs/{venue.tenant.org_id}/sites/{venue.site_a}/fas", {"gateway_name": "has space"},
        token=venue.tenant.owner.token,
    )  # fmt: skip
    assert (reply.status, reply.json["error"]["field"]) == (400, "gateway_name")


def test_a_suspended_venue_refuses_the_guest_login_and_its_router_hears_nothing(api: Api, world: World,
                                                                                venue: Venue) -> None:  # fmt: skip
    router = _router(api, _configure(api, venue))
    (code,) = issue(api, world, venue)
    token = _session(api, _guest_arrives(api, router))
    moved = api.post(f"/v1/platform/orgs/{venue.tenant.org_id}/stage",
                     {"stage": "suspended", "reason": "uplink_unregistered", "note": "home line"},
                     token=world.admin.token)  # fmt: skip
    assert moved.status == 200, moved.body

    reply = api.post("/v1/fas/login", {"site_id": venue.site_a, "client_token": token, "code": code})
    assert (reply.status, reply.error_code) == (403, "service_suspended")
    assert router.poll_once() == [] and not router.clients[GUEST_MAC].authenticated
    # The guest can still read what the voucher holds: nothing of it was used.
    status = api.post("/v1/guest/status", {"code": code, "org_id": venue.tenant.org_id})
    assert (status.status, status.json["status"], status.json["seconds_left"]) == (200, "unused", 3600)
