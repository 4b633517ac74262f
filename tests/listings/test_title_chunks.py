"""Relevance candidates in a catalog of many chunks: newest title matches first, through the
chunk-prefixed title index, with the same window as a small catalog (title matches first, every
filter applied, exact when the matches fit)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from app.extensions import db
from app.generator import Actor
from blueprints.listings import search, service, title_chunks
from blueprints.listings.models import ListingStatus
from blueprints.listings.models.catalog import CHUNK_ROWS
from tests.listings.factories import make_category, make_listing

NEWEST = 20
SELLER = Actor("user", str(uuid.uuid4()))
OFFERS = Actor.system("offers")


@pytest.fixture(autouse=True)
def _fresh_newest_chunk() -> Iterator[None]:
    title_chunks.newest_chunk.forget()
    yield
    title_chunks.newest_chunk.forget()


def newest_is(chunk: int) -> None:
    """Number the catalog as if ``chunk`` were the newest (every test starts from a reset sequence)."""
    db.session.execute(
        text("SELECT setval('listings.listings_search_chunk_seq', :value)"), {"value": chunk * CHUNK_ROWS + 1}
    )
    db.session.commit()
    title_chunks.newest_chunk.forget()


def listed(category: uuid.UUID, title: str, chunk: int, **fields) -> uuid.UUID:  # type: ignore[no-untyped-def]
    fields.setdefault("status", ListingStatus.PUBLISHED)
    return make_listing(category_id=category, title=title, search_chunk=chunk, **fields)


def titles(client, query: str, headers=None) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(f"/listings?{query}", headers=headers or {})
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json["items"]]


def candidates_sql(client, query: str) -> str:  # type: ignore[no-untyped-def]
    """The page statement of a search (to see which way the candidates were chosen)."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        titles(client, query)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return max(seen, key=len)


def test_new_listings_take_their_chunk_from_the_sequence(app_ctx) -> None:  # type: ignore[no-untyped-def]
    category = make_category(name="Cameras")
    first = make_listing(category_id=category)
    newest_is(5)
    later = make_listing(category_id=category)
    chunks = dict(db.session.execute(text("SELECT id, search_chunk FROM listings.listings")).tuples().all())
    assert chunks == {first: 0, later: 5}


def chunk_of(listing_id: uuid.UUID) -> int:
    return db.session.execute(
        text("SELECT search_chunk FROM listings.listings WHERE id = :id"), {"id": listing_id}
    ).scalar_one()


def published_draft(category: uuid.UUID, **fields) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """A draft created in chunk 3, published once the catalog has reached ``NEWEST``."""
    newest_is(3)
    listing_id = make_listing(category_id=category, **fields)
    assert chunk_of(listing_id) == 3
    newest_is(NEWEST)
    service.publish(listing_id=listing_id, actor=SELLER)
    db.session.commit()
    return listing_id


def test_a_draft_takes_the_newest_chunk_when_first_published(app_ctx) -> None:  # type: ignore[no-untyped-def]
    listing_id = published_draft(make_category(name="Cameras"))
    assert chunk_of(listing_id) == NEWEST


def test_a_draft_never_published_before_a_removal_takes_the_newest_chunk(app_ctx) -> None:  # type: ignore[no-untyped-def]
    """Removed and reinstated before it was ever on show: its first publication is still a first."""
    newest_is(3)
    listing_id = make_listing(category_id=make_category(name="Cameras"))
    service.remove(listing_id=listing_id, actor=SELLER, reason="Not yet")
    service.reinstate(listing_id=listing_id, actor=Actor.staff(1))
    db.session.commit()
    newest_is(NEWEST)
    service.publish(listing_id=listing_id, actor=SELLER)
    db.session.commit()
    assert chunk_of(listing_id) == NEWEST


def _pause_and_publish(listing_id: uuid.UUID) -> None:
    service.pause(listing_id=listing_id, actor=SELLER)
    service.publish(listing_id=listing_id, actor=SELLER)


