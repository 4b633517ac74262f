"""Acceptance and what follows it: exclusive reservation, the checkout window, payment, lapse.

Accepting is atomic and exclusive. Under the listing's book lock (see :mod:`blueprints.offers.locks`)
the acceptance reserves the listing through the listings service (its row lock and status check let
one reservation win), then cancels every other open offer on the listing in the same transaction.
Those offers are locked ``NOWAIT``: an offer that another request holds at that instant (for example
a second acceptance waiting for the book lock) makes this acceptance a 409 "try again" instead of a
deadlock, and the other request then wins. A partial unique index (one unpaid acceptance per listing)
backs the rule in the database.

The checkout window is a durable timer of this domain (``offers.checkout``, ``OFFERS_CHECKOUT_MINUTES``).
If payments publishes ``PaymentHeld`` first, the offers domain cancels the timer and marks the listing
sold (offers owns the reservation, so it alone ends it); otherwise the acceptance lapses: the offer
becomes ``expired`` and the reservation is released (the listing is published again).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.db import db, utcnow
from app.events import cancel as cancel_timer
from app.events import schedule
from app.generator import Actor, ServiceError
from blueprints.listings import service as listings
from blueprints.offers import locks
from blueprints.offers.expiry import EXPIRE_TIMER, REMIND_TIMER
from blueprints.offers.models import OPEN_STATES, Negotiation, NegotiationStatus, Offer, OfferState, Party
from blueprints.offers.states import move

log = logging.getLogger(__name__)

CHECKOUT_TIMER = "offers.checkout"
ANOTHER_ACCEPTED = "Another offer on this listing was accepted."
LISTING_GONE = {"sold": "The listing was sold.", "removed": "The listing was removed."}


def reservation_ref(offer_id: uuid.UUID) -> str:
    return f"offer:{offer_id}"


def _lock_negotiation(negotiation_id: uuid.UUID) -> Negotiation:
    return db.session.execute(
        select(Negotiation)
        .where(Negotiation.id == negotiation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def end_negotiation(negotiation: Negotiation, status: NegotiationStatus) -> None:
    """The negotiation stops awaiting an answer: its expiry and reminder timers are disarmed."""
    negotiation.status = status
    if status is NegotiationStatus.CLOSED:
        negotiation.closed_at = utcnow()
    cancel_timer(EXPIRE_TIMER, str(negotiation.id))
    cancel_timer(REMIND_TIMER, str(negotiation.id))


def _lock_rivals(offer: Offer) -> list[Offer]:
    """The other open offers on the listing, locked without waiting (409 when one is busy)."""
    statement = (
        select(Offer)
        .where(Offer.listing_id == offer.listing_id, Offer.id != offer.id, Offer.state.in_(OPEN_STATES))
        .order_by(Offer.id)
        .with_for_update(nowait=True)
        .execution_options(populate_existing=True)
    )
    try:
        with db.session.begin_nested():
            return list(db.session.execute(statement).scalars())
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise ServiceError(
            "Another answer on this listing is being recorded right now; try again.",
            status=409,
            errors={"state": ["Busy: retry in a moment."]},
        ) from None


def accept_locked(offer: Offer, negotiation: Negotiation, actor: Actor, *, party: Party) -> None:
    """Accept ``offer`` (locked, open, the actor's turn checked by the caller)."""
    locks.lock_book(offer.listing_id)
    listings.reserve(listing_id=offer.listing_id, reservation_ref=reservation_ref(offer.id), actor=actor)
    for rival in _lock_rivals(offer):
        move(rival, "cancel", Actor.system("offers.acceptance"), reason=ANOTHER_ACCEPTED)
        end_negotiation(_lock_negotiation(rival.negotiation_id), NegotiationStatus.CLOSED)
    offer.checkout_due_at = utcnow() + timedelta(minutes=current_app.config["OFFERS_CHECKOUT_MINUTES"])
    move(offer, "accept", actor, party=party, event_fields={"checkout_due_at": offer.checkout_due_at})
    end_negotiation(negotiation, NegotiationStatus.ACCEPTED)
    schedule(CHECKOUT_TIMER, offer.checkout_due_at, {"offer_id": str(offer.id)}, key=str(offer.id))


def _release(offer: Offer, actor: Actor, reason: str) -> None:
    """Give the listing back (published); a listing that moved on already (removed...) is left alone."""
    try:
        with db.session.begin_nested():
            listings.release_reservation(
                listing_id=offer.listing_id, reservation_ref=reservation_ref(offer.id), actor=actor, reason=reason
            )
    except ServiceError as error:
        log.warning("offer %s: reservation of listing %s not released: %s", offer.id, offer.listing_id, error)


def cancel_locked(offer: Offer, actor: Actor, *, reason: str, release_listing: bool) -> None:
    """Cancel an open offer, or an accepted one not yet paid (its reservation released if asked)."""
    if offer.state == OfferState.ACCEPTED and offer.paid_at is not None:
        raise ServiceError(
            "This offer is paid: refunds and disputes go through payments.",
            status=409,
            errors={"state": ["Paid."]},
        )
    was_accepted = offer.state == OfferState.ACCEPTED
    move(offer, "cancel", actor, reason=reason)
    end_negotiation(_lock_negotiation(offer.negotiation_id), NegotiationStatus.CLOSED)
    if was_accepted:
        cancel_timer(CHECKOUT_TIMER, str(offer.id))
        if release_listing:
            _release(offer, actor, reason)


def _locked(offer_id: uuid.UUID) -> Offer | None:
    return db.session.execute(
        select(Offer).where(Offer.id == offer_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()


def lapse(*, offer_id: uuid.UUID, reason: str) -> Offer | None:
    """The buyer did not pay in time: the acceptance lapses (offer expired, listing published again)."""
    offer = _locked(offer_id)
    if offer is None or offer.state != OfferState.ACCEPTED or offer.paid_at is not None:
        return None  # paid, cancelled, or already lapsed: nothing to do
    system = Actor.system("offers.checkout")
    move(offer, "lapse", system, reason=reason)
    end_negotiation(_lock_negotiation(offer.negotiation_id), NegotiationStatus.CLOSED)
    cancel_timer(CHECKOUT_TIMER, str(offer.id))
    _release(offer, system, reason)
    return offer


def record_payment(*, offer_id: uuid.UUID, payment_id: uuid.UUID) -> bool:
    """Payments held the buyer's money: stop the checkout clock and sell the listing (once).

    Returns False when the acceptance had already ended (lapsed or cancelled): the caller refunds.
    """
    offer = _locked(offer_id)
    if offer is None or offer.state != OfferState.ACCEPTED:
        return False
    if offer.paid_at is not None:
        return True  # a redelivered event
    offer.paid_at = utcnow()
    offer.payment_id = payment_id
    cancel_timer(CHECKOUT_TIMER, str(offer.id))
    listings.mark_sold(
        listing_id=offer.listing_id, reservation_ref=reservation_ref(offer.id), actor=Actor.system("offers.checkout")
    )
    return True


def listing_gone(*, listing_id: uuid.UUID, why: str) -> int:
    """The listing was sold or removed: its open offers (and an unpaid acceptance) are cancelled."""
    reason = LISTING_GONE.get(why, "The listing is no longer available.")
    offers = db.session.execute(
        select(Offer)
        .where(
            Offer.listing_id == listing_id,
            Offer.state.in_((*OPEN_STATES, OfferState.ACCEPTED)),
            Offer.paid_at.is_(None),
        )
        .order_by(Offer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    count = 0
    for offer in list(offers):
        if offer.state == OfferState.ACCEPTED and why == "sold":
            continue  # sold through this very acceptance (payment arrives separately)
        cancel_locked(offer, Actor.system("offers.listings"), reason=reason, release_listing=False)
        count += 1
    return count
