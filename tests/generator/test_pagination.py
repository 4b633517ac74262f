"""Cursor pagination: next/prev links, stability under concurrent inserts, and bad cursors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.db import utcnow
from tests.generator.factories import make_item, make_items


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [item["title"] for item in response.json["items"]]


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def test_walks_forward_and_back_through_every_row_once(gen_app, gen_client, shelf):
    make_items(gen_app, 7, shelf_id=shelf)
    seen: list[str] = []
    response = gen_client.get("/demo?limit=3&sort=price")
    assert response.json["links"]["prev"] is None
    pages = [titles(response)]
    while response.json["links"]["next"]:
        response = gen_client.get(response.json["links"]["next"])
        assert response.status_code == 200, response.json
        pages.append(titles(response))
    seen = [t for page in pages for t in page]
    assert seen == [f"Item {i:03d}" for i in range(7)]
    assert [len(p) for p in pages] == [3, 3, 1]

    back = gen_client.get(response.json["links"]["prev"])
    assert titles(back) == ["Item 003", "Item 004", "Item 005"]
    first = gen_client.get(back.json["links"]["prev"])
    assert titles(first) == ["Item 000", "Item 001", "Item 002"]
    assert first.json["links"]["prev"] is None
    assert first.json["links"]["next"] is not None


def test_links_keep_the_other_parameters(gen_app, gen_client, shelf):
    make_items(gen_app, 4, shelf_id=shelf)
    response = gen_client.get("/demo?limit=2&fields=id,title&price[gte]=100")
    next_link = response.json["links"]["next"]
    query = parse_qs(urlsplit(next_link).query)
    assert query["fields"] == ["id,title"]
    assert query["price[gte]"] == ["100"]
    assert query["limit"] == ["2"]


def test_pages_are_stable_while_rows_are_inserted(gen_app, gen_client, shelf):
    make_items(gen_app, 6, shelf_id=shelf)
    first = gen_client.get("/demo?limit=3")  # newest first
    assert titles(first) == ["Item 005", "Item 004", "Item 003"]
    # New rows land before the cursor (newer): the next page neither repeats nor skips anything.
    make_item(gen_app, shelf_id=shelf, title="Fresh 1", created_at=utcnow())
    make_item(gen_app, shelf_id=shelf, title="Fresh 2", created_at=utcnow() + timedelta(seconds=1))
    second = gen_client.get(first.json["links"]["next"])
    assert titles(second) == ["Item 002", "Item 001", "Item 000"]
    assert second.json["links"]["next"] is None


def test_equal_sort_values_are_ordered_by_id_without_gaps(gen_app, gen_client, shelf):
    make_items(gen_app, 5, shelf_id=shelf, price_amount=500)
    seen = []
    response = gen_client.get("/demo?limit=2&sort=price")
    seen += titles(response)
    while response.json["links"]["next"]:
        response = gen_client.get(response.json["links"]["next"])
        seen += titles(response)
    assert sorted(seen) == [f"Item {i:03d}" for i in range(5)]
    assert len(seen) == 5


def test_forged_cursor_is_400(gen_app, gen_client, shelf):
    make_items(gen_app, 3, shelf_id=shelf)
    link = gen_client.get("/demo?limit=1").json["links"]["next"]
    token = cursor_of(link)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = gen_client.get(f"/demo?limit=1&cursor={forged}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "cursor" in response.json["errors"]


def test_cursor_signed_with_another_key_is_400(gen_app, gen_client, shelf):
    make_items(gen_app, 2, shelf_id=shelf)
    evil = URLSafeTimedSerializer("not-the-secret", salt="listings.Item").dumps({"d": "n", "v": [], "q": "x"})
    response = gen_client.get(f"/demo?cursor={evil}")
    assert response.status_code == 400
    assert response.json["errors"] == {"cursor": ["Invalid cursor."]}


def test_cursor_of_another_query_is_400(gen_app, gen_client, shelf):
    make_items(gen_app, 3, shelf_id=shelf)
    token = cursor_of(gen_client.get("/demo?limit=1&sort=price").json["links"]["next"])
    response = gen_client.get(f"/demo?limit=1&sort=title&cursor={token}")
    assert response.status_code == 400
    assert response.json["errors"] == {"cursor": ["Cursor does not match this query."]}
    response = gen_client.get(f"/demo?limit=1&sort=price&price[gte]=200&cursor={token}")
    assert response.status_code == 400


def test_cursor_of_another_resource_is_400(gen_app, gen_client, shelf):
    make_items(gen_app, 3, shelf_id=shelf)
    token = cursor_of(gen_client.get("/demo?limit=1").json["links"]["next"])
    response = gen_client.get(f"/demo/shelves?cursor={token}")
    assert response.status_code == 400


def test_expired_cursor_is_400(gen_app, gen_client, shelf, monkeypatch):
    make_items(gen_app, 3, shelf_id=shelf)
    token = cursor_of(gen_client.get("/demo?limit=1").json["links"]["next"])
    from app.generator import pagination

    monkeypatch.setattr(pagination, "CURSOR_MAX_AGE_SECONDS", -1)
    response = gen_client.get(f"/demo?limit=1&cursor={token}")
    assert response.status_code == 400
    assert response.json["errors"] == {"cursor": ["Expired cursor."]}


@pytest.mark.parametrize("cursor", ["x" * 2001, "%00", "....", "eyJ9"])
def test_garbage_cursor_is_4xx_problem(gen_client, cursor):
    response = gen_client.get(f"/demo?cursor={cursor}")
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
    assert "cursor" in response.json["errors"]
