"""The platform's list of organizations: a page at a time, each organization once."""

from __future__ import annotations

from tests.support import Api, World, walk_pages


def test_the_org_list_comes_a_page_at_a_time_each_org_once(api: Api, world: World) -> None:
    made = {world.org(f"Warung {n}").org_id for n in range(5)}
    listed, pages = walk_pages(api, "/v1/orgs", "orgs", token=world.admin.token, limit=2)
    assert pages >= 3 and len(listed) == 5 and {org["org_id"] for org in listed} == made

    # A cursor of another list (here the settlements') reads nothing here: a 400 naming cursor.
    assert api.post("/v1/platform/settlements", {"from": "2026-01-01", "to": "2026-01-31"},
                    token=world.admin.token).status == 201  # fmt: skip
    assert api.post("/v1/platform/settlements", {"from": "2026-02-01", "to": "2026-02-28"},
                    token=world.admin.token).status == 201  # fmt: skip
    other = api.get("/v1/platform/settlements?limit=1", token=world.admin.token).json["next_cursor"]
    assert other
    reply = api.get(f"/v1/orgs?cursor={other}", token=world.admin.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")
