"""The ISP's registered address space (platform admins) and where each site's controller calls from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint
from chalicelib.auth.roles import PLATFORM_ONLY, REPORT_READERS

if TYPE_CHECKING:
    from chalicelib.api.address_space_schemas import AddressSpaceIn, AddressSpaceOut, UplinksOut
    from chalicelib.services.address_space import AddressSpace

bp = Blueprint(__name__)
SCHEMAS = "chalicelib.api.address_space_schemas"
MAX_BODY_BYTES = 4 * 1024 * 1024  # 20,000 prefixes with notes; API Gateway takes 10 MB, Lambda 6 MB


@endpoint(
    bp, "/v1/platform/address-space", "PUT",
    summary="Replace the ISP's registered prefixes (IPv4/IPv6 CIDR with AS number); atomic and audited",
    tag="platform", roles=PLATFORM_ONLY, body=Schema("AddressSpaceIn", SCHEMAS),
    response=Schema("AddressSpaceOut", SCHEMAS), max_body_bytes=MAX_BODY_BYTES,
    extra_responses={400: "validation_error naming a bad, duplicate or overlapping prefix", 409: "conflict"},
)  # fmt: skip
def put_address_space(ctx: RequestContext, body: AddressSpaceIn) -> AddressSpaceOut:
    from chalicelib.services.address_space import validate_prefixes

    prefixes = validate_prefixes([(item.cidr, item.asn, item.note) for item in body.prefixes])
    return _out(services().address_space.replace(ctx.actor, prefixes))


@endpoint(
    bp, "/v1/platform/address-space", "GET", summary="The ISP's registered prefixes",
    tag="platform", roles=PLATFORM_ONLY, response=Schema("AddressSpaceOut", SCHEMAS),
)  # fmt: skip
def get_address_space(ctx: RequestContext) -> AddressSpaceOut:
    return _out(services().address_space.stored())


def _out(space: AddressSpace) -> AddressSpaceOut:
    from chalicelib.api.address_space_schemas import AddressSpaceOut, PrefixOut

    return AddressSpaceOut(prefixes=[PrefixOut.model_validate(prefix.view()) for prefix in space.prefixes])


@endpoint(
    bp, "/v1/orgs/{org_id}/uplinks", "GET",
    summary="Each site's (and NAS's) uplink: registered, unregistered or unknown, the last address and time",
    tag="compliance", roles=REPORT_READERS, response=Schema("UplinksOut", SCHEMAS),
)  # fmt: skip
def list_uplinks(ctx: RequestContext, org_id: str) -> UplinksOut:
    from chalicelib.api.address_space_schemas import NasUplinkOut, SiteUplinkOut, UplinksOut

    registry = services()
    seen = registry.uplinks.sites(org_id)
    unseen = {"status": "unknown", "last_address": None, "last_seen_at": None}
    sites = [
        SiteUplinkOut.model_validate({"site_id": site.site_id, "site_name": site.name,
                                      **seen.get(site.site_id, unseen)})
        for site in registry.sites.list_sites(org_id)
    ]  # fmt: skip
    nas = [NasUplinkOut.model_validate({"nas_id": nas_id, **view})
           for nas_id, view in registry.uplinks.nases(org_id).items()]  # fmt: skip
    return UplinksOut(sites=sites, nas=nas)
