"""Sites and their controller/POS API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import ORG_ROLES, OWNER_MANAGER

if TYPE_CHECKING:
    from chalicelib.api.schemas import (
        KeyCreatedOut,
        KeyIn,
        KeyListOut,
        SiteCreatedOut,
        SiteIn,
        SiteListOut,
        SiteOut,
        SiteUpdateIn,
    )

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/orgs/{org_id}/sites",
    "POST",
    summary="Create a site",
    tag="sites",
    roles=OWNER_MANAGER,
    body=Schema("SiteIn"),
    response=Schema("SiteCreatedOut"),
    status=201,
    extra_responses={409: "conflict"},
)
def create_site(ctx: RequestContext, org_id: str, body: SiteIn) -> SiteCreatedOut:
    from chalicelib.api.schemas import SiteCreatedOut

    site = services().sites.create_site(
        ctx.actor,
        org_id,
        name=body.name,
        timezone=body.timezone,
        opens=body.business_hours.opens,
        closes=body.business_hours.closes,
        language=body.language,
    )
    return SiteCreatedOut(site_id=site.site_id)


@endpoint(
    bp,
    "/v1/orgs/{org_id}/sites",
    "GET",
    summary="List sites",
    tag="sites",
    roles=ORG_ROLES,
    response=Schema("SiteListOut"),
)
def list_sites(ctx: RequestContext, org_id: str) -> SiteListOut:
    from chalicelib.api.schemas import SiteListOut, SiteOut
    from chalicelib.services.sites import site_view

    sites = services().sites.list_sites(org_id)
    return SiteListOut(sites=[SiteOut.model_validate(site_view(site)) for site in sites])


@endpoint(
    bp,
    "/v1/orgs/{org_id}/sites/{site_id}",
    "GET",
    summary="One site",
    tag="sites",
    roles=ORG_ROLES,
    response=Schema("SiteOut"),
)
def get_site(ctx: RequestContext, org_id: str, site_id: str) -> SiteOut:
    from chalicelib.api.schemas import SiteOut
    from chalicelib.services.sites import site_view

    return SiteOut.model_validate(site_view(services().sites.get_site(org_id, site_id)))


@endpoint(
    bp,
    "/v1/orgs/{org_id}/sites/{site_id}",
    "PATCH",
    summary="Rename a site, change its timezone or hours",
    tag="sites",
    roles=OWNER_MANAGER,
    body=Schema("SiteUpdateIn"),
    response=Schema("SiteOut"),
    extra_responses={409: "conflict"},
)
def update_site(ctx: RequestContext, org_id: str, site_id: str, body: SiteUpdateIn) -> SiteOut:
    from chalicelib.api.schemas import SiteOut
    from chalicelib.services.sites import site_view

    changes: dict[str, object] = body.model_dump(exclude_unset=True, exclude={"business_hours"})
    if body.business_hours is not None:
        changes.update(opens_at=body.business_hours.opens, closes_at=body.business_hours.closes)
    site = services().sites.update_site(ctx.actor, org_id, site_id, changes)
    return SiteOut.model_validate(site_view(site))


@endpoint(
    bp,
    "/v1/orgs/{org_id}/sites/{site_id}/keys",
    "POST",
    summary="Create a controller or POS API key",
    tag="keys",
    roles=OWNER_MANAGER,
    body=Schema("KeyIn"),
    response=Schema("KeyCreatedOut"),
    status=201,
    extra_responses={409: "conflict"},
)
def create_key(ctx: RequestContext, org_id: str, site_id: str, body: KeyIn) -> KeyCreatedOut:
    from chalicelib.api.schemas import KeyCreatedOut

    key, api_key = services().sites.create_key(ctx.actor, org_id, site_id, kind=body.kind, name=body.name)
    return KeyCreatedOut(key_id=key.key_id, api_key=api_key)


@endpoint(
    bp,
    "/v1/orgs/{org_id}/sites/{site_id}/keys",
    "GET",
    summary="List a site's API keys (never their secrets)",
    tag="keys",
    roles=OWNER_MANAGER,
    response=Schema("KeyListOut"),
)
def list_keys(ctx: RequestContext, org_id: str, site_id: str) -> KeyListOut:
    from chalicelib.api.schemas import KeyListOut, KeyOut
    from chalicelib.services.sites import key_view

    keys = services().sites.list_keys(org_id, site_id)
    return KeyListOut(keys=[KeyOut.model_validate(key_view(key)) for key in keys])


@endpoint(
    bp,
    "/v1/orgs/{org_id}/sites/{site_id}/keys/{key_id}",
    "DELETE",
    summary="Revoke an API key (within 60 s)",
    tag="keys",
    roles=OWNER_MANAGER,
    status=204,
)
def revoke_key(ctx: RequestContext, org_id: str, site_id: str, key_id: str) -> None:
    services().sites.revoke_key(ctx.actor, org_id, site_id, key_id)
