"""The providers' HTTP client: urllib3 (it ships with botocore), explicit timeouts, no retries of its own.

The caller retries a create or a refund with the same idempotency key, so a retry
here could only hide a fault. Faults come back as `ProviderUnavailable` (retry
later) or `ProviderRefused` (don't); messages name the status and the provider's
own error text, never a key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import urllib3

from chalicelib.payments import ProviderNotFound, ProviderRefused, ProviderUnavailable

# Module attributes so that fault tests can shorten them; production keeps these values.
TIMEOUT = urllib3.Timeout(connect=3.0, read=10.0)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


@lru_cache(maxsize=1)
def _pool() -> urllib3.PoolManager:
    return urllib3.PoolManager(retries=False, maxsize=10)


def basic_auth(username: str) -> str:
    """HTTP Basic with the key as the user name and an empty password, as both providers expect."""
    return "Basic " + base64.b64encode(f"{username}:".encode()).decode("ascii")


def call(
    method: str,
    url: str,
    *,
    provider: str,
    authorization: str,
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Reply:
    """One request; a JSON object back, or the exception that says whether a retry may help."""
    all_headers = {"Accept": "application/json", "Authorization": authorization, **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    try:
        response = _pool().request(
            method, url, body=payload, headers=all_headers, timeout=TIMEOUT, retries=False, redirect=False
        )
    except urllib3.exceptions.HTTPError as exc:  # timeouts, refused connections, broken answers
        raise ProviderUnavailable(f"{provider} did not answer: {type(exc).__name__}") from None
    status = response.status
    try:
        parsed = json.loads(response.data) if response.data else {}
    except ValueError:
        parsed = None
    if status >= 500 or status == 429:
        raise ProviderUnavailable(f"{provider} answered {status}")
    if not isinstance(parsed, dict):
        if status >= 400:
            raise (ProviderNotFound if status == 404 else ProviderRefused)(f"{provider} answered {status}")
        raise ProviderUnavailable(f"{provider} answered {status} with a body that is not a JSON object")
    if status == 404:
        raise ProviderNotFound(f"{provider} answered 404: {error_text(parsed)}")
    if status >= 400:
        raise ProviderRefused(f"{provider} answered {status}: {error_text(parsed)}")
    return Reply(status=status, body=parsed)


def error_text(body: dict[str, Any]) -> str:
    """The provider's own words about an error (Midtrans status_message, Xendit error_code and message)."""
    parts = [body.get(name) for name in ("error_code", "status_message", "message")]
    return " ".join(str(part) for part in parts if isinstance(part, str | int))[:300] or "no message"
