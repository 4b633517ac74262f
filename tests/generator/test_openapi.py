"""The OpenAPI document: one coherent spec, security declared per operation, problem+json errors."""

from __future__ import annotations

import warnings

import pytest

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def spec(app):  # type: ignore[no-untyped-def]
    with app.test_client() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def resolve(spec, ref_or_obj):  # type: ignore[no-untyped-def]
    if "$ref" in ref_or_obj:
        kind, name = ref_or_obj["$ref"].split("/")[-2:]
        return spec["components"][kind][name]
    return ref_or_obj


def test_spec_builds_without_duplicate_schema_warnings(make_app):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh = make_app()
        with fresh.test_client() as client:
            assert client.get("/openapi.json").status_code == 200


def test_generated_paths_and_operations(spec):
    paths = spec["paths"]
    assert set(paths["/listings"]) >= {"get", "post"}
    assert set(paths["/listings/{listing_id}"]) >= {"get", "patch", "delete"}
    assert set(paths["/listings/{listing_id}/publish"]) - {"parameters"} == {"post"}
    assert set(paths["/listings/{listing_id}/remove"]) - {"parameters"} == {"post"}
    assert set(paths["/listings/categories/{category_id}"]) >= {"get", "patch", "delete"}


def test_bearer_auth_declared_and_required_on_protected_operations(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert paths["/listings"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/listings/{listing_id}"]["patch"]["security"] == [{"bearerAuth": []}]
    assert paths["/listings/{listing_id}/remove"]["post"]["security"] == [{"bearerAuth": []}]
    # Public reads take a token optionally (owners see more with one).
    assert paths["/listings"]["get"]["security"] == [{}, {"bearerAuth": []}]


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
    patch = spec["paths"]["/listings/{listing_id}"]["patch"]
    assert {"412", "428", "422"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    update = spec["components"]["schemas"][body.split("/")[-1]]
    assert update["additionalProperties"] is False
    assert not {"status", "seller_id", "id", "created_at"} & set(update["properties"])
    assert "required" not in update


def test_listing_schema_shows_money_and_read_only_fields(spec):
    listing = spec["components"]["schemas"]["Listing"]
    assert listing["properties"]["price"]["$ref"].endswith("/Money") or "allOf" in listing["properties"]["price"]
    assert "deleted_at" not in listing["properties"]
    create = spec["components"]["schemas"]["ListingCreate"]
    assert set(create["required"]) == {"title", "price", "condition", "category_id"}


def test_list_parameters_are_typed(spec):
    params = {p["name"]: p for p in spec["paths"]["/listings"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["status[in]"]["schema"]["items"]["enum"] == ["draft", "published", "paused", "sold", "removed"]
    assert params["price[gte]"]["schema"]["type"] == "integer"
    assert "cursor" in params and "fields" in params and "embed" in params


def test_swagger_ui_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()
