"""`Idempotency-Key` requests: the same key and body run once and answer the same.

Built on Powertools' idempotency utility with its DynamoDB persistence layer:
the first request claims the key (in progress), runs, and stores its result;
a repeat gets that result, a repeat while the first still runs gets 409, and
the same key with another body gets 422. Keys are scoped by the caller (a POS
key or a user) so two tills cannot collide.

The stored result should be small and hold no secrets (a sale id, not its
codes): the route re-creates the response from what the result points to.
Powertools and its boto3 client are loaded on first use, not at cold start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.config import get_settings
from chalicelib.errors import Conflict, IdempotencyMismatch, KuotaError, ValidationFailed
from chalicelib.observability import get_logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

HEADER = "Idempotency-Key"
REMEMBER_SECONDS = 24 * 3600  # a till may retry for a day after losing a response
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, as HTTP header values are safely


def idempotency_key(headers: Mapping[str, str], *, required: bool) -> str | None:
    """The request's Idempotency-Key header, validated; a 400 naming it when required and absent."""
    value = (headers.get(HEADER.lower()) or "").strip()
    if not value:
        if required:
            raise ValidationFailed(f"{HEADER}: this header is required", field=HEADER)
        return None
    if not _KEY.match(value):
        raise ValidationFailed(f"{HEADER}: use 1 to 255 printable characters without spaces", field=HEADER)
    return value


@lru_cache(maxsize=1)
def _store() -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table)


def run_once(
    operation: str,
    *,
    scope: str,
    key: str,
    payload: dict[str, Any],
    run: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Run `run` once per (operation, scope, key); repeats with the same payload get its result."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=REMEMBER_SECONDS,
        hash_function="sha256",
        # With the invocation's deadline recorded, a request killed mid-way (Lambda timeout)
        # stops blocking its key when that deadline passes, instead of for the whole day.
        lambda_context=lambda_context,
    )

    def claimed(*, request: dict[str, Any]) -> dict[str, Any]:
        return run()

    guarded = idempotent_function(
        claimed,
        data_keyword_argument="request",
        persistence_store=_store(),
        config=config,
        key_prefix=f"kuota.{operation}",  # stable across deployments, unlike the function name
    )
    try:
        result: dict[str, Any] = guarded(request={"key": f"{scope}#{key}", "body": payload})
    except Exception as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from exc
    return result


def _domain_error(exc: Exception) -> KuotaError | None:
    """The one mapping from Powertools' idempotency errors to Kuota's; None for anything else."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        BaseError,
        IdempotencyAlreadyInProgressError,
        IdempotencyKeyError,
        IdempotencyValidationError,
    )

    if isinstance(exc, IdempotencyValidationError):
        return IdempotencyMismatch()
    if isinstance(exc, IdempotencyAlreadyInProgressError):
        return Conflict(f"A request with this {HEADER} is still in progress; retry in a moment.")
    if isinstance(exc, IdempotencyKeyError):
        return ValidationFailed(f"{HEADER}: this header is required", field=HEADER)
    if isinstance(exc, BaseError):
        # The store failed or changed under us; the messages carry only hashed keys, but the
        # type is all an operator needs. A 5xx tells the client to retry with the same key.
        get_logger().warning("idempotency store error", extra={"error": type(exc).__name__})
        return KuotaError(f"The request could not be recorded; retry with the same {HEADER}.")
    return None
