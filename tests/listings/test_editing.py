"""Content writes through the API: ownership (404 invisible / 403 visible), read-only fields,
validation messages, versions and the price history of published listings."""

from __future__ import annotations

from sqlalchemy import select

from app.events import OutboxEvent
from app.extensions import db
from blueprints.listings.models import ListingPriceChange, ListingStatus, ListingVersion
from tests.listings.factories import make_listing, photos

BODY = {
    "title": "Canon EOS 5D",
    "description": "Full frame body, shutter count 20k, with charger.",
    "price": {"amount": 45_000, "currency": "EUR"},
    "condition": "good",
    "condition_answers": {"flaws": "none", "stains": False, "missing_parts": False},
    "attributes": {"brand": "Canon", "mount": "EF"},
    "photos": photos(3),
    "shipping_options": [{"method": "tracked", "price_amount": 900, "days_min": 1, "days_max": 3}],
    "location_label": "Lyon",
    "country": "FR",
    "latitude": 45.76,
    "longitude": 4.84,
}


def patch(client, listing_id, body, headers):  # type: ignore[no-untyped-def]
    etag = client.get(f"/listings/{listing_id}", headers=headers).headers.get("ETag", "*")
    return client.patch(f"/listings/{listing_id}", json=body, headers={**headers, "If-Match": etag})


def test_seller_creates_a_draft_then_publishes_it(client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/listings", json={**BODY, "category_id": str(cameras)}, headers=seller.headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["status"], body["seller_id"], body["condition_score"], body["version"]) == (
        "draft", str(seller.id), 70, 1,
    )  # fmt: skip
    assert client.post(f"/listings/{body['id']}/publish", headers=seller.headers).status_code == 200


def test_clients_cannot_write_server_owned_fields(client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    for field, value in (("status", "published"), ("condition_score", 100), ("version", 9), ("seller_id", None)):
        response = client.post(
            "/listings", json={**BODY, "category_id": str(cameras), field: value}, headers=seller.headers
        )
        assert response.status_code == 422 and response.json["errors"][field] == ["Read-only field."]


def test_bad_content_is_a_422_per_field(client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    bad = {
        **BODY,
        "category_id": str(cameras),
        "attributes": {"brand": "Canon", "mount": "Z"},
        "condition_answers": {"stains": "yes"},
    }
    response = client.post("/listings", json=bad, headers=seller.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "attributes.mount": ["'Z' is not one of ['EF', 'F', 'E', 'M', 'X']"],
        "condition_answers.stains": ["Must be true or false."],
    }
    photo = {**BODY["photos"][0], "content_type": "text/html"}
    response = client.post(
        "/listings", json={**BODY, "category_id": str(cameras), "photos": [photo]}, headers=seller.headers
    )
    assert response.status_code == 422
    assert response.json["errors"] == {
        "photos.0.content_type": ["Must be one of: image/jpeg, image/png, image/webp, image/heic."]
    }


def test_someone_elses_listing_cannot_be_edited(app_ctx, client, cameras, seller, other_seller) -> None:  # type: ignore[no-untyped-def]
    draft = make_listing(category_id=cameras, seller_id=seller.id)
    published = make_listing(category_id=cameras, seller_id=seller.id, status=ListingStatus.PUBLISHED)
    # a draft is invisible to others: 404 (its existence is not disclosed)
    assert client.get(f"/listings/{draft}", headers=other_seller.headers).status_code == 404
    denied = client.patch(
        f"/listings/{draft}", json={"title": "Mine"}, headers={**other_seller.headers, "If-Match": "*"}
    )
    assert denied.status_code == 404
    # a published listing is visible but not theirs: 403
    denied = client.patch(
        f"/listings/{published}", json={"title": "Mine"}, headers={**other_seller.headers, "If-Match": "*"}
    )
    assert denied.status_code == 403
    assert client.post(f"/listings/{published}/pause", headers=other_seller.headers).status_code == 403
    assert client.patch(f"/listings/{published}", json={"title": "x"}, headers={"If-Match": "*"}).status_code == 401
    db.session.expire_all()
    assert {v.changes for v in db.session.execute(select(ListingVersion)).scalars()} == set()


def test_edits_of_a_published_listing_are_versioned_with_price_history(app_ctx, client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(category_id=cameras, seller_id=seller.id, status=ListingStatus.PUBLISHED)
    response = patch(
        client, listing_id, {"price": {"amount": 20_000, "currency": "EUR"}, "title": "Canon EOS"}, seller.headers
    )
    assert response.status_code == 200, response.json
    assert response.json["version"] == 2
    version = db.session.execute(select(ListingVersion)).scalar_one()
    assert version.changes == {"price_amount": [25_000, 20_000], "title": ["Canon EOS camera", "Canon EOS"]}
    change = db.session.execute(select(ListingPriceChange)).scalar_one()
    assert (change.old_amount, change.new_amount, change.version) == (25_000, 20_000, 2)
    event = db.session.execute(
        select(OutboxEvent).where(OutboxEvent.type == "listings.ListingPriceChanged")
    ).scalar_one()
    assert event.payload["dropped"] is True and event.payload["new_amount"] == 20_000
    history = client.get(f"/listings/{listing_id}/price-history").json["items"]
    assert [(h["old_amount"], h["new_amount"]) for h in history] == [(25_000, 20_000)]
    # an edit that would make a published listing incomplete is refused
    response = patch(client, listing_id, {"photos": []}, seller.headers)
    assert response.status_code == 422 and "photos" in response.json["errors"]


def test_a_reserved_listing_is_frozen(app_ctx, client, cameras, seller) -> None:  # type: ignore[no-untyped-def]
    listing_id = make_listing(
        category_id=cameras, seller_id=seller.id, status=ListingStatus.RESERVED, reservation_ref="offer-1"
    )
    response = patch(client, listing_id, {"title": "Changed"}, seller.headers)
    assert response.status_code == 409
    assert response.json["errors"]["status"][0].startswith("Is reserved")


def test_draft_price_history_is_hidden_from_others(app_ctx, client, cameras, seller, other_seller) -> None:  # type: ignore[no-untyped-def]
    draft = make_listing(category_id=cameras, seller_id=seller.id)
    assert client.get(f"/listings/{draft}/price-history", headers=other_seller.headers).status_code == 404
    assert client.get(f"/listings/{draft}/price-history", headers=seller.headers).status_code == 200
