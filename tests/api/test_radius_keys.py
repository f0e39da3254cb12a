"""FreeRADIUS's credentials (radius keys), the NASes each site registers, and sites' guest language."""

from __future__ import annotations

import base64

from chalicelib.api import deps
from tests.support import Api, World, audit_events, dump_app_table

AUTHORIZE = "/v1/radius/post-auth"  # the cheapest radius route: tells whether a key is accepted


def _basic(api_key: str, user: str = "freeradius") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{api_key}".encode()).decode()}


def test_an_owner_creates_a_radius_key_shown_once_used_as_bearer_or_basic_then_revoked(api: Api, world: World) -> None:
    tenant = world.org()
    created = api.post(f"/v1/orgs/{tenant.org_id}/keys", {"kind": "radius", "name": "FreeRADIUS kantor"},
                       token=tenant.owner.token)  # fmt: skip
    assert created.status == 201, created.body
    key_id, api_key = created.json["key_id"], created.json["api_key"]
    assert set(created.json) == {"key_id", "api_key"}

    assert api.post(AUTHORIZE, {}, token=api_key).status == 204
    assert api.post(AUTHORIZE, {}, headers=_basic(api_key)).status == 204
    assert api.post(AUTHORIZE, {}, headers=_basic(api_key, user="")).status == 204  # the user name is not used
    assert api.get("/v1/keys/self", token=api_key).json == {
        "key_id": key_id, "kind": "radius", "name": "FreeRADIUS kantor", "org_id": tenant.org_id, "site_id": None,
    }  # fmt: skip

    listed = api.get(f"/v1/orgs/{tenant.org_id}/keys", token=tenant.owner.token).json["keys"]
    assert [(k["key_id"], k["kind"], k["name"], k["org_id"], k["revoked_at"]) for k in listed] == [
        (key_id, "radius", "FreeRADIUS kantor", tenant.org_id, None)
    ]
    secret = api_key.split("_", 2)[2]
    assert secret not in str(dump_app_table()) and "api_key" not in str(listed)

    assert api.delete(f"/v1/orgs/{tenant.org_id}/keys/{key_id}", token=tenant.owner.token).status == 204
    assert api.post(AUTHORIZE, {}, token=api_key).status == 401
    assert api.post(AUTHORIZE, {}, headers=_basic(api_key)).status == 401
    assert api.delete(f"/v1/orgs/{tenant.org_id}/keys/{key_id}", token=tenant.owner.token).status == 204  # again
    listed = api.get(f"/v1/orgs/{tenant.org_id}/keys", token=tenant.owner.token).json["keys"]
    assert listed[0]["revoked_at"] is not None

    actions = [(e["action"], e["target_id"]) for e in audit_events(tenant.org_id) if e["action"].startswith("api_key")]
    assert actions == [("api_key.create", key_id), ("api_key.revoke", key_id)]


def test_a_platform_key_is_the_platforms_own_and_audited_as_such(api: Api, world: World) -> None:
    created = api.post("/v1/platform/keys", {"kind": "radius", "name": "FreeRADIUS ISP"}, token=world.admin.token)
    assert created.status == 201
    key_id, api_key = created.json["key_id"], created.json["api_key"]
    assert api.get("/v1/keys/self", token=api_key).json["org_id"] is None
    listed = api.get("/v1/platform/keys", token=world.admin.token).json["keys"]
    assert [(k["key_id"], k["org_id"]) for k in listed] == [(key_id, None)]
    tenant = world.org()
    # An organisation's owner sees neither the platform's keys nor can revoke them.
    assert api.get(f"/v1/orgs/{tenant.org_id}/keys", token=tenant.owner.token).json["keys"] == []
    assert api.delete(f"/v1/orgs/{tenant.org_id}/keys/{key_id}", token=tenant.owner.token).status == 404
    assert api.delete(f"/v1/platform/keys/{key_id}", token=world.admin.token).status == 204
    assert api.post(AUTHORIZE, {}, token=api_key).status == 401
    assert [e["action"] for e in audit_events(None) if e["target_id"] == key_id] == ["api_key.create", "api_key.revoke"]


