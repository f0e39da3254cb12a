"""Who is calling, and from where: built once per request from verified credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.auth.roles import Role


@dataclass(frozen=True)
class RequestMeta:
    source_ip: str | None  # for the audit trail: X-Forwarded-For where a setting trusts it
    user_agent: str | None
    request_id: str
    # The address the platform itself saw the call come from (API Gateway's sourceIp, the local
    # server's socket peer, the packet source FreeRADIUS passed on), never a header the caller
    # sets: what a controller's uplink is judged by.
    peer_ip: str | None = None


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "api_key"]
    id: str  # user id or API key id
    org_id: str | None  # None only for platform admins
    role: Role | None = None  # users only
    email: str | None = None
    site_id: str | None = None  # API keys only
    key_kind: str | None = None  # "controller" or "pos"
    name: str | None = None  # API keys: the name the owner gave it

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN


@dataclass(frozen=True)
class Actor:
    """What the audit trail records about the caller of a state change."""

    principal: Principal | None
    meta: RequestMeta
    platform_action: bool = False


def scheduler_actor(request_id: str) -> Actor:
    """Who the audit trail names for scheduled work."""
    return Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="kuota-scheduler", request_id=request_id))
