"""Request and response models of the ISP's registered address space and the sites' uplinks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from chalicelib.api.schemas import Out, Strict

MAX_PREFIXES = 20_000  # services.address_space.MAX_PREFIXES (not imported: keeps this module light)
UplinkStatus = Literal["registered", "unregistered", "unknown"]


class PrefixIn(Strict):
    cidr: str = Field(min_length=1, max_length=64, description="An IPv4 or IPv6 prefix, e.g. 203.0.113.0/24 "
                      "(host bits must be zero)")  # fmt: skip
    asn: Annotated[int, Field(strict=True, ge=1, le=4_294_967_295, description="The prefix's AS number")]
    note: str | None = Field(default=None, max_length=100)


class AddressSpaceIn(Strict):
    prefixes: list[PrefixIn] = Field(max_length=MAX_PREFIXES, description="The whole list: it replaces the stored one")


class PrefixOut(Out):
    cidr: str
    asn: int
    note: str | None


class AddressSpaceOut(Out):
    prefixes: list[PrefixOut] = Field(description="In the order they were registered")


class UplinkOut(Out):
    status: UplinkStatus = Field(description="unknown until an address is seen, or while no address space is set")
    last_address: str | None
    last_seen_at: datetime | None


class SiteUplinkOut(UplinkOut):
    site_id: str
    site_name: str


class NasUplinkOut(UplinkOut):
    nas_id: str
    site_id: str


class UplinksOut(Out):
    sites: list[SiteUplinkOut] = Field(description="Every site of the organization, seen or not")
    nas: list[NasUplinkOut] = Field(description="The NASes seen calling over RADIUS")