def test_a_platform_admin_creates_an_org_key_as_a_platform_action(api: Api, world: World) -> None:
    tenant = world.org()
    reply = api.post(f"/v1/orgs/{tenant.org_id}/keys", {"kind": "radius", "name": "x"}, token=world.admin.token)
    assert reply.status == 201
    event = next(e for e in audit_events(tenant.org_id) if e["action"] == "api_key.create")
    assert event["platform_action"] is True


def test_keys_have_one_kind_and_each_kind_its_routes(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    _, controller = world.key(tenant, site_id)
    for kind in ("controller", "pos", "", None):
        reply = api.post(f"/v1/orgs/{tenant.org_id}/keys", {"kind": kind, "name": "x"}, token=tenant.owner.token)
        assert (reply.status, reply.json["error"]["field"]) == (400, "kind")
    assert api.post(f"/v1/orgs/{tenant.org_id}/keys", {"kind": "radius"}, token=tenant.owner.token).status == 400
    radius = api.post(f"/v1/orgs/{tenant.org_id}/keys", {"kind": "radius", "name": "r"}, token=tenant.owner.token)
    radius_key = radius.json["api_key"]
    assert api.post(AUTHORIZE, {}, token=controller).status == 403  # a controller key may not speak RADIUS
    assert api.post("/v1/redeem", {"code": "ABCD-EFGH", "mac": "AA:BB:CC:00:11:22"}, token=radius_key).status == 403
    assert api.get(f"/v1/orgs/{tenant.org_id}/sites", token=radius_key).status == 401  # nor act as a user
    # A site's controller key is not an organisation key: the org route does not revoke it.
    controller_id = controller.split("_")[1]
    assert api.delete(f"/v1/orgs/{tenant.org_id}/keys/{controller_id}", token=tenant.owner.token).status == 404
    # Basic auth is for radius routes only.
    assert api.post("/v1/redeem", {"code": "ABCD-EFGH", "mac": "AA:BB:CC:00:11:22"},
                    headers=_basic(controller)).status == 401  # fmt: skip
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Basic "):
        assert api.post(AUTHORIZE, {}, headers={"Authorization": header}).status == 401


# --- NAS registration ------------------------------------------------------------------------------


def test_a_site_registers_lists_and_deletes_its_nases(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    path = f"/v1/orgs/{tenant.org_id}/sites/{site_id}/nas"
    manager = world.member(tenant, "manager").token
    by_name = api.post(path, {"name": "hAP lantai 1", "nas_identifier": "warung-kopi-1"}, token=manager)
    assert by_name.status == 201, by_name.body
    assert set(by_name.json) == {"nas_id", "name", "nas_identifier", "nas_ip", "site_id", "created_at"}
    assert (by_name.json["nas_identifier"], by_name.json["nas_ip"], by_name.json["site_id"]) == (
        "warung-kopi-1", None, site_id)  # fmt: skip
    by_ip = api.post(path, {"name": "Omada", "nas_ip": " 2001:DB8::0:1 "}, token=manager)
    assert by_ip.status == 201 and by_ip.json["nas_ip"] == "2001:db8::1"  # one spelling per address

    listed = api.get(path, token=manager).json["nas"]
    assert sorted(n["name"] for n in listed) == ["Omada", "hAP lantai 1"]

    assert api.delete(f"{path}/{by_name.json['nas_id']}", token=manager).status == 204
    assert api.delete(f"{path}/{by_name.json['nas_id']}", token=manager).status == 404
    assert [n["name"] for n in api.get(path, token=manager).json["nas"]] == ["Omada"]
    # Deleted, its identifier is free again.
    assert api.post(path, {"name": "hAP baru", "nas_identifier": "warung-kopi-1"}, token=manager).status == 201
    actions = [e["action"] for e in audit_events(tenant.org_id) if e["action"].startswith("nas.")]
    assert actions == ["nas.create", "nas.create", "nas.delete", "nas.create"]


def test_nas_input_is_validated_naming_the_field(api: Api, world: World) -> None:
    tenant = world.org()
    site_id = world.site(tenant)
    path = f"/v1/orgs/{tenant.org_id}/sites/{site_id}/nas"
    for body, field in (
        ({"name": "x"}, "nas_identifier"),
        ({"name": "x", "nas_ip": "10.0.0.300"}, "nas_ip"),
        ({"name": "x", "nas_ip": "router.local"}, "nas_ip"),
        ({"name": "x", "nas_identifier": "with\nnewline"}, "nas_identifier"),
        ({"name": "x", "nas_identifier": "a" * 254}, "nas_identifier"),
        ({"nas_identifier": "a"}, "name"),
        ({"name": "x", "nas_identifier": "a", "secret": "s"}, "secret"),
    ):
        reply = api.post(path, body, token=tenant.owner.token)
        assert (reply.status, reply.json["error"]["field"]) == (400, field), body
    assert api.get(path, token=tenant.owner.token).json["nas"] == []


def test_an_identifier_or_address_is_registered_once_in_all_kuota(api: Api, world: World) -> None:
    """A platform key serves every organisation: the same identity twice would be ambiguous for it."""
    first, second = world.org("A"), world.org("B")
    site_1, site_2, site_b = world.site(first, "1"), world.site(first, "2"), world.site(second)
    assert api.post(f"/v1/orgs/{first.org_id}/sites/{site_1}/nas",
                    {"name": "hAP", "nas_identifier": "MikroTik", "nas_ip": "203.0.113.7"},
                    token=first.owner.token).status == 201  # fmt: skip
    for org, site, body, field in (
        (first, site_2, {"name": "again", "nas_identifier": "MikroTik"}, "nas_identifier"),
        (second, site_b, {"name": "theirs", "nas_identifier": "MikroTik"}, "nas_identifier"),
        (second, site_b, {"name": "theirs", "nas_identifier": "other", "nas_ip": "203.0.113.7"}, "nas_ip"),
    ):
        reply = api.post(f"/v1/orgs/{org.org_id}/sites/{site}/nas", body, token=org.owner.token)
        assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (409, "conflict", field)
        assert api.get(f"/v1/orgs/{org.org_id}/sites/{site}/nas", token=org.owner.token).json["nas"] == []
    # Nothing half-written: the refused registration claimed nothing, "other" is still free.
    assert api.post(f"/v1/orgs/{second.org_id}/sites/{site_b}/nas", {"name": "ok", "nas_identifier": "other"},
                    token=second.owner.token).status == 201  # fmt: skip


def test_nas_routes_answer_404_for_another_site_or_org(api: Api, world: World) -> None:
    tenant, other = world.org("A"), world.org("B")
    site, their_site = world.site(tenant), world.site(other)
    nas = api.post(f"/v1/orgs/{other.org_id}/sites/{their_site}/nas", {"name": "x", "nas_identifier": "theirs"},
                   token=other.owner.token).json["nas_id"]  # fmt: skip
    assert api.delete(f"/v1/orgs/{tenant.org_id}/sites/{site}/nas/{nas}", token=tenant.owner.token).status == 404
    assert api.get(f"/v1/orgs/{tenant.org_id}/sites/{their_site}/nas", token=tenant.owner.token).status == 404
    assert api.get(f"/v1/orgs/{other.org_id}/sites/{their_site}/nas", token=other.owner.token).json["nas"] != []


# --- the site's guest language --------------------------------------------------------------------------


def test_sites_have_a_guest_language_indonesian_by_default(api: Api, world: World) -> None:
    tenant = world.org()
    default = world.site(tenant)
    path = f"/v1/orgs/{tenant.org_id}/sites"
    assert api.get(f"{path}/{default}", token=tenant.owner.token).json["language"] == "id"
    english = api.post(path, {"name": "Bali", "timezone": "Asia/Makassar", "language": "en"}, token=tenant.owner.token)
    assert api.get(f"{path}/{english.json['site_id']}", token=tenant.owner.token).json["language"] == "en"
    changed = api.patch(f"{path}/{default}", {"language": "en"}, token=tenant.owner.token)
    assert changed.status == 200 and changed.json["language"] == "en"
    for bad in ("fr", "", 1):
        reply = api.patch(f"{path}/{default}", {"language": bad}, token=tenant.owner.token)
        assert (reply.status, reply.json["error"]["field"]) == (400, "language")
    event = [e for e in audit_events(tenant.org_id) if e["action"] == "site.update"][-1]
    assert (event["before"]["language"], event["after"]["language"]) == ("id", "en")
    deps.configure()  # a fresh container reads the language from the table
    assert api.get(f"{path}/{default}", token=tenant.owner.token).json["language"] == "en"
