"""The OpenAPI document is valid 3.1 and lists every route the app serves."""

from __future__ import annotations

from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts  # noqa: F401  (3.1 support is built in)

from app import app
from tests.support import Api


def test_openapi_document_is_valid_31_and_complete(api: Api) -> None:
    reply = api.get("/v1/openapi.json")
    assert reply.status == 200
    document = reply.json
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on an invalid document

    served = {(method.lower(), path) for path, methods in app.routes.items() for method in methods}
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert served == documented


def test_request_bodies_and_errors_are_described(api: Api) -> None:
    document = api.get("/v1/openapi.json").json
    login = document["paths"]["/v1/auth/login"]["post"]
    body_ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert set(schema["required"]) == {"email", "password"}
    assert schema["additionalProperties"] is False
    assert {"200", "400", "401", "429"} <= set(login["responses"])
    sites = document["paths"]["/v1/orgs/{org_id}/sites"]["post"]
    assert sites["x-roles"] == ["manager", "owner"]
    assert sites["security"] == [{"bearerJwt": []}]
