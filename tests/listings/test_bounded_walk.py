"""A public search sorted by a column walks a bounded number of listings before reading older matches
from the filters' own indexes (app.generator.walks): the pages must be exactly those of the plain
statement, in both directions, wherever the walk's end falls."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app.db import utcnow
from app.extensions import db
from blueprints.listings import resources, search
from blueprints.listings.models import ListingStatus
from tests.listings.factories import make_category, make_listing

# Rows the tests' walk reads per row of a page, in steps: with pages of 3 (4 rows asked for), it ends
# within the catalogs below, which hold several times more.
WALK = (1, 2)


@pytest.fixture
def walked(monkeypatch):  # type: ignore[no-untyped-def]
    """Switch the listings' walk: ``walked(steps)`` walks at once (no plain statement first), and
    ``walked(None)`` runs the plain statement only."""

    def use(steps: tuple[int, ...] | None) -> None:
        walk = None if steps is None else dataclasses.replace(search.HOOKS.walk, steps=steps, after_ms=None)
        monkeypatch.setattr(resources.listings, "list_hooks", dataclasses.replace(search.HOOKS, walk=walk))

    use(WALK)
    return use


@pytest.fixture
def catalog(app_ctx) -> dict[str, uuid.UUID]:  # type: ignore[no-untyped-def]
    """Cameras are all recent, clothes all old, with some old camera clothing (straps) between, prices
    interleaved and tied, so that matches sit before, across and beyond any walk's end."""
    fashion = make_category(name="Fashion")
    coats = make_category(name="Coats", parent_id=fashion)
    electronics = make_category(name="Electronics")
    age = 10_000
    for n in range(12):
        make_listing(category_id=coats, title=f"Wool coat {n}", price_amount=1_000 + 500 * (n % 4),
                     status=ListingStatus.PUBLISHED, age_seconds=age - n)  # fmt: skip
    for n in range(4):
        make_listing(category_id=fashion, title=f"Camera strap {n}", price_amount=1_500, attributes={"brand": "Peak"},
                     status=ListingStatus.PUBLISHED, age_seconds=age - 100 - n)  # fmt: skip
    make_listing(category_id=fashion, title="Camera bag draft", price_amount=1_500, status=ListingStatus.DRAFT,
                 age_seconds=age - 150)  # fmt: skip
    for n in range(16):
        make_listing(category_id=electronics, title=f"Film camera {n}", price_amount=2_000 + 250 * (n % 5),
                     status=ListingStatus.PUBLISHED, age_seconds=age - 200 - n,
                     attributes={"brand": "Canon" if n % 3 else "Nikon"})  # fmt: skip
    listed_at = utcnow() - timedelta(seconds=age - 300)  # ties on the sort key, split by id
    for n in range(6):
        make_listing(category_id=coats if n % 2 else electronics, title=f"Camera sleeve {n}", price_amount=1_500,
                     status=ListingStatus.PUBLISHED, created_at=listed_at)  # fmt: skip
    return {"fashion": fashion, "coats": coats, "electronics": electronics}


def every_page(client: Any, url: str) -> tuple[list[str], list[str]]:
    """Titles of every page following the next links, then back from the last page by the prev links."""
    forward: list[list[str]] = []
    link: str | None = url
    last: dict[str, Any] = {}
    while link:
        response = client.get(link)
        assert response.status_code == 200, response.json
        last = response.json
        forward.append([item["title"] for item in last["items"]])
        link = last["links"]["next"]
        assert len(forward) < 50, "pages never end"
    backward: list[list[str]] = []
    link = last["links"]["prev"]
    while link:
        page = client.get(link).json
        backward.insert(0, [item["title"] for item in page["items"]])
        link = page["links"]["prev"]
    return [t for page in forward for t in page], [t for page in backward + forward[-1:] for t in page]


