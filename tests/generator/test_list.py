"""Generated list endpoints: row filter, filters with operators, sort, sparse fields, embeds, counts."""

from __future__ import annotations

import uuid

import pytest

from tests.generator.demo import Status
from tests.generator.factories import count_statements, make_item, make_items, make_shelf


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [item["id"] for item in response.json["items"]]


def test_anonymous_lists_only_published_items(gen_app, gen_client, shelf, seller):
    published = make_item(gen_app, shelf_id=shelf, seller_id=seller.id)
    make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT)
    make_item(gen_app, shelf_id=shelf, status=Status.REMOVED)
    response = gen_client.get("/demo")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert ids(response) == [str(published)]


def test_seller_also_lists_own_private_listings_but_not_others(gen_app, gen_client, shelf, seller, other_user):
    mine = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT)
    theirs = make_item(gen_app, shelf_id=shelf, seller_id=other_user.id, status=Status.DRAFT)
    response = gen_client.get("/demo", headers=seller.headers)
    assert str(mine) in ids(response)
    assert str(theirs) not in ids(response)


def test_soft_deleted_rows_never_listed_even_for_owner(gen_app, gen_client, shelf, seller):
    from app.db import utcnow

    make_item(gen_app, shelf_id=shelf, seller_id=seller.id, deleted_at=utcnow())
    assert gen_client.get("/demo", headers=seller.headers).json["items"] == []


def test_staff_role_lists_everything_not_deleted(gen_app, gen_client, shelf, staff_client_user):
    make_item(gen_app, shelf_id=shelf, status=Status.DRAFT)
    make_item(gen_app, shelf_id=shelf, status=Status.REMOVED)
    assert len(gen_client.get("/demo", headers=staff_client_user.headers).json["items"]) == 2


@pytest.mark.parametrize(
    ("query", "expected_titles"),
    [
        ("price[gte]=300", ["Item 004", "Item 003", "Item 002"]),
        ("price[lte]=200", ["Item 001", "Item 000"]),
        ("price[gte]=200&price[lte]=300", ["Item 002", "Item 001"]),
        ("title[ilike]=*m%2000*", ["Item 004", "Item 003", "Item 002", "Item 001", "Item 000"]),
        ("title[ilike]=item%20003", ["Item 003"]),
        ("condition=good", ["Item 004", "Item 003", "Item 002", "Item 001", "Item 000"]),
        ("condition[in]=new,fair", []),
        ("currency=USD", []),
    ],
)
def test_filter_operators(gen_app, gen_client, shelf, query, expected_titles):
    make_items(gen_app, 5, shelf_id=shelf)
    response = gen_client.get(f"/demo?{query}")
    assert response.status_code == 200, response.json
    assert [item["title"] for item in response.json["items"]] == expected_titles


def test_like_wildcards_are_only_star(gen_app, gen_client, shelf):
    make_item(gen_app, shelf_id=shelf, title="100% cotton")
    make_item(gen_app, shelf_id=shelf, title="1000 cotton")
    response = gen_client.get("/demo?title[ilike]=100%25*")
    assert [item["title"] for item in response.json["items"]] == ["100% cotton"]


def test_in_and_is_null_filters(gen_app, gen_client, shelf):
    child = make_shelf(gen_app, name="Road", slug="road", parent_id=shelf)
    response = gen_client.get("/demo/shelves?parent_id[is_null]=true")
    assert ids(response) == [str(shelf)]
    response = gen_client.get("/demo/shelves?parent_id[is_null]=false")
    assert ids(response) == [str(child)]
    response = gen_client.get("/demo/shelves?slug[in]=road,bikes,nope&sort=slug")
    assert response.status_code == 422  # slug is not sortable: sort values are an enum
    response = gen_client.get("/demo/shelves?slug[in]=road,bikes,nope")
    assert sorted(ids(response)) == sorted([str(shelf), str(child)])


def test_filter_on_status_respects_row_filter(gen_app, gen_client, shelf, seller):
    make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT)
    assert gen_client.get("/demo?status=draft").json["items"] == []
    assert len(gen_client.get("/demo?status=draft", headers=seller.headers).json["items"]) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status[gt]=draft", "status[gt]"),  # operator not declared for the field
        ("description=x", "description"),  # field not filterable
        ("price[gte]=ten", "price[gte]"),  # wrong type
        ("price[gte]=99999999999999999999", "price[gte]"),  # out of range
        ("status=shipped", "status"),  # not a status
        ("seller_id=not-a-uuid", "seller_id"),
        ("created_at[gte]=2026-01-01T00:00:00", "created_at[gte]"),  # naive datetime
        ("title[ilike]=a%00b", "title[ilike]"),  # NUL byte
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("sort=seller_id", "sort.0"),
        ("fields=secret", "fields.0"),
        ("embed=seller", "embed.0"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(gen_client, query, field):
    response = gen_client.get(f"/demo?{query}")
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_sort_multi_column(gen_app, gen_client, shelf):
    make_item(gen_app, shelf_id=shelf, title="b", price_amount=100)
    make_item(gen_app, shelf_id=shelf, title="a", price_amount=100)
    make_item(gen_app, shelf_id=shelf, title="c", price_amount=50)
    response = gen_client.get("/demo?sort=-price,title")
    assert [i["title"] for i in response.json["items"]] == ["a", "b", "c"]
    response = gen_client.get("/demo?sort=price,-title")
    assert [i["title"] for i in response.json["items"]] == ["c", "b", "a"]


def test_sparse_fieldsets_return_only_requested_fields(gen_app, gen_client, shelf):
    make_item(gen_app, shelf_id=shelf)
    response = gen_client.get("/demo?fields=id,price")
    assert response.json["items"][0].keys() == {"id", "price"}
    assert response.json["items"][0]["price"] == {"amount": 1000, "currency": "EUR"}


def test_embed_to_one_relation_respects_target_visibility(gen_app, gen_client, shelf):
    make_item(gen_app, shelf_id=shelf)
    item = gen_client.get("/demo?embed=shelf").json["items"][0]
    assert item["shelf"]["id"] == str(shelf)
    assert item["shelf"]["name"] == "Bikes"
    assert "shelf" not in gen_client.get("/demo").json["items"][0]


def test_count_is_optional(gen_app, gen_client, shelf):
    make_items(gen_app, 3, shelf_id=shelf)
    assert "total" not in gen_client.get("/demo?limit=1").json
    assert gen_client.get("/demo?limit=1&count=true").json["total"] == 3


def test_hidden_soft_delete_column_is_never_shown(gen_app, gen_client, shelf):
    make_item(gen_app, shelf_id=shelf)
    assert "deleted_at" not in gen_client.get("/demo").json["items"][0]


def test_statement_count_of_a_list_does_not_grow_with_page_size(gen_app, gen_client, shelf):
    make_items(gen_app, 60, shelf_id=shelf)
    counts = {}
    for limit in (2, 50):
        with count_statements(gen_app) as statements:
            response = gen_client.get(f"/demo?limit={limit}&embed=shelf&count=true")
        assert response.status_code == 200
        assert len(response.json["items"]) == limit
        counts[limit] = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
    assert counts[2] == counts[50] == 3  # page, embedded categories, total


def test_private_list_requires_auth_when_rule_needs_a_user(gen_app, gen_client, shelf):
    # categories are public; a item list with an invalid token is a 401 (the gen_client thinks it is signed in)
    response = gen_client.get("/demo", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_unknown_id_formats_are_404_problems(gen_client):
    response = gen_client.get("/demo/not-a-uuid")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert gen_client.get(f"/demo/{uuid.uuid4()}").status_code == 404