def _reserve_and_release(listing_id: uuid.UUID) -> None:
    service.reserve(listing_id=listing_id, reservation_ref="offer-1", actor=OFFERS)
    service.release_reservation(listing_id=listing_id, reservation_ref="offer-1", actor=OFFERS, reason="lapsed")


def _remove_reinstate_and_publish(listing_id: uuid.UUID) -> None:
    service.remove(listing_id=listing_id, actor=Actor.staff(1), reason="Checked")
    service.reinstate(listing_id=listing_id, actor=Actor.staff(1))
    service.publish(listing_id=listing_id, actor=SELLER)


@pytest.mark.parametrize("back_on_show", [_pause_and_publish, _reserve_and_release, _remove_reinstate_and_publish])
def test_a_listing_published_again_keeps_its_chunk(app_ctx, back_on_show) -> None:  # type: ignore[no-untyped-def]
    """Only the first publication numbers a listing again: a seller cannot lift it to the top by
    pausing and publishing it, nor does a reservation or a staff restore."""
    listing_id = published_draft(make_category(name="Cameras"))
    newest_is(NEWEST + 5)
    back_on_show(listing_id)
    db.session.commit()
    assert chunk_of(listing_id) == NEWEST


def test_a_draft_published_today_is_among_the_newest_title_matches(client, app_ctx, seller, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The defect this guards: a draft kept the chunk of its creation, so once published it ranked
    with the old listings and newer matches filled the window before it."""
    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 3)
    category = make_category(name="Cameras")
    newest_is(3)
    draft = make_listing(category_id=category, seller_id=seller.id, title="Leica draft of old")
    listed(category, "Leica before", NEWEST - 1)
    for n in range(2):
        listed(category, f"Leica newest {n}", NEWEST)
    newest_is(NEWEST)
    assert sorted(titles(client, "q=leica&sort=-relevance")) == ["Leica before", "Leica newest 0", "Leica newest 1"]
    response = client.post(f"/listings/{draft}/publish", headers=seller.headers)
    assert response.status_code == 200, response.json
    title_chunks.newest_chunk.forget()
    found = titles(client, "q=leica&sort=-relevance")
    assert sorted(found) == ["Leica draft of old", "Leica newest 0", "Leica newest 1"]


def test_the_chunk_never_reaches_clients(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    category = make_category(name="Cameras")
    listing_id = listed(category, "Leica M6", 3)
    body = client.get(f"/listings/{listing_id}").json
    assert "search_chunk" not in body and "search_vector" not in body
    assert "search_chunk" not in client.get("/openapi.json").get_data(as_text=True)


@pytest.mark.parametrize(
    ("title", "query", "matches"),
    [
        ("Canon AE-1 film camera", "canon camera", True),
        ("Canon AE-1 film camera", '"film camera"', True),
        ("Camera film Canon", '"film camera"', False),
        ("Canon camera with Nikon cap", "canon -nikon", False),
        ("Canon camera", "canon -nikon", True),
        ("Leica M6", "canon or leica", True),
        ("O'Neill jacket", "o'neill", True),
        ("Back\\slash lens", "back\\slash", True),
        ("Leica M6", "nikon", False),
        ("Camera film Canon", 'canon -"film camera"', True),
        ("Canon film camera", 'canon -"film camera"', False),
        ("Pentax K1", "leica or -nikon", True),
        ("Nikon F3", "leica or -nikon", False),
        ("Nikon F3", "-nikon", False),
    ],
)
def test_chunk_query_finds_every_title_the_query_matches(app_ctx, title, query, matches) -> None:  # type: ignore[no-untyped-def]
    """Within its chunk range the prefixed query finds every title the plain one matches (quotes,
    backslashes, phrases, negation), and it matches nothing outside the range."""
    row = db.session.execute(
        text(
            "WITH v AS (SELECT setweight(to_tsvector('english', :title), 'A') "
            "|| setweight(to_tsvector('english', 'nikon body'), 'C') AS vector, "
            "websearch_to_tsquery('english', :query) AS query) "
            "SELECT ts_filter(vector, '{a}') @@ query, "
            "listings.title_chunk_vector(vector, 7) @@ listings.title_chunk_query(query, 6, 8), "
            "listings.title_chunk_vector(vector, 7) @@ listings.title_chunk_query(query, 8, 9), "
            "listings.title_chunk_vector(vector, 17) @@ listings.title_chunk_query(query, 1, 1) FROM v"
        ),
        {"title": title, "query": query},
    ).one()
    assert row[0] == matches
    # in range it is a way in, never narrower than the query (phrases count as their words, negations
    # are left to the search's own check); words the query needs still narrow it
    assert row[1] or not matches
    if query in ("canon camera", "nikon", "o'neill"):
        assert row[1] == matches
    assert (row[2], row[3]) == (False, False)


def test_a_query_of_stop_words_only_matches_nothing(app_ctx) -> None:  # type: ignore[no-untyped-def]
    query = db.session.execute(
        text("SELECT listings.title_chunk_query(websearch_to_tsquery('english', 'the'), 1, 3)::text")
    ).scalar_one()
    assert query == ""


def test_the_window_takes_the_newest_title_matches_first(client, app_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 3)
    category = make_category(name="Cameras")
    for n in range(2):
        listed(category, f"Leica old {n}", 3)
    listed(category, "Leica before 1", 16)
    listed(category, "Leica before 2", 19)
    for n in range(2):
        listed(category, f"Leica newest {n}", NEWEST)
    listed(category, "Strap", NEWEST, description="Fits a Leica body.")
    newest_is(NEWEST)
    assert "title_chunk_query" in candidates_sql(client, "q=leica&sort=-relevance")
    found = titles(client, "q=leica&sort=-relevance&limit=10")
    assert sorted(found) == ["Leica before 2", "Leica newest 0", "Leica newest 1"]
    # when they all fit, every match is ranked: title matches of any age, then the description's
    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 10)
    found = titles(client, "q=leica&sort=-relevance&limit=10")
    assert len(found) == 7 and found[-1] == "Strap"


def test_listings_numbered_after_the_newest_chunk_was_read_are_found(client, app_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The newest chunk is read at most once a second: listings numbered since still take part."""
    category = make_category(name="Cameras")
    newest_is(NEWEST)
    titles(client, "q=leica&sort=-relevance")  # reads (and keeps) the newest chunk: 20
    listed(category, "Leica next chunk", NEWEST + 1)
    listed(category, "Leica far ahead", NEWEST + 9)
    listed(category, "Leica old", 2)
    assert sorted(titles(client, "q=leica&sort=-relevance")) == ["Leica far ahead", "Leica next chunk", "Leica old"]


def test_every_filter_applies_before_the_window_is_chosen(client, app_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 2)
    cameras, lenses = make_category(name="Cameras"), make_category(name="Lenses")
    for n in range(3):
        listed(cameras, f"Leica lens {n}", NEWEST, price_amount=1_000 + n)
    listed(cameras, "Leica body", 2, price_amount=90_000)
    listed(lenses, "Leica Summicron", 4, price_amount=1_000)
    newest_is(NEWEST)
    assert titles(client, "q=leica&sort=-relevance&price[gte]=50000") == ["Leica body"]
    assert titles(client, f"q=leica&sort=-relevance&category={lenses}") == ["Leica Summicron"]


def test_phrases_and_exclusions_hold_through_the_chunks(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    category = make_category(name="Cameras")
    listed(category, "Canon film camera", NEWEST)
    listed(category, "Camera film Canon", NEWEST - 1)
    listed(category, "Canon camera with Nikon cap", NEWEST - 5)
    listed(category, "Canon film camera kit", 1)
    newest_is(NEWEST)
    assert sorted(titles(client, 'q="film camera"&sort=-relevance')) == ["Canon film camera", "Canon film camera kit"]
    assert "Canon camera with Nikon cap" not in titles(client, "q=canon -nikon&sort=-relevance")
    assert len(titles(client, "q=canon -nikon&sort=-relevance")) == 3


def test_negations_neither_hide_a_match_nor_crowd_out_the_others(client, app_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A negated phrase must not hide a title that only has its words; a query that needs no word
    ('leica or -nikon') must not let each step return the same titles again and fill the window."""
    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 3)
    category = make_category(name="Cameras")
    listed(category, "Camera film Canon", NEWEST)
    listed(category, "Canon film camera", NEWEST)
    newest_is(NEWEST)
    assert titles(client, 'q=canon -"film camera"&sort=-relevance') == ["Camera film Canon"]
    db.session.execute(text("DELETE FROM listings.listings"))
    db.session.commit()
    listed(category, "Leica M6", NEWEST)
    listed(category, "Pentax K1", NEWEST - 1)
    listed(category, "Nikon F3", 3, description="Fits Leica lenses.")
    newest_is(NEWEST)
    found = titles(client, "q=leica or -nikon&sort=-relevance")
    assert sorted(found) == ["Leica M6", "Nikon F3", "Pentax K1"]


def test_a_sellers_own_search_still_sees_their_drafts(client, app_ctx, auth_headers) -> None:  # type: ignore[no-untyped-def]
    category = make_category(name="Cameras")
    seller = uuid.uuid4()
    listed(category, "Leica draft", NEWEST, status=ListingStatus.DRAFT, seller_id=seller)
    listed(category, "Leica published", NEWEST)
    newest_is(NEWEST)
    mine = auth_headers(seller, roles=("seller",))
    query = f"q=leica&sort=-relevance&seller_id={seller}"
    assert titles(client, query, mine) == ["Leica draft"]
    assert titles(client, "q=leica&sort=-relevance", mine) == ["Leica published"]


def test_the_migration_numbers_existing_listings_by_age(postgres_admin_url) -> None:  # type: ignore[no-untyped-def]
    """listings_0006 numbers the listings a catalog already holds oldest first, and the sequence
    carries on after them."""
    from app.embedded import database_url
    from app.migrate import upgrade

    name = f"bazaar_chunks_{uuid.uuid4().hex[:8]}"
    admin = postgres_admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = database_url(postgres_admin_url, name)
        upgrade(url, "listings_0005")
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        rows = CHUNK_ROWS + 1
        with psycopg.connect(dsn, autocommit=True) as conn:
            category = conn.execute(
                "INSERT INTO listings.categories (id, name, slug, attributes_schema, created_at, updated_at) "
                "VALUES (gen_random_uuid(), 'Cameras', 'cameras', '{}', now(), now()) RETURNING id"
            ).fetchone()[0]
            # created_at runs backwards from the insertion order: the numbering must follow age
            conn.execute(
                "INSERT INTO listings.listings (id, seller_id, category_id, title, price_amount, currency, "
                "condition, status, created_at, updated_at) SELECT gen_random_uuid(), gen_random_uuid(), %s, "
                "'Leica ' || n, 100, 'EUR', 'good', 'published', now() - n * interval '1 second', now() "
                "FROM generate_series(1, %s) AS n",
                (category, rows),
            )
        upgrade(url, "heads")
        with psycopg.connect(dsn, autocommit=True) as conn:
            oldest, newest = conn.execute(
                "SELECT min(search_chunk) FILTER (WHERE title = %s), min(search_chunk) FILTER (WHERE title = %s) "
                "FROM listings.listings",
                (f"Leica {rows}", "Leica 1"),
            ).fetchone()
            counts = conn.execute(
                "SELECT search_chunk, count(*) FROM listings.listings GROUP BY 1 ORDER BY 1"
            ).fetchall()
            following = conn.execute("SELECT nextval('listings.listings_search_chunk_seq')").fetchone()[0]
            valid = conn.execute(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = 'listings.ix_listings_pub_title_chunks'::regclass"
            ).fetchone()[0]
        assert (oldest, newest) == (0, 1)
        assert counts == [(0, CHUNK_ROWS), (1, 1)]
        assert following == rows + 1 and valid
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
