"""The one way routes are declared: authentication, tenancy, roles, validation, errors.

`endpoint` registers a Chalice route and records its contract (who may call it,
its body, query and response models) so `/v1/openapi.json` is generated from
the same declarations that enforce them. Models are named with `Schema` and
imported on first use, which keeps pydantic out of `import app` (cold start).
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from chalice.app import Blueprint, Request, Response

from chalicelib.api.deps import services
from chalicelib.auth.principal import Actor, Principal, RequestMeta
from chalicelib.auth.roles import Role, may_act_in_org
from chalicelib.config import get_settings
from chalicelib.errors import (
    Forbidden,
    KuotaError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    TooManyAttempts,
    Unauthorized,
    ValidationFailed,
)
from chalicelib.observability import get_logger

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

AuthKind = Literal["none", "user", "api_key", "any"]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Every id, code and name Kuota puts in a path is far shorter; two of them and a prefix stay within a key.
MAX_PATH_PARAM_BYTES = 256


@dataclass(frozen=True)
class Schema:
    """A request or response model, named where a route is declared and imported on first use.

    Declarations name their models rather than import them, so `import app` loads
    neither pydantic nor the schema modules: a route's first request, or the
    OpenAPI document, does.
    """

    name: str
    module: str = "chalicelib.api.schemas"

    def load(self) -> type[BaseModel]:
        return cast("type[BaseModel]", getattr(importlib.import_module(self.module), self.name))


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    name: str
    summary: str
    auth: AuthKind
    roles: frozenset[Role] | None
    key_kinds: frozenset[str] | None
    body: Schema | None
    query: Schema | None
    response: Schema | None
    status: int
    tag: str
    extra_responses: dict[int, str] = field(default_factory=dict)
    # API keys also as HTTP Basic auth (any user name, the key as password): rlm_rest's simplest credential.
    basic_auth: bool = False
    # A larger body than the default limit (settings.max_body_bytes), for the few routes that take an image.
    max_body_bytes: int | None = None
    # The body's media types where it is not JSON (openNDS's authmon posts a form).
    content_types: tuple[str, ...] = ()
    # Statuses whose body is not the error envelope: status -> its OpenAPI `content` (None: no body).
    response_content: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    # The success may also be a CSV download (format=csv).
    csv: bool = False
    # Whether the route takes an Idempotency-Key header: "required", "optional" or not at all (None).
    idempotency: Literal["required", "optional"] | None = None


ROUTES: list[RouteSpec] = []


@dataclass(frozen=True)
class RequestContext:
    principal: Principal | None
    meta: RequestMeta
    platform_action: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(principal=self.principal, meta=self.meta, platform_action=self.platform_action)

    @property
    def user(self) -> Principal:
        if self.principal is None:  # endpoint() guarantees one where auth is required
            raise Unauthorized()
        return self.principal


def error_response(error: KuotaError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if isinstance(error, TooManyAttempts | RateLimited) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return Response(body=error.to_body(), status_code=error.status, headers=headers)


def request_meta(request: Request) -> RequestMeta:
    headers = request.headers
    context = request.context or {}
    peer_ip = (context.get("identity") or {}).get("sourceIp")
    source_ip = peer_ip
    forwarded = headers.get("x-forwarded-for")
    if forwarded and get_settings().trust_forwarded_for:
        source_ip = forwarded.split(",")[0].strip()[:64]
    request_id = context.get("requestId") or headers.get("x-request-id") or ""
    if not _REQUEST_ID.match(request_id):
        request_id = uuid.uuid4().hex
    user_agent = headers.get("user-agent")
    return RequestMeta(source_ip=source_ip, user_agent=user_agent[:256] if user_agent else None, request_id=request_id,
                       peer_ip=peer_ip[:64] if isinstance(peer_ip, str) else None)  # fmt: skip


def _bearer(request: Request, *, basic: bool = False) -> str:
    header = request.headers.get("authorization") or ""
    scheme, _, credential = header.partition(" ")
    if basic and scheme.lower() == "basic":
        return _basic_password(credential.strip())
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized()
    return credential.strip()


def _basic_password(credential: str) -> str:
    """The password of an HTTP Basic credential (RFC 7617); the user name is not used."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized() from exc
    _, separator, password = decoded.partition(":")
    if not separator or not password:
        raise Unauthorized()
    return password


def _authenticate(spec: RouteSpec, request: Request) -> Principal | None:
    if spec.auth == "none":
        return None
    from chalicelib.auth.api_keys import looks_like_api_key

    credential = _bearer(request, basic=spec.basic_auth)
    registry = services()
    if looks_like_api_key(credential):
        if spec.auth not in ("api_key", "any"):
            raise Unauthorized("This route needs a user's sign-in, not an API key.")
        record = registry.api_keys.verify(credential)
        if record is None:
            raise Unauthorized()
        if spec.key_kinds is not None and record.kind not in spec.key_kinds:
            raise Forbidden(f"A {record.kind} key may not call this route.")
        return Principal(
            kind="api_key",
            id=record.key_id,
            org_id=record.org_id,
            site_id=record.site_id,
            key_kind=record.kind,
            name=record.name,
        )
    if spec.auth == "api_key":
        raise Unauthorized("This route needs an API key.")
    return registry.accounts.authenticate(credential)


# What a terminated reseller's keys may still call: its live sessions' reports, answered "disconnect".
_AFTER_TERMINATION = frozenset({"/v1/accounting", "/v1/radius/accounting"})