QUERIES = [
    "q=camera&category={fashion}",  # only old matches: the walk finds none
    "q=camera",  # recent matches, then old ones beyond the walk
    "category={fashion}",  # only old matches
    "q=coat&category={electronics}",  # no match at all
    "attr=brand:Peak",
    "q=camera&price[gte]=1500&price[lte]=2250",  # bounds on a sort column narrow the walk itself
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("sort", ["-created_at", "created_at", "price", "-price"])
def test_pages_are_those_of_the_plain_statement(client, catalog, walked, query, sort) -> None:  # type: ignore[no-untyped-def]
    url = f"/listings?{query.format(**catalog)}&sort={sort}&limit=3"
    walked(None)
    expected_forward, expected_backward = every_page(client, url)
    assert expected_forward == expected_backward
    for steps in (WALK, (1,), (2,), (1, 3, 5), (100,)):
        walked(steps)
        forward, backward = every_page(client, url)
        assert forward == expected_forward, (steps, forward, expected_forward)
        assert backward == expected_backward, (steps, backward, expected_backward)


def test_the_walk_is_bounded_only_for_public_searches(client, catalog, walked, auth_headers) -> None:  # type: ignore[no-untyped-def]
    """Only the public catalog's conjuncts tell the walk which index it reads: a seller's own search, a
    plain list and a sort no index serves keep the plain statement."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "FROM listings.listings" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        seller = uuid.uuid4()
        make_listing(category_id=catalog["fashion"], title="Camera pouch", seller_id=seller,
                     status=ListingStatus.DRAFT)  # fmt: skip
        for sort in ("-created_at", "created_at", "price", "-price"):
            bounded = client.get(f"/listings?q=camera&category={catalog['fashion']}&sort={sort}")
            assert bounded.status_code == 200 and "walk_end" in statements[-1], sort
        own = client.get(
            f"/listings?q=camera&seller_id={seller}&sort=-created_at", headers=auth_headers(seller, roles=("seller",))
        )
        assert own.status_code == 200, own.json
        assert [item["title"] for item in own.json["items"]] == ["Camera pouch"]
        assert "walk_end" not in statements[-1]
        plain = client.get("/listings?sort=-created_at")
        assert plain.status_code == 200 and "walk_end" not in statements[-1]
        # no index serves a title sort: a walk would sort the whole catalog to find its first rows
        by_title = client.get(f"/listings?q=camera&category={catalog['fashion']}&sort=title")
        assert by_title.status_code == 200 and "walk_end" not in statements[-1]
        expected = sorted([f"Camera strap {n}" for n in range(4)] + [f"Camera sleeve {n}" for n in (1, 3, 5)])
        assert [item["title"] for item in by_title.json["items"]] == expected
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_the_plain_statement_runs_first_and_the_walk_only_once_it_runs_long(client, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The walk guards the planner's plan: a page whose plain statement is quick never walks; one whose
    statement runs past ``after_ms`` is cancelled and taken from the walk, with the same rows, and the
    connection's statement timeout is back to its default afterwards."""
    # a second, not the listings' 60 ms: a loaded machine must not make the quick page walk
    walk = dataclasses.replace(search.HOOKS.walk, after_ms=1_000)
    monkeypatch.setattr(resources.listings, "list_hooks", dataclasses.replace(search.HOOKS, walk=walk))
    statements: list[str] = []
    slow = {"on": False}

    def slowed(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        page = "FROM listings.listings" in statement and "ORDER BY" in statement and "walk_end" not in statement
        if slow["on"] and page:
            statement = f"SELECT * FROM ({statement}) AS slowed WHERE (SELECT pg_sleep(3)) IS NOT NULL"
        statements.append(statement)
        return statement, parameters

    url = f"/listings?q=camera&category={catalog['fashion']}&sort=-created_at"
    event.listen(db.engine, "before_cursor_execute", slowed, retval=True)
    try:
        quick = client.get(url)
        assert quick.status_code == 200 and not any("walk_end" in s for s in statements)
        statements.clear()
        slow["on"] = True
        guarded = client.get(url)
        assert guarded.status_code == 200, guarded.json
        assert guarded.json["items"] == quick.json["items"] and len(quick.json["items"]) == 7
        pages = [s for s in statements if "FROM listings.listings" in s]
        assert "pg_sleep" in pages[0] and "walk_end" in pages[-1], pages  # cancelled, then walked
        assert statements.index("SET statement_timeout = 1000") < statements.index(pages[0])
    finally:
        event.remove(db.engine, "before_cursor_execute", slowed)
    for _ in range(3):  # every pooled connection: none kept the page's timeout
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
