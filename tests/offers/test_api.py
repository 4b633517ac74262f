"""The offers API: making an offer, reading it with its history, listing by role, and who sees what."""

from __future__ import annotations

import uuid

from tests.offers.conftest import listing_status, outbox_types


def test_a_buyer_offers_on_a_published_listing(api, buyer, seller, listing, app):
    response = api.offer(buyer, listing, 8_000, message="Would you take 80?")
    assert response.status_code == 201, response.get_json()
    offer = response.get_json()
    assert offer["state"] == "pending" and offer["awaiting"] == "seller" and offer["author"] == "buyer"
    assert offer["price"] == {"amount": 8_000, "currency": "EUR"}
    assert offer["buyer_id"] == str(buyer.id) and offer["seller_id"] == str(seller.id)
    assert offer["message"] == "Would you take 80?"
    assert response.headers["Location"].endswith(f"/offers/{offer['id']}")
    assert outbox_types(app, offer["id"]) == ["offers.OfferCreated"]
    assert listing_status(app, listing) == "published"


def test_get_shows_the_whole_negotiation_to_both_parties_and_404_to_anyone_else(api, buyer, seller, stranger, listing):
    first = api.offer(buyer, listing, 7_000).get_json()
    second = api.counter(seller, first["id"], 9_000).get_json()
    assert second["state"] == "countered" and second["awaiting"] == "buyer" and second["round"] == 1
    for user in (buyer, seller):
        body = api.get(user, f"/{first['id']}").get_json()
        assert body["state"] == "superseded"
        negotiation = body["negotiation"]
        assert negotiation["current_offer_id"] == second["id"] and negotiation["counter_rounds"] == 1
        assert [o["price"]["amount"] for o in negotiation["offers"]] == [7_000, 9_000]
        assert [(t["transition"], t["from_state"], t["to_state"], t["by"]) for t in negotiation["timeline"]] == [
            ("create", None, "pending", "buyer"),
            ("supersede", "pending", "superseded", "seller"),
            ("counter", None, "countered", "seller"),
        ]
    assert api.get(stranger, f"/{first['id']}").status_code == 404
    assert api.get(stranger).get_json()["items"] == []
    assert api.act(stranger, second["id"], "accept").status_code == 404


def test_list_by_role_and_state(api, buyer, seller, make_user, make_listing, listing):
    mine = api.offer(buyer, listing, 5_000).get_json()
    other_listing_of_buyer = make_listing(seller_id=make_user().id)
    api.offer(buyer, other_listing_of_buyer, 4_000)
    incoming = api.offer(make_user(), listing, 6_000).get_json()

    as_buyer = api.get(buyer, "?role=buyer").get_json()["items"]
    assert {o["buyer_id"] for o in as_buyer} == {str(buyer.id)} and len(as_buyer) == 2
    assert api.get(buyer, "?role=seller").get_json()["items"] == []
    as_seller = api.get(seller, "?role=seller&state=pending").get_json()["items"]
    assert {o["id"] for o in as_seller} == {mine["id"], incoming["id"]}
    api.act(seller, incoming["id"], "decline")
    assert [o["id"] for o in api.get(seller, "?role=seller&state=declined").get_json()["items"]] == [incoming["id"]]
    bad = api.get(seller, "?role=owner")
    assert bad.status_code == 422 and "role" in bad.get_json()["errors"]


def test_anonymous_callers_get_401(api, client, listing):
    assert client.get("/offers").status_code == 401
    response = client.post(
        "/offers",
        json={"listing_id": str(listing), "price": {"amount": 1, "currency": "EUR"}},
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 401


def test_the_idempotency_key_replays_the_same_offer_and_refuses_another_body(api, buyer, listing, app):
    first = api.offer(buyer, listing, 8_000, key="offer-1")
    again = api.offer(buyer, listing, 8_000, key="offer-1")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    other = api.offer(buyer, listing, 8_500, key="offer-1")
    assert other.status_code == 409 and other.content_type == "application/problem+json"
    assert outbox_types(app).count("offers.OfferCreated") == 1


def test_bad_bodies_are_422_with_field_errors_and_write_nothing(api, buyer, listing, app):
    cases = [
        ({"listing_id": str(listing), "price": {"amount": 0, "currency": "EUR"}}, "price"),
        ({"listing_id": str(listing), "price": {"amount": 100, "currency": "eur"}}, "price"),
        ({"listing_id": str(listing), "price": {"amount": "100", "currency": "EUR"}}, "price"),
        ({"listing_id": "nope", "price": {"amount": 100, "currency": "EUR"}}, "listing_id"),
        ({"listing_id": str(listing), "price": {"amount": 100, "currency": "EUR"}, "state": "accepted"}, "state"),
        ({"price": {"amount": 100, "currency": "EUR"}}, "listing_id"),
    ]
    for body, field in cases:
        response = api.client.post("/offers", json=body, headers={**buyer.headers, "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 422, (body, response.get_json())
        errors = response.get_json()["errors"]
        assert any(name.split(".")[0] == field for name in errors), (body, errors)
    assert outbox_types(app) == []


def test_offer_rules_on_the_listing(api, buyer, seller, listing, make_listing, app):
    wrong_currency = api.offer(buyer, listing, 5_000, currency="USD")
    assert wrong_currency.status_code == 422 and "price" in wrong_currency.get_json()["errors"]
    above_asking = api.offer(buyer, listing, 10_001)
    assert above_asking.status_code == 422 and "price" in above_asking.get_json()["errors"]
    own = api.offer(seller, listing, 5_000)
    assert own.status_code == 403
    missing = api.offer(buyer, uuid.uuid4(), 5_000)
    assert missing.status_code == 422 and "listing_id" in missing.get_json()["errors"]
    draft = make_listing(status="draft")
    assert api.offer(buyer, draft, 5_000).status_code == 409
    assert api.offer(buyer, listing, 10_000).status_code == 201  # the asking price itself is fine
    assert outbox_types(app) == ["offers.OfferCreated"]
