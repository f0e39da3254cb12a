"""Organizations (platform admins) and their users (owners)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import ORG_ROLES, OWNER_ONLY, PLATFORM_ONLY, Role

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        OrgIn,
        OrgListOut,
        OrgListQuery,
        OrgOut,
        OrgUpdateIn,
        UserCreatedOut,
        UserIn,
        UserListOut,
        UserOut,
        UserUpdateIn,
    )
    from chalicelib.models import Org

bp = Blueprint(__name__)


def _org(org: Org) -> OrgOut:
    from chalicelib.api.schemas import OrgOut

    return OrgOut(
        org_id=org.org_id, name=org.name, created_at=org.created_at, pos_only_sales=bool(org.pos_only_sales)
    )


@endpoint(
    bp,
    "/v1/orgs",
    "POST",
    summary="Create a reseller organization",
    tag="orgs",
    roles=PLATFORM_ONLY,
    body=Schema("OrgIn"),
    response=Schema("OrgOut"),
    status=201,
)
def create_org(ctx: RequestContext, body: OrgIn) -> OrgOut:
    return _org(services().accounts.create_org(ctx.actor, body.name))


@endpoint(bp, "/v1/orgs", "GET", summary="The organizations, in pages, in id order (not by time)", tag="orgs",
          roles=PLATFORM_ONLY, query=Schema("OrgListQuery"), response=Schema("OrgListOut"))  # fmt: skip
def list_orgs(ctx: RequestContext, query: OrgListQuery) -> OrgListOut:
    from chalicelib.api.schemas import OrgListOut

    page = services().accounts.orgs_page(limit=query.limit, cursor=query.cursor)
    return OrgListOut(orgs=[_org(org) for org in page.orgs], next_cursor=page.next_cursor)


@endpoint(bp, "/v1/orgs/{org_id}", "GET", summary="One organization", tag="orgs", roles=ORG_ROLES,
          response=Schema("OrgOut"))  # fmt: skip
def get_org(ctx: RequestContext, org_id: str) -> OrgOut:
    return _org(services().accounts.get_org(org_id))


@endpoint(bp, "/v1/orgs/{org_id}", "PATCH", summary="Change the organization's settings (audited)", tag="orgs",
          roles=OWNER_ONLY, body=Schema("OrgUpdateIn"), response=Schema("OrgOut"))  # fmt: skip
def update_org(ctx: RequestContext, org_id: str, body: OrgUpdateIn) -> OrgOut:
    return _org(services().accounts.update_org_settings(ctx.actor, org_id, pos_only_sales=body.pos_only_sales))


@endpoint(
    bp,
    "/v1/orgs/{org_id}/users",
    "POST",
    summary="Create a user in the organization",
    tag="users",
    roles=OWNER_ONLY,
    body=Schema("UserIn"),
    response=Schema("UserCreatedOut"),
    status=201,
    extra_responses={409: "conflict"},
)
def create_user(ctx: RequestContext, org_id: str, body: UserIn) -> UserCreatedOut:
    from chalicelib.api.schemas import UserCreatedOut

    user = services().accounts.create_user(ctx.actor, org_id, str(body.email), body.password, Role(body.role))
    return UserCreatedOut(user_id=user.user_id)


@endpoint(
    bp,
    "/v1/orgs/{org_id}/users",
    "GET",
    summary="List the organization's users",
    tag="users",
    roles=OWNER_ONLY,
    response=Schema("UserListOut"),
)
def list_users(ctx: RequestContext, org_id: str) -> UserListOut:
    from chalicelib.api.schemas import UserListOut, UserOut
    from chalicelib.services.accounts import user_view

    users = services().accounts.list_users(org_id)
    return UserListOut(users=[UserOut.model_validate(user_view(user)) for user in users])


@endpoint(
    bp,
    "/v1/orgs/{org_id}/users/{user_id}",
    "PATCH",
    summary="Change a user's role or disable them",
    tag="users",
    roles=OWNER_ONLY,
    body=Schema("UserUpdateIn"),
    response=Schema("UserOut"),
    extra_responses={409: "conflict"},
)
def update_user(ctx: RequestContext, org_id: str, user_id: str, body: UserUpdateIn) -> UserOut:
    from chalicelib.api.schemas import UserOut
    from chalicelib.services.accounts import user_view

    role = Role(body.role) if body.role else None
    user = services().accounts.update_user(ctx.actor, org_id, user_id, role=role, disabled=body.disabled)
    return UserOut.model_validate(user_view(user))
