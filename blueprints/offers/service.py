"""The offers domain's public functions: make, counter, answer and end offers under listing policies.

Keyword-only verbs working in the caller's transaction (the caller commits), called alike from the
API, the admin, timers and subscribers; ``actor`` is an :class:`app.generator.Actor`. Every state
change goes through :func:`blueprints.offers.states.move` (table-checked, recorded, published, pushed).
Refusals are :class:`ServiceError` (403 not your turn, 409 wrong state, 422 bad amount, 429 too many).

Contract for other domains: events in :mod:`blueprints.offers.events`; :func:`get_offer_terms` (what
an accepted offer costs, for payments); listings are reserved, released and marked sold through
``blueprints.listings.service`` with ``reservation_ref = "offer:<offer id>"``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.db import db, utcnow
from app.generator import Actor, ServiceError
from blueprints.listings import service as listings
from blueprints.offers import acceptance, locks
from blueprints.offers.expiry import EXPIRE_TIMER, REMIND_TIMER, arm_expiry, remind
from blueprints.offers.models import (
    OPEN_STATES,
    Negotiation,
    NegotiationStatus,
    Offer,
    OfferState,
    Party,
)
from blueprints.offers.policies import EffectivePolicy, TooManyOffers, check_buyer_limits, effective_policy
from blueprints.offers.queries import OfferTerms, get_offer_terms, negotiation_of
from blueprints.offers.states import check, is_staff, move, require_turn

__all__ = [
    "EXPIRE_TIMER",
    "REMIND_TIMER",
    "OfferTerms",
    "TooManyOffers",
    "accept",
    "cancel",
    "counter",
    "create_offer",
    "decline",
    "expire",
    "get_offer_terms",
    "negotiation_of",
    "remind",
    "withdraw",
]

PUBLISHED = "published"
MIN_OFFER_REASON = "Thanks for your offer! The seller isn't considering offers below {amount} {currency} for this item."


def _locked_offer(offer_id: uuid.UUID) -> Offer:
    offer = db.session.execute(
        select(Offer).where(Offer.id == offer_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if offer is None:
        raise ServiceError("No such offer.", status=404)
    return offer


def _listing(listing_id: uuid.UUID, *, field: str = "listing_id") -> listings.ListingSummary:
    listing = listings.get_listing_summary(listing_id=listing_id)
    if listing is None:
        raise ServiceError("No such listing.", status=422, errors={field: ["No such listing."]})
    return listing


def _require_published(listing: listings.ListingSummary) -> None:
    if listing.status != PUBLISHED:
        raise ServiceError(
            f"This listing is {listing.status}: it takes no offers now.",
            status=409,
            errors={"listing_id": [f"Is {listing.status}; offers need a published listing."]},
        )


def _policy(listing: listings.ListingSummary) -> EffectivePolicy:
    return effective_policy(listing_id=listing.id, category_id=listing.category_id, price_amount=listing.price_amount)


def _check_amount(amount: int, listing: listings.ListingSummary, *, what: str = "An offer") -> None:
    if amount < 1:
        raise ServiceError("Amounts are at least 1 minor unit.", status=422, errors={"price": ["Must be at least 1."]})
    if amount > listing.price_amount:
        raise ServiceError(
            f"{what} cannot exceed the asking price.",
            status=422,
            errors={"price": [f"At most {listing.price_amount} (the asking price)."]},
        )


def create_offer(*, listing_id: uuid.UUID, amount: int, currency: str, actor: Actor, message: str = "") -> Offer:
    """A buyer's opening offer on a published listing; policies may decline or accept it at once."""
    buyer_id = actor.user_id
    if buyer_id is None:
        raise ServiceError("Only a signed-in buyer makes offers.", status=403)
    locks.lock_book(listing_id)  # before reading the listing: an acceptance in flight finishes first
    listing = _listing(listing_id)
    if listing.seller_id == buyer_id:
        raise ServiceError(
            "You cannot make an offer on your own listing.", status=403, errors={"listing_id": ["Your listing."]}
        )
    _require_published(listing)
    if currency != listing.currency:
        raise ServiceError(
            "Offers are made in the listing's currency.",
            status=422,
            errors={"price": [f"Currency must be {listing.currency}."]},
        )
    _check_amount(amount, listing)
    policy = _policy(listing)
    if not policy.accepts_offers:
        raise ServiceError(
            "The seller does not take offers on this listing.", status=422, errors={"listing_id": ["No offers."]}
        )
    check_buyer_limits(buyer_id, listing.id, policy)
    negotiation = Negotiation(
        id=uuid.uuid4(), listing_id=listing.id, buyer_id=buyer_id, seller_id=listing.seller_id, currency=currency
    )
    db.session.add(negotiation)
    offer = Offer(
        id=uuid.uuid4(),
        negotiation_id=negotiation.id,
        listing_id=listing.id,
        buyer_id=buyer_id,
        seller_id=listing.seller_id,
        author=Party.BUYER,
        awaiting=Party.SELLER,
        round=0,
        amount=amount,
        currency=currency,
        message=message,
        state=None,
    )
    negotiation.current_offer_id = offer.id
    arm_expiry(offer, policy)
    db.session.add(offer)
    move(offer, "create", actor, party=Party.BUYER, event_fields={"message": message, "expires_at": offer.expires_at})
    db.session.flush()
    _apply_buyer_policy(offer, negotiation, policy)
    return offer


