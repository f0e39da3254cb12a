"""openNDS FAS: owners configure a site's gateway; guests and the router's authmon use /v1/fas/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import OWNER_ONLY
from chalicelib.config import get_settings
from chalicelib.errors import KuotaError

if TYPE_CHECKING:
    from chalicelib.api.fas_schemas import (
        FasConfigCreatedOut,
        FasConfigIn,
        FasConfigOut,
        FasLoginIn,
        FasSessionIn,
        FasSessionOut,
    )
    from chalicelib.api.schemas import RedeemOut

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.fas_schemas"
FORM = "application/x-www-form-urlencoded"
# authmon reads plain text ("ERROR: ..." on a refusal); what the wrapper refuses before the poll runs is JSON.
_POLL_TEXT = {"text/plain": {"schema": {"type": "string"}},
              "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}  # fmt: skip
_POLL_BODIES: dict[int, dict[str, Any] | None] = {status: _POLL_TEXT for status in (200, 400, 403, 404, 429)}


@endpoint(
    bp, "/v1/orgs/{org_id}/sites/{site_id}/fas", "POST",
    summary="Configure openNDS FAS for a site (new faskey, shown once)",
    tag="fas", roles=OWNER_ONLY, body=Schema("FasConfigIn", SCHEMAS), response=Schema("FasConfigCreatedOut", SCHEMAS),
    status=201,
)  # fmt: skip
def configure_fas(ctx: RequestContext, org_id: str, site_id: str, body: FasConfigIn) -> FasConfigCreatedOut:
    from chalicelib.api.fas_schemas import FasConfigCreatedOut
    from chalicelib.services.fas import gateway_view

    site = services().sites.get_site(org_id, site_id)
    gateway, faskey = services().fas.configure(ctx.actor, site, body.gateway_name)
    return FasConfigCreatedOut.model_validate({**gateway_view(gateway, get_settings()), "faskey": faskey})


@endpoint(
    bp, "/v1/orgs/{org_id}/sites/{site_id}/fas", "GET", summary="A site's openNDS FAS configuration (never the faskey)",
    tag="fas", roles=OWNER_ONLY, response=Schema("FasConfigOut", SCHEMAS),
)  # fmt: skip
def get_fas(ctx: RequestContext, org_id: str, site_id: str) -> FasConfigOut:
    from chalicelib.api.fas_schemas import FasConfigOut
    from chalicelib.services.fas import gateway_view

    services().sites.get_site(org_id, site_id)
    return FasConfigOut.model_validate(gateway_view(services().fas.get(org_id, site_id), get_settings()))


@endpoint(
    bp, "/v1/orgs/{org_id}/sites/{site_id}/fas", "DELETE", summary="Stop using openNDS FAS at a site",
    tag="fas", roles=OWNER_ONLY, status=204,
)  # fmt: skip
def delete_fas(ctx: RequestContext, org_id: str, site_id: str) -> None:
    services().fas.delete(ctx.actor, services().sites.get_site(org_id, site_id))


@endpoint(
    bp, "/v1/fas/session", "POST", summary="Guest page: trade the router's fas/iv for a client token",
    tag="fas", auth="none", body=Schema("FasSessionIn", SCHEMAS), response=Schema("FasSessionOut", SCHEMAS),
)  # fmt: skip
def fas_session(ctx: RequestContext, body: FasSessionIn) -> FasSessionOut:
    from chalicelib.api.fas_schemas import FasSessionOut

    session = services().fas.open_session(body.site_id, body.fas, body.iv)
    return FasSessionOut(client_token=session.client_token, org_id=session.org_id,
                         gateway_name=session.gateway_name, expires_in=session.expires_in)  # fmt: skip


@endpoint(
    bp, "/v1/fas/login", "POST",
    summary="Guest page: redeem a code for the client; the router lets it in at its next poll",
    tag="fas", auth="none", body=Schema("FasLoginIn", SCHEMAS), response=Schema("RedeemOut"),
    extra_responses={404: "invalid_code", 410: "voucher_expired | voucher_revoked | voucher_exhausted",
                     409: "device_limit_reached", 403: "wrong_site", 429: "too_many_attempts"},
)  # fmt: skip
def fas_login(ctx: RequestContext, body: FasLoginIn) -> RedeemOut:
    from chalicelib.api.redeem import redeem_answer

    return redeem_answer(services().fas.login(body.site_id, body.client_token, body.code, ctx.actor))


@endpoint(
    bp, "/v1/fas/gateways/{site_id}", "GET",
    summary="The site's FAS URL: guests are sent on to the guest page; authmon's wget polls with ?auth_get=",
    tag="fas", auth="none", extra_responses={302: "to the guest page", 403: "unknown gateway"},
    response_content={302: None, **_POLL_BODIES},
)  # fmt: skip
def fas_gateway_get(ctx: RequestContext, site_id: str) -> Response:
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    if "auth_get" in params:
        return _poll(ctx, site_id, params)
    forward: dict[str, str] = {"site_id": site_id}
    org_id = services().fas.org_of(site_id)
    if org_id:
        forward["org"] = org_id  # the guest page checks codes in this organisation
    forward.update({name: params[name] for name in ("fas", "iv", "status") if name in params})
    location = f"{get_settings().guest_page_url}?{urlencode(forward)}"
    return Response(body="", status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


@endpoint(
    bp, "/v1/fas/gateways/{site_id}", "POST",
    summary="openNDS authmon's poll (form: auth_get, gatewayhash, payload): queued clients, acknowledgements",
    tag="fas", auth="none", content_types=[FORM], extra_responses={403: "unknown gateway"},
    response_content=_POLL_BODIES,
)  # fmt: skip
def fas_gateway_poll(ctx: RequestContext, site_id: str) -> Response:
    raw = bp.current_request.raw_body or b""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    form = {name: values[0] for name, values in parse_qs(text).items()}
    return _poll(ctx, site_id, form)


def _poll(ctx: RequestContext, site_id: str, form: dict[str, str]) -> Response:
    try:
        text = services().fas.poll(site_id, form.get("auth_get", ""), form.get("gatewayhash", ""),
                                   form.get("payload", ""), ctx.actor)  # fmt: skip
        status = 200
    except KuotaError as error:
        # authmon logs a reply that contains "ERROR:" to the router's syslog.
        text, status = f"ERROR: {error.message}", error.status
    return Response(body=text, status_code=status, headers={"Content-Type": "text/plain; charset=utf-8"})
