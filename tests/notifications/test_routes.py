"""The real events of other domains reach the right people as the right kinds (the routes in events.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.db import utcnow
from blueprints.listings.events import SavedSearchMatched
from blueprints.messaging.events import MessageSent
from blueprints.offers.events import (
    OfferAccepted,
    OfferCancelled,
    OfferCountered,
    OfferDeclined,
    OfferExpired,
    OfferExpiringSoon,
    OfferWithdrawn,
)
from blueprints.payments.events import PaymentHeld, PayoutSent
from tests.notifications.conftest import notifications_of

BUYER, SELLER = uuid.uuid4(), uuid.uuid4()


def offer_fields(**overrides):  # type: ignore[no-untyped-def]
    offer_id = uuid.uuid4()
    fields = {
        "aggregate_id": uuid.uuid4(),
        "offer_id": offer_id,
        "negotiation_id": uuid.uuid4(),
        "listing_id": uuid.uuid4(),
        "buyer_id": BUYER,
        "seller_id": SELLER,
        "amount": 4000,
        "currency": "EUR",
        "from_state": "pending",
        "to_state": "countered",
        "author": "buyer",
        "by": "buyer",
        "round": 1,
    }
    return {**fields, **overrides}


def kinds_of(user: uuid.UUID) -> list[str]:
    return [n.kind for n in notifications_of(user)]


def test_offer_events_reach_the_party_who_must_act_or_whose_offer_it_was(notif_app, emit, drain):
    emit(
        # The seller counters: the counter-offer (authored by the seller) awaits the buyer.
        OfferCountered(
            **offer_fields(author="seller", by="seller", amount=4500),
            actor=f"user:{SELLER}",
            previous_offer_id=uuid.uuid4(),
            message="",
            expires_at=utcnow() + timedelta(days=2),
        ),
        # The listing's minimum-offer policy declines the buyer's offer (by=system): the buyer hears of it.
        OfferDeclined(**offer_fields(to_state="declined", by="system", reason="Below the minimum"), actor="system"),
        # The buyer accepts the seller's counter: the seller, whose amount it was, is told.
        OfferAccepted(
            **offer_fields(author="seller", by="buyer", to_state="accepted"),
            actor=f"user:{BUYER}",
            checkout_due_at=utcnow() + timedelta(minutes=30),
        ),
    )
    drain()
    assert sorted(kinds_of(BUYER)) == ["offer_countered", "offer_declined"]
    assert kinds_of(SELLER) == ["offer_accepted"]
    (accepted,) = notifications_of(SELLER)
    assert accepted.body == "The buyer accepted your counter-offer of 40.00 EUR; they pay next."
    declined = next(n for n in notifications_of(BUYER) if n.kind == "offer_declined")
    assert declined.body == "Your offer of 40.00 EUR was declined: Below the minimum."


def test_an_unanswered_offer_that_expires_is_told_to_its_author_only(notif_app, emit, drain):
    emit(OfferExpired(**offer_fields(to_state="expired", by="system"), actor="system"))
    drain()
    assert kinds_of(BUYER) == ["offer_expired"] and kinds_of(SELLER) == []
    (expired,) = notifications_of(BUYER)
    assert expired.body == "Your offer of 40.00 EUR expired without an answer."


def test_an_accepted_offer_that_lapses_unpaid_is_told_to_both_parties(notif_app, emit, drain):
    emit(OfferExpired(**offer_fields(from_state="accepted", to_state="expired", by="system"), actor="system"))
    drain()
    assert kinds_of(BUYER) == ["offer_expired"] and kinds_of(SELLER) == ["offer_expired"]
    assert all("lapsed" in n.body for n in notifications_of(BUYER) + notifications_of(SELLER))


def test_a_withdrawn_offer_is_told_to_the_party_who_was_to_answer(notif_app, emit, drain):
    emit(
        OfferWithdrawn(**offer_fields(to_state="withdrawn"), actor=f"user:{BUYER}"),
        OfferWithdrawn(**offer_fields(to_state="withdrawn", author="seller", by="seller"), actor=f"user:{SELLER}"),
    )
    drain()
    assert kinds_of(SELLER) == ["offer_withdrawn"] and kinds_of(BUYER) == ["offer_withdrawn"]


def test_a_cancelled_offer_reaches_the_buyer_and_the_seller_only_when_staff_cancelled(notif_app, emit, drain):
    another = "Another offer on this listing was accepted."
    emit(OfferCancelled(**offer_fields(to_state="cancelled", by="system", reason=another), actor="system"))
    drain()
    assert kinds_of(BUYER) == ["offer_cancelled"] and kinds_of(SELLER) == []
    assert notifications_of(BUYER)[0].body == f"The offer of 40.00 EUR was cancelled: {another}"
    emit(OfferCancelled(**offer_fields(to_state="cancelled", by="staff", reason="Counterfeit"), actor="staff:1"))
    drain()
    assert kinds_of(SELLER) == ["offer_cancelled"] and len(kinds_of(BUYER)) == 2


def test_the_expiry_reminder_goes_to_the_party_awaited(notif_app, emit, drain):
    fields = {k: v for k, v in offer_fields().items() if k not in ("from_state", "to_state", "author", "by", "round")}
    emit(OfferExpiringSoon(**fields, awaiting="seller", expires_at=utcnow() + timedelta(hours=2)))
    drain()
    assert kinds_of(SELLER) == ["offer_expiring"] and kinds_of(BUYER) == []


def test_payment_and_payout_events_notify_buyer_and_seller(notif_app, emit, drain):
    payment_id = uuid.uuid4()
    emit(
        PaymentHeld(
            aggregate_id=payment_id, payment_id=payment_id, order_type="offer", order_id=uuid.uuid4(),
            listing_id=uuid.uuid4(), buyer_id=BUYER, seller_id=SELLER, currency="EUR", amount=4000, buyer_fee=200,
            amount_total=4200, actor=f"user:{BUYER}",
        ),
        PayoutSent(aggregate_id=uuid.uuid4(), payout_id=uuid.uuid4(), seller_id=SELLER, amount=3600, currency="EUR",
                   provider_transfer_id="tr_1"),
    )  # fmt: skip
    drain()
    assert sorted(kinds_of(SELLER)) == ["payment_held", "payout_sent"]
    held_for_seller = next(n for n in notifications_of(SELLER) if n.kind == "payment_held")
    assert held_for_seller.title == "Payment received"
    (held_for_buyer,) = notifications_of(BUYER)
    assert held_for_buyer.title == "Payment held" and "42.00 EUR" in held_for_buyer.body


def test_messages_and_saved_searches_route_to_their_digest_kinds(notif_app, emit, drain):
    thread, search = uuid.uuid4(), uuid.uuid4()
    emit(
        MessageSent(
            aggregate_id=thread, thread_id=thread, message_id=uuid.uuid4(), listing_id=uuid.uuid4(), seq=1,
            kind="text", sender_id=BUYER, recipient_ids=[SELLER], preview="Still available?", actor=f"user:{BUYER}",
        ),
        SavedSearchMatched(
            aggregate_id=search, saved_search_id=search, user_id=BUYER, listing_id=uuid.uuid4(),
            search_name="Bikes", reason="new_listing", title="Road bike", price_amount=25000, currency="EUR",
        ),
        SavedSearchMatched(
            aggregate_id=search, saved_search_id=search, user_id=BUYER, listing_id=uuid.uuid4(),
            search_name="Bikes", reason="price_drop", title="Gravel bike", price_amount=30000, currency="EUR",
        ),
    )  # fmt: skip
    drain()
    assert kinds_of(SELLER) == ["new_message"]
    assert notifications_of(SELLER)[0].body == "Still available?"
    assert sorted(kinds_of(BUYER)) == ["price_drop", "saved_search_match"]
    drop = next(n for n in notifications_of(BUYER) if n.kind == "price_drop")
    assert drop.body == "Gravel bike is now 300.00 EUR."
