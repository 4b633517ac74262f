"""Time and other domains: expiry on durable timers (surviving a restart, firing once), the checkout
window of an acceptance, payment held, and listings sold or removed under open offers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.events import RecordedEvent
from app.events.relay import Relay
from app.events.timers import Timer
from app.extensions import db
from app.generator import Actor
from blueprints.listings import service as listings
from blueprints.offers import subscribers
from tests.events.conftest import run_worker_burst
from tests.offers.conftest import fire, listing_status, make_due, offer_row, outbox_types


def drain(app, until: Callable[[], bool], timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """What the relay and a worker process do, until ``until()`` holds (bounded)."""
    relay = Relay(app)
    deadline = time.monotonic() + timeout
    while not until():
        relay.dispatch_outbox()
        relay.dispatch_timers()
        run_worker_burst(app)
        assert time.monotonic() < deadline, "the bus did not get there in time"
        time.sleep(0.02)


def timer(app, name: str, key: str) -> Timer:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = db.session.execute(select(Timer).where(Timer.name == name, Timer.key == key)).scalar_one()
        db.session.expunge(row)
        db.session.rollback()
        return row


def test_an_unanswered_offer_expires_once_after_a_restart(api, app, make_app, buyer, listing):
    offer = api.offer(buyer, listing, 6_000).get_json()
    armed = timer(app, "offers.expire", offer["negotiation_id"])
    assert armed.state == "scheduled" and armed.payload == {"offer_id": offer["id"]}
    assert abs((armed.due_at - utcnow()).total_seconds() - 48 * 3600) < 60

    restarted = make_app()  # a new process: nothing in memory, the timer lives in PostgreSQL
    make_due(restarted, "offers.expire", offer["negotiation_id"])
    drain(restarted, until=lambda: offer_row(restarted, offer["id"]).state == "expired")
    assert timer(app, "offers.expire", offer["negotiation_id"]).state == "fired"
    # A stale copy of the job (a redelivery) finds the timer fired and changes nothing.
    assert fire(restarted, [str(armed.id)]) == {"fired": 0, "skipped": 1, "failed": 0}
    assert outbox_types(app, offer["id"]) == ["offers.OfferCreated", "offers.OfferExpired"]
    assert api.get(buyer, f"/{offer['id']}").get_json()["negotiation"]["status"] == "closed"


def test_a_counter_restarts_the_clock_for_the_new_offer(api, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 6_000).get_json()
    first_due = timer(app, "offers.expire", offer["negotiation_id"]).due_at
    time.sleep(0.01)
    countered = api.counter(seller, offer["id"], 9_000).get_json()
    armed = timer(app, "offers.expire", offer["negotiation_id"])
    assert armed.payload == {"offer_id": countered["id"]} and armed.due_at > first_due
    fire(app, make_due(app, "offers.expire", offer["negotiation_id"]))
    assert offer_row(app, countered["id"]).state == "expired"
    assert offer_row(app, offer["id"]).state == "superseded"


def test_an_answer_disarms_the_expiry_and_a_late_timer_changes_nothing(api, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 6_000).get_json()
    api.act(seller, offer["id"], "decline", reason="Too low")
    assert timer(app, "offers.expire", offer["negotiation_id"]).state == "cancelled"
    with app.app_context():
        from blueprints.offers import service

        assert service.expire(offer_id=uuid.UUID(offer["id"])) is None  # what a late handler would do
        db.session.commit()
    assert offer_row(app, offer["id"]).state == "declined"


def test_an_unpaid_acceptance_lapses_and_the_listing_is_published_again(api, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 8_000).get_json()
    accepted = api.act(seller, offer["id"], "accept").get_json()
    assert accepted["state"] == "accepted" and listing_status(app, listing) == "reserved"
    assert timer(app, "offers.expire", offer["negotiation_id"]).state == "cancelled"
    checkout = timer(app, "offers.checkout", offer["id"])
    assert abs((checkout.due_at - utcnow()).total_seconds() - 30 * 60) < 60
    assert fire(app, make_due(app, "offers.checkout", offer["id"]))["fired"] == 1
    lapsed = offer_row(app, offer["id"])
    assert lapsed.state == "expired" and "checkout window" in lapsed.reason
    assert listing_status(app, listing) == "published"
    assert outbox_types(app, offer["id"])[-1] == "offers.OfferExpired"
    assert api.offer(buyer, listing, 8_500).status_code == 201  # the listing takes offers again


def _payment_event(type_: str, offer_id: str, **data: object) -> RecordedEvent:
    payment_id = uuid.uuid4()
    return RecordedEvent(
        type=type_,
        version=1,
        aggregate_id=str(payment_id),
        actor="system",
        id=uuid.uuid4(),
        occurred_at=utcnow(),
        data={"payment_id": str(payment_id), "order_type": "offer", "order_id": offer_id, **data},
    )


def test_payment_held_closes_the_checkout_and_sells_the_listing_once(api, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 8_000).get_json()
    api.act(seller, offer["id"], "accept")
    event = _payment_event("payments.PaymentHeld", offer["id"], amount=8_000)
    with app.app_context():
        subscribers.payment_held(event)
        db.session.commit()
        subscribers.payment_held(event)  # a redelivery
        db.session.commit()
    paid = offer_row(app, offer["id"])
    assert paid.state == "accepted" and paid.paid_at is not None
    assert str(paid.payment_id) == event.data["payment_id"]
    assert listing_status(app, listing) == "sold"
    assert timer(app, "offers.checkout", offer["id"]).state == "cancelled"
    with app.app_context():
        from blueprints.offers import acceptance

        assert acceptance.lapse(offer_id=uuid.UUID(offer["id"]), reason="late timer") is None
        db.session.commit()
    assert offer_row(app, offer["id"]).state == "accepted" and listing_status(app, listing) == "sold"


def test_a_final_payment_failure_lets_the_acceptance_lapse_at_once(api, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 8_000).get_json()
    api.act(seller, offer["id"], "accept")
    with app.app_context():
        subscribers.payment_ended(_payment_event("payments.PaymentFailed", offer["id"], final=False))
        db.session.commit()
    assert offer_row(app, offer["id"]).state == "accepted"
    with app.app_context():
        subscribers.payment_ended(_payment_event("payments.PaymentExpired", offer["id"]))
        db.session.commit()
    assert offer_row(app, offer["id"]).state == "expired" and listing_status(app, listing) == "published"


def test_removing_the_listing_cancels_its_open_offers_through_the_bus(api, app, buyer, make_user, seller, listing):
    first = api.offer(buyer, listing, 6_000).get_json()
    second = api.offer(make_user(), listing, 7_000).get_json()
    countered = api.counter(seller, second["id"], 9_000).get_json()
    with app.app_context():
        listings.remove(listing_id=listing, actor=Actor("user", str(seller.id)), reason="Sold elsewhere")
        db.session.commit()
    drain(app, until=lambda: offer_row(app, countered["id"]).state == "cancelled")
    for offer_id in (first["id"], countered["id"]):
        row = offer_row(app, offer_id)
        assert row.state == "cancelled" and row.reason == "The listing was removed."
    assert offer_row(app, second["id"]).state == "superseded"
    assert "offers.OfferCancelled" in outbox_types(app, first["id"])


def test_accepting_one_offer_cancels_the_others_on_the_listing(api, app, buyer, make_user, seller, listing):
    others = [api.offer(make_user(), listing, 6_000 + i).get_json() for i in range(3)]
    mine = api.offer(buyer, listing, 8_000).get_json()
    api.act(seller, mine["id"], "accept")
    for other in others:
        row = offer_row(app, other["id"])
        assert row.state == "cancelled" and row.reason == "Another offer on this listing was accepted."
        assert timer(app, "offers.expire", other["negotiation_id"]).state == "cancelled"
    late = api.offer(make_user(), listing, 9_000)
    assert late.status_code == 409 and "reserved" in late.get_json()["detail"]


def test_a_reminder_precedes_the_expiry_and_an_answer_disarms_it(api, app, buyer, seller, listing):
    offer = api.offer(buyer, listing, 6_000).get_json()
    reminder = timer(app, "offers.remind", offer["negotiation_id"])
    expiry = timer(app, "offers.expire", offer["negotiation_id"])
    assert (expiry.due_at - reminder.due_at).total_seconds() == 6 * 3600
    with app.app_context():
        from app.events.timers import Timer

        db.session.execute(
            Timer.__table__.update().where(Timer.id == reminder.id).values(due_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert fire(app, [str(reminder.id)])["fired"] == 1
    assert outbox_types(app, offer["id"]) == ["offers.OfferCreated", "offers.OfferExpiringSoon"]
    api.act(seller, offer["id"], "accept")
    assert timer(app, "offers.remind", offer["negotiation_id"]).state in ("fired", "cancelled")
    assert timer(app, "offers.expire", offer["negotiation_id"]).state == "cancelled"


def test_selling_one_unit_of_several_leaves_the_listings_offers_alone(api, app, buyer, listing):
    offer = api.offer(buyer, listing, 6_000).get_json()
    sold_one = RecordedEvent(
        type="listings.ListingSold",
        version=1,
        aggregate_id=str(listing),
        actor="system",
        id=uuid.uuid4(),
        occurred_at=utcnow(),
        data={"listing_id": str(listing), "quantity_left": 2, "reservation_ref": "listing:buy-now"},
    )
    with app.app_context():
        subscribers.listing_gone(sold_one)
        db.session.commit()
    assert offer_row(app, offer["id"]).state == "pending"
