from tests.support import Api, World


def test_owner_signs_in_and_sees_themselves(api: Api, world: World) -> None:
    tenant = world.org()
    reply = api.get("/v1/me", token=tenant.owner.token)
    assert reply.status == 200, reply.body
    assert reply.json == {
        "user_id": tenant.owner.user_id,
        "email": tenant.owner.email,
        "role": "owner",
        "org_id": tenant.org_id,
    }
