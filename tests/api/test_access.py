"""Tenant isolation and the role matrix, for every route the app declares."""

from __future__ import annotations

from typing import Any

import pytest

import app  # noqa: F401  (registers every route)
from chalicelib.api.http import ROUTES, RouteSpec
from tests.api.catalog import (
    ALLOWED,
    API_KEY_ROUTES,
    BODIES,
    PUBLIC,
    call,
    object_params,
    org_routes,
    route_id,
    targets,
    user_routes,
)
from tests.support import Api, World, audit_events, dump_app_table


def test_every_route_is_in_the_catalog() -> None:
    declared = {(spec.method, spec.path) for spec in ROUTES}
    assert declared == set(ALLOWED) | PUBLIC | API_KEY_ROUTES
    with_body = {(spec.method, spec.path) for spec in ROUTES if spec.body and spec.auth == "user"}
    assert with_body <= set(BODIES)


def _org_items(org_id: str) -> list[dict[str, Any]]:
    """What org B owns: its partition, its keys, its email claims."""
    items = [item for item in dump_app_table() if org_id in str(item)]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


@pytest.mark.parametrize("spec", org_routes(), ids=route_id)
def test_another_orgs_objects_do_not_exist(api: Api, world: World, spec: RouteSpec) -> None:
    org_a, org_b = world.org("A"), world.org("B")
    mine, theirs = targets(world, org_a, spec), targets(world, org_b, spec)
    before_items, before_audit = _org_items(org_b.org_id), audit_events(org_b.org_id)

    for role in ("owner", "manager", "auditor", "cashier"):
        reply = call(api, spec, theirs, world.member(org_a, role).token)
        assert reply.status in (403, 404), (role, reply.status, reply.body)
        assert reply.status == 404 or reply.error_code == "forbidden"

    # A platform route about an org is the platform admin's own: the owner is refused it (403 above),
    # and the checks below are made with the admin's token.
    platform_only = ALLOWED[(spec.method, spec.path)] == {"platform_admin"}
    own_token = world.admin.token if platform_only else org_a.owner.token
    # Mixed ids: my org in the path, their site/key/user inside it.
    if object_params(spec) > 0:
        assert call(api, spec, mine.mixed_with(theirs), own_token).status == 404

    assert _org_items(org_b.org_id) == before_items
    assert audit_events(org_b.org_id) == before_audit
    # The control: the same call on my own objects works, so the 404 above came from isolation.
    assert call(api, spec, mine, own_token).status < 300


@pytest.mark.parametrize("spec", user_routes(), ids=route_id)
def test_role_matrix(api: Api, world: World, spec: RouteSpec) -> None:
    tenant = world.org()
    tokens = {role: world.member(tenant, role).token for role in ("owner", "manager", "cashier", "auditor")}
    tokens["platform_admin"] = world.admin.token
    allowed = ALLOWED[(spec.method, spec.path)]
    target = targets(world, tenant, spec)
    outcomes = {}
    for role, token in tokens.items():
        reply = call(api, spec, target, token)
        outcomes[role] = reply.status
        if role in allowed:
            assert reply.status < 300, (role, reply.status, reply.body)
        else:
            assert (reply.status, reply.error_code) == (403, "forbidden"), (role, reply.body)
    assert {role for role, status in outcomes.items() if status < 300} == allowed


def test_platform_admin_actions_are_marked_as_platform_actions(api: Api, world: World) -> None:
    tenant = world.org()
    reply = api.post(
        f"/v1/orgs/{tenant.org_id}/sites", {"name": "Pos Ronda", "timezone": "Asia/Jayapura"}, token=world.admin.token
    )
    assert reply.status == 201
    event = next(e for e in audit_events(tenant.org_id) if e["action"] == "site.create")
    assert event["platform_action"] is True
    assert event["actor_role"] == "platform_admin"


def test_platform_admin_gets_404_for_an_org_that_does_not_exist(api: Api, world: World) -> None:
    reply = api.get("/v1/orgs/doesnotexist/sites", token=world.admin.token)
    assert (reply.status, reply.error_code) == (404, "not_found")


def test_an_api_key_cannot_call_user_routes(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    _, secret = world.key(tenant, site_id)
    assert api.get(f"/v1/orgs/{tenant.org_id}/sites", token=secret).status == 401
    assert api.get("/v1/keys/self", token=tenant.owner.token).status == 401
