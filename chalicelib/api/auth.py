"""Sign-in, token refresh, sign-out, and who-am-I for users and API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.deps import services
from chalicelib.api.http import RequestContext, Schema, endpoint

if TYPE_CHECKING:
    from chalicelib.api.schemas import KeySelfOut, LoginIn, MeOut, RefreshIn, TokenPairOut
    from chalicelib.services.accounts import TokenPair

bp = Blueprint(__name__)


def _pair(pair: TokenPair) -> TokenPairOut:
    from chalicelib.api.schemas import TokenPairOut

    return TokenPairOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@endpoint(
    bp,
    "/v1/auth/login",
    "POST",
    summary="Sign in with email and password",
    tag="auth",
    auth="none",
    body=Schema("LoginIn"),
    response=Schema("TokenPairOut"),
    extra_responses={401: "invalid_credentials", 429: "too_many_attempts"},
)
def login(ctx: RequestContext, body: LoginIn) -> TokenPairOut:
    return _pair(services().accounts.login(body.email, body.password, ctx.meta))


@endpoint(
    bp,
    "/v1/auth/refresh",
    "POST",
    summary="Trade a refresh token for a new pair (single use)",
    tag="auth",
    auth="none",
    body=Schema("RefreshIn"),
    response=Schema("TokenPairOut"),
    extra_responses={401: "unauthorized"},
)
def refresh(ctx: RequestContext, body: RefreshIn) -> TokenPairOut:
    return _pair(services().accounts.refresh(body.refresh_token, ctx.meta))


@endpoint(
    bp,
    "/v1/auth/logout",
    "POST",
    summary="Sign out: revoke the refresh token's whole family",
    tag="auth",
    auth="none",
    body=Schema("RefreshIn"),
    status=204,
)
def logout(ctx: RequestContext, body: RefreshIn) -> None:
    services().accounts.logout(body.refresh_token, ctx.meta)


@endpoint(bp, "/v1/me", "GET", summary="The signed-in user", tag="auth", response=Schema("MeOut"))
def me(ctx: RequestContext) -> MeOut:
    from chalicelib.api.schemas import MeOut

    user = ctx.user
    role = user.role.value if user.role else ""
    return MeOut(user_id=user.id, email=user.email or "", role=role, org_id=user.org_id)


@endpoint(
    bp,
    "/v1/keys/self",
    "GET",
    summary="The calling API key (lets a controller or POS test its settings)",
    tag="auth",
    auth="api_key",
    response=Schema("KeySelfOut"),
)
def key_self(ctx: RequestContext) -> KeySelfOut:
    from chalicelib.api.schemas import KeySelfOut

    key = ctx.user
    return KeySelfOut(
        key_id=key.id, kind=key.key_kind or "", name=key.name, org_id=key.org_id, site_id=key.site_id
    )
