"""The gateway's OpenAPI document, for people and for client generators: valid (openapi-spec-
validator), every API route documented with an operationId and a tag, and every status an
operation can answer listed with the error body."""

from __future__ import annotations

from aiohttp import web
from openapi_spec_validator import validate

from linkmesh_gateway.openapi import ALWAYS, WITH_BODY, document
from linkmesh_gateway.routes import setup_routes

METHODS = ("get", "post", "put", "patch", "delete")


def operations() -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, item in document()["paths"].items() for method, op in item.items() if method in METHODS]


def test_the_document_is_valid_openapi() -> None:
    validate(document())


def test_every_api_route_is_documented_with_an_operation_id_and_a_tag() -> None:
    app = web.Application()
    setup_routes(app)
    routes = {
        (r.resource.canonical, r.method.lower())
        for r in app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith(("/api/", "/gladly/", "/webhooks/", "/healthz", "/readyz"))
        and r.method != "HEAD"
    }
    documented = {(path, method) for path, method, _ in operations()}
    assert routes == documented
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids)), "operationIds are unique"
    tags = {t["name"] for t in document()["tags"]}
    assert all(op["tags"] and set(op["tags"]) <= tags for _, _, op in operations())


def test_every_operation_lists_the_statuses_it_can_answer_with_the_error_body() -> None:
    for path, method, op in operations():
        if op.get("security") == []:
            continue  # public: health, this document, the served lookup adaptor (its own error shape)
        statuses = {int(s) for s in op["responses"]}
        expected = set(ALWAYS) | (set(WITH_BODY) if "requestBody" in op else set())
        assert expected <= statuses, f"{method.upper()} {path} lacks {sorted(expected - statuses)}"
        for status in expected:
            schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_required_fields_are_marked() -> None:
    schemas = document()["components"]["schemas"]
    assert schemas["SearchRequest"]["required"] == ["app_id"]
    assert set(schemas["SearchTarget"]["required"]) == {"app_id", "app_name", "app_type", "search_fields", "actions_enabled"}
    assert schemas["Error"]["required"] == ["error"]
