"""API keys for hotspot controllers, POS systems and FreeRADIUS (`radius` keys).

A key reads `kq_<key_id>_<secret>`. Only the SHA-256 of the secret is stored.
Each container caches key records for at most `api_key_cache_seconds` (<= 60),
so a revocation reaches every container within that window; the container that
revoked a key forgets it at once.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.auth.tokens import token_hash
from chalicelib.models import ApiKey

KEY_PREFIX = "kq_"


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    org_id: str | None  # None: a platform radius key
    site_id: str | None  # None: a radius key
    kind: str
    name: str
    secret_hash: str
    revoked: bool


def new_api_key() -> tuple[str, str, str]:
    """Return (key_id, full key to hand out once, hash of its secret)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return key_id, f"{KEY_PREFIX}{key_id}_{secret}", token_hash(secret)


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def split_api_key(credential: str) -> tuple[str, str] | None:
    parts = credential[len(KEY_PREFIX) :].split("_", 1)
    if len(parts) != 2 or len(parts[0]) != 16 or not parts[1]:
        return None
    return parts[0], parts[1]


class ApiKeyVerifier:
    def __init__(self, ttl_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}
        self._lock = threading.Lock()

    def verify(self, credential: str) -> KeyRecord | None:
        parts = split_api_key(credential)
        if parts is None:
            return None
        key_id, secret = parts
        record = self._lookup(key_id)
        if record is None or record.revoked:
            return None
        if not hmac.compare_digest(record.secret_hash, token_hash(secret)):
            return None
        return record

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._cache.pop(key_id, None)

    def _lookup(self, key_id: str) -> KeyRecord | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        record = _load(key_id)
        with self._lock:
            self._cache[key_id] = (now, record)
        return record


def _load(key_id: str) -> KeyRecord | None:
    try:
        item = ApiKey.get(*ApiKey.key(key_id))
    except ApiKey.DoesNotExist:
        return None
    return KeyRecord(
        key_id=item.key_id,
        org_id=item.org_id,
        site_id=item.site_id,
        kind=item.kind,
        name=item.name,
        secret_hash=item.secret_hash,
        revoked=item.revoked_at is not None,
    )