def _apply_buyer_policy(offer: Offer, negotiation: Negotiation, policy: EffectivePolicy) -> None:
    """Minimum offer (polite automatic decline) and auto-accept threshold, for amounts a buyer proposes."""
    system = Actor.system("offers.policy")
    if policy.min_amount is not None and offer.amount < policy.min_amount:
        reason = MIN_OFFER_REASON.format(amount=policy.min_amount, currency=offer.currency)
        _close(offer, negotiation, "decline", system, party=Party.SELLER, reason=reason)
    elif policy.auto_accept_amount is not None and offer.amount >= policy.auto_accept_amount:
        acceptance.accept_locked(offer, negotiation, system, party=Party.SELLER)


def _negotiation(offer: Offer) -> Negotiation:
    return db.session.execute(
        select(Negotiation)
        .where(Negotiation.id == offer.negotiation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _close(
    offer: Offer, negotiation: Negotiation, name: str, actor: Actor, *, party: Party | None, reason: str
) -> None:
    move(offer, name, actor, party=party, reason=reason)
    acceptance.end_negotiation(negotiation, NegotiationStatus.CLOSED)


def _require_open_in_time(offer: Offer, name: str) -> None:
    check(OfferState(offer.state), name)
    if offer.expires_at <= utcnow():
        raise ServiceError(
            "This offer has expired.", status=409, errors={"state": ["Expired; its expiry is being recorded."]}
        )


def counter(*, offer_id: uuid.UUID, actor: Actor, amount: int, currency: str, message: str = "") -> Offer:
    """Answer with another amount: a new offer awaiting the other party; this one is superseded."""
    offer = _locked_offer(offer_id)
    _require_open_in_time(offer, "supersede")
    party = require_turn(offer, actor, verb="counter")
    if currency != offer.currency:
        raise ServiceError(
            "Counter-offers keep the negotiation's currency.",
            status=422,
            errors={"price": [f"Currency must be {offer.currency}."]},
        )
    locks.lock_book(offer.listing_id)
    listing = _listing(offer.listing_id)
    _require_published(listing)
    _check_amount(amount, listing, what="A counter-offer")
    moves_toward = amount > offer.amount if party is Party.SELLER else amount < offer.amount
    if not moves_toward:
        side = "above" if party is Party.SELLER else "below"
        raise ServiceError(
            f"A counter-offer from the {party} must be {side} the offer it answers ({offer.amount}).",
            status=422,
            errors={"price": [f"Must be {side} {offer.amount}."]},
        )
    negotiation = _negotiation(offer)
    policy = _policy(listing)
    if negotiation.counter_rounds >= policy.max_counter_rounds:
        raise ServiceError(
            "No more counter-offers in this negotiation: accept or decline.",
            status=422,
            errors={"price": [f"At most {policy.max_counter_rounds} counter-offers per negotiation."]},
        )
    move(offer, "supersede", actor, party=party)
    new = Offer(
        id=uuid.uuid4(),
        negotiation_id=negotiation.id,
        listing_id=offer.listing_id,
        buyer_id=offer.buyer_id,
        seller_id=offer.seller_id,
        author=party,
        awaiting=party.other,
        round=offer.round + 1,
        amount=amount,
        currency=offer.currency,
        message=message,
        previous_offer_id=offer.id,
        state=None,
    )
    negotiation.counter_rounds += 1
    negotiation.current_offer_id = new.id
    arm_expiry(new, policy)  # a counter restarts the clock, for the new offer
    db.session.add(new)
    move(
        new,
        "counter",
        actor,
        party=party,
        event_fields={"previous_offer_id": offer.id, "message": message, "expires_at": new.expires_at},
    )
    db.session.flush()
    if party is Party.BUYER:
        _apply_buyer_policy(new, negotiation, policy)
    return new


def accept(*, offer_id: uuid.UUID, actor: Actor) -> Offer:
    """Take the offer: the listing is reserved, its other offers cancelled, and checkout opens."""
    offer = _locked_offer(offer_id)
    _require_open_in_time(offer, "accept")
    party = require_turn(offer, actor, verb="accept")
    acceptance.accept_locked(offer, _negotiation(offer), actor, party=party)
    return offer


def decline(*, offer_id: uuid.UUID, actor: Actor, reason: str = "") -> Offer:
    """Say no to the offer; the negotiation ends (the buyer may start another)."""
    offer = _locked_offer(offer_id)
    _require_open_in_time(offer, "decline")
    party = require_turn(offer, actor, verb="decline")
    _close(offer, _negotiation(offer), "decline", actor, party=party, reason=reason)
    return offer


def withdraw(*, offer_id: uuid.UUID, actor: Actor) -> Offer:
    """Take back your own offer before the other party answers."""
    offer = _locked_offer(offer_id)
    check(OfferState(offer.state), "withdraw")
    party = require_turn(offer, actor, verb="withdraw")
    _close(offer, _negotiation(offer), "withdraw", actor, party=party, reason="")
    return offer


def cancel(*, offer_id: uuid.UUID, actor: Actor, reason: str) -> Offer:
    """Staff: end an open or accepted (unpaid) offer, with the reason both parties see."""
    if not is_staff(actor) and actor.type != "system":
        raise ServiceError("Only staff cancel offers.", status=403)
    offer = _locked_offer(offer_id)
    acceptance.cancel_locked(offer, actor, reason=reason, release_listing=True)
    return offer


def expire(*, offer_id: uuid.UUID, actor: Actor | None = None) -> Offer | None:
    """The expiry timer: an offer nobody answered in time expires (no-op if answered meanwhile)."""
    offer = _locked_offer(offer_id)
    if offer.state not in OPEN_STATES or offer.expires_at > utcnow():
        return None  # answered, countered or re-armed since the timer was set
    _close(offer, _negotiation(offer), "expire", actor or Actor.system("offers.expiry"), party=None, reason="")
    return offer
