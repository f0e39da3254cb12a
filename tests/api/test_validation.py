"""Bad input gets a 4xx naming the problem, never a 500, and writes nothing."""

from __future__ import annotations

import pytest

from tests.support import Api, Venue, World, dump_app_table


@pytest.fixture
def sites_path(world: World) -> tuple[str, str]:
    tenant = world.org()
    return f"/v1/orgs/{tenant.org_id}/sites", tenant.owner.token


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Asia/Jakarta"}, "name"),
        ({"name": "", "timezone": "Asia/Jakarta"}, "name"),
        ({"name": "x" * 101, "timezone": "Asia/Jakarta"}, "name"),
        ({"name": "Kios", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "Kios", "timezone": "Asia/Jakarta", "owner": "me"}, "owner"),
        ({"name": "Kios", "timezone": "Asia/Jakarta", "business_hours": {"opens": "25:00"}}, "business_hours.opens"),
        ({"name": ["Kios"], "timezone": "Asia/Jakarta"}, "name"),
    ],
)
def test_invalid_fields_are_named(api: Api, sites_path: tuple[str, str], body: dict[str, object], field: str) -> None:
    path, token = sites_path
    before = dump_app_table()
    reply = api.post(path, body, token=token)
    assert (reply.status, reply.error_code) == (400, "validation_error")
    assert reply.json["error"]["field"] == field
    assert field.split(".")[-1] in reply.json["error"]["message"]
    assert dump_app_table() == before


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"a string"', "", "null"])
def test_bodies_that_are_not_json_objects(api: Api, sites_path: tuple[str, str], raw: str) -> None:
    path, token = sites_path
    reply = api.call("POST", path, raw=raw, token=token)
    assert (reply.status, reply.error_code) == (400, "validation_error")
    assert reply.json["error"]["field"] == "body"


def test_oversized_bodies_are_refused(api: Api, sites_path: tuple[str, str]) -> None:
    path, token = sites_path
    reply = api.post(path, {"name": "Kios", "timezone": "Asia/Jakarta", "pad": "x" * 70_000}, token=token)
    assert (reply.status, reply.error_code) == (413, "payload_too_large")


def test_user_fields_are_checked(api: Api, world: World) -> None:
    tenant = world.org()
    path = f"/v1/orgs/{tenant.org_id}/users"
    cases = [
        ({"email": "not-an-email", "password": "long enough password", "role": "cashier"}, "email"),
        ({"email": "a@example.com", "password": "short", "role": "cashier"}, "password"),
        ({"email": "a@example.com", "password": "long enough password", "role": "platform_admin"}, "role"),
        ({"email": "a@example.com", "password": "long enough password", "role": "boss"}, "role"),
    ]
    for body, field in cases:
        reply = api.post(path, body, token=tenant.owner.token)
        assert (reply.status, reply.json["error"]["field"]) == (400, field), body


def test_query_parameters_are_checked(api: Api, world: World) -> None:
    tenant = world.org()
    path = f"/v1/orgs/{tenant.org_id}/audit"
    for query, field in (("limit=0", "limit"), ("limit=abc", "limit"), ("from=yesterday", "from"), ("x=1", "x")):
        reply = api.get(f"{path}?{query}", token=tenant.owner.token)
        assert (reply.status, reply.json["error"]["field"]) == (400, field), query
    reply = api.get(f"{path}?from=2026-11-22&to=2026-11-01", token=tenant.owner.token)
    assert (reply.status, reply.json["error"]["field"]) == (400, "from")


def test_unknown_ids_are_404_not_500(api: Api, world: World) -> None:
    tenant = world.org()
    base = f"/v1/orgs/{tenant.org_id}"
    for path in (f"{base}/sites/nope", f"{base}/sites/nope/keys"):
        assert api.get(path, token=tenant.owner.token).status == 404
    assert api.patch(f"{base}/users/nope", {"role": "auditor"}, token=tenant.owner.token).status == 404
    assert api.delete(f"{base}/sites/nope/keys/nope", token=tenant.owner.token).status == 404


def test_errors_have_the_contract_shape_and_a_request_id(api: Api) -> None:
    reply = api.get("/v1/me")
    assert set(reply.json) == {"error"}
    assert set(reply.json["error"]) >= {"code", "message"}
    assert reply.headers["X-Request-Id"]


def test_absurdly_nested_json_is_a_400(api: Api, venue: Venue) -> None:
    reply = api.call("POST", "/v1/redeem", raw="[" * 60_000, token=venue.controller_a)
    assert (reply.status, reply.error_code) == (400, "validation_error")
