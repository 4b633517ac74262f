"""Offers and payments together: the buyer pays an accepted offer through payments (sandbox), the
PaymentHeld event sells the listing; a payment held after the acceptance lapsed is refunded."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from app.extensions import db
from tests.offers.conftest import fire, listing_status, make_due, offer_row
from tests.offers.test_clock import drain


def _headers(user, key: str | None = None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**user.headers, "Idempotency-Key": key or uuid.uuid4().hex}


def _payment_state(app, payment_id: str) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        state = db.session.scalar(text("SELECT state FROM payments.payments WHERE id = :id"), {"id": payment_id})
        db.session.rollback()
        return state


def test_paying_an_accepted_offer_sells_the_listing(api, client, app, buyer, seller, stranger, listing):
    offer = api.offer(buyer, listing, 8_000).get_json()
    api.act(seller, offer["id"], "accept")
    order = {"order_type": "offer", "order_id": offer["id"]}
    assert client.post("/payments/intents", json=order, headers=_headers(stranger)).status_code in (404, 422)
    intent = client.post("/payments/intents", json=order, headers=_headers(buyer))
    assert intent.status_code == 201, intent.get_json()
    assert intent.get_json()["amount"] == {"amount": 8_000, "currency": "EUR"}
    payment_id = intent.get_json()["id"]
    confirmed = client.post(
        f"/payments/{payment_id}/confirm", json={"payment_method": "pm_card_visa"}, headers=_headers(buyer)
    )
    assert confirmed.status_code == 200 and confirmed.get_json()["state"] == "held", confirmed.get_json()
    drain(app, until=lambda: offer_row(app, offer["id"]).paid_at is not None)
    assert str(offer_row(app, offer["id"]).payment_id) == payment_id
    assert listing_status(app, listing) == "sold"
    assert fire(app, make_due(app, "offers.checkout", offer["id"]))["fired"] == 0  # disarmed


def test_a_lapsed_acceptance_cannot_be_paid_and_a_late_payment_is_refunded(api, client, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 8_000).get_json()
    api.act(seller, offer["id"], "accept")
    order = {"order_type": "offer", "order_id": offer["id"]}
    payment_id = client.post("/payments/intents", json=order, headers=_headers(buyer)).get_json()["id"]
    fire(app, make_due(app, "offers.checkout", offer["id"]))
    assert offer_row(app, offer["id"]).state == "expired" and listing_status(app, listing) == "published"
    refused = client.post("/payments/intents", json=order, headers=_headers(buyer))
    assert refused.status_code in (404, 409, 422), refused.get_json()
    # The intent opened in time is confirmed just too late: the money comes back.
    confirmed = client.post(
        f"/payments/{payment_id}/confirm", json={"payment_method": "pm_card_visa"}, headers=_headers(buyer)
    )
    assert confirmed.status_code == 200 and confirmed.get_json()["state"] == "held"
    drain(app, until=lambda: _payment_state(app, payment_id) == "refunded")
    assert offer_row(app, offer["id"]).state == "expired" and listing_status(app, listing) == "published"
