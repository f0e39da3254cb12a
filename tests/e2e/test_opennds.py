"""openNDS FAS level 3 end to end against the real local stack (`make dev`).

A router double speaks openNDS's side of the protocol exactly (tests/e2e/opennds_client.py):
it redirects a guest to the FAS URL with the encrypted `fas`/`iv`, and polls like authmon. The
guest's phone makes the guest page's HTTP calls (session, then login) and the router's next
poll lets it in; a wrong code never appears in a poll.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.e2e.conftest import Stack
from tests.e2e.opennds_client import OpenNdsRouter


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test reads the Location itself


def _get_without_following(url: str) -> tuple[int, dict[str, str]]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def _post_form(url: str, form: dict[str, str]) -> str:
    """What openNDS's post-request.php does: a form POST with authmon's user agent."""
    request = urllib.request.Request(  # noqa: S310 (a local http URL)
        url, data=urlencode(form).encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "openNDS(authmon;NDS:10.3.0;)"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return str(response.read().decode())
    except urllib.error.HTTPError as error:
        return str(error.read().decode())


def _venue(stack: Stack) -> tuple[str, str, str, list[str]]:
    """An org with an owner, a site and two vouchers of a 2-hour, 1 GB, 1 Mbit/s plan."""
    admin = stack.login(stack.admin_email, stack.admin_password)
    org_id = stack.call("POST", "/v1/orgs", {"name": "Warnet Senja"}, token=admin)["org_id"]
    owner_body = {"email": "owner-fas@example.com", "password": "owner-fas-password-1", "role": "owner"}
    stack.call("POST", f"/v1/orgs/{org_id}/users", owner_body, token=admin)
    owner = stack.login("owner-fas@example.com", "owner-fas-password-1")
    site_id = stack.call("POST", f"/v1/orgs/{org_id}/sites", {"name": "Senja", "timezone": "Asia/Jakarta"},
                         token=owner)["site_id"]  # fmt: skip
    plan = {"name": "2 Jam", "price": 5000, "duration_minutes": 120, "validity_days": 30, "data_quota_mb": 1024,
            "rate_up_kbps": 1024, "rate_down_kbps": 1024}  # fmt: skip
    plan_id = stack.call("POST", f"/v1/orgs/{org_id}/plans", plan, token=owner)["plan_id"]
    batch = stack.call("POST", f"/v1/orgs/{org_id}/batches", {"plan_id": plan_id, "quantity": 2, "site_id": site_id},
                       token=owner)  # fmt: skip
    codes = stack.call("GET", f"/v1/orgs/{org_id}/batches/{batch['batch_id']}/codes", token=owner)["codes"]
    return org_id, owner, site_id, list(codes)


def test_a_guest_behind_an_opennds_router_gets_in_with_a_code(stack: Stack) -> None:
    org_id, owner, site_id, (code, _) = _venue(stack)
    config = stack.call("POST", f"/v1/orgs/{org_id}/sites/{site_id}/fas", {}, token=owner)
    # The router's FAS URL, as openNDS builds it from the pasted options (http: the local stack has no TLS).
    fas_url = f"http://{config['fasremotefqdn']}:{config['fasport']}{config['faspath']}"
    assert fas_url.startswith(stack.api)
    router = OpenNdsRouter(fas_url=fas_url, faskey=config["faskey"], gateway_name=config["gateway_name"],
                           post=_post_form)  # fmt: skip
    assert router.start_authmon() == ""

    # A phone joins the WiFi; the router sends its browser to the FAS URL, Kuota to the guest page.
    wrong_phone, phone = "a4:c3:f0:00:00:01", "a4:c3:f0:00:00:02"
    status, headers = _get_without_following(router.redirect_url(phone, "192.168.8.50"))
    assert status == 302
    location = urlsplit({k.lower(): v for k, v in headers.items()}["location"])
    params = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert location.geturl().startswith(f"{stack.console}/guest.html?")
    assert params["site_id"] == site_id and params["org"] == org_id

    # The guest page's calls: trade fas/iv for a client token, then log in with the code.
    session = stack.call("POST", "/v1/fas/session", {"site_id": site_id, "fas": params["fas"], "iv": params["iv"]})
    assert session["gateway_name"] == config["gateway_name"] and session["org_id"] == org_id

    # Another phone types a wrong code: it never reaches the router.
    _, wrong_headers = _get_without_following(router.redirect_url(wrong_phone, "192.168.8.51"))
    wrong_params = parse_qs(urlsplit({k.lower(): v for k, v in wrong_headers.items()}["location"]).query)
    wrong = {"site_id": site_id, "fas": wrong_params["fas"][0], "iv": wrong_params["iv"][0]}
    wrong_token = stack.call("POST", "/v1/fas/session", wrong)["client_token"]
    refused = stack.request("POST", "/v1/fas/login",
                            {"site_id": site_id, "client_token": wrong_token, "code": "ZZZZ-ZZZZ-ZZ"})  # fmt: skip
    assert refused.status == 404 and refused.json["error"]["code"] == "invalid_code"
    assert router.poll_once() == []

    login = stack.call("POST", "/v1/fas/login", {"site_id": site_id, "client_token": session["client_token"],
                                                 "code": code})  # fmt: skip
    assert login["status"] == "active" and 119 * 60 < login["session_timeout"] <= 120 * 60

    # authmon's next turn lets the phone in with the voucher's terms, and acknowledges it.
    (entry,) = router.poll_once()
    assert entry.split()[1:6] == ["120", "1024", "1024", str(1024 * 1024), str(1024 * 1024)]
    let_in = router.clients[phone]
    assert let_in.authenticated and not router.clients[wrong_phone].authenticated
    assert (let_in.session_minutes, let_in.upload_rate, let_in.download_rate) == (120, 1024, 1024)
    assert let_in.download_quota == 1024 * 1024  # kB
    assert "ack reply: ack" in router.log
    assert router.poll_once() == []  # exactly once

    voucher = stack.call("GET", f"/v1/orgs/{org_id}/vouchers/{code}", token=owner)
    assert voucher["status"] == "active" and voucher["devices_used"] == 1
