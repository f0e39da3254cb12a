"""FreeRADIUS: its keys (`radius`), the NASes of each site, and the routes rlm_rest calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import OWNER_MANAGER, OWNER_ONLY, PLATFORM_ONLY

if TYPE_CHECKING:
    from chalicelib.api.radius_schemas import (
        NasIn,
        NasListOut,
        NasOut,
        RadiusIn,
        RadiusKeyIn,
        RadiusKeyListOut,
    )
    from chalicelib.api.schemas import KeyCreatedOut
    from chalicelib.services.radius import RadiusReply

bp = Blueprint(__name__)
RADIUS_SCHEMAS = "chalicelib.api.radius_schemas"
RADIUS_KEY = frozenset({"radius"})


def _schema(name: str) -> Schema:
    return Schema(name, RADIUS_SCHEMAS)


# --- radius keys -----------------------------------------------------------------------------


@endpoint(bp, "/v1/orgs/{org_id}/keys", "POST", summary="Create a radius key for this organisation (shown once)",
          tag="keys", roles=OWNER_ONLY, body=_schema("RadiusKeyIn"), response=Schema("KeyCreatedOut"),
          status=201, extra_responses={409: "conflict"})  # fmt: skip
def create_org_key(ctx: RequestContext, org_id: str, body: RadiusKeyIn) -> KeyCreatedOut:
    return _created(*services().radius_keys.create_key(ctx.actor, org_id, name=body.name))


@endpoint(bp, "/v1/orgs/{org_id}/keys", "GET", summary="List the organisation's radius keys (never their secrets)",
          tag="keys", roles=OWNER_ONLY, response=_schema("RadiusKeyListOut"))  # fmt: skip
def list_org_keys(ctx: RequestContext, org_id: str) -> RadiusKeyListOut:
    return _key_list(org_id)


@endpoint(bp, "/v1/orgs/{org_id}/keys/{key_id}", "DELETE", summary="Revoke a radius key (within 60 s)",
          tag="keys", roles=OWNER_ONLY, status=204)  # fmt: skip
def revoke_org_key(ctx: RequestContext, org_id: str, key_id: str) -> None:
    services().radius_keys.revoke_key(ctx.actor, org_id, key_id)


@endpoint(bp, "/v1/platform/keys", "POST", summary="Create a radius key for every organisation (shown once)",
          tag="keys", roles=PLATFORM_ONLY, body=_schema("RadiusKeyIn"), response=Schema("KeyCreatedOut"),
          status=201, extra_responses={409: "conflict"})  # fmt: skip
def create_platform_key(ctx: RequestContext, body: RadiusKeyIn) -> KeyCreatedOut:
    return _created(*services().radius_keys.create_key(ctx.actor, None, name=body.name))


@endpoint(bp, "/v1/platform/keys", "GET", summary="List the platform's radius keys (never their secrets)",
          tag="keys", roles=PLATFORM_ONLY, response=_schema("RadiusKeyListOut"))  # fmt: skip
def list_platform_keys(ctx: RequestContext) -> RadiusKeyListOut:
    return _key_list(None)


@endpoint(bp, "/v1/platform/keys/{key_id}", "DELETE", summary="Revoke a platform radius key (within 60 s)",
          tag="keys", roles=PLATFORM_ONLY, status=204)  # fmt: skip
def revoke_platform_key(ctx: RequestContext, key_id: str) -> None:
    services().radius_keys.revoke_key(ctx.actor, None, key_id)


def _created(key: Any, api_key: str) -> KeyCreatedOut:
    from chalicelib.api.schemas import KeyCreatedOut

    return KeyCreatedOut(key_id=key.key_id, api_key=api_key)


def _key_list(org_id: str | None) -> RadiusKeyListOut:
    from chalicelib.api.radius_schemas import RadiusKeyListOut, RadiusKeyOut
    from chalicelib.services.radius_keys import radius_key_view

    keys = services().radius_keys.list_keys(org_id)
    return RadiusKeyListOut(keys=[RadiusKeyOut.model_validate(radius_key_view(key)) for key in keys])


# --- NAS registration ------------------------------------------------------------------------


@endpoint(bp, "/v1/orgs/{org_id}/sites/{site_id}/nas", "POST", summary="Register a NAS (RADIUS client) at a site",
          tag="radius", roles=OWNER_MANAGER, body=_schema("NasIn"), response=_schema("NasOut"), status=201,
          extra_responses={409: "conflict"})  # fmt: skip
def register_nas(ctx: RequestContext, org_id: str, site_id: str, body: NasIn) -> NasOut:
    from chalicelib.api.radius_schemas import NasOut
    from chalicelib.services.nas import nas_view

    registry = services()
    site = registry.sites.get_site(org_id, site_id)
    nas = registry.nas.register(ctx.actor, site, name=body.name, nas_identifier=body.nas_identifier,
                                nas_ip=body.nas_ip)  # fmt: skip
    return NasOut.model_validate(nas_view(nas))


@endpoint(bp, "/v1/orgs/{org_id}/sites/{site_id}/nas", "GET", summary="The NASes registered at a site",
          tag="radius", roles=OWNER_MANAGER, response=_schema("NasListOut"))  # fmt: skip
def list_nas(ctx: RequestContext, org_id: str, site_id: str) -> NasListOut:
    from chalicelib.api.radius_schemas import NasListOut, NasOut
    from chalicelib.services.nas import nas_view

    registry = services()
    registry.sites.get_site(org_id, site_id)
    return NasListOut(nas=[NasOut.model_validate(nas_view(nas)) for nas in registry.nas.list_nas(org_id, site_id)])


@endpoint(bp, "/v1/orgs/{org_id}/sites/{site_id}/nas/{nas_id}", "DELETE", summary="Remove a NAS from a site",
          tag="radius", roles=OWNER_MANAGER, status=204)  # fmt: skip
def delete_nas(ctx: RequestContext, org_id: str, site_id: str, nas_id: str) -> None:
    registry = services()
    registry.nas.delete(ctx.actor, registry.sites.get_site(org_id, site_id), nas_id)


# --- what FreeRADIUS's rest module calls ------------------------------------------------------


# rlm_rest's answers are RADIUS attribute maps, not the error envelope: an accept (200), a reject (401), nothing (204).
_ATTRIBUTES = {"application/json": {"schema": {"type": "object"}}}
_RADIUS_BODIES: dict[int, dict[str, Any] | None] = {200: _ATTRIBUTES, 204: None}


def _radius_route(path: str, summary: str, extra: dict[int, str],
                  bodies: dict[int, dict[str, Any] | None] | None = None,
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # fmt: skip
    return endpoint(bp, path, "POST", summary=summary, tag="radius", auth="api_key", key_kinds=RADIUS_KEY,
                    basic_auth=True, body=_schema("RadiusIn"), extra_responses={204: "nothing to say", **extra},
                    response_content={**_RADIUS_BODIES, **(bodies or {})})  # fmt: skip


@_radius_route("/v1/radius/authorize", "rlm_rest authorize: 200 accept with reply attributes, or 401 reject",
               {401: "reject: {\"reply:Reply-Message\": ...} in the site's language"},
               {401: _ATTRIBUTES})  # fmt: skip
def radius_authorize(ctx: RequestContext, body: RadiusIn) -> Response:
    return _answer(services().radius.authorize(ctx.user, dict(body.model_extra or {}), ctx.actor))


@_radius_route("/v1/radius/accounting", "rlm_rest accounting: counted once; may ask for a disconnect",
               {})  # fmt: skip
def radius_accounting(ctx: RequestContext, body: RadiusIn) -> Response:
    return _answer(services().radius.account(ctx.user, dict(body.model_extra or {}), ctx.actor))


@_radius_route("/v1/radius/post-auth", "rlm_rest post-auth: nothing to do (204)", {})
def radius_post_auth(ctx: RequestContext, body: RadiusIn) -> None:
    return None


def _answer(reply: RadiusReply) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if reply.reason:
        headers["X-Kuota-Reason"] = reply.reason
    return Response(body=reply.attributes, status_code=reply.status, headers=headers)