def _check_terminated(spec: RouteSpec, principal: Principal | None) -> None:
    """A terminated organisation's keys stop working, and its users may only read and export."""
    if principal is None or principal.org_id is None or principal.is_platform_admin:
        return
    if not services().compliance.gate.terminated(principal.org_id):
        return
    if principal.kind == "api_key" and spec.path not in _AFTER_TERMINATION:
        raise Unauthorized("This key's organization was terminated.")
    if principal.kind == "user" and spec.method != "GET" and not spec.path.startswith("/v1/auth/"):
        from chalicelib.services.compliance import OrgRestricted

        raise OrgRestricted("This organization was terminated: its data can be read and exported, nothing changed.")


def _check_path_params(path_params: dict[str, str]) -> None:
    """Refuse a path parameter longer than anything Kuota names: as part of a key it would be over DynamoDB's
    1,024 bytes for a sort key, and its query a ValidationException (found by `make fuzz`, seed 962422703)."""
    for name, value in path_params.items():
        if len(value.encode()) > MAX_PATH_PARAM_BYTES:
            raise ValidationFailed(f"{name}: at most {MAX_PATH_PARAM_BYTES} bytes", field=name)


def _authorize(spec: RouteSpec, principal: Principal | None, path_params: dict[str, str]) -> bool:
    """Enforce tenancy then role; return whether this is a platform admin acting in an org."""
    if principal is None or spec.roles is None:
        return False
    role = principal.role
    org_id = path_params.get("org_id")
    if org_id is None:
        if role is None or role not in spec.roles:
            raise Forbidden()
        return False
    if role is Role.PLATFORM_ADMIN:
        services().accounts.get_org(org_id)  # 404 for an organization that does not exist
        if not may_act_in_org(role, spec.roles):
            raise Forbidden()
        return True
    if principal.org_id != org_id:
        raise NotFound()  # another tenant's objects do not exist for this caller
    if role is None or role not in spec.roles:
        raise Forbidden()
    return False


def _validation_error(error: ValidationError, source: str) -> ValidationFailed:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or source
    reason = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
    return ValidationFailed(f"{location}: {reason}", field=location)


def parse_body(request: Request, model: type[BaseModel], limit: int | None = None) -> BaseModel:
    from pydantic import ValidationError

    raw = request.raw_body or b""
    if len(raw) > (limit or get_settings().max_body_bytes):
        raise PayloadTooLarge()
    try:
        data = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurd nesting
        raise ValidationFailed("The body is not valid JSON.", field="body") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, "body") from exc


def parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    from pydantic import ValidationError

    params = request.query_params
    data = {name: params.get(name) for name in params} if params else {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, "query") from exc


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# Sent with every API answer. The API answers JSON (and CSV downloads), never a page to render: nothing may
# frame it, sniff it into HTML or keep it in a shared cache; a route that is public and cacheable (the brand)
# sets its own Cache-Control, which is kept.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cache-Control": "no-store",
}


def security_headers(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: the security headers on every answer, errors and unknown routes included."""
    response = get_response(event)
    for name, value in SECURITY_HEADERS.items():
        if not any(existing.lower() == name.lower() for existing in response.headers):
            response.headers[name] = value
    return response


def text_cell(value: str) -> str:
    """A CSV text cell a spreadsheet will not run as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _to_response(result: Any, status: int) -> Response:
    from pydantic import BaseModel

    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204)
    # By alias: a contract field may be a Python keyword ("from", "continue").
    body = result.model_dump(mode="json", by_alias=True) if isinstance(result, BaseModel) else result
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def endpoint(
    blueprint: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    auth: AuthKind = "user",
    roles: frozenset[Role] | None = None,
    key_kinds: frozenset[str] | None = None,
    body: Schema | None = None,
    query: Schema | None = None,
    response: Schema | None = None,
    status: int = 200,
    extra_responses: dict[int, str] | None = None,
    basic_auth: bool = False,
    content_types: list[str] | None = None,
    max_body_bytes: int | None = None,
    response_content: dict[int, dict[str, Any] | None] | None = None,
    csv: bool = False,
    idempotency: Literal["required", "optional"] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
        spec = RouteSpec(
            path=path,
            method=method,
            name=handler.__name__,
            summary=summary,
            auth=auth,
            roles=roles,
            key_kinds=key_kinds,
            body=body,
            query=query,
            response=response,
            status=status,
            tag=tag,
            extra_responses=extra_responses or {},
            basic_auth=basic_auth,
            max_body_bytes=max_body_bytes,
            content_types=tuple(content_types or ()),
            response_content=response_content or {},
            csv=csv,
            idempotency=idempotency,
        )
        ROUTES.append(spec)

        @functools.wraps(handler)
        def view(**path_params: str) -> Response:
            request = blueprint.current_request
            meta = request_meta(request)
            logger = get_logger()
            logger.append_keys(request_id=meta.request_id)
            try:
                principal = _authenticate(spec, request)
                _check_terminated(spec, principal)
                _check_path_params(path_params)
                platform_action = _authorize(spec, principal, path_params)
                if principal is not None:
                    logger.append_keys(actor_id=principal.id, org_id=principal.org_id)
                kwargs: dict[str, Any] = dict(path_params)
                if body is not None:
                    kwargs["body"] = parse_body(request, body.load(), spec.max_body_bytes)
                if query is not None:
                    kwargs["query"] = parse_query(request, query.load())
                ctx = RequestContext(principal=principal, meta=meta, platform_action=platform_action)
                result = _to_response(handler(ctx, **kwargs), status)
            except KuotaError as error:
                result = error_response(error)
            except Exception:
                logger.exception("unhandled error", extra={"route": f"{method} {path}"})
                result = error_response(KuotaError())
            result.headers["X-Request-Id"] = meta.request_id
            return result

        if content_types:  # a route that takes a non-JSON body (openNDS's authmon posts a form)
            blueprint.route(path, methods=[method], content_types=content_types)(view)
        else:
            blueprint.route(path, methods=[method])(view)
        return handler

    return decorator
