"""The OpenAPI document: one coherent spec, security declared per operation, problem+json errors."""

from __future__ import annotations

import warnings

import marshmallow as ma
import pytest

from tests.generator.demo import Status

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def spec(gen_app):  # type: ignore[no-untyped-def]
    """The spec of an app with the demo domain (every real domain's operations are in it too)."""
    with gen_app.test_client() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def resolve(spec, ref_or_obj):  # type: ignore[no-untyped-def]
    if "$ref" in ref_or_obj:
        kind, name = ref_or_obj["$ref"].split("/")[-2:]
        return spec["components"][kind][name]
    return ref_or_obj


def test_schema_names_are_unique_per_class():
    from app.generator.openapi import schema_name_resolver

    class ThingSchema(ma.Schema):
        pass

    first = ThingSchema
    other = type("ThingSchema", (ma.Schema,), {"__module__": "blueprints.payments.schemas"})
    assert schema_name_resolver(first) == "Thing"
    assert schema_name_resolver(other) == "PaymentsThing"
    assert schema_name_resolver(first()) == "Thing"
    assert schema_name_resolver(first(only=())) == "Thing"
    assert schema_name_resolver(first(partial=True)) == "ThingPartial"


def test_spec_builds_without_duplicate_schema_warnings(make_app):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh = make_app()
        with fresh.test_client() as client:
            assert client.get("/openapi.json").status_code == 200


def test_generated_paths_and_operations(spec):
    paths = spec["paths"]
    assert set(paths["/demo"]) >= {"get", "post"}
    assert set(paths["/demo/{item_id}"]) >= {"get", "patch", "delete"}
    assert set(paths["/demo/{item_id}/publish"]) - {"parameters"} == {"post"}
    assert set(paths["/demo/{item_id}/remove"]) - {"parameters"} == {"post"}
    assert set(paths["/demo/shelves/{shelf_id}"]) >= {"get", "patch", "delete"}


def test_bearer_auth_declared_and_required_on_protected_operations(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert paths["/demo"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/demo/{item_id}"]["patch"]["security"] == [{"bearerAuth": []}]
    assert paths["/demo/{item_id}/remove"]["post"]["security"] == [{"bearerAuth": []}]
    # Public reads take a token optionally (owners see more with one).
    assert paths["/demo"]["get"]["security"] == [{}, {"bearerAuth": []}]


def test_error_responses_are_problem_json(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    content = resolve(spec, response).get("content", {})
                    assert list(content) == [PROBLEM], (path, method, status)
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_write_operations_document_preconditions_and_input_schemas(spec):
    patch = spec["paths"]["/demo/{item_id}"]["patch"]
    assert {"412", "428", "422"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    update = spec["components"]["schemas"][body.split("/")[-1]]
    assert update["additionalProperties"] is False
    assert not {"status", "seller_id", "id", "created_at"} & set(update["properties"])
    assert "required" not in update


def test_item_schema_shows_money_and_hides_the_soft_delete_column(spec):
    ref = spec["paths"]["/demo/{item_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    item = resolve(spec, ref)
    assert item["properties"]["price"]["$ref"].endswith("/Money")
    assert "deleted_at" not in item["properties"]
    assert "required" not in item  # sparse fieldsets may leave any field out
    body = spec["paths"]["/demo"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    create = resolve(spec, body)
    assert set(create["required"]) == {"title", "price", "condition", "shelf_id"}
    assert not {"id", "status", "seller_id", "published_at", "created_at"} & set(create["properties"])


def test_list_parameters_are_typed(spec):
    params = {p["name"]: p for p in spec["paths"]["/demo"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["status[in]"]["schema"]["items"]["enum"] == [s.value for s in Status]
    assert params["price[gte]"]["schema"]["type"] == "integer"
    assert "cursor" in params and "fields" in params and "embed" in params


def test_swagger_ui_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()
