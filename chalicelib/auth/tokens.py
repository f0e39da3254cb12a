"""Access tokens (short-lived EdDSA JWTs) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import jwt

from chalicelib.auth.signing_keys import KeySet
from chalicelib.errors import Unauthorized

ALGORITHMS = ["EdDSA"]  # fixed: the header's "alg" never chooses the algorithm
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
REFRESH_PREFIX = "rt_"


def issue_access_token(
    keys: KeySet,
    *,
    user_id: str,
    org_id: str | None,
    issuer: str,
    audience: str,
    now: datetime,
    lifetime: timedelta,
) -> str:
    kid, private_key = keys.signing_key()
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": user_id,
        "org": org_id,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid})


def verify_access_token(keys: KeySet, token: str, *, issuer: str, audience: str) -> dict[str, object]:
    """Return the verified claims or raise Unauthorized; never says why to the caller."""
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        public_key = keys.verification_key(kid) if isinstance(kid, str) else None
        if public_key is None:
            raise Unauthorized()
        claims: dict[str, object] = jwt.decode(
            token,
            public_key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized() from exc
    if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
        raise Unauthorized()
    return claims


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Refresh tokens and API key secrets carry 256 bits, so one SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()
