"""The ISP's brand: platform admins set it; anyone (guest page, sign-in screen) reads it."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import PLATFORM_ONLY

if TYPE_CHECKING:
    from chalicelib.api.brand_schemas import BrandIn

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.brand_schemas"
# Browsers and CDNs may keep it a minute: a changed brand reaches guests within about that (plus the service's cache).
CACHE_CONTROL = "public, max-age=60"
MAX_BODY_BYTES = 320 * 1024  # a 100,000-byte logo is ~134 KB of base64 (more as a percent-encoded SVG)


@endpoint(
    bp, "/v1/brand", "GET", summary="The ISP's brand (name, tagline, logo, colour; null fields when not set)",
    tag="brand", auth="none", response=Schema("BrandOut", SCHEMAS),
)  # fmt: skip
def get_brand(ctx: RequestContext) -> Response:
    return Response(
        body=asdict(services().brand.get()), status_code=200,
        headers={"Content-Type": "application/json", "Cache-Control": CACHE_CONTROL},
    )  # fmt: skip


@endpoint(
    bp, "/v1/platform/brand", "PUT", summary="Set the ISP's brand: guest page, vouchers, sign-in (audited)",
    tag="brand", roles=PLATFORM_ONLY, body=Schema("BrandIn", SCHEMAS), response=Schema("BrandOut", SCHEMAS),
    extra_responses={409: "conflict"}, max_body_bytes=MAX_BODY_BYTES,
)  # fmt: skip
def set_brand(ctx: RequestContext, body: BrandIn) -> Response:
    view = services().brand.set(ctx.actor, name=body.name, tagline=body.tagline, logo=body.logo, colour=body.colour)
    return Response(body=asdict(view), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "no-store"})  # fmt: skip
