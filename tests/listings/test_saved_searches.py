"""Saved searches: matches on first publication and on price drops raise SavedSearchMatched."""

from __future__ import annotations

import sqlalchemy as sa

from app.events import OutboxEvent
from app.events.delivery import deliver_events
from app.extensions import db
from blueprints.listings.models import ListingStatus
from tests.listings.factories import make_category, make_listing


def deliver_pending() -> None:
    """Hand every outbox event so far to its subscribers (what the relay and workers do)."""
    positions = list(db.session.execute(sa.select(OutboxEvent.position).order_by(OutboxEvent.position)).scalars())
    db.session.commit()
    deliver_events(positions)
    db.session.commit()


def matches() -> list[dict]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(OutboxEvent.payload)
        .where(OutboxEvent.type == "listings.SavedSearchMatched")
        .order_by(OutboxEvent.position)
    ).scalars()
    return [{k: p[k] for k in ("user_id", "listing_id", "reason", "search_name")} for p in rows]


def etag_patch(client, listing_id, body, headers):  # type: ignore[no-untyped-def]
    etag = client.get(f"/listings/{listing_id}", headers=headers).headers["ETag"]
    return client.patch(f"/listings/{listing_id}", json=body, headers={**headers, "If-Match": etag})


def test_new_listings_and_price_drops_match_saved_searches(app_ctx, client, seller, other_seller) -> None:  # type: ignore[no-untyped-def]
    electronics = make_category(name="Electronics")
    cameras = make_category(name="Cameras", parent_id=electronics)
    saved = client.post(
        "/listings/saved-searches",
        json={"name": "Cheap Canon", "q": "canon", "category_id": str(electronics), "price_max": 30_000},
        headers=other_seller.headers,
    )
    assert saved.status_code == 201, saved.json
    assert saved.json["user_id"] == str(other_seller.id)
    buyer = str(other_seller.id)

    cheap = make_listing(category_id=cameras, seller_id=seller.id, title="Canon AE-1", price_amount=20_000)
    dear = make_listing(category_id=cameras, seller_id=seller.id, title="Canon EOS R5", price_amount=300_000)
    other = make_listing(
        category_id=cameras, seller_id=seller.id, title="Nikon F3", price_amount=10_000, attributes={"brand": "Nikon"}
    )
    for listing_id in (cheap, dear, other):
        assert client.post(f"/listings/{listing_id}/publish", headers=seller.headers).status_code == 200
    deliver_pending()
    assert matches() == [
        {"user_id": buyer, "listing_id": str(cheap), "reason": "new_listing", "search_name": "Cheap Canon"}
    ]
    assert etag_patch(client, dear, {"price": {"amount": 25_000, "currency": "EUR"}}, seller.headers).status_code == 200
    deliver_pending()
    assert matches()[-1] == {
        "user_id": buyer, "listing_id": str(dear), "reason": "price_drop", "search_name": "Cheap Canon",
    }  # fmt: skip
    assert len(matches()) == 2
    # a resume after a pause is not news, and a price rise is not a drop
    assert client.post(f"/listings/{cheap}/pause", headers=seller.headers).status_code == 200
    assert client.post(f"/listings/{cheap}/publish", headers=seller.headers).status_code == 200
    assert (
        etag_patch(client, cheap, {"price": {"amount": 21_000, "currency": "EUR"}}, seller.headers).status_code == 200
    )
    deliver_pending()
    assert len(matches()) == 2


def test_own_listings_never_match_and_searches_are_private(app_ctx, client, seller, other_seller) -> None:  # type: ignore[no-untyped-def]
    cameras = make_category(name="Cameras")
    saved = client.post("/listings/saved-searches", json={"name": "Mine", "q": "canon"}, headers=seller.headers)
    search_id = saved.json["id"]
    listing_id = make_listing(category_id=cameras, seller_id=seller.id, title="Canon AE-1")
    client.post(f"/listings/{listing_id}/publish", headers=seller.headers)
    deliver_pending()
    assert matches() == []
    assert client.get(f"/listings/saved-searches/{search_id}", headers=other_seller.headers).status_code == 404
    assert client.get("/listings/saved-searches", headers=other_seller.headers).json["items"] == []


def test_impossible_saved_searches_are_refused(app_ctx, client, seller) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/listings/saved-searches",
        json={"name": "Bad", "conditions": ["mint"], "latitude": 45.0, "price_min": 500, "price_max": 100},
        headers=seller.headers,
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) >= {"conditions", "radius_km", "price_max"}
    assert ListingStatus.PUBLISHED.value == "published"
