"""Signing in, lockout, refresh rotation, and changes that take effect at once."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api import deps
from chalicelib.models import RefreshToken
from tests.support import PASSWORD, Api, FakeClock, World, audit_events


def test_login_returns_a_token_pair_that_opens_me(api: Api, world: World) -> None:
    tenant = world.org()
    reply = api.login(tenant.owner.email, PASSWORD)
    assert reply.status == 200
    assert set(reply.json) >= {"access_token", "refresh_token", "expires_in"}
    assert 0 < reply.json["expires_in"] <= 900
    assert api.get("/v1/me", token=reply.json["access_token"]).json["role"] == "owner"


def test_email_is_matched_case_insensitively(api: Api, world: World) -> None:
    tenant = world.org()
    assert api.login("  " + tenant.owner.email.upper(), PASSWORD).status == 200


@pytest.mark.parametrize("password", ["wrong password", PASSWORD.upper(), ""])
def test_wrong_password_is_invalid_credentials(api: Api, world: World, password: str) -> None:
    tenant = world.org()
    reply = api.login(tenant.owner.email, password)
    assert reply.status in (400, 401)
    if password:
        assert (reply.status, reply.error_code) == (401, "invalid_credentials")


def test_unknown_email_answers_like_a_wrong_password(api: Api) -> None:
    reply = api.login("nobody@example.com", PASSWORD)
    assert (reply.status, reply.error_code) == (401, "invalid_credentials")


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    api: Api, world: World, clock: FakeClock
) -> None:
    tenant = world.org()
    for attempt in range(5):
        reply = api.login(tenant.owner.email, f"guess {attempt}", ip=f"10.0.0.{attempt}")
        assert reply.status == 401
    locked = api.login(tenant.owner.email, PASSWORD, ip="10.0.0.99")
    assert (locked.status, locked.error_code) == (429, "too_many_attempts")
    assert int(locked.headers["Retry-After"]) > 0

    clock.advance(16 * 60)  # the window has passed
    assert api.login(tenant.owner.email, PASSWORD, ip="10.0.0.99").status == 200


def test_one_address_guessing_many_accounts_is_locked_out(api: Api, clock: FakeClock) -> None:
    for attempt in range(30):
        assert api.login(f"victim{attempt}@example.com", "guess", ip="203.0.113.7").status == 401
    reply = api.login("victim-next@example.com", "guess", ip="203.0.113.7")
    assert (reply.status, reply.error_code) == (429, "too_many_attempts")
    # Another address is not affected.
    assert api.login("victim-next@example.com", "guess", ip="203.0.113.8").status == 401


def test_failed_and_successful_logins_are_audited_in_the_org(api: Api, world: World) -> None:
    tenant = world.org()
    api.login(tenant.owner.email, "wrong", ip="198.51.100.4")
    actions = [(event["action"], event.get("source_ip")) for event in audit_events(tenant.org_id)]
    assert ("auth.login_failed", "198.51.100.4") in actions
    assert any(action == "auth.login" for action, _ in actions)
    failed = next(e for e in audit_events(tenant.org_id) if e["action"] == "auth.login_failed")
    assert failed["target_id"] == tenant.owner.user_id
    assert "wrong" not in str(failed)  # the attempted password is never recorded


def test_refresh_rotates_and_the_old_token_stops_working(api: Api, world: World) -> None:
    tenant = world.org()
    first = tenant.owner.refresh_token
    rotated = api.post("/v1/auth/refresh", {"refresh_token": first})
    assert rotated.status == 200
    assert rotated.json["refresh_token"] != first
    assert api.get("/v1/me", token=rotated.json["access_token"]).status == 200

    again = api.post("/v1/auth/refresh", {"refresh_token": first})
    assert (again.status, again.error_code) == (401, "unauthorized")


def test_reusing_a_used_refresh_token_revokes_the_whole_family(api: Api, world: World) -> None:
    tenant = world.org()
    stolen = tenant.owner.refresh_token
    legit = api.post("/v1/auth/refresh", {"refresh_token": stolen}).json["refresh_token"]

    assert api.post("/v1/auth/refresh", {"refresh_token": stolen}).status == 401  # the thief replays
    # The family is gone: the legitimate holder's newer token no longer works either.
    assert api.post("/v1/auth/refresh", {"refresh_token": legit}).status == 401
    assert "auth.token_family_revoked" in [e["action"] for e in audit_events(tenant.org_id)]


def test_a_second_login_is_a_separate_family(api: Api, world: World) -> None:
    tenant = world.org()
    other_device = api.login(tenant.owner.email, PASSWORD).json["refresh_token"]
    stolen = tenant.owner.refresh_token
    api.post("/v1/auth/refresh", {"refresh_token": stolen})
    api.post("/v1/auth/refresh", {"refresh_token": stolen})  # reuse revokes only that family
    assert api.post("/v1/auth/refresh", {"refresh_token": other_device}).status == 200


def test_refresh_tokens_expire(api: Api, world: World, clock: FakeClock) -> None:
    tenant = world.org()
    token = api.login(tenant.owner.email, PASSWORD).json["refresh_token"]
    clock.advance(15 * 24 * 3600)
    assert api.post("/v1/auth/refresh", {"refresh_token": token}).status == 401


def test_logout_ends_the_refresh_family(api: Api, world: World) -> None:
    tenant = world.org()
    assert api.post("/v1/auth/logout", {"refresh_token": tenant.owner.refresh_token}).status == 204
    assert api.post("/v1/auth/refresh", {"refresh_token": tenant.owner.refresh_token}).status == 401


def test_disabled_user_is_refused_on_the_next_request(api: Api, world: World) -> None:
    tenant = world.org()
    cashier = world.member(tenant, "cashier")
    assert api.get("/v1/me", token=cashier.token).status == 200

    reply = api.patch(f"/v1/orgs/{tenant.org_id}/users/{cashier.user_id}", {"disabled": True}, token=tenant.owner.token)
    assert reply.status == 200 and reply.json["disabled"] is True

    # The access token has not expired, yet it no longer works.
    assert api.get("/v1/me", token=cashier.token).status == 401
    assert api.post("/v1/auth/refresh", {"refresh_token": cashier.refresh_token}).status == 401
    assert api.login(cashier.email, PASSWORD).status == 401


def test_role_change_takes_effect_on_the_next_request(api: Api, world: World) -> None:
    tenant = world.org()
    manager = world.member(tenant, "manager")
    sites = f"/v1/orgs/{tenant.org_id}/sites"
    assert api.post(sites, {"name": "A", "timezone": "Asia/Jakarta"}, token=manager.token).status == 201

    api.patch(f"/v1/orgs/{tenant.org_id}/users/{manager.user_id}", {"role": "cashier"}, token=tenant.owner.token)

    assert api.post(sites, {"name": "B", "timezone": "Asia/Jakarta"}, token=manager.token).status == 403
    assert api.get("/v1/me", token=manager.token).json["role"] == "cashier"


def test_an_owner_cannot_lock_themselves_out(api: Api, world: World) -> None:
    tenant = world.org()
    reply = api.patch(
        f"/v1/orgs/{tenant.org_id}/users/{tenant.owner.user_id}", {"disabled": True}, token=tenant.owner.token
    )
    assert (reply.status, reply.error_code) == (409, "conflict")


def test_emails_are_unique_across_organizations(api: Api, world: World) -> None:
    first, second = world.org("A"), world.org("B")
    reply = api.post(
        f"/v1/orgs/{second.org_id}/users",
        {"email": first.owner.email, "password": PASSWORD, "role": "cashier"},
        token=second.owner.token,
    )
    assert (reply.status, reply.error_code) == (409, "conflict")
    assert reply.json["error"]["field"] == "email"


def test_refresh_token_used_twice_at_the_same_moment_revokes_the_family(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = world.org()
    original_get = RefreshToken.get

    def get_then_lose_the_race(*args: Any, **kwargs: Any) -> RefreshToken:
        token = original_get(*args, **kwargs)
        twin = original_get(*args, **kwargs)  # the thief's request wins the write meanwhile
        twin.update(actions=[RefreshToken.used_at.set(deps.services().accounts._clock())])
        return token

    monkeypatch.setattr(RefreshToken, "get", get_then_lose_the_race)
    reply = api.post("/v1/auth/refresh", {"refresh_token": tenant.owner.refresh_token})
    assert (reply.status, reply.error_code) == (401, "unauthorized")
    assert "auth.token_family_revoked" in [e["action"] for e in audit_events(tenant.org_id)]
