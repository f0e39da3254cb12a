"""Controller and POS keys: shown once, stored hashed, revoked within the cache window."""

from __future__ import annotations

import pytest

from chalicelib.api import deps
from chalicelib.auth import api_keys
from chalicelib.auth.api_keys import ApiKeyVerifier
from tests.support import Api, FakeClock, World, dump_app_table


def test_a_key_is_created_used_revoked_and_then_refused(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    key_id, api_key = world.key(tenant, site_id, kind="controller")

    used = api.get("/v1/keys/self", token=api_key)
    assert used.status == 200
    assert used.json == {"key_id": key_id, "kind": "controller", "name": "controller 1", "org_id": tenant.org_id,
                         "site_id": site_id}  # fmt: skip

    revoke = api.delete(f"/v1/orgs/{tenant.org_id}/sites/{site_id}/keys/{key_id}", token=tenant.owner.token)
    assert revoke.status == 204
    refused = api.get("/v1/keys/self", token=api_key)
    assert (refused.status, refused.error_code) == (401, "unauthorized")

    listed = api.get(f"/v1/orgs/{tenant.org_id}/sites/{site_id}/keys", token=tenant.owner.token).json["keys"]
    assert [(k["key_id"], k["revoked_at"] is not None) for k in listed] == [(key_id, True)]


def test_other_containers_stop_accepting_a_revoked_key_within_the_cache_window(api: Api, world: World) -> None:
    clock = FakeClock()
    other_container = ApiKeyVerifier(ttl_seconds=60, clock=clock.monotonic)
    tenant = world.org()
    site_id = world.site(tenant)
    key_id, api_key = world.key(tenant, site_id)
    assert other_container.verify(api_key) is not None  # now cached there

    api.delete(f"/v1/orgs/{tenant.org_id}/sites/{site_id}/keys/{key_id}", token=tenant.owner.token)
    clock.advance(30)
    assert other_container.verify(api_key) is not None  # still inside its 60 s window
    clock.advance(31)
    assert other_container.verify(api_key) is None  # the window passed: refused


def test_the_cache_serves_repeated_calls_without_reading_the_table(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    deps.configure(monotonic=clock.monotonic)
    tenant = world.org()
    site_id = world.site(tenant)
    _, api_key = world.key(tenant, site_id)
    reads: list[str] = []
    original = api_keys._load

    def counting_load(key_id: str) -> api_keys.KeyRecord | None:
        reads.append(key_id)
        return original(key_id)

    monkeypatch.setattr(api_keys, "_load", counting_load)
    for _ in range(5):
        assert api.get("/v1/keys/self", token=api_key).status == 200
    assert len(reads) == 1
    clock.advance(61)
    assert api.get("/v1/keys/self", token=api_key).status == 200
    assert len(reads) == 2


def test_wrong_secret_or_malformed_keys_are_refused(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    _, api_key = world.key(tenant, site_id)
    prefix, key_id, secret = api_key.split("_", 2)
    for forged in (f"{prefix}_{key_id}_{'A' * len(secret)}", f"{prefix}_{key_id}", "kq_", f"kq_{'0' * 16}_{secret}"):
        assert api.get("/v1/keys/self", token=forged).status == 401


def test_only_a_hash_of_the_secret_is_stored(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    _, api_key = world.key(tenant, site_id)
    secret = api_key.split("_", 2)[2]
    dump = str(dump_app_table())
    assert secret not in dump and api_key not in dump


def test_keys_of_another_site_cannot_be_revoked_through_this_one(api: Api, world: World) -> None:
    tenant = world.org()
    site_a, site_b = world.site(tenant, "A"), world.site(tenant, "B")
    key_b, api_key_b = world.key(tenant, site_b)
    reply = api.delete(f"/v1/orgs/{tenant.org_id}/sites/{site_a}/keys/{key_b}", token=tenant.owner.token)
    assert reply.status == 404
    assert api.get("/v1/keys/self", token=api_key_b).status == 200


def test_revoking_twice_is_harmless(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    key_id, _ = world.key(tenant, site_id)
    path = f"/v1/orgs/{tenant.org_id}/sites/{site_id}/keys/{key_id}"
    assert api.delete(path, token=tenant.owner.token).status == 204
    assert api.delete(path, token=tenant.owner.token).status == 204
