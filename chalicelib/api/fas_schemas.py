"""Request and response models of the openNDS FAS routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from chalicelib.api.schemas import Code, Out, Strict

SiteId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# openNDS url-encodes the gateway name before hashing it; plain characters keep the hash obvious.
GatewayName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._~-]+$")]


class FasConfigIn(Strict):
    gateway_name: GatewayName | None = None


class FasConfigOut(Out):
    site_id: str
    gateway_name: str
    gateway_hash: str
    faskey_hint: str
    fasremotefqdn: str
    fasport: int
    faspath: str
    fas_secure_enabled: Literal[3]
    created_at: datetime


class FasConfigCreatedOut(FasConfigOut):
    faskey: str  # shown once


class FasSessionIn(Strict):
    site_id: SiteId
    fas: Annotated[str, StringConstraints(min_length=1, max_length=8192)]
    iv: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class FasSessionOut(Out):
    client_token: str
    org_id: str
    gateway_name: str
    expires_in: int


class FasLoginIn(Strict):
    site_id: SiteId
    client_token: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    code: Code
