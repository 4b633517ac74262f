"""Negotiation policies: each rule, the listing -> category -> settings inheritance, and who edits them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.offers.conftest import listing_status, outbox_types, set_policy


def test_below_the_minimum_the_offer_is_declined_at_once_politely(api, app, buyer, listing, category):
    set_policy(app, category_id=category, min_offer_bps=6_000)  # 60% of 10_000
    response = api.offer(buyer, listing, 5_999)
    assert response.status_code == 201
    offer = response.get_json()
    assert offer["state"] == "declined"
    assert offer["reason"].startswith("Thanks for your offer!") and "6000 EUR" in offer["reason"]
    assert outbox_types(app, offer["id"]) == ["offers.OfferCreated", "offers.OfferDeclined"]
    assert api.offer(buyer, listing, 6_000).get_json()["state"] == "pending"  # the declined one is closed


def test_the_listing_policy_overrides_the_category_default(api, app, buyer, seller, listing, category):
    set_policy(app, category_id=category, min_offer_bps=9_000)
    set_policy(app, listing_id=listing, seller_id=seller.id, min_offer_amount=5_000)
    assert api.offer(buyer, listing, 5_000).get_json()["state"] == "pending"


def test_at_or_above_the_threshold_the_offer_is_accepted_at_once(api, app, buyer, seller, listing):
    set_policy(app, listing_id=listing, seller_id=seller.id, auto_accept_amount=9_000)
    offer = api.offer(buyer, listing, 9_000).get_json()
    assert offer["state"] == "accepted" and offer["checkout_due_at"] is not None
    assert listing_status(app, listing) == "reserved"
    assert outbox_types(app, offer["id"]) == ["offers.OfferCreated", "offers.OfferAccepted"]


def test_a_buyer_counter_is_held_to_the_same_thresholds(api, app, buyer, seller, listing):
    set_policy(app, listing_id=listing, seller_id=seller.id, min_offer_amount=6_000, auto_accept_amount=8_000)
    first = api.offer(buyer, listing, 7_000).get_json()
    countered = api.counter(seller, first["id"], 9_500).get_json()
    assert api.counter(buyer, countered["id"], 5_000).get_json()["state"] == "declined"
    second = api.offer(buyer, listing, 7_000).get_json()
    countered = api.counter(seller, second["id"], 9_000).get_json()
    assert api.counter(buyer, countered["id"], 8_200).get_json()["state"] == "accepted"
    assert listing_status(app, listing) == "reserved"


def test_counter_rounds_are_limited_per_negotiation(api, app, buyer, seller, listing):
    set_policy(app, listing_id=listing, seller_id=seller.id, max_counter_rounds=2)
    offer = api.offer(buyer, listing, 6_000).get_json()
    offer = api.counter(seller, offer["id"], 9_000).get_json()
    offer = api.counter(buyer, offer["id"], 7_000).get_json()
    refused = api.counter(seller, offer["id"], 8_500)
    assert refused.status_code == 422 and "price" in refused.get_json()["errors"]
    assert api.act(seller, offer["id"], "accept").status_code == 200


def test_counters_stay_within_the_asking_price_and_move_toward_the_other_party(api, buyer, seller, listing):
    offer = api.offer(buyer, listing, 6_000).get_json()
    assert api.counter(seller, offer["id"], 10_001).status_code == 422  # above asking
    assert api.counter(seller, offer["id"], 5_000).status_code == 422  # a seller never counters lower
    assert api.counter(seller, offer["id"], 9_000, currency="USD").status_code == 422
    countered = api.counter(seller, offer["id"], 10_000).get_json()
    assert api.counter(buyer, countered["id"], 10_000).status_code == 422  # a buyer counters lower
    assert api.counter(buyer, countered["id"], 9_000).status_code == 200


def test_one_open_negotiation_per_buyer_and_listing_by_default(api, buyer, listing):
    first = api.offer(buyer, listing, 6_000).get_json()
    second = api.offer(buyer, listing, 6_500)
    assert second.status_code == 422 and "listing_id" in second.get_json()["errors"]
    api.act(buyer, first["id"], "withdraw")
    assert api.offer(buyer, listing, 6_500).status_code == 201


def test_a_buyer_starting_too_many_negotiations_a_day_gets_a_429(api, app, buyer, seller, make_listing, category):
    set_policy(app, category_id=category, max_daily_per_buyer=2)
    listings = [make_listing() for _ in range(3)]
    assert api.offer(buyer, listings[0], 5_000).status_code == 201
    withdrawn = api.offer(buyer, listings[1], 5_000).get_json()
    api.act(buyer, withdrawn["id"], "withdraw")  # closed ones still count: it is a rate
    response = api.offer(buyer, listings[2], 5_000)
    assert response.status_code == 429 and response.content_type == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 86_400 + 1
    assert "listing_id" in response.get_json()["errors"]


def test_a_seller_may_stop_offers_on_a_listing(api, app, buyer, seller, listing):
    set_policy(app, listing_id=listing, seller_id=seller.id, accepts_offers=False)
    assert api.offer(buyer, listing, 5_000).status_code == 422


def test_the_expiry_clock_comes_from_the_category(api, app, buyer, listing, category):
    from datetime import datetime

    set_policy(app, category_id=category, expiry_hours=6)
    offer = api.offer(buyer, listing, 5_000).get_json()
    created, expires = (datetime.fromisoformat(offer[k]) for k in ("created_at", "expires_at"))
    assert timedelta(hours=5, minutes=59) < expires - created < timedelta(hours=6, minutes=1)


def test_without_a_policy_the_expiry_clock_is_the_platform_setting_in_seconds(api, app, buyer, listing, monkeypatch):
    from datetime import datetime

    monkeypatch.setitem(app.config, "OFFERS_EXPIRY_SECONDS", 90)
    offer = api.offer(buyer, listing, 5_000).get_json()
    created, expires = (datetime.fromisoformat(offer[k]) for k in ("created_at", "expires_at"))
    assert timedelta(seconds=89) < expires - created < timedelta(seconds=91)


def test_sellers_edit_their_listings_policies_and_staff_the_category_defaults(
    client, app, seller, stranger, staff, listing, category
):
    mine = client.post(
        "/offers/policies", json={"listing_id": str(listing), "min_offer_bps": 5_000}, headers=seller.headers
    )
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["seller_id"] == str(seller.id)
    policy_id = mine.get_json()["id"]
    theirs = client.post("/offers/policies", json={"listing_id": str(listing)}, headers=stranger.headers)
    assert theirs.status_code == 422 and "listing_id" in theirs.get_json()["errors"]
    category_by_seller = client.post("/offers/policies", json={"category_id": str(category)}, headers=seller.headers)
    assert category_by_seller.status_code == 422 and "category_id" in category_by_seller.get_json()["errors"]
    by_staff = client.post(
        "/offers/policies", json={"category_id": str(category), "min_offer_bps": 4_000}, headers=staff.headers
    )
    assert by_staff.status_code == 201 and by_staff.get_json()["seller_id"] is None
    assert client.get(f"/offers/policies/{policy_id}", headers=stranger.headers).status_code == 404
    # Category defaults are public: buyers may know the rules.
    assert client.get(f"/offers/policies/{by_staff.get_json()['id']}", headers=stranger.headers).status_code == 200
    forged = client.post(
        "/offers/policies", json={"listing_id": str(listing), "seller_id": str(uuid.uuid4())}, headers=seller.headers
    )
    assert forged.status_code == 422 and "seller_id" in forged.get_json()["errors"]
    duplicate = client.post("/offers/policies", json={"listing_id": str(listing)}, headers=seller.headers)
    assert duplicate.status_code == 409
    incoherent = client.post(
        "/offers/policies",
        json={"category_id": str(uuid.uuid4()), "min_offer_bps": 8_000, "auto_accept_bps": 7_000},
        headers=staff.headers,
    )
    assert incoherent.status_code == 422 and "auto_accept_bps" in incoherent.get_json()["errors"]
