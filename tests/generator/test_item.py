"""Generated get / create / update / delete: ETags, policy denials, read-only fields, bad input."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from blueprints.listings.models import Category, Listing, ListingStatus
from tests.generator.factories import make_category, make_listing

BODY = {"title": "Blue bike", "price": {"amount": 25000, "currency": "EUR"}, "condition": "like_new"}


def listing_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Listing)).scalar_one()


# --- read -------------------------------------------------------------------------------------


def test_get_published_listing_anonymously_with_etag_and_304(app, client, category):
    listing = make_listing(app, category_id=category)
    response = client.get(f"/listings/{listing}")
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert response.json["id"] == str(listing)
    again = client.get(f"/listings/{listing}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_someone_elses_draft_is_404_not_403(app, client, category, other_user):
    draft = make_listing(app, category_id=category, status=ListingStatus.DRAFT)
    assert client.get(f"/listings/{draft}").status_code == 404
    response = client.get(f"/listings/{draft}", headers=other_user.headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_owner_reads_own_draft(app, client, category, seller):
    draft = make_listing(app, category_id=category, seller_id=seller.id, status=ListingStatus.DRAFT)
    assert client.get(f"/listings/{draft}", headers=seller.headers).status_code == 200


def test_get_with_fields_and_embed(app, client, category):
    listing = make_listing(app, category_id=category)
    body = client.get(f"/listings/{listing}?fields=title&embed=category").json
    assert body.keys() == {"title", "category"}
    assert body["category"]["slug"] == "bikes"


def test_etag_is_the_version_not_the_projection(app, client, category):
    listing = make_listing(app, category_id=category)
    full = client.get(f"/listings/{listing}").headers["ETag"]
    sparse = client.get(f"/listings/{listing}?fields=title").headers["ETag"]
    assert full == sparse


# --- create -----------------------------------------------------------------------------------


def test_create_returns_201_location_and_stamps_owner(app, client, category, seller):
    response = client.post("/listings", json={**BODY, "category_id": str(category)}, headers=seller.headers)
    assert response.status_code == 201, response.json
    assert response.headers["Location"] == f"/listings/{response.json['id']}"
    assert response.headers["ETag"]
    assert response.json["seller_id"] == str(seller.id)
    assert response.json["status"] == "draft"
    assert response.json["price"] == {"amount": 25000, "currency": "EUR"}
    assert client.get(response.headers["Location"], headers=seller.headers).status_code == 200


def test_create_requires_a_user(client, category):
    response = client.post("/listings", json={**BODY, "category_id": str(category)})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("field", ["status", "seller_id", "id", "published_at", "created_at", "updated_at"])
def test_read_only_fields_in_a_body_are_422_naming_the_field(app, client, category, seller, field):
    value = {"status": "published", "published_at": "2026-01-01T00:00:00+00:00"}.get(field, str(uuid.uuid4()))
    response = client.post(
        "/listings", json={**BODY, "category_id": str(category), field: value}, headers=seller.headers
    )
    assert response.status_code == 422
    assert response.json["errors"] == {field: ["Read-only field."]}
    assert listing_count(app) == 0


def test_hidden_and_unknown_fields_are_422_unknown(app, client, category, seller):
    body = {**BODY, "category_id": str(category), "deleted_at": None, "colour": "red"}
    response = client.post("/listings", json=body, headers=seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"deleted_at": ["Unknown field."], "colour": ["Unknown field."]}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"title": 12}, "title"),
        ({"title": "x" * 141}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"quantity": "3"}, "quantity"),
        ({"quantity": 2**40}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"price": {"amount": -1, "currency": "EUR"}}, "price.amount"),
        ({"price": {"amount": 100, "currency": "euro"}}, "price.currency"),
        ({"price": {"amount": 100}}, "price.currency"),
        ({"price": 100}, "price._schema"),
        ({"condition": "mint"}, "condition"),
        ({"category_id": "nope"}, "category_id"),
    ],
)
def test_wrong_types_and_values_are_422_naming_the_field(app, client, category, seller, patch, field):
    response = client.post("/listings", json={**BODY, "category_id": str(category), **patch}, headers=seller.headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert listing_count(app) == 0


def test_missing_required_fields_are_named(client, seller):
    response = client.post("/listings", json={}, headers=seller.headers)
    assert response.status_code == 422
    assert {"title", "price", "condition", "category_id"} <= set(response.json["errors"])


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"null", b'"text"'])
def test_malformed_or_non_object_json_is_4xx_problem(client, seller, body):
    headers = {**seller.headers, "Content-Type": "application/json"}
    response = client.post("/listings", data=body, headers=headers)
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_reference_to_unknown_category_is_422_not_409(app, client, seller):
    response = client.post("/listings", json={**BODY, "category_id": str(uuid.uuid4())}, headers=seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"category_id": ["No such Category."]}


def test_non_staff_cannot_create_categories(client, seller):
    response = client.post("/listings/categories", json={"name": "Cars", "slug": "cars"}, headers=seller.headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_staff_role_creates_category_and_duplicate_slug_is_409(app, client, staff_client_user, category):
    body = {"name": "Cars", "slug": "cars", "attributes_schema": {"type": "object"}, "parent_id": str(category)}
    created = client.post("/listings/categories", json=body, headers=staff_client_user.headers)
    assert created.status_code == 201, created.json
    assert created.json["attributes_schema"] == {"type": "object"}
    duplicate = client.post("/listings/categories", json={**body, "name": "Other"}, headers=staff_client_user.headers)
    assert duplicate.status_code == 409
    assert duplicate.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Category)).scalar_one() == 2


def test_json_attribute_must_be_a_storable_object(client, staff_client_user):
    for bad in ([1, 2], "text", {"a": "nul\x00"}):
        response = client.post(
            "/listings/categories",
            json={"name": "X", "slug": "x", "attributes_schema": bad},
            headers=staff_client_user.headers,
        )
        assert response.status_code == 422, (bad, response.json)
        assert "attributes_schema" in response.json["errors"]


# --- update -----------------------------------------------------------------------------------


def read(client, url, headers):  # type: ignore[no-untyped-def]
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response


def test_patch_with_if_match_updates_only_sent_fields(app, client, category, seller):
    listing = make_listing(app, category_id=category, seller_id=seller.id)
    url = f"/listings/{listing}"
    etag = read(client, url, seller.headers).headers["ETag"]
    response = client.patch(url, json={"title": "Renamed"}, headers={**seller.headers, "If-Match": etag})
    assert response.status_code == 200, response.json
    assert response.json["title"] == "Renamed"
    assert response.json["price"] == {"amount": 1000, "currency": "EUR"}
    assert response.headers["ETag"] != etag


def test_patch_without_if_match_is_428(app, client, category, seller):
    listing = make_listing(app, category_id=category, seller_id=seller.id)
    response = client.patch(f"/listings/{listing}", json={"title": "x"}, headers=seller.headers)
    assert response.status_code == 428
    assert response.json["errors"] == {"If-Match": ["Missing header."]}


def test_patch_with_stale_etag_is_412_and_writes_nothing(app, client, category, seller):
    listing = make_listing(app, category_id=category, seller_id=seller.id)
    url = f"/listings/{listing}"
    etag = read(client, url, seller.headers).headers["ETag"]
    assert client.patch(url, json={"title": "First"}, headers={**seller.headers, "If-Match": etag}).status_code == 200
    response = client.patch(url, json={"title": "Second"}, headers={**seller.headers, "If-Match": etag})
    assert response.status_code == 412
    assert response.json["errors"] == {"If-Match": ["Stale ETag."]}
    assert read(client, url, seller.headers).json["title"] == "First"


def test_patch_read_only_field_is_422(app, client, category, seller):
    listing = make_listing(app, category_id=category, seller_id=seller.id)
    url = f"/listings/{listing}"
    etag = read(client, url, seller.headers).headers["ETag"]
    response = client.patch(url, json={"status": "sold", "title": "ok"}, headers={**seller.headers, "If-Match": etag})
    assert response.status_code == 422
    assert response.json["errors"] == {"status": ["Read-only field."]}
    assert read(client, url, seller.headers).json["title"] == "A thing"


def test_patch_by_another_user_is_403_when_visible_and_404_when_not(app, client, category, other_user):
    public = make_listing(app, category_id=category)
    draft = make_listing(app, category_id=category, status=ListingStatus.DRAFT)
    headers = {**other_user.headers, "If-Match": "*"}
    assert client.patch(f"/listings/{public}", json={"title": "mine"}, headers=headers).status_code == 403
    assert client.patch(f"/listings/{draft}", json={"title": "mine"}, headers=headers).status_code == 404
    assert client.patch(f"/listings/{public}", json={"title": "mine"}, headers={"If-Match": "*"}).status_code == 401


def test_patch_to_invisible_category_is_422(app, client, category, seller):
    listing = make_listing(app, category_id=category, seller_id=seller.id)
    headers = {**seller.headers, "If-Match": "*"}
    response = client.patch(f"/listings/{listing}", json={"category_id": str(uuid.uuid4())}, headers=headers)
    assert response.status_code == 422
    other = make_category(app)
    ok = client.patch(f"/listings/{listing}", json={"category_id": str(other)}, headers=headers)
    assert ok.status_code == 200, ok.json


# --- delete -----------------------------------------------------------------------------------


def test_delete_is_soft_and_needs_if_match(app, client, category, seller):
    listing = make_listing(app, category_id=category, seller_id=seller.id)
    url = f"/listings/{listing}"
    assert client.delete(url, headers=seller.headers).status_code == 428
    assert client.delete(url, headers={**seller.headers, "If-Match": '"stale"'}).status_code == 412
    etag = read(client, url, seller.headers).headers["ETag"]
    assert client.delete(url, headers={**seller.headers, "If-Match": etag}).status_code == 204
    assert client.get(url, headers=seller.headers).status_code == 404
    with app.app_context():
        row = db.session.get(Listing, listing)
        assert row is not None and row.deleted_at is not None


def test_delete_by_non_owner_is_denied(app, client, category, other_user):
    listing = make_listing(app, category_id=category)
    assert client.delete(f"/listings/{listing}", headers={**other_user.headers, "If-Match": "*"}).status_code == 403


def test_hard_delete_of_category_in_use_is_409(app, client, category, staff_client_user):
    make_listing(app, category_id=category)
    headers = {**staff_client_user.headers, "If-Match": "*"}
    response = client.delete(f"/listings/categories/{category}", headers=headers)
    assert response.status_code == 409
    empty = make_category(app)
    assert client.delete(f"/listings/categories/{empty}", headers=headers).status_code == 204
