"""Search on a small seeded catalog: relevance order, filters, sort, cursors, facets, visibility."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from blueprints.listings.models import ListingCondition, ListingStatus
from tests.listings.factories import make_category, make_listing

G = ListingCondition
WORN = {"flaws": "worn soles", "stains": True, "damage": False, "missing_parts": False}
PARIS, LYON = (48.8566, 2.3522), (45.764, 4.8357)


@pytest.fixture
def catalog(app_ctx):  # type: ignore[no-untyped-def]
    electronics = make_category(name="Electronics")
    cameras = make_category(name="Cameras", parent_id=electronics)
    lenses = make_category(name="Lenses", parent_id=cameras)
    shoes = make_category(name="Shoes")
    seller, other = uuid.uuid4(), uuid.uuid4()

    def listing(title, category, price, *, age, description="Plain description for this item.", **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("status", ListingStatus.PUBLISHED)
        kw.setdefault("seller_id", other)
        kw.setdefault("attributes", {})
        return make_listing(
            category_id=category, title=title, price_amount=price, description=description, age_seconds=age, **kw
        )

    ids = SimpleNamespace(
        title=listing("Canon AE-1 film camera", cameras, 12_000, age=50, latitude=PARIS[0], longitude=PARIS[1]),
        brand=listing("Vintage film camera body", cameras, 9_000, age=40, attributes={"brand": "Canon"},
                      latitude=LYON[0], longitude=LYON[1]),
        description=listing("Camera strap", cameras, 1_500, age=30, description="Fits any Canon or Nikon body well."),
        lens=listing("Nikon 50mm lens", lenses, 20_000, age=20, condition=G.LIKE_NEW,
                     condition_answers={"flaws": "none", "minor_marks": False}, attributes={"brand": "Nikon"}),
        shoes=listing("Running shoes", shoes, 4_000, age=10, condition=G.FAIR, condition_answers=WORN),
        draft=listing("Canon draft camera", cameras, 5_000, age=5, status=ListingStatus.DRAFT, seller_id=seller),
        paused=listing("Canon paused camera", cameras, 5_000, age=4, status=ListingStatus.PAUSED),
    )  # fmt: skip
    return SimpleNamespace(ids=ids, electronics=electronics, cameras=cameras, shoes=shoes, seller=seller)


def titles(client, query: str, headers=None) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(f"/listings?{query}", headers=headers or {})
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json["items"]]


def test_relevance_ranks_title_over_brand_over_description(client, catalog) -> None:  # type: ignore[no-untyped-def]
    assert titles(client, "q=canon&sort=-relevance") == [
        "Canon AE-1 film camera",
        "Vintage film camera body",
        "Camera strap",
    ]


def test_full_text_is_language_aware_and_uses_web_search_syntax(client, catalog) -> None:  # type: ignore[no-untyped-def]
    # "cameras" is stemmed to "camera" (english), matching every title with "camera" in it
    assert titles(client, "q=cameras&sort=-created_at") == [
        "Camera strap", "Vintage film camera body", "Canon AE-1 film camera",
    ]  # fmt: skip
    assert titles(client, 'q="film camera"&sort=price') == ["Vintage film camera body", "Canon AE-1 film camera"]
    assert titles(client, "q=canon%20-vintage&sort=price") == ["Camera strap", "Canon AE-1 film camera"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=-created_at", ["Running shoes", "Nikon 50mm lens", "Camera strap", "Vintage film camera body",
                              "Canon AE-1 film camera"]),
        ("price[gte]=4000&price[lte]=12000&sort=price", ["Running shoes", "Vintage film camera body",
                                                          "Canon AE-1 film camera"]),
        ("sort=-price&limit=2", ["Nikon 50mm lens", "Canon AE-1 film camera"]),
        ("condition[in]=like_new,fair&sort=price", ["Running shoes", "Nikon 50mm lens"]),
        ("attr=brand:Canon", ["Vintage film camera body"]),
        ("attr=brand:Nikon&q=lens", ["Nikon 50mm lens"]),
        ("condition_score[gte]=70&q=lens,shoes", []),
        ("condition_score[gte]=80&q=nikon", ["Nikon 50mm lens"]),
        ("condition_score[gte]=40&q=shoes", ["Running shoes"]),
        ("condition_score[gte]=50&q=shoes", []),
        (f"lat={LYON[0]}&lng={LYON[1]}&radius_km=50", ["Vintage film camera body"]),
        (f"lat={LYON[0]}&lng={LYON[1]}&radius_km=500&sort=distance", ["Vintage film camera body",
                                                                      "Canon AE-1 film camera"]),
        (f"lat={PARIS[0]}&lng={PARIS[1]}&radius_km=500&sort=distance", ["Canon AE-1 film camera",
                                                                        "Vintage film camera body"]),
        (f"lat={PARIS[0]}&lng={PARIS[1]}&radius_km=500&sort=price", ["Vintage film camera body",
                                                                     "Canon AE-1 film camera"]),
    ],
)  # fmt: skip
def test_filters_and_sorts(client, catalog, query, expected) -> None:  # type: ignore[no-untyped-def]
    assert titles(client, query) == expected


def test_category_filter_covers_the_subtree(client, catalog) -> None:  # type: ignore[no-untyped-def]
    assert titles(client, f"category={catalog.electronics}&sort=price") == [
        "Camera strap", "Vintage film camera body", "Canon AE-1 film camera", "Nikon 50mm lens",
    ]  # fmt: skip
    assert titles(client, f"category={catalog.shoes}") == ["Running shoes"]


def test_only_published_unless_your_own(client, catalog, auth_headers) -> None:  # type: ignore[no-untyped-def]
    assert "Canon draft camera" not in titles(client, "q=canon")
    mine = auth_headers(catalog.seller, roles=("seller",))
    assert "Canon draft camera" not in titles(client, "q=canon", mine)
    assert titles(client, f"q=canon&seller_id={catalog.seller}", mine) == ["Canon draft camera"]
    stranger = auth_headers(uuid.uuid4())
    assert titles(client, f"q=canon&seller_id={catalog.seller}", stranger) == []


def test_relevance_pages_continue_with_a_cursor(client, catalog) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/listings?q=canon&sort=-relevance&limit=2").json
    assert [i["title"] for i in first["items"]] == ["Canon AE-1 film camera", "Vintage film camera body"]
    second = client.get(first["links"]["next"]).json
    assert [i["title"] for i in second["items"]] == ["Camera strap"] and second["links"]["next"] is None


def test_facets(client, catalog) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/listings?category={catalog.electronics}&facets=category,condition,price&limit=1").json
    facets = body["facets"]
    assert {(f["name"], f["count"]) for f in facets["category"]} == {("Cameras", 3), ("Lenses", 1)}
    counts = {f["grade"]: f["count"] for f in facets["condition"]}
    assert counts == {"new_with_tags": 0, "new_without_tags": 0, "like_new": 1, "good": 3, "fair": 0, "for_parts": 0}
    buckets = {(b["min"], b["max"]): b["count"] for b in facets["price"]}
    assert buckets[(1_000, 2_500)] == 1 and buckets[(5_000, 10_000)] == 1 and buckets[(10_000, 25_000)] == 2
    assert sum(buckets.values()) == 4
    assert facets["exact"] is True


def test_facets_beyond_the_sample_say_so(client, catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from blueprints.listings import search

    monkeypatch.setattr(search, "FACET_SAMPLE", 2)
    facets = client.get(f"/listings?category={catalog.electronics}&facets=condition").json["facets"]
    assert facets["exact"] is False and sum(f["count"] for f in facets["condition"]) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=-relevance", "sort"),
        ("sort=distance&lat=45&lng=4", "sort"),
        ("lat=45&lng=4", "radius_km"),
        ("attr=brand", "attr"),
        ("lang=klingon&q=x", "lang"),
        ("facets=colour", "facets"),
        ("radius_km=5000&lat=1&lng=1", "radius_km"),
    ],
)
def test_bad_search_parameters_are_422(client, catalog, query, field) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/listings?{query}")
    assert response.status_code == 422, response.json
    assert any(key.startswith(field) for key in response.json["errors"]), response.json


def test_relevance_window_takes_title_matches_first(client, app_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Beyond the window, weak description matches (inserted first, so yielded first) do not crowd out
    a title match: title matches enter the window first; the pages end with the window."""
    from blueprints.listings import search

    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 3)
    category = make_category(name="Cameras")
    for n in range(5):
        make_listing(category_id=category, title=f"Strap {n}", description="Fits a Leica body.",
                     status=ListingStatus.PUBLISHED, age_seconds=100 - n)  # fmt: skip
    make_listing(category_id=category, title="Leica M6 body", status=ListingStatus.PUBLISHED, age_seconds=1)
    page = client.get("/listings?q=leica&sort=-relevance&count=true&limit=2").json
    assert page["items"][0]["title"] == "Leica M6 body"
    assert page["total"] == 6  # the count covers every match, the ranking the window
    rest = client.get(page["links"]["next"]).json  # the straps tie on rank: the cursor splits them by id
    assert len(rest["items"]) == 1 and rest["links"]["next"] is None
    assert all(i["title"].startswith("Strap") for i in page["items"][1:] + rest["items"])
    # Within the window the ranking is exact, and every match is ranked when they all fit.
    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 6)
    everything = titles(client, "q=leica&sort=-relevance&limit=10")
    assert everything[0] == "Leica M6 body" and len(everything) == 6


