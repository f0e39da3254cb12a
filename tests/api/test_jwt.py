"""Every malformed, forged or misused access token answers 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chalicelib.auth.signing_keys import KeySet, get_key_set, new_key_document, parse_key_set
from chalicelib.auth.tokens import issue_access_token, verify_access_token
from chalicelib.errors import Unauthorized
from tests.support import Api, Tenant, World


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "kuota",
        "aud": "kuota-api",
        "sub": tenant.owner.user_id,
        "org": tenant.org_id,
        "iat": now,
        "exp": now + 600,
        "typ": "access",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], kid: str | None = None) -> str:
    keys = get_key_set()
    active, private_key = keys.signing_key()
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid or active})


def _alg_none(tenant: Tenant) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": get_key_set().active_kid}).encode())
    return f"{header}.{_b64(json.dumps(_claims(tenant)).encode())}."


def _hs256_with_public_key(tenant: Tenant) -> str:
    """The classic confusion attack: HMAC keyed with the server's public key."""
    keys = get_key_set()
    public_pem = (
        keys.signing_key()[1]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": keys.active_kid}).encode())
    payload = _b64(json.dumps(_claims(tenant)).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def _tampered(tenant: Tenant) -> str:
    header, _, signature = _sign(_claims(tenant)).split(".")
    forged = _b64(json.dumps(_claims(tenant, sub="someone-else", org="another-org")).encode())
    return f"{header}.{forged}.{signature}"


def _foreign_key(tenant: Tenant) -> str:
    return jwt.encode(_claims(tenant), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "k1"})


FORGERIES: dict[str, Callable[[Tenant], str]] = {
    "alg none": _alg_none,
    "HS256 signed with the public key": _hs256_with_public_key,
    "expired": lambda t: _sign(_claims(t, iat=int(time.time()) - 2000, exp=int(time.time()) - 60)),
    "wrong aud": lambda t: _sign(_claims(t, aud="another-api")),
    "wrong iss": lambda t: _sign(_claims(t, iss="evil")),
    "missing exp": lambda t: _sign(_claims(t, exp=None)),
    "missing iat": lambda t: _sign(_claims(t, iat=None)),
    "missing sub": lambda t: _sign(_claims(t, sub=None)),
    "unknown kid": lambda t: _sign(_claims(t), kid="not-in-the-key-set"),
    "signed by a key outside the set": _foreign_key,
    "tampered payload": _tampered,
    "not an access token": lambda t: _sign(_claims(t, typ="refresh")),
    "refresh token as access token": lambda t: t.owner.refresh_token,
    "garbage": lambda t: "not-a-jwt",
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_or_misused_tokens_are_refused(api: Api, world: World, name: str) -> None:
    tenant = world.org()
    reply = api.get("/v1/me", token=FORGERIES[name](tenant))
    assert (reply.status, reply.error_code) == (401, "unauthorized")


def test_a_correctly_signed_token_is_accepted(api: Api, world: World) -> None:
    """The control case: the forgeries above fail for their flaw, not for the harness."""
    tenant = world.org()
    assert api.get("/v1/me", token=_sign(_claims(tenant))).status == 200


def test_missing_or_malformed_authorization_header(api: Api) -> None:
    assert api.get("/v1/me").status == 401
    assert api.get("/v1/me", headers={"Authorization": "Basic abc"}).status == 401
    assert api.get("/v1/me", headers={"Authorization": "Bearer "}).status == 401


def _verify(keys: KeySet, token: str) -> dict[str, object]:
    return verify_access_token(keys, token, issuer="kuota", audience="kuota-api")


def test_rotation_keeps_old_tokens_valid_while_both_keys_are_in_the_set() -> None:
    from datetime import UTC, datetime, timedelta

    old_document = new_key_document()
    old_keys = parse_key_set(old_document)
    rotated_document = new_key_document(old_document)
    rotated = parse_key_set(rotated_document)
    assert rotated.active_kid != old_keys.active_kid and len(rotated.private_keys) == 2

    def issue(keys: KeySet) -> str:
        now = datetime.now(UTC)
        return issue_access_token(
            keys,
            user_id="u1",
            org_id="o1",
            issuer="kuota",
            audience="kuota-api",
            now=now,
            lifetime=timedelta(minutes=15),
        )

    before_rotation = issue(old_keys)
    after_rotation = issue(rotated)
    assert jwt.get_unverified_header(after_rotation)["kid"] == rotated.active_kid
    assert _verify(rotated, before_rotation)["sub"] == "u1"  # overlap: old tokens still work
    assert _verify(rotated, after_rotation)["sub"] == "u1"

    # Once the old key is dropped, its tokens are refused.
    document = json.loads(rotated_document)
    del document["keys"][old_keys.active_kid]
    trimmed = parse_key_set(json.dumps(document))
    with pytest.raises(Unauthorized):
        _verify(trimmed, before_rotation)
