"""Domain errors and their one mapping to HTTP status and error code.

Services raise these; `chalicelib.api.http` turns them into
`{"error": {"code", "message"}}` responses. Nothing else picks status codes.
"""

from __future__ import annotations


class KuotaError(Exception):
    status = 500
    code = "internal_error"
    default_message = "An internal error occurred."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.field = field
        self.details: dict[str, object] = {}  # an error's own fields, inside its `error` object

    def to_body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message, **self.details}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class ValidationFailed(KuotaError):
    status = 400
    code = "validation_error"
    default_message = "The request is not valid."


class PayloadTooLarge(KuotaError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class Unauthorized(KuotaError):
    status = 401
    code = "unauthorized"
    default_message = "Missing or invalid credentials."


class InvalidCredentials(KuotaError):
    status = 401
    code = "invalid_credentials"
    default_message = "Email or password is wrong."


class Forbidden(KuotaError):
    status = 403
    code = "forbidden"
    default_message = "Your role may not do this."


class NotFound(KuotaError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(KuotaError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class IdempotencyMismatch(KuotaError):
    status = 422
    code = "idempotency_mismatch"
    default_message = "This Idempotency-Key was already used with a different request body."


class RateLimited(KuotaError):
    """A budget of work per window (vouchers issued per organization) is spent; Retry-After says when it refills."""

    status = 429
    code = "rate_limited"
    default_message = "Too many requests of this kind; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class TooManyAttempts(KuotaError):
    status = 429
    code = "too_many_attempts"
    default_message = "Too many failed attempts; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
