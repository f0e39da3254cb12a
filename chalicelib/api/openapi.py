"""`GET /v1/openapi.json`, generated from the routes' own declarations (on first request)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import ROUTES, RequestContext, RouteSpec, endpoint

bp = Blueprint(__name__)

REF = "#/components/schemas/{model}"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}


def _security(spec: RouteSpec) -> list[dict[str, list[str]]]:
    if spec.auth == "none":
        return []
    schemes = {"user": ["bearerJwt"], "api_key": ["apiKey"], "any": ["bearerJwt", "apiKey"]}[spec.auth]
    if spec.basic_auth:
        schemes = [*schemes, "basicApiKey"]
    return [{scheme: []} for scheme in schemes]


# Chalice answers a body of an undeclared media type itself, before the route runs, in its own shape.
CHALICE_ERROR = {
    "type": "object",
    "required": ["Code", "Message"],
    "properties": {"Code": {"type": "string"}, "Message": {"type": "string"}},
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _common_errors(spec: RouteSpec) -> dict[int, str]:
    """What the one wrapper (chalicelib.api.http.endpoint) may answer for any route, before or around its handler."""
    inputs = spec.body is not None or spec.query is not None or "{" in spec.path
    errors: dict[int, str] = {}
    if inputs:
        errors[400] = "validation_error"
        # A path parameter or a body's id names an object that does not exist (or is another tenant's).
        errors[404] = "not_found"
    if spec.body is not None or spec.content_types:
        errors[413] = "payload_too_large"
    if spec.content_types:
        errors[415] = "unsupported media type (Chalice's own answer)"
    if spec.auth != "none":
        errors.update({401: "unauthorized", 403: "forbidden"})
        if spec.auth != "api_key" and spec.method != "GET" and not spec.path.startswith("/v1/auth/"):
            errors[423] = "org_restricted (the organization was terminated: read and export only)"
    return errors


def _operation(spec: RouteSpec) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if spec.status in spec.response_content:
        content = spec.response_content[spec.status]
        responses[str(spec.status)] = {"description": "Success", **({"content": content} if content else {})}
    elif spec.response is not None:
        responses[str(spec.status)] = {
            "description": "Success",
            "content": _json({"$ref": REF.format(model=spec.response.load().__name__)}),
        }
    else:
        responses[str(spec.status)] = {"description": "Success"}
    if spec.csv:
        success = responses[str(spec.status)]
        success["content"] = {**success.get("content", {}), "text/csv": {"schema": {"type": "string"}}}
    errors = _common_errors(spec)
    errors.update(spec.extra_responses)
    for status, code in sorted(errors.items()):
        if status in spec.response_content:
            content = spec.response_content[status]
            responses[str(status)] = {"description": code, **({"content": content} if content else {})}
        elif status == 415:
            responses[str(status)] = {"description": code, "content": _json(CHALICE_ERROR)}
        elif status < 400:
            responses[str(status)] = {"description": code}
        else:
            responses[str(status)] = {"description": code, "content": _json({"$ref": "#/components/schemas/Error"})}
    operation: dict[str, Any] = {
        "operationId": spec.name,
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": _security(spec),
        "responses": responses,
    }
    if spec.roles:
        operation["x-roles"] = sorted(role.value for role in spec.roles)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in _path_params(spec.path)
    ]
    if spec.query is not None:
        schema = spec.query.load().model_json_schema(by_alias=True, ref_template=REF)
        for name, prop in schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            )
    if spec.idempotency is not None:
        parameters.append({
            "name": "Idempotency-Key", "in": "header", "required": spec.idempotency == "required",
            "description": "The same key and body again is answered with the first answer; another body is a 422.",
            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
        })  # fmt: skip
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=spec.body.load().__name__)}}},
        }
    elif spec.content_types:
        form = {"type": "object", "additionalProperties": {"type": "string"}}
        operation["requestBody"] = {
            "required": False,
            "content": {kind: {"schema": form} for kind in spec.content_types},
        }
    return operation


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@lru_cache(maxsize=1)
def build_document() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    bodies = {spec.body.load() for spec in ROUTES if spec.body}
    models = bodies | {spec.response.load() for spec in ROUTES if spec.response}
    _, schemas = models_json_schema(
        [
            (model, "validation" if model in bodies else "serialization")
            for model in sorted(models, key=lambda m: m.__name__)
        ],
        ref_template=REF,
    )
    components = dict(schemas.get("$defs", {}))
    components["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kuota API",
            "version": "1.0.0",
            "description": "WiFi voucher platform: accounts, sites, vouchers, redeem, reports, audit.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "http", "scheme": "bearer", "description": "A site's controller or POS key."},
                "basicApiKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "A radius key as the password of HTTP Basic auth (any user name).",
                },
            },
        },
    }


@endpoint(bp, "/v1/openapi.json", "GET", summary="This API's OpenAPI 3.1 document", tag="meta", auth="none")
def openapi(ctx: RequestContext) -> dict[str, Any]:
    return build_document()