def test_relevance_window_applies_every_filter_before_choosing(client, app_ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The window is chosen among rows passing every filter, so a filter never empties it."""
    from blueprints.listings import search

    monkeypatch.setattr(search, "RELEVANCE_WINDOW", 2)
    category = make_category(name="Cameras")
    for n in range(4):
        make_listing(category_id=category, title=f"Leica lens {n}", price_amount=1_000 + n,
                     status=ListingStatus.PUBLISHED)  # fmt: skip
    make_listing(category_id=category, title="Leica body", price_amount=90_000, status=ListingStatus.PUBLISHED)
    assert titles(client, "q=leica&sort=-relevance&price[gte]=50000") == ["Leica body"]


NEAR_NORTH_CAPE = (70.0, 25.0)


def test_nearest_first_is_great_circle_not_planar(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    """At 70°N a degree of longitude is ~38 km, of latitude ~111 km: 0.3° east (~11 km) is nearer than
    0.15° north (~17 km), though farther on a lat/lng plane."""
    category = make_category(name="Anything")
    lat, lng = NEAR_NORTH_CAPE
    make_listing(
        category_id=category, title="North", latitude=lat + 0.15, longitude=lng, status=ListingStatus.PUBLISHED
    )
    make_listing(category_id=category, title="East", latitude=lat, longitude=lng + 0.3, status=ListingStatus.PUBLISHED)
    assert titles(client, f"lat={lat}&lng={lng}&radius_km=50&sort=distance") == ["East", "North"]


def test_nearest_first_pages_keep_ties_and_the_radius(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    """Listings at one spot tie on distance: pages split the tie by id, lose none, repeat none, and
    stop at the radius exactly where the haversine filter does (same rows as another sort)."""
    category = make_category(name="Anything")
    lat, lng = LYON

    def at(title: str, dlat: float) -> uuid.UUID:
        return make_listing(category_id=category, title=title, latitude=lat + dlat, longitude=lng,
                            status=ListingStatus.PUBLISHED)  # fmt: skip

    nearest = at("Nearest", 0.001)
    shop = sorted(at(f"Shop {n}", 0.01) for n in range(5))
    # 0.0899° of latitude is ~9.997 km, 0.0901° ~10.019 km: one just inside a 10 km radius, one just out
    inside, _ = at("Inside", 0.0899), at("Outside", 0.0901)
    url = f"/listings?lat={lat}&lng={lng}&radius_km=10&sort=distance&limit=2"
    seen, pages = [], []
    while url:
        page = client.get(url).json
        pages.append(page)
        seen += [uuid.UUID(item["id"]) for item in page["items"]]
        url = page["links"]["next"]
    assert seen == [nearest, *shop, inside]
    everything = client.get(f"/listings?lat={lat}&lng={lng}&radius_km=10&sort=price&count=true&limit=50").json
    assert {uuid.UUID(i["id"]) for i in everything["items"]} == set(seen) and everything["total"] == len(seen)
    back = client.get(pages[2]["links"]["prev"]).json  # previous pages read the same order backwards
    assert [uuid.UUID(i["id"]) for i in back["items"]] == seen[2:4]
